--- luasible.template.compiler: a template's (or an expression's) tree
-- (template/parser.lua) as Lua source, load()ed once: compile once,
-- evaluate many, as Jinja2 compiles templates to Python.
--
--   compiler.template(tree, name, src [, flags]) -> render(vars, rc, env) -> text, exports
--   compiler.expression(tree, name, src [, flags]) -> eval(vars, rc, env) -> value
--   flags.jinja: None prints as "None" (plain Jinja2), not "" (Ansible's finalize)
--
-- The generated code calls template/runtime.lua (R) and holds its
-- constants (filter bindings, ...) in K. Template variables (for targets,
-- set, macro parameters) are Lua locals; other names are read from `vars`
-- at run time (R.getvar). Filters and tests are bound to their signatures
-- here (template/registry.lua, contract C): an unknown one, or a call that
-- does not fit, is a compile error with name:line:column.
--
-- Errors at run time: the Lua line of the failing code maps back to the
-- template's line (M.where), so no line bookkeeping costs anything when
-- nothing fails.
local lexer = require "luasible.template.lexer"
local values = require "luasible.template.values"
local R = require "luasible.template.runtime"

local fail = values.fail
local format, concat = string.format, table.concat

local M = {}

local registry
local function reg()
  if not registry then registry = require "luasible.template.registry" end
  return registry
end

-- chunk name -> { name = template name, lines = { lua line -> template line } }
local CHUNKS = setmetatable({}, { __mode = "v" })
local chunk_no = 0

--- The template name and line of a run-time error, from the Lua stack
--- (call inside an error handler): name, line, or nil.
function M.where(level)
  level = (level or 1) + 1
  for l = level, level + 60 do
    local info = debug.getinfo(l, "Sl")
    if not info then break end
    local c = CHUNKS[info.source]
    if c then return c.name, c.lines[info.currentline] or 0 end
  end
  return nil
end

local C = {}
C.__index = C

function C:error(msg, pos) lexer.error(self.src, self.name, pos or 1, msg) end

-- The template line of byte offset pos (a binary search in the line starts).
function C:line_of(pos)
  local starts = self.starts
  if not starts then
    starts = { 1 }
    local src, i = self.src or "", 1
    while true do
      local nl = src:find("\n", i, true)
      if not nl then break end
      starts[#starts + 1] = nl + 1
      i = nl + 1
    end
    self.starts = starts
  end
  pos = pos or 1
  local lo, hi = 1, #starts
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if starts[mid] <= pos then lo = mid else hi = mid - 1 end
  end
  return lo
end

-- Append Lua source (one statement); `pos`: the template offset it comes from.
function C:emit(s, pos)
  local code = self.code
  code[#code + 1] = s
  local ln = self.cur_line
  if pos then ln = self:line_of(pos); self.cur_line = ln end
  self.lines[#code] = ln
end

function C:tmp(prefix)
  self.ntmp = self.ntmp + 1
  return (prefix or "t") .. self.ntmp
end

function C:const(v)
  local k = self.kmap[v]
  if k then return k end
  self.nk = self.nk + 1
  self.K[self.nk] = v
  k = "K[" .. self.nk .. "]"
  if type(v) ~= "table" or v == values.none then self.kmap[v] = k end
  return k
end

-- ------------------------------------------------------------ scopes

function C:push(fresh)
  self.scope = { names = {}, parent = self.scope, fresh = fresh }
end
function C:pop() self.scope = self.scope.parent end

function C:lookup(name)
  local s = self.scope
  while s do
    local b = s.names[name]
    if b then return b end
    s = s.parent
  end
  return nil
end

-- Declare template variable `name` in the current scope: its Lua local.
function C:declare(name, maybe_unset)
  local lname = self:tmp("v_" .. name:gsub("[^%w_]", "_") .. "_")
  self.scope.names[name] = { lua = lname, maybe = maybe_unset }
  return lname
end

-- Every visible template variable: name -> Lua local.
function C:visible()
  local out, s = {}, self.scope
  while s do
    for name, b in pairs(s.names) do if out[name] == nil then out[name] = b.lua end end
    s = s.parent
  end
  return out
end

-- A scope table for an include/with context: visible locals over vars.
function C:scope_table()
  local parts = {}
  for name, lua in pairs(self:visible()) do parts[#parts + 1] = format("[%q] = %s", name, lua) end
  table.sort(parts)
  if #parts == 0 then return "vars" end
  return "setmetatable({" .. concat(parts, ", ") .. "}, { __index = vars })"
end

-- Names assigned in a body (not entering scoping statements).
local function assigned(body, out)
  out = out or {}
  for _, st in ipairs(body) do
    local k = st.k
    if k == "set" or k == "setblock" then
      local t = st.target
      if t.k == "name" then out[#out + 1] = t.name
      elseif t.k == "tuple" then
        for _, it in ipairs(t.items) do if it.k == "name" then out[#out + 1] = it.name end end
      end
    elseif k == "macro" then out[#out + 1] = st.name
    elseif k == "import" then out[#out + 1] = st.target
    elseif k == "fromimport" then for _, n in ipairs(st.names) do out[#out + 1] = n.alias end
    elseif k == "if" then
      for _, br in ipairs(st.branches) do assigned(br.body, out) end
      if st.else_ then assigned(st.else_, out) end
    end
  end
  return out
end

-- Does a subtree mention the name `name` (a rough, safe over-estimate)?
local function mentions(node, name, seen)
  if type(node) ~= "table" then return false end
  if node.k == "name" and node.name == name then return true end
  seen = seen or {}
  if seen[node] then return false end
  seen[node] = true
  for _, v in pairs(node) do
    if type(v) == "table" and mentions(v, name, seen) then return true end
  end
  return false
end

-- Declare the names a body assigns (hoisted to its start, as Jinja2's
-- scoping: an `if` makes no scope). An outer binding is the start value.
function C:hoist(body)
  local seen = {}
  for _, name in ipairs(assigned(body)) do
    if not seen[name] and not self.scope.names[name] then
      seen[name] = true
      local outer = self:lookup(name)
      local lname = self:declare(name, true)
      self:emit("local " .. lname .. (outer and (" = " .. outer.lua) or ""))
    end
  end
end

-- ------------------------------------------------------------ expressions

local BIN = { ["+"] = "R.add", ["-"] = "R.sub", ["*"] = "R.mul", ["/"] = "R.div", ["//"] = "R.floordiv",
  ["%"] = "R.mod", ["**"] = "R.pow", ["~"] = "R.concat" }
local CMPF = { ["=="] = "R.eq", ["!="] = "R.ne", ["<"] = "R.lt", ["<="] = "R.le", [">"] = "R.gt", [">="] = "R.ge",
  ["in"] = "R.contains", notin = "R.notin" }

local function lua_literal(v)
  if v == values.none then return "none" end
  local t = type(v)
  if t == "string" then return format("%q", v):gsub("\\\n", "\\n") end
  if t == "boolean" then return tostring(v) end
  if math.type(v) == "integer" then
    if v == math.mininteger then return "math.mininteger" end
    return tostring(v)
  end
  if v ~= v then return "(0/0)" end
  if v == math.huge then return "math.huge" end
  if v == -math.huge then return "-math.huge" end
  return format("%.17g", v):find("[%.eEn]") and format("%.17g", v) or (format("%.17g", v) .. ".0")
end

-- A list of argument expressions as a Lua table constructor with n.
function C:arglist(args, first)
  local parts = {}
  if first then parts[1] = first end
  for _, a in ipairs(args) do parts[#parts + 1] = self:expr(a) end
  return "{" .. concat(parts, ", ") .. (#parts > 0 and ", " or "") .. "n = " .. #parts .. "}"
end

function C:kwtable(names, vals, dstar)
  if #names == 0 and not dstar then return "nil" end
  local vs = {}
  for i, v in ipairs(vals) do vs[i] = self:expr(v) end
  local ns = {}
  for i, n in ipairs(names) do ns[i] = format("%q", n) end
  return format("R.kwargs({%s}, {%s}, %s)", concat(ns, ", "), concat(vs, ", "), dstar and self:expr(dstar) or "nil")
end

function C:expr(node)
  local f = self["e_" .. node.k]
  if not f then self:error("cannot compile '" .. node.k .. "'", node.pos) end
  return f(self, node)
end

C.e_const = function(self, n)
  local v = n.v
  if type(v) == "string" and #v > 40 then return self:const(v) end
  return lua_literal(v)
end

C.e_name = function(self, n)
  local b = self:lookup(n.name)
  if b then
    if b.maybe then return format("LV(%s, vars, %q, rc)", b.lua, n.name) end
    return b.lua
  end
  return format("getvar(vars, %q, rc)", n.name)
end

C.e_list = function(self, n)
  local parts = {}
  for i, it in ipairs(n.items) do parts[i] = self:expr(it) end
  return "{" .. concat(parts, ", ") .. "}"
end
C.e_tuple = function(self, n) return "R.tuple(" .. C.e_list(self, n) .. ")" end

C.e_dict = function(self, n)
  local parts = {}
  for i = 1, #n.keys do
    parts[#parts + 1] = self:expr(n.keys[i])
    parts[#parts + 1] = self:expr(n.vals[i])
  end
  return format("R.dict({%s}, %d)", concat(parts, ", "), #parts)
end

C.e_getattr = function(self, n) return format("getattr(%s, %q)", self:expr(n.obj), n.attr) end
C.e_getitem = function(self, n) return format("getitem(%s, %s)", self:expr(n.obj), self:expr(n.key)) end
C.e_slice = function(self, n)
  local function part(x) return x and self:expr(x) or "nil" end
  return format("R.slice(%s, %s, %s, %s)", self:expr(n.obj), part(n.start), part(n.stop), part(n.step))
end

C.e_bin = function(self, n) return format("%s(%s, %s)", BIN[n.op], self:expr(n.l), self:expr(n.r)) end
C.e_neg = function(self, n)
  if n.e.k == "const" and type(n.e.v) == "number" then return "(" .. lua_literal(-n.e.v) .. ")" end
  return format("R.neg(%s)", self:expr(n.e))
end
C.e_pos = function(self, n) return format("R.pos(%s)", self:expr(n.e)) end
C.e_not = function(self, n) return format("(not truthy(%s))", self:expr(n.e)) end

C.e_cmp = function(self, n)
  if #n.ops == 1 then
    return format("%s(%s, %s)", CMPF[n.ops[1]], self:expr(n.first), self:expr(n.rights[1]))
  end
  -- chained: a < b < c is a < b and b < c, each operand evaluated once
  local t = self:tmp()
  local left = self:tmp()
  self:emit(format("local %s, %s = false, %s", t, left, self:expr(n.first)))
  local opened = 0
  for i, op in ipairs(n.ops) do
    local right = self:tmp()
    self:emit(format("local %s = %s", right, self:expr(n.rights[i])))
    if i < #n.ops then
      self:emit(format("if %s(%s, %s) then", CMPF[op], left, right))
      self:emit(format("%s = %s", left, right))
      opened = opened + 1
    else
      self:emit(format("%s = %s(%s, %s)", t, CMPF[op], left, right))
    end
  end
  for _ = 1, opened do self:emit("end") end
  return t
end

function C:short(n, negate)
  local t = self:tmp()
  self:emit(format("local %s = %s", t, self:expr(n.l)))
  self:emit(format("if %struthy(%s) then", negate and "not " or "", t))
  self:emit(format("%s = %s", t, self:expr(n.r)))
  self:emit("end")
  return t
end
C.e_and = function(self, n) return self:short(n, false) end
C.e_or = function(self, n) return self:short(n, true) end

C.e_cond = function(self, n)
  local t = self:tmp()
  self:emit("local " .. t)
  self:emit(format("if truthy(%s) then", self:expr(n.test)))
  self:emit(format("%s = %s", t, self:expr(n.yes)))
  self:emit("else")
  if n.no then
    self:emit(format("%s = %s", t, self:expr(n.no)))
  else
    local line = self:line_of(n.pos)
    self:emit(format("%s = R.lenient_undefined(%q)", t,
      "the inline if-expression on line " .. line .. " evaluated to false and no else section was defined."))
  end
  self:emit("end")
  return t
end

-- filters and tests: bound at compile time
function C:bound(kind, n, value)
  local nargs = #n.args
  if n.star or n.dstar then
    -- *args / **kw: bound per call
    local pos = self:arglist(n.args, value)
    if n.star then pos = format("R.star(%s, %s)", pos, self:expr(n.star)) end
    local kw = self:kwtable(n.kwnames, n.kwvals, n.dstar)
    return format("R.dyncall(%q, %q, rc, %s, %s)", kind, n.name, pos, kw)
  end
  local ok, entry, binding = pcall(reg().bind, kind, n.name, 1 + nargs, n.kwnames)
  if not ok then
    local msg = type(entry) == "table" and entry.template_error or tostring(entry)
    self:error(msg, n.pos)
  end
  local parts = { value }
  for _, a in ipairs(n.args) do parts[#parts + 1] = self:expr(a) end
  for _, a in ipairs(n.kwvals) do parts[#parts + 1] = self:expr(a) end
  local direct = self:direct_call(entry, n, parts)
  if direct then return direct end
  local call, fn = self:const(binding.call), self:const(entry.fn)
  return format("%s(%s, rc, {%s})", call, fn, concat(parts, ", "))
end

-- The call of a filter or test as a plain Lua call fn(p1, p2, ...) when its
-- signature has no *args/**kw and no table defaults (the binding's plan,
-- made here: positionals in order, keywords by name, defaults as
-- constants), each argument checked defined unless the signature is
-- lenient. nil when the binding's general call is needed.
function C:direct_call(entry, n, parts)
  local sig = entry.sig
  if sig.varargs or sig.varkw then return nil end
  local params = sig.params
  local first = (sig.ctx and 1 or 0) + 1
  local by_kw = {}
  for j, k in ipairs(n.kwnames) do by_kw[k] = parts[1 + #n.args + j] end
  local npos = 1 + #n.args
  local out = {}
  if sig.ctx then out[1] = "rc" end
  local last_given = 0
  for i = first, #params do
    local p = params[i]
    local pi = i - first + 1
    local v
    if p.kind == "pos" and pi <= npos then v = parts[pi]
    elseif by_kw[p.name] then v = by_kw[p.name]
    elseif p.has_default then
      local d = p.default
      if type(d) == "table" then return nil end
      v = d == nil and "nil" or lua_literal(d)
    else
      return nil
    end
    local given = (p.kind == "pos" and pi <= npos) or by_kw[p.name] ~= nil
    if given then
      local literal = pi > 1 and p.kind == "pos" and pi <= npos and n.args[pi - 1].k == "const"
      if not sig.lenient and not literal then v = "U(" .. v .. ")" end
      last_given = #out + 1
    end
    out[#out + 1] = v
  end
  -- trailing nil defaults need not be written
  while #out > last_given and out[#out] == "nil" do out[#out] = nil end
  return format("%s(%s)", self:const(entry.fn), concat(out, ", "))
end

C.e_filter = function(self, n)
  return self:bound("filter", n, self:expr(n.node))
end

C.e_test = function(self, n)
  local e = self:bound("test", n, self:expr(n.node))
  if n.negate then return "(not " .. e .. ")" end
  return "(" .. e .. " and true or false)"
end

C.e_blockvalue = function(self) return self.blockvalue end

local SPECIAL_CALLS = { lookup = "R.lookup", query = "R.query", q = "R.query" }

C.e_call = function(self, n)
  local fn = n.fn
  local pos = self:arglist(n.args)
  if n.star then pos = format("R.star(%s, %s)", pos, self:expr(n.star)) end
  local kw = self:kwtable(n.kwnames, n.kwvals, n.dstar)
  if fn.k == "getattr" then
    return format("R.callmethod(%s, %q, %s, %s, rc)", self:expr(fn.obj), fn.attr, pos, kw)
  end
  if fn.k == "name" and not self:lookup(fn.name) and SPECIAL_CALLS[fn.name] then
    return format("R.call(getvar(vars, %q, rc), %s, %s, rc)", fn.name, pos, kw)
  end
  return format("R.call(%s, %s, %s, rc)", self:expr(fn), pos, kw)
end

-- ------------------------------------------------------------ statements

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

C.e_luaexpr = function(_, n) return n.lua end

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

-- ------------------------------------------------------------ chunks

local HEADER = [[
local R, K, F = ...
local getvar, getattr, getitem, truthy, iter = R.getvar, R.getattr, R.getitem, R.truthy, R.iter
local out = F.jinja and R.out_jinja or R.out
local loop_at, concat, none, setmetatable = R.loop_at, table.concat, R.none, setmetatable
local function LV(v, vars, name, rc) if v ~= nil then return v end return getvar(vars, name, rc) end
local U = R.check
]]
local HEADER_LINES = select(2, HEADER:gsub("\n", ""))

local function new(name, src, flags)
  return setmetatable({ code = {}, lines = {}, K = {}, nk = 0, kmap = {}, ntmp = 0, name = name or "template",
    src = src, line_cache = {}, cur_line = 1, flags = flags or {} }, C)
end

local function finish(self, what)
  chunk_no = chunk_no + 1
  local chunkname = "=luasible-template-" .. chunk_no
  local lines = {}
  for i, l in pairs(self.lines) do lines[i + HEADER_LINES] = l end
  local text = HEADER .. concat(self.code, "\n")
  local fn, err = load(text, chunkname, "t")
  if not fn then
    fail(format("%s: internal error compiling the %s: %s", self.name, what, tostring(err)))
  end
  local info = { name = self.name, lines = lines, source = text }
  CHUNKS[chunkname] = info
  local f = fn(R, self.K, self.flags)
  -- keep the line map alive as long as the function
  R.keep[f] = info
  return f
end

--- The render function of a template tree.
function M.template(tree, name, src, flags)
  local self = new(name, src, flags)
  self:emit("return function(vars, rc, env)")
  self:emit("local buf, n = {}, 0")
  self:push(true)
  self:hoist(tree.body)
  local top = {}
  for k, b in pairs(self.scope.names) do top[#top + 1] = format("[%q] = %s", k, b.lua) end
  table.sort(top)
  self:body(tree.body)
  self:emit(format("return concat(buf, '', 1, n), {%s}", concat(top, ", ")))
  self:pop()
  self:emit("end")
  return finish(self, "template")
end

--- The eval function of an expression tree.
function M.expression(tree, name, src, flags)
  local self = new(name, src, flags)
  self:emit("return function(vars, rc, env)")
  self:push(true)
  local e = self:expr(tree)
  self:emit("return " .. e)
  self:pop()
  self:emit("end")
  return finish(self, "expression")
end

return M
