--- luasible.template.operators: Jinja2's operators with Python's semantics
-- on template values: int/float arithmetic (integers that would wrap are
-- refused), string and list + and *, == and < on lists, `in`, and
-- Python's "fmt % args". The compiled code calls them through the runtime
-- (template/runtime.lua copies them into its table).
local values = require "luasible.template.values"
local json = require "luasible.json"

local fail, is_undef = values.fail, values.is_undefined
local none, is_none, is_list, is_mapping = values.none, values.is_none, values.is_list, values.is_mapping
local tostr, type_name = values.tostring, values.type_name
local type, mtype, getmetatable = type, math.type, getmetatable
local find, sub, concat, floor = string.find, string.sub, table.concat, math.floor

local undef_error = values.undefined_error

local M = {}

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

-- ------------------------------------------------------------ % formatting

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

return M
