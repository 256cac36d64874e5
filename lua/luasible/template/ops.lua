--- luasible.template.ops: what the operators of an expression do to their
-- values: arithmetic, equality, comparison, `in`, and indexing (`a.b`,
-- `a[k]`). Undefined operands raise "undefined variable"; indexing an
-- undefined value gives an undefined one (so `a.b.c is defined` works).
-- An operator given values it cannot take says so, with the part of the
-- expression concerned (`text`): "division by zero in '1 // 0'", "'+'
-- needs numbers, got a string ('a') and a number (1) in 'x + 1'".
local values = require "luasible.template.values"
local schema = require "luasible.util.schema"

local fail, defined, undefined, is_undef = values.fail, values.defined, values.undefined, values.is_undefined
local show, quote = schema.show, schema.quote

local M = {}

local function where(text) return text and (" in " .. quote(text)) or "" end

-- Did integer x op y = r wrap around?
local function wrapped(op, x, y, r)
  if op == "+" then return (x ~ r) & (y ~ r) < 0 end
  if op == "-" then return (x ~ y) & (x ~ r) < 0 end
  if op == "*" then return x ~= 0 and (r // x ~= y or (x == -1 and y == math.mininteger)) end
  if op == "//" then return x == math.mininteger and y == -1 end
  return false
end

-- x op y on numbers; integers that would wrap around give the float result.
local function compute(op, x, y, text)
  if (op == "/" or op == "//" or op == "%") and y == 0 then fail("division by zero" .. where(text)) end
  local r
  if op == "+" then r = x + y elseif op == "-" then r = x - y
  elseif op == "*" then r = x * y elseif op == "/" then r = x / y
  elseif op == "//" then r = x // y else r = x % y end
  if math.type(r) == "integer" and wrapped(op, x, y, r) then return compute(op, x + 0.0, y, text) end
  return r
end

--- The function (a, b, text) of an arithmetic operator (+ - * / // %).
function M.arith(op)
  return function(a, b, text)
    local x, y = tonumber(defined(a)), tonumber(defined(b))
    if x == nil or y == nil or type(a) == "boolean" or type(b) == "boolean" then
      fail(string.format("'%s' needs numbers, got %s and %s%s", op, show(a), show(b), where(text)))
    end
    return compute(op, x, y, text)
  end
end

--- Unary minus: (v, text).
function M.negate(v, text)
  local x = tonumber(defined(v))
  if x == nil or type(v) == "boolean" then fail(string.format("'-' needs a number, got %s%s", show(v), where(text))) end
  if x == math.mininteger then return -(x + 0.0) end
  return -x
end

--- ==: a number equals the string of its digits ("8080" == 8080).
function M.eq(a, b)
  defined(a)
  defined(b)
  if type(a) == "number" and type(b) == "string" then return tostring(a) == b or tonumber(b) == a end
  if type(b) == "number" and type(a) == "string" then return tostring(b) == a or tonumber(a) == b end
  return a == b
end

--- The function (a, b, text) of a comparison (< <= > >=): numbers with
--- numbers, text with text; numbers in strings compare as numbers.
function M.compare(op)
  return function(a, b, text)
    defined(a)
    defined(b)
    local ta, tb = type(a), type(b)
    if ta ~= tb or (ta ~= "number" and ta ~= "string") then
      local x, y = tonumber(a), tonumber(b)
      if x and y and ta ~= "boolean" and tb ~= "boolean" then a, b = x, y
      else fail(string.format("cannot compare %s with %s%s", show(a), show(b), where(text))) end
    end
    if op == "<" then return a < b elseif op == "<=" then return a <= b
    elseif op == ">" then return a > b else return a >= b end
  end
end

--- `needle in hay`: a substring, an item of a list, a key of a mapping.
function M.contains(hay, needle, text)
  defined(hay)
  if type(hay) == "string" then return hay:find(values.tostring(needle), 1, true) ~= nil end
  if type(hay) == "table" then
    if values.is_list(hay) then
      for _, v in ipairs(hay) do if M.eq(v, needle) then return true end end
      return false
    end
    return needle ~= nil and hay[defined(needle)] ~= nil
  end
  fail(string.format("'in' needs a string, a list or a mapping on its right, got %s%s", show(hay), where(text)))
end

--- obj[key], where `label` names obj in messages ("app.hosts").
function M.index(obj, key, label)
  if is_undef(obj) then return obj end
  defined(key)
  if type(obj) == "string" and math.type(key) == "integer" then return obj:sub(key, key) end
  if type(obj) ~= "table" then
    if obj == nil then return undefined(label .. "." .. tostring(key)) end
    fail(string.format("cannot index %s '%s' with %s", show(obj), label, show(key)))
  end
  if key == nil or key ~= key then return undefined(label .. "." .. tostring(key)) end
  local val = obj[key]
  if val == nil and math.type(key) == "float" then
    local i = math.tointeger(key)
    if i then val = obj[i] end
  end
  if val == nil and type(key) == "string" and tonumber(key) then val = obj[tonumber(key)] end
  if val == nil then return undefined(label .. "." .. tostring(key)) end
  return val
end

return M
