--- luasible.template.filters.math: numbers: abs, round (precision,
-- method), log, pow, root, human_readable, human_to_bytes, filesizeformat.
local C = require "luasible.template.filters.common"

local fail = C.fail

-- a number argument (booleans are 0 and 1, as in Python)
local function number(name, v, what)
  if type(v) == "boolean" then return v and 1 or 0 end
  if type(v) ~= "number" then
    fail(string.format("filter '%s' expects %s, got %s", name, what or "a number", C.describe(v)))
  end
  return v
end

-- Python's round(x, n) for a float: correctly rounded, ties to even (C's
-- printf does the same on the exact binary value)
local function pyround(x, n)
  if x ~= x or x == math.huge or x == -math.huge then return x end
  if n >= 0 then
    if n > 300 then return x end
    return tonumber(string.format("%." .. n .. "f", x)) + 0.0
  end
  local p = 10.0 ^ -n
  local y = x / p
  local r = math.floor(y + 0.5)
  if r - y == 0.5 and r % 2 ~= 0 then r = r - 1 end -- a tie: to even
  return r * p
end

local SIZE = { { "Y", 1 << 80 }, { "Z", 1 << 70 }, { "E", 1 << 60 }, { "P", 1 << 50 }, { "T", 1 << 40 },
  { "G", 1 << 30 }, { "M", 1 << 20 }, { "K", 1 << 10 }, { "B", 1 } }
-- 1 << 80 and 1 << 70 do not fit in an integer: as floats
SIZE[1][2], SIZE[2][2] = 2.0 ^ 80, 2.0 ^ 70
local SIZE_OF = {}
for _, s in ipairs(SIZE) do SIZE_OF[s[1]] = s[2] end

return function(reg)
  reg.filter("abs", "value", function(v)
    local n = number("abs", v)
    if n == math.mininteger then return -(n + 0.0) end
    return n < 0 and -n or n
  end)

  reg.filter("round", "value, precision=0, method='common'", function(v, precision, method)
    local x = number("round", v, "a number")
    local p = C.int_arg("round", "the precision", precision)
    if method ~= "common" and method ~= "ceil" and method ~= "floor" then
      fail("filter 'round': method must be common, ceil or floor")
    end
    if method == "common" then
      if math.type(x) == "integer" then
        if p >= 0 then return x end
        local f = 10 ^ -p
        return math.tointeger(pyround(x + 0.0, p)) or x // f * f
      end
      return pyround(x, p)
    end
    local m = 10.0 ^ p
    local f = method == "ceil" and math.ceil or math.floor
    return f(x * m) / m
  end)

  reg.filter("log", "value, base=None", function(v, base)
    local x = number("log", v)
    if x <= 0 then fail("filter 'log': math domain error") end
    if base == nil or C.is_none(base) then return math.log(x) end
    local b = number("log", base, "a number as the base")
    if b == 10 then return math.log(x, 10) end
    if b <= 0 or b == 1 then fail("filter 'log': math domain error") end
    return math.log(x) / math.log(b)
  end)

  reg.filter("pow", "value, y", function(v, y)
    return (number("pow", v) + 0.0) ^ number("pow", y, "a number as the exponent")
  end)

  reg.filter("root", "value, base=2", function(v, base)
    local x, b = number("root", v), number("root", base, "a number as the base")
    if b == 2 then
      if x < 0 then fail("filter 'root': math domain error") end
      return math.sqrt(x)
    end
    if x < 0 then fail("filter 'root': math domain error") end
    return (x + 0.0) ^ (1.0 / b)
  end)

  reg.filter("human_readable", "value, isbits=False, unit=None", function(v, isbits, unit)
    local size = number("human_readable", v)
    local base = C.truthy(isbits) and "bits" or "Bytes"
    local suffix, limit
    for _, s in ipairs(SIZE) do
      suffix, limit = s[1], s[2]
      if (unit == nil or C.is_none(unit)) and size >= limit then break end
      if unit ~= nil and not C.is_none(unit) and C.str(unit):sub(1, 1):upper() == suffix then break end
    end
    if limit ~= 1 then suffix = suffix .. base:sub(1, 1) else suffix = base end
    return string.format("%.2f %s", size / limit, suffix)
  end)

  reg.filter("human_to_bytes", "value, default_unit=None, isbits=False", function(v, default_unit, isbits)
    local s = C.str(v)
    local numtext, unit = s:match("^%s*(%d*%.?%d*)%s*([A-Za-z]*)")
    local num = tonumber(numtext or "")
    if not num then
      fail(string.format("filter 'human_to_bytes': can't interpret following string: %s", s))
    end
    if unit == "" then unit = (default_unit ~= nil and not C.is_none(default_unit)) and C.str(default_unit) or nil end
    if unit == nil then return math.tointeger(pyround(num, 0)) or math.floor(num + 0.5) end
    local key = unit:sub(1, 1):upper()
    local limit = SIZE_OF[key]
    if not limit then
      fail(string.format("filter 'human_to_bytes': failed to convert %s (unit = %s). The suffix must be one of "
        .. "Y, Z, E, P, T, G, M, K, B", s, unit))
    end
    local class, class_name = "B", "byte"
    if C.truthy(isbits) then class, class_name = "b", "bit" end
    if #unit > 1 and not unit:lower():find(class_name, 1, true) and unit:sub(2, 2) ~= class then
      local expect = key == "B" and string.format("expect %s or %s", class, class_name)
        or string.format("expect %s%s or %s", key, class, key)
      fail(string.format("filter 'human_to_bytes': failed to convert %s. Value is not a valid string (%s)", s, expect))
    end
    local r = pyround(num * limit, 0)
    return math.tointeger(r) or r
  end)

  reg.filter("filesizeformat", "value, binary=False", function(v, binary)
    local bytes
    if type(v) == "string" then bytes = tonumber(v) else bytes = number("filesizeformat", v) end
    if not bytes then C.expects("filesizeformat", "a number", v) end
    bytes = bytes + 0.0
    local bin = C.truthy(binary)
    local base = bin and 1024 or 1000
    local prefixes = bin and { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB" }
      or { "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" }
    if bytes == 1 then return "1 Byte" end
    if bytes < base then
      return string.format("%d Bytes", math.tointeger(bytes < 0 and math.ceil(bytes) or math.floor(bytes)))
    end
    local unit, prefix
    for i, p in ipairs(prefixes) do
      unit, prefix = (base + 0.0) ^ (i + 1), p
      if bytes < unit then break end
    end
    return string.format("%.1f %s", base * bytes / unit, prefix)
  end)
end
