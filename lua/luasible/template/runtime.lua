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
local json = require "luasible.json"

local fail, is_undef, undefined, truthy = values.fail, values.is_undefined, values.undefined, values.truthy
local none, is_none, is_list, is_mapping = values.none, values.is_none, values.is_list, values.is_mapping
local tostr, type_name, ulen = values.tostring, values.type_name, values.ulen
local type, mtype, getmetatable, setmetatable, rawget, pairs = type, math.type, getmetatable, setmetatable,
  rawget, pairs
local find, sub, concat, floor = string.find, string.sub, table.concat, math.floor
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

-- ------------------------------------------------------------ attributes, items

local function obj_repr(o)
  if is_none(o) then return "None" end
  return type_name(o) .. " object"
end

local methods -- set below: type -> name -> fn(self, pos, kw)

-- Is the string pure ASCII (bytes index code points)?
local function ascii(s) return not find(s, "[\128-\255]") end

-- The code point i (1-based) of s, or nil.
local function char_at(s, i)
  if ascii(s) then
    if i < 1 or i > #s then return nil end
    return sub(s, i, i)
  end
  local n = utf8.len(s)
  if not n then
    if i < 1 or i > #s then return nil end
    return sub(s, i, i)
  end
  if i < 1 or i > n then return nil end
  local a = utf8.offset(s, i)
  local b = utf8.offset(s, i + 1)
  return sub(s, a, b - 1)
end

-- A list index (0-based, negative from the end) as a Lua index, or nil.
local function lindex(n, k)
  if mtype(k) ~= "integer" then
    if mtype(k) == "float" and k == floor(k) then return nil end
    if type(k) == "boolean" then k = k and 1 or 0 else return nil end
  end
  if k < 0 then k = n + k end
  if k < 0 or k >= n then return nil end
  return k + 1
end

local OBJECT = getmetatable(json.object())

--- obj[key] (Jinja2's getitem: the item, else the attribute).
function M.getitem(obj, key)
  local t = type(obj)
  if t == "table" then
    local mt = getmetatable(obj)
    if mt == nil and mtype(key) == "integer" then
      -- a list (fast path): 0-based, negative from the end
      local n = #obj
      if n > 0 and obj[0] == nil and is_list(obj) then
        if key < 0 then key = n + key end
        if key >= 0 and key < n then return obj[key + 1] end
        return undefined(nil, "'list object' has no element " .. tostring(key < 0 and key - n or key))
      end
    elseif mt == OBJECT and type(key) == "string" then
      local v = obj[key]
      if v ~= nil then return v end
    end
    if is_undef(obj) then return obj end
    if is_undef(key) then undef_error(key) end
    if obj == none or json.is_null(obj) then
      return undefined(nil, "'None' has no attribute " .. values.repr(key))
    end
    if is_list(obj) and (mtype(key) or type(key) == "boolean") and next(obj) ~= nil then
      local i = lindex(#obj, key)
      if i then return obj[i] end
      return undefined(nil, "'list object' has no element " .. values.repr(key))
    end
    local v = obj[key]
    if v == nil and mtype(key) == "float" and key == floor(key) then v = obj[math.tointeger(key)] end
    if v == nil and type(key) == "boolean" then v = obj[key and 1 or 0] end
    if v ~= nil then return v end
    if type(key) == "string" then return M.getattr(obj, key, true) end
    if is_list(obj) and mtype(key) then return undefined(nil, "'list object' has no element " .. values.repr(key)) end
    return undefined(nil, "'" .. obj_repr(obj) .. "' has no attribute " .. values.repr(key))
  elseif t == "string" then
    if is_undef(key) then undef_error(key) end
    if mtype(key) then
      local n = ascii(obj) and #obj or ulen(obj)
      local i = lindex(n, key)
      if i then return char_at(obj, i) end
      return undefined(nil, "'str object' has no element " .. values.repr(key))
    end
    if type(key) == "string" then return M.getattr(obj, key, true) end
    return undefined(nil, "'str object' has no element " .. values.repr(key))
  end
  if obj == nil then return undefined(nil, "'None' has no attribute " .. values.repr(key)) end
  return undefined(nil, "'" .. obj_repr(obj) .. "' has no attribute " .. values.repr(key))
end

-- A bound method of obj: a template function.
local function bound(obj, m)
  return callable(function(pos, kw) return m(obj, pos, kw) end)
end

--- obj.attr (Jinja2's getattr: the attribute, else the item).
function M.getattr(obj, attr, from_item)
  local t = type(obj)
  if t == "table" then
    local mt = getmetatable(obj)
    if mt == nil or mt == OBJECT then
      local v = obj[attr]
      if v ~= nil then return v end
    end
    if is_undef(obj) then return obj end
    if obj == none or json.is_null(obj) then return undefined(nil, "'None' has no attribute '" .. attr .. "'") end
    local v = obj[attr]
    if v ~= nil then return v end
    local kind = is_list(obj) and "list" or "dict"
    local m = methods[kind][attr]
    if m then return bound(obj, m) end
    if not from_item and kind == "list" and next(obj) == nil and methods.dict[attr] then
      return bound(obj, methods.dict[attr])
    end
    return undefined(nil, "'" .. kind .. " object' has no attribute '" .. attr .. "'")
  elseif t == "string" then
    local m = methods.str[attr]
    if m then return bound(obj, m) end
    return undefined(nil, "'str object' has no attribute '" .. attr .. "'")
  end
  if obj == nil then return undefined(nil, "'None' has no attribute '" .. attr .. "'") end
  if not from_item and t == "number" then
    if attr == "real" then return obj end
    if attr == "imag" then return 0 end
  end
  return undefined(nil, "'" .. obj_repr(obj) .. "' has no attribute '" .. attr .. "'")
end

--- obj.name(args): a method of a str, list or dict, else the attribute called.
function M.callmethod(obj, name, pos, kw, rc)
  local t = type(obj)
  local m
  if t == "string" then m = methods.str[name]
  elseif t == "table" and not is_undef(obj) and obj ~= none then
    local mt = getmetatable(obj)
    if not (mt and mt.__call) and not rawget(obj, name) then
      m = methods[is_list(obj) and "list" or "dict"][name]
      if not m and next(obj) == nil then m = methods.dict[name] end
    end
  end
  if m then return m(obj, pos, kw) end
  local f = M.getattr(obj, name)
  if is_undef(f) then undef_error(f) end
  return M.call(f, pos, kw, rc, name)
end

-- Python's slice indices for a sequence of length n: start, stop, step (0-based).
local function slice_indices(n, a, b, c)
  local step = 1
  if not is_none(c) then
    if mtype(c) ~= "integer" then fail("slice indices must be integers or None") end
    if c == 0 then fail("slice step cannot be zero") end
    step = c
  end
  local function norm(x, dflt_pos, dflt_neg)
    if is_none(x) then return step > 0 and dflt_pos or dflt_neg end
    if type(x) == "boolean" then x = x and 1 or 0 end
    if mtype(x) ~= "integer" then fail("slice indices must be integers or None") end
    if x < 0 then
      x = x + n
      if x < 0 then x = step > 0 and 0 or -1 end
    elseif x >= n then
      x = step > 0 and n or n - 1
    end
    return x
  end
  return norm(a, 0, n - 1), norm(b, n, -1), step
end

--- obj[a:b:c] for lists and strings (by code point).
function M.slice(obj, a, b, c)
  if is_undef(obj) then return obj end
  for _, x in ipairs({ a, b, c }) do if is_undef(x) then undef_error(x) end end
  if type(obj) == "string" then
    local chars
    local n
    if ascii(obj) then n = #obj else
      chars = {}
      for _, cp in utf8.codes(obj) do chars[#chars + 1] = utf8.char(cp) end
      n = #chars
    end
    local i, j, step = slice_indices(n, a, b, c)
    if step == 1 and not chars then return sub(obj, i + 1, j) end
    local out = {}
    if step > 0 then
      while i < j do out[#out + 1] = chars and chars[i + 1] or sub(obj, i + 1, i + 1); i = i + step end
    else
      while i > j do out[#out + 1] = chars and chars[i + 1] or sub(obj, i + 1, i + 1); i = i + step end
    end
    return concat(out)
  end
  if type(obj) == "table" and is_list(obj) then
    local i, j, step = slice_indices(#obj, a, b, c)
    local out, k = {}, 0
    if step > 0 then
      while i < j do k = k + 1; out[k] = obj[i + 1]; i = i + step end
    else
      while i > j do k = k + 1; out[k] = obj[i + 1]; i = i + step end
    end
    return out
  end
  if is_none(obj) then fail("'NoneType' object is not subscriptable") end
  fail("'" .. type_name(obj) .. "' object is not subscriptable")
end

-- ------------------------------------------------------------ operators

local function num(v)
  if mtype(v) then return v end
  if type(v) == "boolean" then return v and 1 or 0 end
  return nil
end
M.num = num

local UNDEFINED = values.UNDEFINED
local function check(v) if getmetatable(v) == UNDEFINED then undef_error(v) end return v end
M.check = check

local function unsupported(op, a, b)
  check(a)
  check(b)
  fail(string.format("unsupported operand type(s) for %s: '%s' and '%s'", op, type_name(a), type_name(b)))
end

-- Did integer x op y = r wrap around?
local function wrapped_add(x, y, r) return (x ~ r) & (y ~ r) < 0 end
local function wrapped_sub(x, y, r) return (x ~ y) & (x ~ r) < 0 end

function M.add(a, b)
  local x, y = num(a), num(b)
  if x and y then
    local r = x + y
    if mtype(r) == "integer" and wrapped_add(x, y, r) then return (x + 0.0) + y end
    return r
  end
  local ta, tb = type(a), type(b)
  if ta == "string" and tb == "string" then return a .. b end
  if ta == "table" and tb == "table" and is_list(a) and is_list(b) then
    local out = {}
    for i = 1, #a do out[i] = a[i] end
    local n = #a
    for i = 1, #b do out[n + i] = b[i] end
    return out
  end
  if ta == "string" then
    check(b)
    fail(string.format('can only concatenate str (not "%s") to str', type_name(b)))
  end
  if ta == "table" and is_list(a) and not is_undef(b) then
    fail(string.format('can only concatenate list (not "%s") to list', type_name(b)))
  end
  unsupported("+", a, b)
end

function M.sub(a, b)
  local x, y = num(a), num(b)
  if x and y then
    local r = x - y
    if mtype(r) == "integer" and wrapped_sub(x, y, r) then return (x + 0.0) - y end
    return r
  end
  unsupported("-", a, b)
end

local function repeat_seq(s, n)
  if n <= 0 then return type(s) == "string" and "" or {} end
  if type(s) == "string" then return string.rep(s, n) end
  local out, k = {}, 0
  for _ = 1, n do for i = 1, #s do k = k + 1; out[k] = s[i] end end
  return out
end

function M.mul(a, b)
  local x, y = num(a), num(b)
  if x and y then
    local r = x * y
    if mtype(r) == "integer" and x ~= 0 and (r // x ~= y or (x == -1 and y == math.mininteger)) then
      return (x + 0.0) * y
    end
    return r
  end
  if (type(a) == "string" or (type(a) == "table" and is_list(a))) and mtype(y) == "integer" then
    return repeat_seq(a, y)
  end
  if (type(b) == "string" or (type(b) == "table" and is_list(b))) and mtype(x) == "integer" then
    return repeat_seq(b, x)
  end
  unsupported("*", a, b)
end

function M.div(a, b)
  local x, y = num(a), num(b)
  if x and y then
    if y == 0 then fail("division by zero") end
    return x / y
  end
  unsupported("/", a, b)
end

function M.floordiv(a, b)
  local x, y = num(a), num(b)
  if x and y then
    if y == 0 then fail(mtype(x) == "integer" and mtype(y) == "integer" and "integer division or modulo by zero"
      or "float floor division by zero") end
    if x == math.mininteger and y == -1 then return -(x + 0.0) end
    return x // y
  end
  unsupported("//", a, b)
end

function M.mod(a, b)
  if type(a) == "string" then return M.percent_format(a, b) end
  local x, y = num(a), num(b)
  if x and y then
    if y == 0 then fail(mtype(x) == "integer" and mtype(y) == "integer" and "integer division or modulo by zero"
      or "float modulo") end
    return x % y
  end
  unsupported("%", a, b)
end

function M.pow(a, b)
  local x, y = num(a), num(b)
  if x and y then
    if mtype(x) == "integer" and mtype(y) == "integer" and y >= 0 then
      local r = 1
      for _ = 1, y do
        local nr = r * x
        if x ~= 0 and nr // x ~= r then return (x + 0.0) ^ y end
        r = nr
        if r == 0 or r == 1 then break end
      end
      if x == -1 then return (y % 2 == 0) and 1 or -1 end
      return r
    end
    if x == 0 and y < 0 then fail("0.0 cannot be raised to a negative power") end
    return x ^ y
  end
  unsupported("** or pow()", a, b)
end

function M.neg(a)
  local x = num(a)
  if x then
    if x == math.mininteger then return -(x + 0.0) end
    return -x
  end
  check(a)
  fail("bad operand type for unary -: '" .. type_name(a) .. "'")
end

function M.pos(a)
  local x = num(a)
  if x then return x end
  check(a)
  fail("bad operand type for unary +: '" .. type_name(a) .. "'")
end

--- a ~ b: both as text.
function M.concat(a, b)
  if type(a) ~= "string" then a = tostr(check(a)) end
  if type(b) ~= "string" then b = tostr(check(b)) end
  return a .. b
end

local eq
--- Python's ==.
function eq(a, b)
  if a == b then return true end
  local ta, tb = type(a), type(b)
  if ta == "number" or ta == "boolean" then
    local x, y = num(a), num(b)
    if x and y then return x == y end
    if is_undef(b) then undef_error(b) end
    return false
  end
  if ta == "table" then
    if is_undef(a) then undef_error(a) end
    if tb ~= "table" then
      if tb == "nil" then return is_none(a) end
      return false
    end
    if is_undef(b) then undef_error(b) end
    if is_none(a) or is_none(b) then return is_none(a) and is_none(b) end
    local la, lb = is_list(a), is_list(b)
    if la ~= lb then
      return next(a) == nil and next(b) == nil and not json.is_object(a) and not json.is_object(b)
    end
    if la then
      if #a ~= #b then return false end
      for i = 1, #a do if not eq(a[i], b[i]) then return false end end
      return true
    end
    for k, v in pairs(a) do if b[k] == nil or not eq(v, b[k]) then return false end end
    for k in pairs(b) do if a[k] == nil then return false end end
    return true
  end
  if ta == "nil" then return is_none(b) end
  if is_undef(b) then undef_error(b) end
  return false
end
M.eq = eq
function M.ne(a, b) return not eq(a, b) end

local function lt(a, b, op)
  local x, y = num(a), num(b)
  if x and y then return x < y end
  local ta, tb = type(a), type(b)
  if ta == "string" and tb == "string" then return a < b end
  check(a)
  check(b)
  if ta == "table" and tb == "table" and is_list(a) and is_list(b) then
    for i = 1, math.min(#a, #b) do
      if not eq(a[i], b[i]) then return lt(a[i], b[i], op) end
    end
    return #a < #b
  end
  fail(string.format("'%s' not supported between instances of '%s' and '%s'", op, type_name(a), type_name(b)))
end
function M.lt(a, b) return lt(a, b, "<") end
function M.gt(a, b) return lt(b, a, ">") end
function M.le(a, b)
  local x, y = num(a), num(b)
  if x and y then return x <= y end
  if type(a) == "string" and type(b) == "string" then return a <= b end
  return lt(a, b, "<=") or eq(a, b)
end
function M.ge(a, b)
  local x, y = num(a), num(b)
  if x and y then return x >= y end
  if type(a) == "string" and type(b) == "string" then return a >= b end
  return lt(b, a, ">=") or eq(a, b)
end

--- needle in hay.
function M.contains(needle, hay)
  local th = type(hay)
  if th == "string" then
    if type(needle) ~= "string" then
      check(needle)
      fail("'in <string>' requires string as left operand, not " .. type_name(needle))
    end
    return find(hay, needle, 1, true) ~= nil
  end
  if th == "table" then
    if is_undef(hay) then undef_error(hay) end
    if is_none(hay) then fail("argument of type 'NoneType' is not iterable") end
    check(needle)
    if is_list(hay) then
      for i = 1, #hay do if eq(hay[i], needle) then return true end end
      return false
    end
    if needle == nil or needle == none then return false end
    if type(needle) == "table" then return false end
    if hay[needle] ~= nil then return true end
    if mtype(needle) == "float" and needle == floor(needle) then return hay[math.tointeger(needle)] ~= nil end
    if type(needle) == "boolean" then return hay[needle and 1 or 0] ~= nil end
    return false
  end
  check(needle)
  if hay == nil then fail("argument of type 'NoneType' is not iterable") end
  fail("argument of type '" .. type_name(hay) .. "' is not iterable")
end
function M.notin(needle, hay) return not M.contains(needle, hay) end

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

globals.range = callable(function(pos)
  local n = pos.n or #pos
  for i = 1, n do
    local x = pos[i]
    if type(x) == "boolean" then pos[i] = x and 1 or 0
    elseif mtype(x) ~= "integer" then
      check(x)
      fail("'" .. type_name(x) .. "' object cannot be interpreted as an integer")
    end
  end
  local a, b, c = pos[1], pos[2], pos[3]
  if n == 0 then fail("range expected at least 1 argument, got 0") end
  if n == 1 then a, b = 0, a end
  c = c or 1
  if c == 0 then fail("range() arg 3 must not be zero") end
  local count = c > 0 and ((b - a + c - 1) // c) or ((a - b - c - 1) // -c)
  if count > 1000000 then fail("range too big: more than 1000000 items") end
  local out = {}
  for i = 1, math.max(count, 0) do out[i] = a + (i - 1) * c end
  return out
end)

globals.dict = callable(function(pos, kw)
  local m = values.mapping()
  if pos[1] ~= nil then
    local src = pos[1]
    if is_mapping(src) then
      for _, k in ipairs(values.keys(src)) do values.set(m, k, src[k]) end
    else
      for _, pair in ipairs(iter(src)) do
        local k, v = M.unpack(pair, 2)
        values.set(m, k, v)
      end
    end
  end
  if kw then for _, k in ipairs(values.keys(kw)) do values.set(m, k, kw[k]) end end
  return m
end)

local LOREM = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
  .. "et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea "
  .. "commodo consequat"):gmatch("%a+")
local WORDS = {}
for w in LOREM do WORDS[#WORDS + 1] = w end

--- lipsum(n=5, html=True, min=20, max=100): Jinja2's lorem ipsum (its
--- words in a fixed order here, not random).
globals.lipsum = callable(function(pos, kw)
  local n = pos[1] or (kw and kw.n) or 5
  local html = pos[2]
  if html == nil and kw then html = kw.html end
  if html == nil then html = true end
  local lo = pos[3] or (kw and kw.min) or 20
  local paras = {}
  for p = 1, n do
    local words = {}
    for i = 1, lo do words[i] = WORDS[(p + i - 2) % #WORDS + 1] end
    local text = table.concat(words, " ")
    text = text:sub(1, 1):upper() .. text:sub(2) .. "."
    paras[p] = html and ("<p>" .. text .. "</p>") or text
  end
  return table.concat(paras, "\n\n")
end)

--- cycler(*items): .next(), .reset(), .current
globals.cycler = callable(function(pos)
  local items = {}
  for i = 1, pos.n or #pos do items[i] = pos[i] end
  if #items == 0 then fail("cycler() needs at least one item") end
  local c = values.mapping()
  local i = 1
  local function set() values.set(c, "current", items[i]) end
  set()
  values.set(c, "next", callable(function()
    local v = items[i]
    i = i % #items + 1
    set()
    return v
  end))
  values.set(c, "reset", callable(function() i = 1; set(); return none end))
  return c
end)

--- joiner(sep=', '): "" the first time it is called, sep after.
globals.joiner = callable(function(pos, kw)
  local sep = pos[1] or (kw and kw.sep) or ", "
  local used = false
  return callable(function()
    if used then return sep end
    used = true
    return ""
  end)
end)

-- Jinja2's `self` (the template's reference; blocks are not kept apart here).
globals.self = setmetatable({}, { __name = "luasible.template_reference",
  __pyrepr = function() return "<TemplateReference None>" end })

local Namespace = { __name = "luasible.namespace" }
local NS = setmetatable({}, { __mode = "k" })
globals.namespace = callable(function(pos, kw)
  local ns = values.mapping()
  if pos[1] ~= nil and is_mapping(pos[1]) then
    for _, k in ipairs(values.keys(pos[1])) do values.set(ns, k, pos[1][k]) end
  end
  if kw then for _, k in ipairs(values.keys(kw)) do values.set(ns, k, kw[k]) end end
  NS[ns] = Namespace
  return ns
end)

--- Is t a namespace() (its attributes may be set)?
function M.is_namespace(t) return NS[t] ~= nil end

--- {% set ns.attr = v %}
function M.setattr(ns, attr, v)
  if not M.is_namespace(ns) then fail("cannot assign attribute on non-namespace object") end
  values.set(ns, attr, v)
end

--- A list of the given values; lookup/query through luasible.lookup.
local function lookup_call(wantlist)
  return function(pos, kw, rc)
    local ok, lookup = pcall(require, "luasible.lookup")
    if not ok then fail("lookups are not available: " .. tostring(lookup)) end
    local name = pos[1]
    if type(name) ~= "string" then fail("lookup(): the first argument must be the name of a lookup") end
    local terms = {}
    for i = 2, pos.n or #pos do terms[#terms + 1] = check(pos[i]) end
    local k = values.mapping()
    local want = wantlist
    if kw then
      for _, key in ipairs(values.keys(kw)) do
        if key == "wantlist" then want = truthy(kw[key]) else values.set(k, key, kw[key]) end
      end
    end
    return lookup.call(name, terms, k, rc and rc.lookup_env and rc.lookup_env() or {}, want)
  end
end
M.lookup_call = lookup_call

-- ------------------------------------------------------------ % formatting

-- Python's "fmt % args" for %s %r %d %i %f %F %e %g %x %X %o %c %%.
function M.percent_format(fmt, args)
  local list
  local map
  if type(args) == "table" and is_list(args) and not is_none(args) then list = args
  elseif is_mapping(args) then map = args; list = { args }
  else list = { args } end
  local i = 0
  local function one(key, flags, width, prec, conv)
      if conv == "%" then return "%" end
      local v
      if key ~= "" then
        v = map and map[key]
        if v == nil then fail("format requires a mapping") end
      else
        i = i + 1
        if i > #list then fail("not enough arguments for format string") end
        v = list[i]
      end
      check(v)
      local spec = "%" .. flags .. width .. prec
      if conv == "s" then return string.format(spec .. "s", tostr(v)) end
      if conv == "r" then return string.format(spec .. "s", values.repr(v)) end
      local x = num(v)
      if x == nil then
        if conv == "c" and type(v) == "string" then return v end
        fail("%" .. conv .. " format: a real number is required, not " .. type_name(v))
      end
      if conv == "d" or conv == "i" then
        return string.format(spec .. "d", x < 0 and math.ceil(x) or floor(x))
      end
      if conv == "x" or conv == "X" or conv == "o" then return string.format(spec .. conv, math.tointeger(floor(x))) end
      if conv == "c" then return utf8.char(math.tointeger(x)) end
      return string.format(spec .. conv, x)
  end
  local parts, pos = {}, 1
  while true do
    local s = find(fmt, "%", pos, true)
    if not s then parts[#parts + 1] = sub(fmt, pos) break end
    parts[#parts + 1] = sub(fmt, pos, s - 1)
    local key, j = "", s + 1
    if sub(fmt, j, j) == "(" then
      local close = find(fmt, ")", j, true)
      if not close then fail("incomplete format key") end
      key, j = sub(fmt, j + 1, close - 1), close + 1
    end
    local flags, width, prec, conv, e = fmt:match("^([-+ #0]*)(%d*)(%.?%d*)([sridfFeEgGxXoc%%])()", j)
    if not flags then fail("unsupported format character at index " .. (s - 1)) end
    parts[#parts + 1] = one(key, flags, width, prec, conv)
    pos = e
  end
  local out = concat(parts)
  if list ~= nil and not map and i < #list and type(args) == "table" then
    fail("not all arguments converted during string formatting")
  end
  return out
end

globals.lookup = callable(lookup_call(false))
globals.query = callable(lookup_call(true))
globals.q = globals.query

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

methods = require("luasible.template.methods")(M)
M.methods = methods

return M
