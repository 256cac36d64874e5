--- luasible.yaml11: the values of YAML scalars as PyYAML (and so Ansible)
-- makes them: YAML 1.1's rules, as PyYAML's Resolver and SafeConstructor
-- implement them.
--
--   yes no on off true false (those cases: Yes, YES, ...)   booleans
--   ~ null Null NULL, nothing                                null
--   0b101 0777 (octal) 0x1f 1_000 190:20:30 (base 60)       integers
--   1.5 1. .5 1.5e+3 190:20:30.15 .inf -.inf .nan           floats
--   everything else a string: 09, 1e3 and 1.5e3 (an exponent needs
--   its sign and a dot), 8086:8086, 0o17, 2001-12-14 (a timestamp stays
--   the text as written: Lua has no date type)
--
-- Explicit tags: !!str !!int !!float !!bool !!null, and Ansible's !unsafe
-- (a string; luasible.yaml marks it) and !vault (the encrypted text); any
-- other tag is an error, as in PyYAML.
local M = {}

local BOOL = { yes = true, Yes = true, YES = true, no = false, No = false, NO = false,
  ["true"] = true, True = true, TRUE = true, ["false"] = false, False = false, FALSE = false,
  on = true, On = true, ON = true, off = false, Off = false, OFF = false }
local NULL = { [""] = true, ["~"] = true, null = true, Null = true, NULL = true }

-- (:[0-5]?[0-9])+ from i to the end of s
local function base60_tail(s, i)
  if i > #s then return false end
  while i <= #s do
    local e = select(2, s:find("^:[0-5]?%d", i))
    if not e then return false end
    i = e + 1
  end
  return true
end

--- Does plain scalar s resolve to an integer (PyYAML's int pattern)?
function M.is_int(s)
  local body = s:match("^[-+]?(.*)$")
  if body:match("^0b[01_]+$") or body:match("^0[0-7_]+$") or body == "0" or body:match("^[1-9][%d_]*$")
    or body:match("^0x[%x_]+$") then
    return true
  end
  local e = select(2, body:find("^[1-9][%d_]*"))
  return e ~= nil and base60_tail(body, e + 1)
end

--- Does plain scalar s resolve to a float (PyYAML's float pattern)?
function M.is_float(s)
  local signed = s:match("^[-+]?(.*)$")
  -- [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?
  local e = select(2, signed:find("^%d[%d_]*%.[%d_]*"))
  if e and (e == #signed or signed:find("^[eE][-+]%d+$", e + 1)) then return true end
  -- \.[0-9][0-9_]*([eE][-+][0-9]+)?  (no sign)
  e = select(2, s:find("^%.%d[%d_]*"))
  if e and (e == #s or s:find("^[eE][-+]%d+$", e + 1)) then return true end
  -- [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
  local int = signed:match("^(%d[%d_]*:[:%d]*)%.[%d_]*$")
  if int then
    local first = select(2, int:find("^%d[%d_]*"))
    if base60_tail(int, first + 1) then return true end
  end
  return signed == ".inf" or signed == ".Inf" or signed == ".INF" or s == ".nan" or s == ".NaN" or s == ".NAN"
end

local function base60(parts, sign, tonum)
  local v, base = 0, 1
  for i = #parts, 1, -1 do
    v = v + tonum(parts[i]) * base
    base = base * 60
  end
  return sign * v
end

--- PyYAML's construct_yaml_int: the integer of text s, or nil, err.
function M.int(s)
  local v = s:gsub("_", "")
  local sign = v:sub(1, 1) == "-" and -1 or 1
  if v:match("^[-+]") then v = v:sub(2) end
  local n
  if v == "0" then n = 0
  elseif v:match("^0b") then n = v:match("^0b([01]+)$") and tonumber(v:sub(3), 2)
  elseif v:match("^0x") then n = v:match("^0x(%x+)$") and tonumber(v:sub(3), 16)
  elseif v:match("^0") then n = v:match("^[0-7]+$") and tonumber(v, 8)
  elseif v:find(":", 1, true) then
    local parts = {}
    for p in (v .. ":"):gmatch("([^:]*):") do
      if not p:match("^%d+$") then return nil, "invalid integer '" .. s .. "'" end
      parts[#parts + 1] = p
    end
    n = base60(parts, 1, function(p) return math.tointeger(tonumber(p)) end)
  else
    n = v:match("^%d+$") and tonumber(v)
  end
  if math.type(n) ~= "integer" then return nil, "invalid integer '" .. s .. "'" end
  return sign * n
end

--- PyYAML's construct_yaml_float: the float of text s, or nil, err.
function M.float(s)
  local v = s:gsub("_", ""):lower()
  local sign = v:sub(1, 1) == "-" and -1 or 1
  if v:match("^[-+]") then v = v:sub(2) end
  if v == ".inf" then return sign * math.huge end
  if v == ".nan" then return 0 / 0 end
  local n
  if v:find(":", 1, true) then
    local parts, ok = {}, true
    for p in (v .. ":"):gmatch("([^:]*):") do
      parts[#parts + 1] = p
      if not tonumber(p) then ok = false end
    end
    n = ok and base60(parts, sign, function(p) return tonumber(p) + 0.0 end)
  elseif v:match("^[%d.]+e?[-+]?%d*$") then
    n = tonumber(v)
    n = n and sign * n
  elseif v == "inf" or v == "infinity" then
    n = sign * math.huge
  elseif v == "nan" then
    n = 0 / 0
  end
  if not n then return nil, "invalid float '" .. s .. "'" end
  return n * 1.0 -- (not n + 0.0: -0.0 stays -0.0)
end

local NUMBER_START = {} -- the bytes a number can start with: - + 0-9 .
for c in ("-+0123456789."):gmatch(".") do NUMBER_START[c:byte()] = true end

--- The value of a plain (unquoted, untagged) scalar: a boolean, nil for
--- null (the caller's null), an integer, a float or the string itself.
--- Returns value, kind ("null", "bool", "int", "float", "str", "merge").
function M.plain(s)
  if NULL[s] then return nil, "null" end
  local b = BOOL[s]
  if b ~= nil then return b, "bool" end
  local c = s:byte(1)
  if NUMBER_START[c] then
    if M.is_float(s) then
      local v = M.float(s)
      if v then return v, "float" end
    end
    if c ~= 46 and M.is_int(s) then -- (46: ".")
      local v = M.int(s)
      if v then return v, "int" end
    end
  end
  if s == "<<" then return s, "merge" end
  if s == "=" then return nil, "value" end
  return s, "str"
end

--- The value of an explicitly tagged scalar, as PyYAML's constructors:
--- value, kind; or nil, err for a text the tag does not take or a tag
--- without constructor.
function M.tagged(tag, s)
  local name = tag:match("^tag:yaml%.org,2002:(.*)$")
  if name == "str" or tag == "!" or tag == "!unsafe" or tag == "!vault" then return s, "str" end
  if name == "int" then
    local v, err = M.int(s)
    if v == nil then return nil, err end
    return v, "int"
  end
  if name == "float" then
    local v, err = M.float(s)
    if v == nil then return nil, err end
    return v, "float"
  end
  if name == "bool" then
    local b = ({ yes = true, no = false, ["true"] = true, ["false"] = false, on = true, off = false })[s:lower()]
    if b == nil then return nil, "invalid boolean '" .. s .. "'" end
    return b, "bool"
  end
  if name == "null" then return nil, "null" end
  return nil, "could not determine a constructor for the tag '" .. tag .. "'"
end

return M
