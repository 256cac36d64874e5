--- luasible.template.ops: what the operators of an expression do to their
-- values: arithmetic, equality, comparison, `in`, and indexing (`a.b`,
-- `a[k]`). Undefined operands raise "undefined variable"; indexing an
-- undefined value gives an undefined one (so `a.b.c is defined` works).
local values = require "luasible.template.values"

local fail, defined, undefined, is_undef = values.fail, values.defined, values.undefined, values.is_undefined

local M = {}

--- The function of an arithmetic operator (+ - * / // %).
function M.arith(op)
  return function(a, b)
    local x, y = tonumber(defined(a)), tonumber(defined(b))
    if x == nil or y == nil then
      fail(string.format("arithmetic '%s' on %s and %s", op, type(a), type(b)))
    end
    if op == "+" then return x + y elseif op == "-" then return x - y
    elseif op == "*" then return x * y elseif op == "/" then return x / y
    elseif op == "//" then return x // y else return x % y end
  end
end

--- ==: a number equals the string of its digits ("8080" == 8080).
function M.eq(a, b)
  defined(a)
  defined(b)
  if type(a) == "number" and type(b) == "string" then return tostring(a) == b or tonumber(b) == a end
  if type(b) == "number" and type(a) == "string" then return tostring(b) == a or tonumber(a) == b end
  return a == b
end

--- The function of a comparison (< <= > >=); numbers in strings compare as numbers.
function M.compare(op)
  return function(a, b)
    defined(a)
    defined(b)
    if type(a) ~= type(b) then
      local x, y = tonumber(a), tonumber(b)
      if x and y then a, b = x, y
      else fail(string.format("cannot compare %s with %s", type(a), type(b))) end
    end
    if op == "<" then return a < b elseif op == "<=" then return a <= b
    elseif op == ">" then return a > b else return a >= b end
  end
end

--- `needle in hay`: a substring, an item of a list, a key of a mapping.
function M.contains(hay, needle)
  defined(hay)
  if type(hay) == "string" then return hay:find(values.tostring(needle), 1, true) ~= nil end
  if type(hay) == "table" then
    if values.is_list(hay) then
      for _, v in ipairs(hay) do if M.eq(v, needle) then return true end end
      return false
    end
    return hay[needle] ~= nil
  end
  return false
end

--- obj[key], where `label` names obj in messages ("app.hosts").
function M.index(obj, key, label)
  if is_undef(obj) then return obj end
  if type(obj) == "string" and math.type(key) == "integer" then return obj:sub(key, key) end
  if type(obj) ~= "table" then
    if obj == nil then return undefined(label .. "." .. tostring(key)) end
    fail(string.format("cannot index %s '%s' with '%s'", type(obj), label, tostring(key)))
  end
  local val = obj[key]
  if val == nil and math.type(key) == "float" then val = obj[math.tointeger(key)] end
  if val == nil and type(key) == "string" and tonumber(key) then val = obj[tonumber(key)] end
  if val == nil then return undefined(label .. "." .. tostring(key)) end
  return val
end

return M
