--- luasible.template.filters.types: conversions and undefined values:
-- default/d, mandatory, bool, int, float, string, list, type_debug,
-- ternary.
local C = require "luasible.template.filters.common"

local fail, is_none, is_undef, str = C.fail, C.is_none, C.is_undefined, C.str

-- Python's int(text, base): optional sign, digits of the base (with the
-- base's prefix for 2, 8 and 16, any prefix for base 0), underscores
-- between digits, surrounding white space. nil when it is not one.
local PREFIX = { b = 2, o = 8, x = 16 }
local function parse_int(s, base)
  s = s:match("^%s*(.-)%s*$")
  local sign, body = s:match("^([+-]?)(.*)$")
  local p = body:match("^0([bBoOxX])")
  if p then
    local pb = PREFIX[p:lower()]
    if base == 0 or base == pb then
      body, base = body:sub(3):gsub("^_", ""), pb
    end
  elseif base == 0 then
    if body:match("^0+$") or body:match("^0[0_]*$") then return 0 end
    if body:match("^0") then return nil end
    base = 10
  end
  if body == "" or body:find("__", 1, true) or body:match("^_") or body:match("_$") then return nil end
  body = body:gsub("_", "")
  local n = 0
  for c in body:gmatch(".") do
    local d = tonumber(c, 36)
    if not d or d >= base then return nil end
    n = n * base + d
    if n > 2 ^ 62 then return nil end -- past Lua's integers: not Python's, refuse
  end
  return sign == "-" and -n or n
end

-- Python's float(text): nil when it is not one.
local function parse_float(s)
  s = s:match("^%s*(.-)%s*$"):lower()
  local sign, body = s:match("^([+-]?)(.*)$")
  local n
  if body == "inf" or body == "infinity" then n = math.huge
  elseif body == "nan" then n = 0 / 0
  elseif body:match("^%d[%d_]*%.?[%d_]*$") or body:match("^%.%d[%d_]*$") or body:match("^[%d_.]+e[+-]?%d[%d_]*$") then
    if body:find("__", 1, true) or body:find("_%.") or body:find("%._") or body:match("_$") then return nil end
    n = tonumber((body:gsub("_", "")))
  end
  if not n then return nil end
  n = n + 0.0
  return sign == "-" and -n or n
end

-- float -> int towards zero; nil for inf and nan (Python raises)
local function trunc(x)
  if x ~= x then return nil, "cannot convert float NaN to integer" end
  if x == math.huge or x == -math.huge then return nil, "cannot convert float infinity to integer" end
  local i = math.tointeger(x < 0 and math.ceil(x) or math.floor(x))
  if not i then return nil, "out of the range of integers" end
  return i
end

return function(reg)
  local function default(v, d, boolean)
    if is_undef(v) or (boolean and not C.truthy(v)) then return d end
    return v
  end
  reg.filter("default", "value, default_value='', boolean=False", default, { undefined = true })
  reg.filter("d", "value, default_value='', boolean=False", default, { undefined = true })

  reg.filter("mandatory", "value, msg=None", function(v, msg)
    if is_undef(v) then
      if msg ~= nil then fail(str(msg)) end
      fail(string.format("Mandatory variable %snot defined.", v.name and ("'" .. tostring(v.name) .. "' ") or ""))
    end
    return v
  end, { undefined = true })

  -- Ansible's bool: None and booleans as they are; 'yes' 'on' '1' 'true'
  -- (any case) and 1 are true; anything else false.
  reg.filter("bool", "value", function(v)
    if is_none(v) then return C.none end
    if type(v) == "boolean" then return v end
    if type(v) == "string" then
      local l = v:lower()
      return l == "yes" or l == "on" or l == "1" or l == "true"
    end
    return v == 1
  end)

  reg.filter("int", "value, default=0, base=10", function(v, fallback, base)
    base = C.int_arg("int", "the base", base, 0)
    if base == 1 or base > 36 then C.error("int", "int() base must be >= 2 and <= 36, or 0") end
    local t = type(v)
    if t == "boolean" then return v and 1 or 0 end
    if math.type(v) == "integer" then return v end
    if t == "number" then
      local i, err = trunc(v)
      if not i then C.error("int", "%s", err) end
      return i
    end
    if t == "string" then
      local n = parse_int(v, base)
      if n then return n end
      local f = parse_float(v)
      if f then
        local i, err = trunc(f)
        if not i and f == f then C.error("int", "%s (%s)", err, C.describe(v)) end
        if i then return i end
      end
    end
    return fallback
  end)

  reg.filter("float", "value, default=0.0", function(v, fallback)
    if type(v) == "boolean" then return v and 1.0 or 0.0 end
    if type(v) == "number" then return v + 0.0 end
    if type(v) == "string" then
      local f = parse_float(v)
      if f then return f end
    end
    return fallback
  end)

  reg.filter("string", "value", function(v) return str(v) end)

  reg.filter("list", "value", function(v)
    if type(v) == "string" then return C.chars(v) end
    if C.is_list(v) then return C.copy_list(v) end
    if C.is_mapping(v) then return C.keys(v) end
    C.expects("list", "a list, a mapping or a string (something iterable)", v)
  end)

  reg.filter("type_debug", "value", C.type_name)

  reg.filter("ternary", "value, true_val, false_val, none_val=None", function(v, t, f, n)
    if is_none(v) and not is_none(n) then return n end
    if C.truthy(v) then return t end
    return f
  end)
end
