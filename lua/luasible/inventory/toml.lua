--- luasible.inventory.toml: TOML inventories, as Ansible's toml plugin
-- reads them, and the small TOML reader they need (Debian has no TOML
-- library for Lua): TOML 1.0 — comments, bare, quoted and dotted keys,
-- [tables], [[arrays of tables]], strings (basic, literal, multi-line,
-- escapes), integers (decimal, 0x, 0o, 0b, `_`), floats (inf, nan),
-- booleans, arrays, inline tables. Dates and times are kept as the text
-- written (Lua has no date type).
--
--   [web]                          a group: vars (a table), children (a
--   vars = { http_port = 8080 }    list of group names), hosts (a table
--   children = ["app"]             of host patterns to their vars)
--   [web.hosts]
--   "web[1:2]:2201" = {}
local json = require "luasible.json"
local model = require "luasible.inventory.model"

local M = {}

local ORDER = setmetatable({}, { __mode = "k" })   -- the keys of each table, in order

local function new_table()
  local t = json.object()
  ORDER[t] = {}
  return t
end

--- The keys of a decoded TOML table in document order.
function M.keys(t) return ORDER[t] or {} end

local ESC = { b = "\b", t = "\t", n = "\n", f = "\f", r = "\r", ['"'] = '"', ["\\"] = "\\" }

--- Decode TOML text: a table, or nil, "source:line: what is wrong".
function M.decode(text, source)
  local s, pos = text, 1
  local defined = {}   -- tables defined by a header or a key (not to be defined again)
  local inline = {}    -- inline tables and arrays: closed to additions
  local function line() return select(2, s:sub(1, pos - 1):gsub("\n", "")) + 1 end
  local function fail(msg) error({ toml_error = string.format("%s:%d: %s", source, line(), msg) }, 0) end
  local function ws() pos = select(2, s:find("^[ \t]*", pos)) + 1 end
  local function comment_eol()
    ws()
    if s:sub(pos, pos) == "#" then pos = (s:find("\n", pos, true) or #s + 1) end
    if pos <= #s then
      local _, e = s:find("^\r?\n", pos)
      if not e then fail("expected the end of the line, got '" .. s:sub(pos, pos + 10) .. "'") end
      pos = e + 1
    end
  end
  local function skip_blank() -- spaces, newlines and comments (inside arrays)
    while true do
      local _, e = s:find("^[ \t\r\n]+", pos)
      if e then pos = e + 1 end
      if s:sub(pos, pos) == "#" then pos = (s:find("\n", pos, true) or #s + 1) else return end
    end
  end

  local function basic_string(multi)
    local out = {}
    while true do
      local c = s:sub(pos, pos)
      if c == "" then fail("unterminated string") end
      if multi and s:sub(pos, pos + 2) == '"""' then
        local extra = s:match('^"*', pos + 3)            -- up to two quotes may end the content
        out[#out + 1] = extra:sub(1, 2)
        pos = pos + 3 + math.min(#extra, 2)
        return table.concat(out)
      elseif not multi and c == '"' then
        pos = pos + 1
        return table.concat(out)
      elseif c == "\\" then
        local n = s:sub(pos + 1, pos + 1)
        if ESC[n] then out[#out + 1] = ESC[n]; pos = pos + 2
        elseif n == "u" or n == "U" then
          local w = n == "u" and 4 or 8
          local h = s:sub(pos + 2, pos + 1 + w)
          if #h ~= w or not h:match("^%x+$") then fail("bad \\" .. n .. " escape") end
          out[#out + 1] = utf8.char(tonumber(h, 16))
          pos = pos + 2 + w
        elseif multi and s:find("^[ \t]*\r?\n", pos + 1) then
          pos = select(2, s:find("^[ \t]*\r?\n[ \t\r\n]*", pos + 1)) + 1   -- a line-ending backslash
        else fail("bad escape '\\" .. n .. "'") end
      elseif c == "\n" and not multi then fail("newline in a string")
      else out[#out + 1] = c; pos = pos + 1 end
    end
  end

  local function literal_string(multi)
    local close = multi and "'''" or "'"
    local e = s:find(close, pos, true)
    if not e then fail("unterminated string") end
    if multi then
      local extra = s:match("^'*", e + 3)
      e = e + math.min(#extra, 2)
    end
    local v = s:sub(pos, e - 1)
    if not multi and v:find("\n", 1, true) then fail("newline in a string") end
    pos = e + #close
    return v
  end

  local function string_value()
    local q3 = s:sub(pos, pos + 2)
    if q3 == '"""' or q3 == "'''" then
      pos = pos + 3
      local _, e = s:find("^\r?\n", pos)
      if e then pos = e + 1 end
      if q3 == '"""' then return basic_string(true) end
      return literal_string(true)
    end
    pos = pos + 1
    if q3:sub(1, 1) == '"' then return basic_string(false) end
    return literal_string(false)
  end

  local function key_part()
    local c = s:sub(pos, pos)
    if c == '"' or c == "'" then
      pos = pos + 1
      return c == '"' and basic_string(false) or literal_string(false)
    end
    local k = s:match("^[%w_-]+", pos)
    if not k then fail("expected a key, got '" .. s:sub(pos, pos + 10) .. "'") end
    pos = pos + #k
    return k
  end

  local function dotted_key()
    local parts = {}
    while true do
      ws()
      parts[#parts + 1] = key_part()
      ws()
      if s:sub(pos, pos) ~= "." then return parts end
      pos = pos + 1
    end
  end

  local function set(t, k, v)
    if t[k] ~= nil then fail("key '" .. k .. "' defined twice") end
    t[k] = v
    table.insert(ORDER[t], k)
  end

  -- the table at the dotted path below t (created as needed); `header`
  -- for a [table] header, false for the keys of a key = value
  local function descend(t, parts, upto)
    for i = 1, upto do
      local k = parts[i]
      local v = t[k]
      if v == nil then
        v = new_table()
        set(t, k, v)
      elseif type(v) == "table" and #v > 0 and not inline[v] then
        v = v[#v]   -- an array of tables: its last one
      elseif type(v) ~= "table" or inline[v] or #v > 0 then
        fail("key '" .. k .. "' is already a value")
      end
      t = v
    end
    return t
  end

  local value

  -- key = value into table t
  local function keyval(t)
    local parts = dotted_key()
    if s:sub(pos, pos) ~= "=" then fail("expected '=' after a key") end
    pos = pos + 1
    ws()
    set(descend(t, parts, #parts - 1), parts[#parts], value())
  end

  local function number_or_date()
    local word = s:match("^[%w_:.+-]+", pos)
    if s:match("^%d%d%d%d%-%d%d%-%d%d[T ]%d", pos) then
      word = s:match("^%d%d%d%d%-%d%d%-%d%d[T ]%d%d:%d%d[%w:.+-]*", pos)
    end
    if not word then fail("expected a value, got '" .. s:sub(pos, pos + 10) .. "'") end
    pos = pos + #word
    if word == "true" then return true elseif word == "false" then return false end
    local sign, rest = word:match("^([+-]?)(.*)$")
    if rest == "inf" then return sign == "-" and -math.huge or math.huge end
    if rest == "nan" then return 0 / 0 end
    if word:match("^%d%d%d%d%-%d%d%-%d%d") or word:match("^%d%d:%d%d:%d%d") then return word end -- a date or time
    local prefixed = { ["0x"] = 16, ["0o"] = 8, ["0b"] = 2 }
    local base = prefixed[word:sub(1, 2)]
    local function digits(d, class)
      return d:match("^" .. class .. "+$") and not d:find("__", 1, true) and d:sub(-1) ~= "_" and d:sub(1, 1) ~= "_"
    end
    if base then
      local d = word:sub(3)
      local class = ({ [16] = "[%x_]", [8] = "[0-7_]", [2] = "[01_]" })[base]
      if not digits(d, class) then fail("bad number '" .. word .. "'") end
      local n = math.tointeger(tonumber((d:gsub("_", "")), base))
      if not n then fail("integer '" .. word .. "' beyond 64 bits") end
      return n
    end
    local int, frac, exp = rest:match("^([%d_]+)(%.?[%d_]*)([eE]?[+-]?[%d_]*)$")
    if not int or not digits(int, "[%d_]") or (int:match("^0.") and true)
      or (frac ~= "" and not digits(frac:sub(2), "[%d_]"))
      or (exp ~= "" and not digits(exp:match("^[eE][+-]?(.*)$"), "[%d_]")) then
      fail("bad value '" .. word .. "'")
    end
    if frac == "" and exp == "" then
      local n = math.tointeger(tonumber(sign .. int:gsub("_", "")))
      if not n then fail("integer '" .. word .. "' beyond 64 bits") end
      return n
    end
    return tonumber((word:gsub("_", ""))) + 0.0
  end

  local function array()
    local out = {}
    inline[out] = true
    while true do
      skip_blank()
      if s:sub(pos, pos) == "]" then pos = pos + 1 return out end
      out[#out + 1] = value()
      skip_blank()
      local c = s:sub(pos, pos)
      pos = pos + 1
      if c == "]" then return out end
      if c ~= "," then fail("expected ',' or ']' in an array") end
    end
  end

  local function inline_table()
    local t = new_table()
    ws()
    if s:sub(pos, pos) == "}" then pos = pos + 1; inline[t] = true; return t end
    while true do
      keyval(t)
      ws()
      local c = s:sub(pos, pos)
      pos = pos + 1
      if c == "}" then inline[t] = true; return t end
      if c ~= "," then fail("expected ',' or '}' in an inline table") end
    end
  end

  function value()
    local c = s:sub(pos, pos)
    if c == '"' or c == "'" then return string_value() end
    if c == "[" then pos = pos + 1 return array() end
    if c == "{" then pos = pos + 1 return inline_table() end
    return number_or_date()
  end

  local root = new_table()
  local current = root
  local ok, err = pcall(function()
    while pos <= #s do
      skip_blank()
      if pos > #s then break end
      if s:sub(pos, pos + 1) == "[[" then
        pos = pos + 2
        local parts = dotted_key()
        if s:sub(pos, pos + 1) ~= "]]" then fail("expected ']]'") end
        pos = pos + 2
        local parent = descend(root, parts, #parts - 1)
        local k = parts[#parts]
        local list = parent[k]
        if list == nil then list = {}; set(parent, k, list)
        elseif type(list) ~= "table" or inline[list] or #list == 0 then
          fail("key '" .. k .. "' is not an array of tables")
        end
        current = new_table()
        list[#list + 1] = current
        comment_eol()
      elseif s:sub(pos, pos) == "[" then
        pos = pos + 1
        local parts = dotted_key()
        if s:sub(pos, pos) ~= "]" then fail("expected ']'") end
        pos = pos + 1
        current = descend(root, parts, #parts)
        if defined[current] then fail("table [" .. table.concat(parts, ".") .. "] defined twice") end
        defined[current] = true
        comment_eol()
      else
        keyval(current)
        comment_eol()
      end
    end
  end)
  if not ok then
    if type(err) == "table" and err.toml_error then return nil, err.toml_error end
    error(err, 0)
  end
  return root
end

local function is_table(v) return type(v) == "table" and ORDER[v] ~= nil end

--- Read TOML text from `source` into inventory `inv`, as Ansible's toml
--- plugin. Returns true, or nil, "source[:line]: what is wrong". The caller
--- reconciles the inventory.
function M.read(inv, text, source)
  local data, err = M.decode(text, source)
  if not data then return nil, err end
  if #M.keys(data) == 0 then return nil, source .. ": empty TOML inventory" end
  if data.plugin ~= nil then return nil, source .. ": an inventory plugin's configuration, not an inventory" end
  local function fail(msg) error({ inv_error = source .. ": " .. msg }, 0) end
  local function group(name, g)
    if type(name) ~= "string" then fail("bad group name '" .. tostring(name) .. "'") end
    if g ~= nil and not is_table(g) then fail("group '" .. name .. "' must be a table (hosts, vars, children)") end
    inv:add_group(name)
    if g == nil then return end
    for _, k in ipairs(M.keys(g)) do
      local v = g[k]
      if k == "vars" then
        if not is_table(v) then fail("vars of group '" .. name .. "' must be a table") end
        for _, var in ipairs(M.keys(v)) do
          local ok, verr = inv:set_group_var(name, var, v[var])
          if not ok then fail(verr) end
        end
      elseif k == "children" then
        if type(v) ~= "table" or is_table(v) then fail("children of group '" .. name .. "' must be a list") end
        for _, c in ipairs(v) do
          group(c, new_table())
          local ok, cerr = inv:add_child(name, c)
          if not ok then fail(cerr) end
        end
      elseif k == "hosts" then
        if not is_table(v) then fail("hosts of group '" .. name .. "' must be a table") end
        for _, h in ipairs(M.keys(v)) do
          if not is_table(v[h]) then fail("vars of host '" .. h .. "' must be a table") end
          local ok, herr = inv:add_hosts(h, v[h], name)
          if not ok then fail(herr) end
        end
      else
        fail("unknown key '" .. k .. "' in group '" .. name .. "' (expected hosts, vars or children)")
      end
    end
  end
  return model.catch(function() for _, k in ipairs(M.keys(data)) do group(k, data[k]) end end)
end

--- parse(text, source): a TOML inventory as a reconciled Inventory, or nil, err.
M.parse = model.parser(M.read)

return M
