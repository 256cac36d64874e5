--- luasible.yaml: the one YAML (and JSON) loader of the task layer:
-- inventories, vars files, -e @file.
--
-- Values are built here from libYAML's event stream (the `yaml` binding's
-- public `yaml.parser(text)` iterator), with lyaml's scalar rules
-- (lyaml.implicit / lyaml.explicit), so the result is what lyaml.load
-- gives, except that an empty mapping (`{}`) is marked with json.object and
-- so stays a mapping (lyaml gives a plain empty table, the same as `[]`).
-- Nothing of lyaml or yaml is replaced or changed.
local json = require "luasible.json"

-- lyaml (Debian's lua-yaml: the `yaml` binding and lyaml's scalar rules) is
-- needed only to read YAML: without it INI and Lua inventories still load.
local function optional(name)
  local ok, m = pcall(require, name)
  if ok then return m end
end
local libyaml, functional = optional("yaml"), optional("lyaml.functional")
local implicit, explicit = optional("lyaml.implicit"), optional("lyaml.explicit")
local MISSING = not (libyaml and functional and implicit and explicit)
  and "reading YAML needs lyaml (Debian's lua-yaml, or the lyaml rock)"

local M = {}

--- The value of a YAML null (`~`, `null`, an empty value): lyaml.null.
M.null = functional and functional.NULL or setmetatable({}, { __name = "luasible.yaml.null" })

--- Is v nothing: nil or a YAML null?
function M.is_null(v) return v == nil or v == M.null end

local TAG = "tag:yaml.org,2002:"
local TAG_NAME = "^" .. TAG:gsub("%p", "%%%0") .. "(.*)$"

-- Explicitly tagged scalars (`!!int '3'`), as lyaml's defaults.
local EXPLICIT = explicit and { [TAG .. "bool"] = explicit.bool, [TAG .. "float"] = explicit.float,
  [TAG .. "int"] = explicit.int, [TAG .. "null"] = explicit.null, [TAG .. "str"] = explicit.str }

-- Plain (unquoted, untagged) scalars, as lyaml's defaults: the first rule
-- that gives a value wins, the order matters (octal is a subset of
-- decimal); what none takes stays the string.
local IMPLICIT_RULES = implicit and { implicit.null, implicit.octal, implicit.decimal, implicit.float,
  implicit.bool, implicit.inf, implicit.nan, implicit.hexadecimal, implicit.binary,
  implicit.sexagesimal, implicit.sexfloat }
local function implicit_scalar(s)
  for i = 1, #IMPLICIT_RULES do
    local v = IMPLICIT_RULES[i](s)
    if v ~= nil then return v end
  end
  return s
end

-- A load error: raised inside the loader as this table, caught by decode_first.
local function fail(line, column, message)
  error({ yaml_error = true, line = line, column = column, message = message }, 0)
end

-- The loader of one text: a table of state and the functions over it.
-- Returns the list of documents, or raises fail(...).
local function load_documents(text)
  local next_event = libyaml.parser(text)
  local ev                -- the current event
  local anchors = {}      -- anchor name -> { value =, kind = "map"|"seq"|"scalar" }

  local function at(fmt, ...)
    local m = ev and ev.start_mark or { line = 0, column = 0 }
    fail(m.line + 1, m.column + 1, string.format(fmt, ...))
  end

  local function parse()
    local ok, e = pcall(next_event)
    if not ok then
      -- libYAML's message: "what at document: N, line: L, column: C\n..."
      local what, l, c = tostring(e):match("^(.-) at document: %d+, line: (%d+), column: (%d+)")
      if what then fail(tonumber(l), tonumber(c), what) end
      at("%s", (tostring(e):gsub(" at document: .*$", "")))
    end
    ev = e
    return e and e.type
  end

  local function anchor(value, kind)
    if ev.anchor ~= nil then anchors[ev.anchor] = { value = value, kind = kind } end
  end

  local load_node

  local function load_scalar()
    local value, tag = ev.value, ev.tag
    local conv = EXPLICIT[tag]
    if conv then
      value = conv(value)
      if value == nil then at("invalid '%s' value: '%s'", tag, ev.value) end
    elseif ev.style == "PLAIN" then
      value = implicit_scalar(value)
    end
    anchor(value, "scalar")
    return value, "scalar"
  end

  local function merge_into(map, node, kind, tag)
    local sources = kind == "map" and { node } or kind == "seq" and node
    if not sources then at("invalid '%s' merge event: %s", tag, tostring(node)) end
    for i, src in ipairs(sources) do
      if type(src) ~= "table" then at("invalid '%s' sequence element %d: %s", tag, i, tostring(src)) end
      for k, v in pairs(src) do if map[k] == nil then map[k] = v end end
    end
  end

  -- f(node, kind) for each node of a collection, up to its end event
  local function each_node(f)
    while true do
      local node, kind = load_node()
      if node == nil then return end
      f(node, kind)
    end
  end

  local function load_map()
    local map = {}
    anchor(map, "map")
    each_node(function(key)
      local tag = ev.tag and ev.tag:match(TAG_NAME)
      if key == "<<" or tag == "merge" then
        tag = ev.tag or key
        local node, kind = load_node()
        merge_into(map, node, kind, tag)
      else
        local value = load_node()
        if value == nil then at("unexpected %s event", tostring(ev.type)) end
        map[key] = value
      end
    end)
    if next(map) == nil then json.object(map) end
    return map, "map"
  end

  local function load_sequence()
    local seq = {}
    anchor(seq, "seq")
    each_node(function(node) seq[#seq + 1] = node end)
    return seq, "seq"
  end

  local function load_alias()
    local a = anchors[ev.anchor]
    if a == nil then at("invalid reference: %s", tostring(ev.anchor)) end
    return a.value, a.kind
  end

  local DISPATCH = { SCALAR = load_scalar, ALIAS = load_alias, MAPPING_START = load_map,
    SEQUENCE_START = load_sequence, MAPPING_END = function() end, SEQUENCE_END = function() end,
    DOCUMENT_END = function() end }

  function load_node()
    local f = DISPATCH[parse()]
    if not f then at("invalid event: %s", tostring(ev and ev.type)) end
    return f()
  end

  if parse() ~= "STREAM_START" then at("expecting STREAM_START event, but got %s", tostring(ev and ev.type)) end
  local docs = {}
  while parse() ~= "STREAM_END" do
    local doc = load_node()
    if doc == nil then at("unexpected %s event", tostring(ev.type)) end
    if parse() ~= "DOCUMENT_END" then at("expecting DOCUMENT_END event, but got %s", tostring(ev.type)) end
    docs[#docs + 1] = doc
    anchors = {}
  end
  return docs
end

-- The first document of text, or nil, err (a fail table).
local function decode_first(text)
  if MISSING then return nil, { message = MISSING } end
  local ok, docs = pcall(load_documents, text)
  if ok then return docs[1] end
  if type(docs) == "table" and docs.yaml_error then return nil, docs end
  error(docs, 0)
end

--- Decode YAML (or JSON) text: the value of its first document (nil for
--- an empty text), as lyaml.load gives it, an empty mapping marked with
--- json.object. Raises "line:column: what is wrong" on malformed text.
function M.decode(text)
  local v, err = decode_first(text)
  if err then
    error(err.line and string.format("%d:%d: %s", err.line, err.column, err.message) or err.message, 0)
  end
  return v
end

--- Parse YAML (or JSON) text read from `source` (a file name): the value,
--- or nil, "source:line: what is wrong".
function M.load(text, source)
  local v, err = decode_first(text)
  if err then return nil, (source or "<yaml>") .. (err.line and ":" .. err.line or "") .. ": " .. err.message end
  return v
end

--- The line of the first `key:` in YAML text (nil when none is found): for
--- messages about a key of an already decoded mapping.
function M.key_line(text, key)
  if not text then return nil end
  local n, pat = 0, "^%s*['\"]?" .. tostring(key):gsub("%p", "%%%0") .. "['\"]?%s*:"
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    if line:match(pat) then return n end
  end
  return nil
end

--- The keys of mapping t in the order they appear in `text` (the ones not
--- found, or all without text, after them sorted by name): an order that
--- does not depend on table iteration.
function M.ordered_keys(t, text)
  local keys, pos = {}, {}
  for k in pairs(t) do
    keys[#keys + 1] = k
    pos[k] = M.key_line(text, k) or math.huge
  end
  table.sort(keys, function(a, b)
    if pos[a] ~= pos[b] then return pos[a] < pos[b] end
    local sa, sb = tostring(a), tostring(b)
    if sa ~= sb then return sa < sb end
    return type(a) < type(b)
  end)
  return keys
end

return M
