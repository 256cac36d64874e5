--- luasible.json: the one JSON encoder (events, --json, results, templates'
-- to_json), and the marker that keeps an empty mapping a mapping.
--
--   json.encode(v)     -> text; never fails, same rules for every value:
--     * object keys in sorted order (byte order of their text), at every
--       depth, so every event kind and every run writes the same key order;
--     * a table whose keys are 1..n is a list; an empty table is [] unless it
--       is marked a mapping (json.object), then {}; a marked table is always
--       an object; other tables are objects with their keys as text;
--     * strings are made valid UTF-8 (a byte outside a valid sequence becomes
--       U+FFFD); NaN and +-inf become null;
--     * a cycle, or nesting deeper than 16, becomes the string "<...>";
--       functions, userdata and threads their tostring() text.
--   json.fields(names) -> record(t): encode() of t's fields from `names`,
--     with the names sorted once (the --json renderer's events).
--   json.object(t), json.is_object(t): the mapping marker.
--   json.is_null(v): a YAML null (luasible.yaml.null), written as null.
--   json.utf8_clean(s): s as valid UTF-8.
--
-- Why this encoder (bench/json_bench.lua: --json of a 2M-line stream; the
-- numbers are in bench/RESULTS.md, issue 7): lua-cjson cannot sort keys and
-- writes every empty table as {}, so the encoder before issue 7 copied each
-- value first (cleaning strings, counting empty lists in a module-level
-- counter) and then chose cjson or a Lua encoder per value: two encoders,
-- two key orders. Sorting needs a walk in Lua anyway, and a walk that writes
-- the text as it goes costs less than the copy cjson needed; quoting each
-- string with cjson inside that walk was slower (a C call per short string),
-- and dkjson needs the same copy to sort (__jsonorder) and clean, and is
-- slower still. So: one pass in plain Lua, no library. For --json events,
-- json.fields sorts the known field names once instead of per event (most
-- of the gain over the old encoder on stdout events).
local M = {}

local type, pairs, next, tostring, getmetatable, rawget = type, pairs, next, tostring, getmetatable, rawget
local mtype, huge = math.type, math.huge
local find, gsub, format, sort, concat = string.find, string.gsub, string.format, table.sort, table.concat
local ulen = utf8.len

-- The metatable that marks a table as a mapping (a JSON object) even when
-- it is empty: any other empty table is shown as an empty list, `[]`.
local OBJECT = { __name = "luasible.object" }

--- Mark t (default: a new table) as a mapping; returns it.
function M.object(t) return setmetatable(t or {}, OBJECT) end

--- Is t marked as a mapping? (json.object, or a metatable named
--- "luasible.object", as hostvars has: its __pairs lists every host.)
local function is_object(t)
  local mt = getmetatable(t)
  return mt ~= nil and (mt == OBJECT or (type(mt) == "table" and rawget(mt, "__name") == "luasible.object"))
end
M.is_object = is_object

--- Is v a YAML null (lyaml's, or luasible.yaml's own without lyaml)? It
--- is written as null.
local function is_null(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and (rawget(mt, "_type") == "LYAML null" or rawget(mt, "__name") == "luasible.yaml.null")
end
M.is_null = is_null

--- A string as valid UTF-8: each byte that does not belong to a valid
--- UTF-8 sequence becomes U+FFFD (the replacement character); valid text
--- is left as it is. (Command output may hold any bytes; JSON must not.)
function M.utf8_clean(s)
  if ulen(s) then return s end
  local out, i = {}, 1
  while true do
    local n, bad = ulen(s, i)
    if n then out[#out + 1] = s:sub(i) break end
    out[#out + 1] = s:sub(i, bad - 1)
    out[#out + 1] = "\u{FFFD}"
    i = bad + 1
    if i > #s then break end
  end
  return concat(out)
end
local utf8_clean = M.utf8_clean

-- what a control character, `"` and `\` become inside a JSON string
local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
  ["\r"] = "\\r", ["\t"] = "\\t" }
for c = 0, 31 do
  local ch = string.char(c)
  ESC[ch] = ESC[ch] or format("\\u%04x", c)
end
ESC["\127"] = "\\u007f"
local SPECIAL = '[%c"\\]'

local PLAIN = '^[^%c"\\]*$' -- nothing to escape (one anchored scan: faster than looking for SPECIAL)

-- s as a JSON string literal
local function quote(s)
  if not ulen(s) then s = utf8_clean(s) end
  if not find(s, PLAIN) then s = gsub(s, SPECIAL, ESC) end
  return '"' .. s .. '"'
end

--- s as a JSON string literal (the quoting encode uses).
M.quote = quote

local MAX_DEPTH = 16
local put -- forward

-- The sorted keys of t (as text) and, when some key is not a string, the
-- map from that text back to the key.
local function sorted_keys(t)
  local keys, n, back = {}, 0, nil
  for k in pairs(t) do
    n = n + 1
    if type(k) == "string" then
      keys[n] = k
    else
      local s = tostring(k)
      back = back or {}
      if back[s] == nil and (rawget(t, s) == nil) then back[s] = k; keys[n] = s else n = n - 1 end
    end
  end
  sort(keys)
  return keys, n, back
end

-- Append v's JSON text to buf (after index n); returns the new length.
-- `seen` holds the tables on the path from the top (cycles).
put = function(v, buf, n, depth, seen)
  local t = type(v)
  if t == "string" then
    n = n + 1; buf[n] = quote(v)
  elseif t == "number" then
    n = n + 1
    if mtype(v) == "integer" then buf[n] = tostring(v)
    elseif v ~= v or v == huge or v == -huge then buf[n] = "null"
    else buf[n] = format("%.14g", v) end
  elseif t == "boolean" then
    n = n + 1; buf[n] = v and "true" or "false"
  elseif t == "table" then
    if is_null(v) then n = n + 1; buf[n] = "null"; return n end
    if seen[v] or depth > MAX_DEPTH then n = n + 1; buf[n] = '"<...>"'; return n end
    local len = #v
    if is_object(v) then len = 0
    elseif len == 0 and next(v) == nil then n = n + 1; buf[n] = "[]"; return n
    elseif len > 0 then
      for k in pairs(v) do -- a list only if 1..len are its only keys
        if mtype(k) ~= "integer" or k < 1 or k > len then len = 0 break end
      end
    end
    seen[v] = true
    depth = depth + 1
    if len > 0 then
      n = n + 1; buf[n] = "["
      local i = 1
      while i <= len do
        if i > 1 then n = n + 1; buf[n] = "," end
        local j = i - 1 -- v[i..j]: strings with nothing to escape (lines of output), joined at once
        while j < len do
          local x = v[j + 1]
          if type(x) == "string" and ulen(x) and find(x, PLAIN) then j = j + 1 else break end
        end
        if j >= i then
          n = n + 1; buf[n] = '"' .. concat(v, '","', i, j) .. '"'
          i = j + 1
        else
          n = put(v[i], buf, n, depth, seen)
          i = i + 1
        end
      end
      n = n + 1; buf[n] = "]"
    else
      local keys, nk, back = sorted_keys(v)
      if nk == 0 then n = n + 1; buf[n] = "{}"
      else
        for i = 1, nk do
          local k = keys[i]
          n = n + 1; buf[n] = (i == 1 and "{" or ",") .. quote(k) .. ":"
          local x = v[k]
          if x == nil and back then x = v[back[k]] end
          n = put(x, buf, n, depth, seen)
        end
        n = n + 1; buf[n] = "}"
      end
    end
    seen[v] = nil
  elseif v == nil then
    n = n + 1; buf[n] = "null"
  else -- function, userdata, thread
    n = n + 1; buf[n] = quote(tostring(v))
  end
  return n
end

--- v as JSON text (see the rules at the top).
function M.encode(v)
  local t = type(v)
  if t == "string" then return quote(v) end
  local buf = {}
  local n = put(v, buf, 0, 0, {})
  if n == 1 then return buf[1] end
  return concat(buf, "", 1, n)
end

--- An encoder for records with a known set of fields (the --json events):
--- returns record(t) -> the text encode() gives for a table holding just
--- t's fields from `fields` that are not nil (t itself is not changed).
--- The fields are sorted and their keys quoted once, here, not per record.
function M.fields(fields)
  local names, first, later = {}, {}, {}
  for i, k in ipairs(fields) do names[i] = k end
  sort(names)
  for i, k in ipairs(names) do first[i], later[i] = "{" .. quote(k) .. ":", "," .. quote(k) .. ":" end
  local nf = #names
  return function(t)
    local buf, n, seen = {}, 0, nil
    for i = 1, nf do
      local x = t[names[i]]
      if x ~= nil then
        n = n + 1; buf[n] = n == 1 and first[i] or later[i]
        n = n + 1
        if type(x) == "string" then buf[n] = quote(x)
        else
          seen = seen or {}
          n = put(x, buf, n - 1, 1, seen)
        end
      end
    end
    if n == 0 then return "{}" end
    n = n + 1; buf[n] = "}"
    return concat(buf, "", 1, n)
  end
end

-- Python's json string escapes (ensure_ascii=False): DEL stays as it is.
local PY_ESC = setmetatable({ ["\127"] = "\127" }, { __index = ESC })

local function py_quote(s)
  if not ulen(s) then s = utf8_clean(s) end
  if not find(s, PLAIN) then s = gsub(s, SPECIAL, PY_ESC) end
  return '"' .. s .. '"'
end

--- v as Python's json.dumps(v, sort_keys=True, indent=4, ensure_ascii=False)
--- writes it (what ansible-inventory prints): the same lists and mappings
--- as encode, floats as Python's repr (1.0, 1e+16), NaN and infinities as
--- NaN, Infinity, -Infinity. `null`: a value written as null besides nil
--- (the YAML null).
function M.pretty(v, null)
  local pyfloat = require("luasible.util.pyrepr").float
  local buf, n = {}, 0
  local function add(s) n = n + 1; buf[n] = s end
  local function walk(x, depth, seen)
    local t = type(x)
    if x == nil or (null ~= nil and x == null) or is_null(x) then add("null")
    elseif t == "string" then add(py_quote(x))
    elseif t == "boolean" then add(x and "true" or "false")
    elseif t == "number" then
      if mtype(x) == "integer" then add(tostring(x))
      elseif x ~= x then add("NaN")
      elseif x == huge or x == -huge then add(x > 0 and "Infinity" or "-Infinity")
      else add(pyfloat(x)) end
    elseif t == "table" then
      if seen[x] or depth > MAX_DEPTH then add('"<...>"') return end
      local len = #x
      if is_object(x) then len = 0
      elseif len == 0 and next(x) == nil then add("[]") return
      elseif len > 0 then
        for k in pairs(x) do
          if mtype(k) ~= "integer" or k < 1 or k > len then len = 0 break end
        end
      end
      seen[x] = true
      local pad, inner = "\n" .. string.rep("    ", depth), "\n" .. string.rep("    ", depth + 1)
      if len > 0 then
        add("[")
        for i = 1, len do
          add(i == 1 and inner or "," .. inner)
          walk(x[i], depth + 1, seen)
        end
        add(pad .. "]")
      else
        local keys, nk, back = sorted_keys(x)
        if nk == 0 then add("{}")
        else
          add("{")
          for i = 1, nk do
            local k = keys[i]
            add((i == 1 and inner or "," .. inner) .. py_quote(k) .. ": ")
            local y = x[k]
            if y == nil and back then y = x[back[k]] end
            walk(y, depth + 1, seen)
          end
          add(pad .. "}")
        end
      end
      seen[x] = nil
    else
      add(py_quote(tostring(x)))
    end
  end
  walk(v, 0, {})
  return concat(buf, "", 1, n)
end

return M
