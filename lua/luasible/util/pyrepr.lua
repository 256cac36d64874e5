--- luasible.util.pyrepr: values as Python writes them, for output that must
-- read as Ansible's (ansible-inventory, and Jinja's `{{ value }}`).
--
--   pyrepr.float(x)   Python's repr(float): 1.0, 0.1, 1e+16, 1e-05, inf, nan
--   pyrepr.repr(v)    Python's repr(v): 'text', 3, 2.5, True, None, [1, 'a'], {'k': 1}
--   pyrepr.str(v)     Python's str(v): a string as it is, anything else as repr
--
-- A table is a list when its keys are 1..n (or it is empty and not marked
-- a mapping with json.object), else a dict; a dict's keys come in sorted
-- order (a Lua table keeps no insertion order, which Python's dict does).
-- `opts.null`: a value that stands for None (the YAML null), besides nil.
local M = {}

--- Python's repr of a float: the shortest text that reads back as x, in
--- fixed notation for exponents -4..15, else d.ddde+XX.
function M.float(x)
  if x ~= x then return "nan" end
  if x == math.huge then return "inf" elseif x == -math.huge then return "-inf" end
  if x == 0 then return 1 / x < 0 and "-0.0" or "0.0" end
  local s
  for p = 0, 16 do
    s = string.format("%." .. p .. "e", x)
    if tonumber(s) == x then break end
  end
  local sign, int, frac, exp = s:match("^(%-?)(%d)%.?(%d*)e([-+]%d+)$")
  exp = tonumber(exp)
  local digits = (int .. frac):gsub("0+$", "")
  if digits == "" then digits = "0" end
  if exp < -4 or exp >= 16 then
    local m = digits:sub(1, 1) .. (#digits > 1 and "." .. digits:sub(2) or "")
    return string.format("%s%se%s%02d", sign, m, exp < 0 and "-" or "+", math.abs(exp))
  end
  if exp < 0 then return sign .. "0." .. string.rep("0", -exp - 1) .. digits end
  local ip = digits:sub(1, exp + 1)
  ip = ip .. string.rep("0", exp + 1 - #ip)
  local fp = digits:sub(exp + 2)
  return sign .. ip .. "." .. (fp == "" and "0" or fp)
end

local ESC = { ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  local q = (s:find("'", 1, true) and not s:find('"', 1, true)) and '"' or "'"
  s = s:gsub("[%c\\" .. q .. "]", function(c)
    return ESC[c] or (c == q and "\\" .. c) or string.format("\\x%02x", c:byte())
  end)
  return q .. s .. q
end

local function is_object(t)
  local mt = getmetatable(t)
  return mt ~= nil and type(mt) == "table" and rawget(mt, "__name") == "luasible.object"
end

local function repr(v, opts, depth)
  if v == nil or (opts.null ~= nil and v == opts.null) then return "None" end
  local t = type(v)
  if t == "boolean" then return v and "True" or "False" end
  if t == "number" then return math.type(v) == "integer" and tostring(v) or M.float(v) end
  if t == "string" then return quote(v) end
  if t ~= "table" or depth > 16 then return quote(tostring(v)) end
  local n, list = #v, not is_object(v)
  if list then
    for k in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 or k > n then list = false break end
    end
  end
  local out = {}
  if list then
    for i = 1, n do out[i] = repr(v[i], opts, depth + 1) end
    return "[" .. table.concat(out, ", ") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for i, k in ipairs(keys) do out[i] = repr(k, opts, depth + 1) .. ": " .. repr(v[k], opts, depth + 1) end
  return "{" .. table.concat(out, ", ") .. "}"
end

function M.repr(v, opts) return repr(v, opts or {}, 0) end

function M.str(v, opts)
  if type(v) == "string" then return v end
  return repr(v, opts or {}, 0)
end

return M
