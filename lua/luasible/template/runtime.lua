--- luasible.template.runtime: what compiled templates call at run time
-- (template/compiler.lua writes calls to these): variables, attribute and
-- item access with Python's semantics (0-based, negative indexes, slices by
-- code point, `.attr` falling back to ['attr'] and the reverse), the
-- operators (Python's int/float arithmetic, string and list + and *, ==
-- and < on lists, `in`), iteration, calls of template functions (macros,
-- range, dict, lookup, ...) and the text of a value in output.
--
-- Template functions (macros, globals, bound methods) take (pos, kw): pos
-- a list of positional arguments (pos.n their count), kw a table of keyword
-- arguments or nil; they are marked with M.callable(fn). Another Lua
-- function found in vars is called with the positional arguments.
local values = require "luasible.template.values"
local unsafe = require "luasible.template.unsafe"

local fail, is_undef, undefined, truthy = values.fail, values.is_undefined, values.undefined, values.truthy
local none, is_none, is_list, is_mapping = values.none, values.is_none, values.is_list, values.is_mapping
local tostr, type_name = values.tostring, values.type_name
local type, mtype, getmetatable, setmetatable, pairs = type, math.type, getmetatable, setmetatable, pairs
local find, sub = string.find, string.sub
local is_unsafe = unsafe.is_unsafe

local M = {}

M.none = none
M.fail = fail
M.truthy = truthy

local function undef_error(v) values.undefined_error(v) end
M.undef_error = undef_error

-- ------------------------------------------------------------ callables

local CALLABLE = setmetatable({}, { __mode = "k" })

--- Mark fn as a template function fn(pos, kw); returns fn.
function M.callable(fn) CALLABLE[fn] = true; return fn end
local callable = M.callable

function M.is_callable(f)
  if type(f) == "function" then return true end
  local mt = type(f) == "table" and getmetatable(f)
  return mt and mt.__call ~= nil or false
end

--- Call the template value f with positional list pos and keywords kw.
function M.call(f, pos, kw, rc, what)
  if CALLABLE[f] then return f(pos, kw, rc) end
  local tf = type(f)
  if tf == "table" then
    if is_undef(f) then undef_error(f) end
    local mt = getmetatable(f)
    if mt and mt.__call then return f(pos, kw, rc) end
  end
  if tf == "function" then fail("a Lua function is not callable from a template" .. (what and (": " .. what) or "")) end
  fail("'" .. type_name(f) .. "' object is not callable" .. (what and (": " .. what) or ""))
end

-- ------------------------------------------------------------ variables

local globals = {}
M.globals = globals

-- A mapping (not unsafe) holding template strings somewhere: rendered
-- when read, as Ansible does (cached per table).
local HOLDS = setmetatable({}, { __mode = "k" })
local function holds_template(t, depth)
  local h = HOLDS[t]
  if h ~= nil then return h end
  h = false
  local mt = getmetatable(t)
  -- a lazy mapping renders what it holds itself, when read (play/vars.lua's hostvars)
  if type(mt) == "table" and rawget(mt, "__luasible_lazy") then HOLDS[t] = false return false end
  if depth < 8 and not is_undef(t) and t ~= none then
    for _, v in pairs(t) do
      if type(v) == "string" then
        if find(v, "{[{%%]") then h = true break end
      elseif type(v) == "table" and holds_template(v, depth + 1) then
        h = true
        break
      end
    end
  end
  HOLDS[t] = h
  return h
end

-- A variable holding a template, rendered; an undefined name inside it
-- makes the variable undefined (lazily, as Ansible: `| default` and
-- `is defined` see it), other errors are raised.
local function nested(v, vars, name, rc)
  local ok, r = pcall(require("luasible.template").nested, v, vars, name, rc)
  if ok then return r end
  if type(r) == "table" and r.undefined then return undefined(name, r.template_error) end
  error(r, 0)
end

--- The value of variable `name` in scope `vars` (then the globals):
--- undefined when there is none. Reading an unsafe one is counted in rc;
--- a value holding a template is rendered (template.nested).
function M.getvar(vars, name, rc)
  local v = vars[name]
  if v == nil then
    v = globals[name]
    if v == nil then return undefined(name) end
    return v
  end
  local tv = type(v)
  if tv == "string" then
    if is_unsafe(vars, name) then rc.unsafe_reads = rc.unsafe_reads + 1 return v end
    if find(v, "{[{%%]") then return nested(v, vars, name, rc) end
  elseif tv == "table" then
    if is_unsafe(vars, name) then rc.unsafe_reads = rc.unsafe_reads + 1 return v end
    if holds_template(v, 0) then return nested(v, vars, name, rc) end
  end
  return v
end


-- attribute and item access (template/access.lua), the operators and
-- % formatting (template/operators.lua), the globals (template/globals.lua):
-- one table for the compiled code.
local access = require("luasible.template.access")(M)
for k, f in pairs(access) do M[k] = f end
local operators = require "luasible.template.operators"
for k, f in pairs(operators) do M[k] = f end
local check = operators.check
local ascii = values.is_ascii

-- ------------------------------------------------------------ output, iteration

--- The text of a value in output ({{ x }}): Python's str(), None as ""
--- (Ansible's finalize). Undefined raises.
function M.out(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if mtype(v) == "integer" then return tostring(v) end
    return tostr(v)
  end
  if v == nil or v == none then return "" end
  if t == "table" and is_undef(v) then
    if v.lenient then return "" end
    undef_error(v)
  end
  return tostr(v)
end

--- The text of a value in output for plain Jinja2: None as "None".
function M.out_jinja(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if mtype(v) == "integer" then return tostring(v) end
    return tostr(v)
  end
  if v == nil or v == none then return "None" end
  if t == "table" and is_undef(v) then
    if v.lenient then return "" end
    undef_error(v)
  end
  return tostr(v)
end

M.tuple = values.tuple

--- A value's items to iterate over, as a list: a list itself, a mapping's
--- keys in order, a string's characters.
function M.iter(v)
  local t = type(v)
  if t == "table" then
    if is_undef(v) then undef_error(v) end
    if is_none(v) then fail("'NoneType' object is not iterable") end
    if is_list(v) then return v end
    return values.keys(v)
  elseif t == "string" then
    local out = {}
    if ascii(v) then
      for i = 1, #v do out[i] = sub(v, i, i) end
    else
      for _, cp in utf8.codes(v) do out[#out + 1] = utf8.char(cp) end
    end
    return out
  end
  if v == nil then fail("'NoneType' object is not iterable") end
  fail("'" .. type_name(v) .. "' object is not iterable")
end
local iter = M.iter

--- The n values of one item unpacked (for k, v in ...; set a, b = ...).
function M.unpack(item, n)
  local l = iter(item)
  if #l ~= n then
    if #l > n then fail(string.format("too many values to unpack (expected %d)", n)) end
    fail(string.format("not enough values to unpack (expected %d, got %d)", n, #l))
  end
  return table.unpack(l, 1, n)
end

-- The loop variable: its fields are set per iteration by the compiled loop.
local Loop = {}
Loop.__index = Loop
Loop.__call = function(self, pos)
  if not self.recurse then fail("the loop is not recursive: call loop() only in a 'for ... recursive'") end
  return self.recurse(pos[1], self.depth + 1)
end
Loop.__name = "luasible.loop"

--- A new loop object over a list of n items.
function M.loop(items, depth)
  local n = #items
  local l = setmetatable({ length = n, depth = depth or 1, depth0 = (depth or 1) - 1, items = items }, Loop)
  l.cycle = callable(function(pos)
    if (pos.n or #pos) == 0 then fail("no items for cycling given") end
    return pos[(l.index0 % (pos.n or #pos)) + 1]
  end)
  l.changed = callable(function(pos)
    local key = values.repr(pos)
    if key ~= l.last_changed then l.last_changed = key return true end
    return false
  end)
  return l
end

--- Set a loop's fields for item i (1-based).
function M.loop_at(l, i)
  local n, items = l.length, l.items
  l.index, l.index0, l.revindex, l.revindex0 = i, i - 1, n - i + 1, n - i
  l.first, l.last = i == 1, i == n
  if i > 1 then l.previtem = items[i - 1] else l.previtem = undefined("previtem", "there is no previous item") end
  if i < n then l.nextitem = items[i + 1] else l.nextitem = undefined("nextitem", "there is no next item") end
end

-- ------------------------------------------------------------ literals, globals

--- A dict literal {k: v, ...}: an ordered mapping (keys and values alternate in kv).
function M.dict(kv, n)
  local m = values.mapping()
  for i = 1, n, 2 do
    local k = check(kv[i])
    if type(k) == "table" and not is_none(k) then fail("unhashable type: '" .. type_name(k) .. "'") end
    if k == none then k = "None" end
    values.set(m, k, kv[i + 1])
  end
  return m
end

-- Keyword arguments: kw[names[i]] = vals[i] (an ordered mapping), merged with **extra.
function M.kwargs(names, vals, extra)
  local kw = values.mapping()
  for i, k in ipairs(names) do values.set(kw, k, vals[i]) end
  if extra ~= nil then
    if not is_mapping(extra) then fail("argument after ** must be a mapping, not " .. type_name(extra)) end
    for _, k in ipairs(values.keys(extra)) do values.set(kw, k, extra[k]) end
  end
  return kw
end

-- Positional arguments with *extra appended.
function M.star(pos, extra)
  local l = iter(extra)
  local n = pos.n or #pos
  for i = 1, #l do pos[n + i] = l[i] end
  pos.n = n + #l
  return pos
end


-- the names every template sees (template/globals.lua), over the above
for k, f in pairs(require("luasible.template.globals")(M, globals)) do M[k] = f end

-- ------------------------------------------------------------ macros, includes

M.undefined = undefined
M.lenient_undefined = values.lenient_undefined

-- Macros: callable tables that print as <Macro 'name'> and have .name, .arguments.
local Macro = { __name = "luasible.macro" }
Macro.__call = function(self, pos, kw, rc) return self.fn(pos, kw, rc) end
Macro.__pyrepr = function(self) return "<Macro '" .. self.name .. "'>" end
function M.macro(name, params, fn)
  return setmetatable({ name = name, arguments = values.tuple(params), fn = fn, catch_kwargs = false,
    catch_varargs = false, caller = false }, Macro)
end
M.keep = setmetatable({}, { __mode = "k" })

--- How deep macros may call macros (recursion included).
M.MAX_MACRO_DEPTH = 100
--- How deep includes and imports may nest.
M.MAX_INCLUDE_DEPTH = 50

function M.enter_macro(rc, name)
  local d = (rc.macro_depth or 0) + 1
  rc.macro_depth = d
  if d > M.MAX_MACRO_DEPTH then
    fail(string.format("macro '%s': macros nested more than %d calls deep (a recursion without end?)", name,
      M.MAX_MACRO_DEPTH))
  end
end

-- A macro's extra arguments: varargs (a list), kwargs (a mapping); an
-- argument the macro cannot take is an error, as in Jinja2.
function M.macro_args(name, pos, kw, known, nparams, takes_var, takes_kw, takes_caller)
  local extra_pos = {}
  local n = pos.n or #pos
  for i = nparams + 1, n do extra_pos[#extra_pos + 1] = pos[i] end
  if #extra_pos > 0 and not takes_var then
    fail(string.format("macro '%s' takes not more than %d argument(s)", name, nparams))
  end
  local extra_kw = values.mapping()
  if kw then
    for _, k in ipairs(values.keys(kw)) do
      if known[k] == nil and not (k == "caller" and takes_caller) then
        if known[k] == nil and not takes_kw then
          if k == "caller" then
            fail(string.format("macro '%s' was invoked with a call block but does not use 'caller'", name))
          end
          fail(string.format("macro '%s' takes no keyword argument '%s'", name, k))
        end
        values.set(extra_kw, k, kw[k])
      elseif known[k] and known[k] <= n then
        fail(string.format("macro '%s' got multiple values for argument '%s'", name, k))
      end
    end
  end
  return extra_pos, extra_kw
end

--- Run-time bound filter/test call (*args or **kw in the call).
function M.dyncall(kind, name, rc, pos, kw)
  local list = {}
  if kw then for _, k in ipairs(values.keys(kw)) do list[#list + 1] = { k, kw[k] } end end
  local p = {}
  for i = 1, pos.n or #pos do p[i] = pos[i] end
  return require("luasible.template.registry").call(kind, name, rc, p, list)
end

--- The scope an import/include without context sees: the globals only
-- (a table over nothing: getvar falls back to the globals).
function M.empty_scope() return {} end

local function load_template(env, name, rc, ignore_missing)
  if not env or not env.load then fail("no template loader: cannot include or import '" .. tostring(name) .. "'") end
  local d = (rc.include_depth or 0) + 1
  if d > M.MAX_INCLUDE_DEPTH then
    fail(string.format("template '%s': includes and imports nested more than %d deep (a template including itself?)",
      tostring(name), M.MAX_INCLUDE_DEPTH))
  end
  local names = type(name) == "table" and is_list(name) and name or { name }
  local last
  for _, nm in ipairs(names) do
    check(nm)
    if type(nm) ~= "string" then fail("a template name must be a string, got " .. type_name(nm)) end
    local render, subenv, err = env.load(nm)
    if render then return render, subenv, d end
    last = err
  end
  if ignore_missing then return nil end
  fail(last or ("template not found: " .. tostring(name)))
end

--- {% include name %}: the text of template `name` rendered in scope.
function M.include(env, name, scope, rc, ignore_missing)
  local render, subenv, d = load_template(env, name, rc, ignore_missing)
  if not render then return "" end
  rc.include_depth = d
  local text = render(scope, rc, subenv)
  rc.include_depth = d - 1
  return text
end

--- {% import name as m %}: the names template `name` defines (macros, sets).
function M.import(env, name, scope, rc)
  local render, subenv, d = load_template(env, name, rc, false)
  rc.include_depth = d
  local _, exports = render(scope, rc, subenv)
  rc.include_depth = d - 1
  local m = values.mapping()
  for _, k in ipairs(values.sorted_keys(exports)) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" then values.set(m, k, exports[k]) end
  end
  return m
end

function M.imported(exports, name)
  local v = exports[name]
  if v == nil then return undefined(name, "the template does not export the requested name '" .. name .. "'") end
  return v
end

M.methods = require("luasible.template.methods")(M)

return M
