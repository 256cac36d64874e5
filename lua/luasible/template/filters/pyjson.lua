--- luasible.template.filters.pyjson: JSON as Python's json module writes
-- and reads it, for to_json, to_nice_json, tojson and from_json: Python's
-- separators (", " and ": "), indent, sort_keys, ensure_ascii (\uXXXX
-- escapes, surrogate pairs), floats as repr() writes them, a mapping's keys
-- in its order; decoding keeps the order of keys too. (luasible.json sorts
-- keys and writes compact text for events; cjson keeps no key order.)
--
--   pyjson.encode(v, { indent = n|string|nil, sort_keys = bool,
--     ensure_ascii = bool (default true), separators = { item, key },
--     html_safe = bool (Jinja's tojson: < > & ' escaped) }) -> text
--   pyjson.decode(text) -> value, or raises values.fail("...")
local C = require "luasible.template.filters.common"
local pyrepr = require "luasible.util.pyrepr"

local M = {}

local fail = C.fail
local concat, format = table.concat, string.format

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r",
  ["\t"] = "\\t" }

local function quote(s, ascii, html)
  s = s:gsub('[%c"\\]', function(c) return ESC[c] or format("\\u%04x", c:byte()) end)
  if html then
    s = s:gsub("[<>&']", function(c) return format("\\u%04x", c:byte()) end)
  end
  if ascii and s:find("[\128-\255]") then
    if utf8.len(s) then
      local out = {}
      for _, cp in utf8.codes(s) do
        if cp < 128 then out[#out + 1] = string.char(cp)
        elseif cp < 0x10000 then out[#out + 1] = format("\\u%04x", cp)
        else
          cp = cp - 0x10000
          out[#out + 1] = format("\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF))
        end
      end
      s = concat(out)
    else
      s = s:gsub("[\128-\255]", function(c) return format("\\u%04x", 0xDC00 + c:byte()) end)
    end
  end
  return '"' .. s .. '"'
end

local function number(v)
  if math.type(v) == "integer" then return tostring(v) end
  if v ~= v then return "NaN" end
  if v == math.huge then return "Infinity" end
  if v == -math.huge then return "-Infinity" end
  return pyrepr.float(v)
end

-- a key as Python's json writes it: strings, numbers, booleans and None
local function key_text(k)
  if type(k) == "string" then return k end
  if type(k) == "boolean" then return k and "true" or "false" end
  if type(k) == "number" then return number(k) end
  if C.is_none(k) then return "null" end
  fail("to_json: keys must be str, int, float, bool or None, not " .. C.type_name(k))
end

function M.encode(v, opts)
  opts = opts or {}
  local ascii = opts.ensure_ascii ~= false
  local html = opts.html_safe
  local indent = opts.indent
  if type(indent) == "boolean" then indent = indent and 1 or 0 end
  if type(indent) == "number" then
    local n = math.tointeger(indent)
    if not n then fail("to_json: the indent must be an integer or a string, got " .. C.describe(indent)) end
    indent = string.rep(" ", math.max(n, 0))
  elseif indent ~= nil and type(indent) ~= "string" then
    fail("to_json: the indent must be an integer or a string, got " .. C.describe(indent))
  end
  local item_sep = opts.separators and opts.separators[1] or (indent and "," or ", ")
  local key_sep = opts.separators and opts.separators[2] or ": "
  local out = {}
  local function enc(x, depth)
    if depth > 200 then fail("to_json: a value nested too deep (a cycle?)") end
    local t = type(x)
    if C.is_none(x) then out[#out + 1] = "null"
    elseif t == "boolean" then out[#out + 1] = x and "true" or "false"
    elseif t == "number" then out[#out + 1] = number(x)
    elseif t == "string" then out[#out + 1] = quote(x, ascii, html)
    elseif t == "table" and C.is_undefined(x) then
      require("luasible.template.values").undefined_error(x)
    elseif t == "table" then
      local list = C.is_list(x)
      local keys
      if not list then
        keys = C.keys(x)
        if opts.sort_keys then
          local texts = {}
          for _, k in ipairs(keys) do texts[k] = key_text(k) end
          keys = C.copy_list(keys)
          table.sort(keys, function(a, b) return texts[a] < texts[b] end)
        end
      end
      local n = list and #x or #keys
      if n == 0 then out[#out + 1] = list and "[]" or "{}" return end
      out[#out + 1] = list and "[" or "{"
      local nl = indent and ("\n" .. string.rep(indent, depth + 1)) or nil
      for i = 1, n do
        if i > 1 then out[#out + 1] = item_sep end
        if nl then out[#out + 1] = nl end
        if list then
          enc(x[i], depth + 1)
        else
          local k = keys[i]
          out[#out + 1] = quote(key_text(k), ascii, html)
          out[#out + 1] = key_sep
          enc(x[k], depth + 1)
        end
      end
      if nl then out[#out + 1] = "\n" .. string.rep(indent, depth) end
      out[#out + 1] = list and "]" or "}"
    else
      fail("to_json: Object of type " .. t .. " is not JSON serializable")
    end
  end
  enc(v, 0)
  return concat(out)
end

-- ---------------------------------------------------------------- decode

function M.decode(s)
  if type(s) ~= "string" then fail("from_json: the JSON object must be str, not " .. C.type_name(s)) end
  local i = 1
  local function err(msg)
    local line, col = 1, 1
    for p = 1, i - 1 do
      if s:sub(p, p) == "\n" then line, col = line + 1, 1 else col = col + 1 end
    end
    fail(format("from_json: %s: line %d column %d (char %d)", msg, line, col, i - 1))
  end
  local function ws() i = s:find("[^ \t\n\r]", i) or #s + 1 end
  local value
  local function str()
    local out = {}
    i = i + 1
    while true do
      local j = s:find('["\\%c]', i)
      if not j then err("Unterminated string starting at") end
      out[#out + 1] = s:sub(i, j - 1)
      local c = s:sub(j, j)
      if c == '"' then i = j + 1 break end
      if c ~= "\\" then i = j; err("Invalid control character at") end
      local e = s:sub(j + 1, j + 1)
      local simple = ({ ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" })[e]
      if simple then
        out[#out + 1] = simple
        i = j + 2
      elseif e == "u" then
        local h = s:match("^%x%x%x%x", j + 2)
        if not h then i = j; err("Invalid \\uXXXX escape") end
        local cp = tonumber(h, 16)
        i = j + 6
        if cp >= 0xD800 and cp < 0xDC00 then
          local l = s:match("^\\u(%x%x%x%x)", i)
          local lo = l and tonumber(l, 16)
          if lo and lo >= 0xDC00 and lo < 0xE000 then
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
            i = i + 6
          end
        end
        out[#out + 1] = utf8.char(cp)
      else
        i = j; err("Invalid \\escape")
      end
    end
    return concat(out)
  end
  function value(depth)
    if depth > 500 then err("nesting too deep") end
    ws()
    local c = s:sub(i, i)
    if c == "{" then
      local m = C.mapping()
      i = i + 1
      ws()
      if s:sub(i, i) == "}" then i = i + 1 return m end
      while true do
        ws()
        if s:sub(i, i) ~= '"' then err("Expecting property name enclosed in double quotes") end
        local k = str()
        ws()
        if s:sub(i, i) ~= ":" then err("Expecting ':' delimiter") end
        i = i + 1
        C.put(m, k, value(depth + 1))
        ws()
        local d = s:sub(i, i)
        i = i + 1
        if d == "}" then return m end
        if d ~= "," then i = i - 1; err("Expecting ',' delimiter") end
      end
    elseif c == "[" then
      local l = {}
      i = i + 1
      ws()
      if s:sub(i, i) == "]" then i = i + 1 return l end
      while true do
        l[#l + 1] = value(depth + 1)
        ws()
        local d = s:sub(i, i)
        i = i + 1
        if d == "]" then return l end
        if d ~= "," then i = i - 1; err("Expecting ',' delimiter") end
      end
    elseif c == '"' then
      return str()
    end
    for word, v in pairs({ ["true"] = true, ["false"] = false, null = C.none, NaN = 0 / 0, Infinity = math.huge,
      ["-Infinity"] = -math.huge }) do
      if s:sub(i, i + #word - 1) == word then i = i + #word return v end
    end
    local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
    local int = s:match("^-?0", i) and s:match("^-?0", i) or s:match("^-?[1-9]%d*", i)
    if num and int then
      local frac = s:match("^%.%d+", i + #int) or ""
      local exp = s:match("^[eE][-+]?%d+", i + #int + #frac) or ""
      local text = int .. frac .. exp
      i = i + #text
      if frac == "" and exp == "" then return math.tointeger(tonumber(text)) or tonumber(text) end
      return tonumber(text) * 1.0
    end
    err("Expecting value")
  end
  local v = value(0)
  ws()
  if i <= #s then err("Extra data") end
  return v
end

return M
