--- luasible.template.compiler_stmt: statements as Lua statements that
-- append to the render's buffer (buf, n): text and {{ }}, if, for (loop
-- variable, else, the loop's if, recursive loops, break/continue), set and
-- set blocks, filter blocks, do, with, macros and call blocks (template
-- functions: R.macro), include and import. The compiler's class
-- (template/compiler.lua) has these methods.
local mentions = require("luasible.template.compiler_emit").mentions

local format, concat = string.format, table.concat

local M = {}

local C = {}

function C:body(body)
  for _, st in ipairs(body) do
    local f = self["s_" .. st.k]
    if not f then self:error("cannot compile statement '" .. st.k .. "'", st.pos) end
    f(self, st)
  end
end

-- A statement whose temporaries live in their own block.
function C:block(fn, pos)
  self:emit("do", pos)
  fn()
  self:emit("end")
end

C.s_data = function(self, st)
  self:emit(format("n = n + 1; buf[n] = %s", self:e_const({ v = st.v })), st.pos)
end

C.s_emit = function(self, st)
  local start = #self.code
  self:emit("do", st.pos)
  local e = self:expr(st.e)
  if #self.code == start + 1 then
    self.code[#self.code] = format("n = n + 1; buf[n] = out(%s)", e)
  else
    self:emit(format("n = n + 1; buf[n] = out(%s)", e))
    self:emit("end")
  end
end

C.s_if = function(self, st)
  -- tests with temporaries need their own blocks: if/else chains nest
  local opened = 0
  for i, br in ipairs(st.branches) do
    if i > 1 then self:emit("else") end
    local e = self:expr(br.test)
    self:emit(format("if truthy(%s) then", e), br.test.pos)
    opened = opened + 1
    self:body(br.body)
  end
  if st.else_ then
    self:emit("else")
    self:body(st.else_)
  end
  for _ = 1, opened do self:emit("end") end
end

-- Assign value (a Lua expression) to a target (name, tuple, ns.attr).
function C:assign(target, value, declare)
  if target.k == "name" then
    local b = (not declare) and self.scope.names[target.name] or nil
    local lname = b and b.lua or self:declare(target.name, false)
    self:emit(format("%s%s = %s", b and "" or "local ", lname, value))
  elseif target.k == "nsattr" then
    local b = self:lookup(target.name)
    local obj = b and b.lua or format("getvar(vars, %q, rc)", target.name)
    self:emit(format("R.setattr(%s, %q, %s)", obj, target.attr, value))
  elseif target.k == "tuple" then
    local ts = {}
    for i = 1, #target.items do ts[i] = self:tmp() end
    self:emit(format("local %s = R.unpack(%s, %d)", concat(ts, ", "), value, #ts))
    for i, it in ipairs(target.items) do self:assign(it, ts[i], declare) end
  else
    self:error("cannot assign to this", target.pos)
  end
end

C.s_set = function(self, st)
  self:emit("do", st.pos)
  self:assign_hoisted(st.target, self:expr(st.e))
  self:emit("end")
end

function C:assign_hoisted(target, value)
  if target.k == "name" then
    local b = self:lookup(target.name)
    if not b then
      -- (set in a scope that did not hoist it: a with/for target scope)
      self:emit(format("local %s = %s", self:declare(target.name, false), value))
      return
    end
    self:emit(format("%s = %s", b.lua, value))
  elseif target.k == "tuple" then
    local ts = {}
    for i = 1, #target.items do ts[i] = self:tmp() end
    self:emit(format("local %s = R.unpack(%s, %d)", concat(ts, ", "), value, #ts))
    for i, it in ipairs(target.items) do self:assign_hoisted(it, ts[i]) end
  else
    self:assign(target, value)
  end
end

-- Compile body into a string value (a fresh buffer): returns the Lua
-- expression holding it (a temporary declared before).
function C:capture(body, pos)
  local t = self:tmp()
  self:emit("local " .. t, pos)
  self:emit("do")
  self:emit("local buf, n = {}, 0")
  self:body(body)
  self:emit(format("%s = concat(buf, '', 1, n)", t))
  self:emit("end")
  return t
end

C.s_setblock = function(self, st)
  self:emit("do", st.pos)
  local v = self:capture(st.body, st.pos)
  if st.filter then
    self.blockvalue = v
    v = self:expr(st.filter)
  end
  self:assign_hoisted(st.target, v)
  self:emit("end")
end

C.s_filterblock = function(self, st)
  self:emit("do", st.pos)
  self:push(true)
  self:hoist(st.body)
  local v = self:capture(st.body, st.pos)
  self:pop()
  self.blockvalue = v
  self:emit(format("n = n + 1; buf[n] = out(%s)", self:expr(st.filter)))
  self:emit("end")
end

C.s_do = function(self, st)
  self:emit("do", st.pos)
  self:emit("local _ = " .. self:expr(st.e))
  self:emit("end")
end

C.s_break = function(self) self:emit("break") end
C.s_continue = function(self)
  self:emit("goto " .. self.continue_label)
end

C.s_for = function(self, st)
  local rec = st.recursive
  local depth_arg = "1"
  local fname
  self:emit("do", st.pos)
  if rec then
    fname = self:tmp("rec")
    self:emit(format("local %s", fname))
    self:emit(format("%s = function(items_in, depth)", fname))
    self:emit("local buf, n = {}, 0")
    depth_arg = "depth"
  end
  local items = self:tmp("items")
  if rec then
    self:emit(format("local %s = iter(items_in)", items))
  else
    self:emit(format("local %s = iter(%s)", items, self:expr(st.iter)))
  end
  local target = st.target
  local uses_loop = mentions(st.body, "loop") or (st.else_ and false) or rec
  local function bind(item)
    if target.k == "name" then
      self:emit(format("local %s = %s", self:declare(target.name, false), item))
    else
      self:assign(target, item, true)
    end
  end
  if st.cond then
    -- the loop's `if`: filter first (loop.length counts what is kept)
    local kept = self:tmp("kept")
    self:emit(format("local %s = {}", kept))
    self:emit(format("for i = 1, #%s do", items))
    self:push(true)
    bind(items .. "[i]")
    self:emit(format("if truthy(%s) then %s[#%s + 1] = %s[i] end", self:expr(st.cond), kept, kept, items))
    self:pop()
    self:emit("end")
    self:emit(format("%s = %s", items, kept))
  end
  self:emit(format("if #%s == 0 then", items))
  if st.else_ then
    self:push(true)
    self:hoist(st.else_)
    self:body(st.else_)
    self:pop()
  end
  self:emit("else")
  local loopvar
  self:push(true)
  if uses_loop then
    loopvar = self:declare("loop", false)
    self:emit(format("local %s = R.loop(%s, %s)", loopvar, items, depth_arg))
    if rec then self:emit(format("%s.recurse = %s", loopvar, fname)) end
  end
  self:emit(format("for i = 1, #%s do", items))
  self:push(true)
  if uses_loop then self:emit(format("loop_at(%s, i)", loopvar)) end
  bind(items .. "[i]")
  local label = self:tmp("continue")
  local saved = self.continue_label
  self.continue_label = label
  self:emit("do")
  self:hoist(st.body)
  self:body(st.body)
  self:emit("end")
  self:emit("::" .. label .. "::")
  self.continue_label = saved
  self:pop()
  self:emit("end")
  self:pop()
  self:emit("end")
  if rec then
    self:emit("return concat(buf, '', 1, n)")
    self:emit("end")
    self:emit(format("n = n + 1; buf[n] = %s(%s, 1)", fname, self:expr(st.iter)))
  end
  self:emit("end")
end

-- A macro (or a call block's caller): a template function (pos, kw, rc).
function C:macro_fn(name, params, body, pos)
  local fn = self:tmp("macro")
  local pnames = {}
  for i, p in ipairs(params) do pnames[i] = format("%q", p.name) end
  self:emit(format("local %s = R.macro(%q, {%s}, function(pos, kw, rc)", fn, name, concat(pnames, ", ")), pos)
  self:emit("local buf, n = {}, 0")
  self:emit(format("R.enter_macro(rc, %q)", name))
  self:push(true)
  local known = {}
  for i, p in ipairs(params) do
    known[#known + 1] = format("[%q] = %d", p.name, i)
    local l = self:declare(p.name, false)
    self:emit(format("local %s = pos[%d]", l, i))
    self:emit(format("if %s == nil and kw then %s = kw[%q] end", l, l, p.name))
    if p.default then
      self:emit(format("if %s == nil then", l))
      self:emit(format("%s = %s", l, self:expr(p.default)))
      self:emit("end")
    else
      self:emit(format("if %s == nil then %s = R.undefined(%q, %q) end", l, l, p.name,
        "parameter '" .. p.name .. "' was not provided"))
    end
  end
  local uses_var, uses_kw = mentions(body, "varargs"), mentions(body, "kwargs")
  local uses_caller = mentions(body, "caller")
  self:emit(format("local extra_pos, extra_kw = R.macro_args(%q, pos, kw, {%s}, %d, %s, %s, %s)", name,
    concat(known, ", "), #params, tostring(uses_var), tostring(uses_kw), tostring(uses_caller)))
  if uses_var then self:emit(format("local %s = R.tuple(extra_pos)", self:declare("varargs", false))) end
  if uses_kw then self:emit(format("local %s = extra_kw", self:declare("kwargs", false))) end
  if uses_caller then
    local l = self:declare("caller", false)
    self:emit(format("local %s = kw and kw.caller or R.undefined('caller', %q)", l,
      "'caller' is undefined: macro '" .. name .. "' was not called from a call block"))
  end
  self:hoist(body)
  self:body(body)
  self:pop()
  self:emit("rc.macro_depth = rc.macro_depth - 1")
  self:emit("return concat(buf, '', 1, n)")
  self:emit("end)")
  return fn
end

C.s_macro = function(self, st)
  local b = self:lookup(st.name)
  local fn = self:macro_fn(st.name, st.params, st.body, st.pos)
  self:emit(format("%s = %s", b.lua, fn))
end

C.s_callblock = function(self, st)
  self:emit("do", st.pos)
  local caller = self:macro_fn("caller", st.params, st.body, st.pos)
  local call = st.call
  local kwnames, kwvals = {}, {}
  for i, k in ipairs(call.kwnames) do kwnames[i] = k; kwvals[i] = call.kwvals[i] end
  kwnames[#kwnames + 1] = "caller"
  kwvals[#kwvals + 1] = { k = "luaexpr", lua = caller }
  local node = { k = "call", fn = call.fn, args = call.args, kwnames = kwnames, kwvals = kwvals, star = call.star,
    dstar = call.dstar, pos = call.pos }
  self:emit(format("n = n + 1; buf[n] = out(%s)", self:expr(node)))
  self:emit("end")
end

C.s_with = function(self, st)
  self:emit("do", st.pos)
  local vals = {}
  for i, v in ipairs(st.vals) do
    vals[i] = self:tmp()
    self:emit(format("local %s = %s", vals[i], self:expr(v)))
  end
  self:push(true)
  for i, t in ipairs(st.targets) do
    self:emit(format("local %s = %s", self:declare(t.name, false), vals[i]))
  end
  self:hoist(st.body)
  self:body(st.body)
  self:pop()
  self:emit("end")
end

C.s_include = function(self, st)
  self:emit("do", st.pos)
  local scope = st.with_context and self:scope_table() or "R.empty_scope(vars)"
  self:emit(format("n = n + 1; buf[n] = R.include(env, %s, %s, rc, %s)", self:expr(st.template), scope,
    tostring(st.ignore_missing)))
  self:emit("end")
end

C.s_import = function(self, st)
  local b = self:lookup(st.target)
  local scope = st.with_context and self:scope_table() or "R.empty_scope(vars)"
  self:emit(format("%s = R.import(env, %s, %s, rc)", b.lua, self:expr(st.template), scope), st.pos)
end

C.s_fromimport = function(self, st)
  self:emit("do", st.pos)
  local scope = st.with_context and self:scope_table() or "R.empty_scope(vars)"
  local t = self:tmp()
  self:emit(format("local %s = R.import(env, %s, %s, rc)", t, self:expr(st.template), scope))
  for _, nm in ipairs(st.names) do
    local b = self:lookup(nm.alias)
    self:emit(format("%s = R.imported(%s, %q)", b.lua, t, nm.name))
  end
  self:emit("end")
end

M.methods = C -- the statement methods of the compiler's class (template/compiler.lua)

return M
