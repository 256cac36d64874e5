--- luasible.template.filters.pyformat: Python's printf-style formatting,
-- `text % args` (Jinja's `format` filter): %s %r %a %d %i %u %f %F %e %E %g
-- %G %x %X %o %c %%, flags (-+ #0), width and precision (or *), and
-- %(name)s with a mapping. Errors read as Python's ("not enough arguments
-- for format string").
local C = require "luasible.template.filters.common"
local pyrepr = require "luasible.util.pyrepr"

local M = {}

local fail = C.fail

local function num_of(v, conv)
  if type(v) == "boolean" then return v and 1 or 0 end
  if type(v) ~= "number" then
    fail(string.format("format: %%%s format: a real number is required, not %s", conv, C.type_name(v)))
  end
  return v
end

-- Python's %g: Lua's C printf does the same for finite numbers.
local function special(x)
  if x ~= x then return "nan" end
  if x == math.huge then return "inf" end
  if x == -math.huge then return "-inf" end
end

local function pad(s, flags, width)
  local len = utf8.len(s) or #s
  if not width or len >= width then return s end
  if flags:find("-", 1, true) then return s .. string.rep(" ", width - len) end
  if flags:find("0", 1, true) then
    local sign, rest = s:match("^([+%- ]?)(.*)$")
    local prefix = rest:match("^0[xXo]") or ""
    rest = rest:sub(#prefix + 1)
    if rest:match("^%d") or rest:match("^%.") then
      return sign .. prefix .. string.rep("0", width - len) .. rest
    end
  end
  return string.rep(" ", width - len) .. s
end

local function one(conv, flags, width, prec, v)
  if conv == "s" then
    local s = C.str(v)
    if prec then s = s:sub(1, utf8.offset(s, prec + 1) and utf8.offset(s, prec + 1) - 1 or #s) end
    return pad(s, flags:gsub("0", ""), width)
  elseif conv == "r" or conv == "a" then
    local s = C.repr(v)
    if conv == "a" and s:find("[\128-\255]") and utf8.len(s) then
      -- Python's ascii(): repr with what is not ASCII escaped
      local out = {}
      for _, cp in utf8.codes(s) do
        if cp < 128 then out[#out + 1] = string.char(cp)
        elseif cp < 0x100 then out[#out + 1] = string.format("\\x%02x", cp)
        elseif cp < 0x10000 then out[#out + 1] = string.format("\\u%04x", cp)
        else out[#out + 1] = string.format("\\U%08x", cp) end
      end
      s = table.concat(out)
    end
    if prec then s = s:sub(1, prec) end
    return pad(s, flags:gsub("0", ""), width)
  elseif conv == "c" then
    local s
    if type(v) == "string" and utf8.len(v) == 1 then s = v
    elseif math.type(v) == "integer" and v >= 0 and v <= 0x10FFFF then s = utf8.char(v)
    else fail("format: %c requires int or char") end
    return pad(s, flags:gsub("0", ""), width)
  end
  local x = num_of(v, conv)
  local sign = ""
  local body
  if conv == "d" or conv == "i" or conv == "u" or conv == "x" or conv == "X" or conv == "o" then
    if math.type(x) == "float" then
      if special(x) then fail("format: cannot convert float " .. special(x) .. " to integer") end
      if conv ~= "d" and conv ~= "i" and conv ~= "u" then
        fail(string.format("format: %%%s format: an integer is required, not float", conv))
      end
      x = math.tointeger(x < 0 and math.ceil(x) or math.floor(x)) or x
    end
    if x < 0 then sign, x = "-", -x end
    if conv == "x" or conv == "X" or conv == "o" then
      body = string.format("%" .. conv, x)
      if flags:find("#", 1, true) then body = (conv == "o" and "0o" or "0" .. conv) .. body end
    else
      body = string.format("%d", x)
    end
    if prec and #body < prec then body = string.rep("0", prec - #body) .. body end
  else
    x = x + 0.0
    if x < 0 or (x == 0 and 1 / x < 0) then sign, x = "-", -x end
    body = special(x)
    if body then
      if conv:match("%u") then body = body:upper() end
    else
      local alt = flags:find("#", 1, true) and "#" or ""
      body = string.format("%" .. alt .. "." .. (prec or 6) .. conv, x)
    end
  end
  if sign == "" then
    if flags:find("+", 1, true) then sign = "+" elseif flags:find(" ", 1, true) then sign = " " end
  end
  return pad(sign .. body, flags, width)
end

--- Python's `fmt % args`: args a list (the positional arguments) or a
--- mapping (for %(name)s).
function M.format(fmt, args, mapping)
  local out, i, n = {}, 1, 1
  local used_map = false
  local function next_arg()
    if mapping then return mapping end
    if n > #args then fail("format: not enough arguments for format string") end
    n = n + 1
    return args[n - 1]
  end
  while true do
    local j = fmt:find("%", i, true)
    if not j then out[#out + 1] = fmt:sub(i) break end
    out[#out + 1] = fmt:sub(i, j - 1)
    local k = j + 1
    local key
    if fmt:sub(k, k) == "(" then
      local close = fmt:find(")", k, true)
      if not close then fail("format: incomplete format key") end
      key = fmt:sub(k + 1, close - 1)
      k = close + 1
    end
    local flags = fmt:match("^[-+ #0]*", k)
    k = k + #flags
    local width = fmt:match("^%*", k) or fmt:match("^%d+", k)
    if width then k = k + #width end
    local prec = fmt:match("^%.(%*)", k) or fmt:match("^%.(%d*)", k)
    if prec then k = k + 1 + #prec end
    fmt:match("^[hlL]", k)
    if fmt:match("^[hlL]", k) then k = k + 1 end
    local conv = fmt:sub(k, k)
    if conv == "" then fail("format: incomplete format") end
    if conv == "%" then
      out[#out + 1] = "%"
    else
      if width == "*" then width = C.int_arg("format", "* width", next_arg()) else width = tonumber(width) end
      if prec == "*" then prec = C.int_arg("format", "* precision", next_arg())
      elseif prec then prec = tonumber(prec) or 0 end
      if not ("srcadiuoxXeEfFgG"):find(conv, 1, true) then
        fail(string.format("format: unsupported format character '%s' (0x%x) at index %d", conv, conv:byte(), k - 1))
      end
      local v
      if key then
        if not mapping then fail("format: format requires a mapping") end
        v = mapping[key]
        if v == nil then fail("format: KeyError: " .. pyrepr.repr(key)) end
        used_map = true
      else
        v = next_arg()
      end
      out[#out + 1] = one(conv, flags, width, prec, v)
    end
    i = k + 1
  end
  if not mapping and n <= #args then fail("format: not all arguments converted during string formatting") end
  local _ = used_map
  return table.concat(out)
end

return M
