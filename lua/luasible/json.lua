--- luasible.json: JSON for events, --json, results and templates, and the
-- marker that keeps an empty mapping a mapping. A YAML null
-- (luasible.yaml.null) is JSON's null.
local M = {}

--- The metatable that marks a table as a mapping (a JSON object) even
--- when it is empty: any other empty table is shown as an empty list, `[]`.
M.object_mt = { __name = "luasible.object" }

--- Mark t (default: a new table) as a mapping; returns it.
function M.object(t) return setmetatable(t or {}, M.object_mt) end

--- Is t marked as a mapping? (render.object, or a metatable named
--- "luasible.object", as hostvars has: its __pairs lists every host.)
local function is_object(t)
  local mt = getmetatable(t)
  return mt ~= nil and (mt == M.object_mt or (type(mt) == "table" and rawget(mt, "__name") == "luasible.object"))
end
M.is_object = is_object

--- Is v a YAML null (lyaml's, or luasible.yaml's own when lyaml is missing)?
local function is_null(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and (rawget(mt, "_type") == "LYAML null" or rawget(mt, "__name") == "luasible.yaml.null")
end
M.is_null = is_null

local empty_lists = 0 -- empty tables met by plain(), not marked as mappings

local function is_array(t)
  if is_object(t) then return false end
  local n = #t
  if n == 0 then return not is_object(t) and next(t) == nil end
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
  ["\r"] = "\\r", ["\t"] = "\\t" }
local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return ESC[c] or string.format("\\u%04x", c:byte()) end) .. '"'
end

--- A small JSON encoder (used when cjson is not installed).
function M.json_encode(v, depth)
  depth = depth or 0
  local t = type(v)
  if v == nil or v == M.NULL or is_null(v) then return "null"
  elseif t == "boolean" then return tostring(v)
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if math.type(v) == "integer" then return tostring(v) end
    return string.format("%.14g", v)
  elseif t == "string" then return encode_string(v)
  elseif t == "table" and depth < 32 then
    local out = {}
    if is_array(v) then
      for i = 1, #v do out[i] = M.json_encode(v[i], depth + 1) end
      return "[" .. table.concat(out, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local x = v[k]
      if x == nil then x = v[tonumber(k)] end
      out[#out + 1] = encode_string(k) .. ":" .. M.json_encode(x, depth + 1)
    end
    return "{" .. table.concat(out, ",") .. "}"
  end
  return encode_string(tostring(v))
end

--- A string as valid UTF-8: each byte that does not belong to a valid
--- UTF-8 sequence becomes U+FFFD (the replacement character); valid text
--- is left as it is. (Command output may hold any bytes; JSON must not.)
function M.utf8_clean(s)
  if utf8.len(s) then return s end
  local out, i = {}, 1
  while true do
    local n, bad = utf8.len(s, i)
    if n then out[#out + 1] = s:sub(i) break end
    out[#out + 1] = s:sub(i, bad - 1)
    out[#out + 1] = "\u{FFFD}"
    i = bad + 1
    if i > #s then break end
  end
  return table.concat(out)
end

-- Make a value safe for any JSON encoder: no functions, userdata, cycles or
-- mixed tables, strings valid UTF-8.
local function plain(v, depth, seen)
  local t = type(v)
  if t == "string" then return M.utf8_clean(v) end
  if is_null(v) then return M.NULL end
  if t == "table" then
    if seen[v] or depth > 16 then return "<...>" end
    seen[v] = true
    local out = {}
    if is_object(v) then
      out = M.object()
      for k, x in pairs(v) do out[M.utf8_clean(tostring(k))] = plain(x, depth + 1, seen) end
    elseif next(v) == nil then
      empty_lists = empty_lists + 1
    elseif is_array(v) then
      for i = 1, #v do out[i] = plain(v[i], depth + 1, seen) end
    else
      for k, x in pairs(v) do out[M.utf8_clean(tostring(k))] = plain(x, depth + 1, seen) end
    end
    seen[v] = nil
    return out
  elseif t == "function" or t == "userdata" or t == "thread" then
    return M.utf8_clean(tostring(v))
  end
  return v
end

local cjson_ok, cjson = pcall(require, "cjson")
if cjson_ok then
  pcall(cjson.encode_invalid_numbers, "null")
  pcall(cjson.encode_sparse_array, true)
end
-- what a null is in the tables plain() gives the encoders
M.NULL = cjson_ok and cjson.null or setmetatable({}, { __name = "luasible.json.null" })

function M.encode(v)
  local before = empty_lists
  v = plain(v, 0, {})
  -- cjson shows every empty table as {}: an empty list needs our encoder
  if cjson_ok and empty_lists == before then
    local ok, s = pcall(cjson.encode, v)
    if ok then return (s:gsub("\\/", "/")) end
  end
  return M.json_encode(v)
end

return M
