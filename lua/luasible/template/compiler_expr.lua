--- luasible.template.compiler_expr: expression nodes as Lua expressions
-- (the temporaries a node needs emitted before it): literals, variables,
-- operators (calls of template/runtime.lua), and/or/if-else with their
-- short circuits, chained comparisons, calls; filters and tests bound to
-- their signatures here (template/registry.lua, contract C), as plain Lua
-- calls when the signature allows. The compiler's class
-- (template/compiler.lua) has these methods.
local values = require "luasible.template.values"

local format, concat = string.format, table.concat

local M = {}

local registry
local function reg()
  if not registry then registry = require "luasible.template.registry" end
  return registry
end

--- A filter or test node bound to its signature (template/registry.lua):
--- true, entry, binding; or false and why it does not fit (an unknown
--- name, arguments that do not fit).
function M.bind(kind, n)
  local ok, entry, binding = pcall(reg().bind, kind, n.name, 1 + #n.args, n.kwnames)
  if not ok then return false, type(entry) == "table" and entry.template_error or tostring(entry) end
  return true, entry, binding
end

local C = {}

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
  if n.star or n.dstar then
    -- *args / **kw: bound per call
    local pos = self:arglist(n.args, value)
    if n.star then pos = format("R.star(%s, %s)", pos, self:expr(n.star)) end
    local kw = self:kwtable(n.kwnames, n.kwvals, n.dstar)
    return format("R.dyncall(%q, %q, rc, %s, %s)", kind, n.name, pos, kw)
  end
  local ok, entry, binding = M.bind(kind, n)
  if not ok then self:error(entry, n.pos) end
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

C.e_luaexpr = function(_, n) return n.lua end

M.methods = C -- the expression methods of the compiler's class (template/compiler.lua)

return M
