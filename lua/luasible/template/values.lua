--- luasible.template.values: what every part of the template engine shares
-- about values: the undefined value, template truth, text of a value,
-- lengths, lists and the error an expression raises.
local json = require "luasible.json"

local M = {}

--- An expression's error: raised as { template_error = msg } and turned
--- into `nil, msg` by the face (template/init.lua).
function M.fail(msg) error({ template_error = msg }, 0) end

-- Undefined: the value of a missing variable. It propagates through attribute
-- access so that `a.b.c is defined` and `x | default(1)` work, and raises a
-- clear error when it is used as a real value.
local Undefined = { __name = "luasible.undefined" }
Undefined.__index = Undefined

--- The undefined value of the variable (or path, "a.b") `name`.
function M.undefined(name) return setmetatable({ name = name }, Undefined) end

function M.is_undefined(v) return getmetatable(v) == Undefined end
local is_undef = M.is_undefined

--- Raise "undefined variable 'name'" for an undefined value.
function M.undefined_error(v) M.fail("undefined variable '" .. v.name .. "'") end

--- `v` itself; raises when it is undefined.
function M.defined(v)
  if is_undef(v) then M.undefined_error(v) end
  return v
end

--- Template truth (as in Jinja): false, nil, 0, "", an empty table and an
--- undefined value are false.
function M.truthy(v)
  if v == nil or v == false or v == 0 or v == "" or is_undef(v) then return false end
  if type(v) == "table" and next(v) == nil then return false end
  return true
end

--- Is t a list: a table whose keys are exactly 1..#t (an empty one too)?
function M.is_list(t)
  if type(t) ~= "table" then return false end
  local n = #t
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

-- JSON with keys in sorted order (stable output): contract 7's json.encode.
local encode = json.encode
M.to_json = function(v) return encode(v) end

--- The text of a value: "" for nil, JSON for a table, an integral float
--- without its ".0". Raises for an undefined value.
function M.tostring(v)
  if is_undef(v) then M.undefined_error(v) end
  if v == nil then return "" end
  if type(v) == "table" then return encode(v) end
  if math.type(v) == "float" and v == math.floor(v) and v > -2^53 and v < 2^53 then
    return string.format("%d", v)
  end
  return tostring(v)
end

--- Length of a string (bytes) or of a table (every key counts).
function M.length(v)
  if type(v) == "string" then return #v end
  if type(v) == "table" then
    local n = 0
    for _ in pairs(v) do n = n + 1 end
    return n
  end
  M.fail("length of a " .. type(v))
end

--- The keys of t, sorted (by type first, then by value).
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    return a < b
  end)
  return keys
end

return M
