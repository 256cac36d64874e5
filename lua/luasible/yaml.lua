--- luasible.yaml: the one YAML (and JSON) loader of the task layer:
-- inventories, vars files, -e @file.
--
-- Values are built here from libYAML's event stream (the `yaml` binding's
-- public `yaml.parser(text)` iterator, from lyaml), with PyYAML's scalar
-- rules (luasible.yaml11: YAML 1.1, as Ansible reads YAML: `09`, `1e3` and
-- `8086:8086` are strings, `yes` a boolean), so the values are Ansible's.
-- Every mapping is marked with json.object (so `{}` stays a mapping, not
-- `[]`), and the order of its keys in the text is kept (M.keys). A null is
-- M.null (a table can hold no nil). Nothing of lyaml or yaml is replaced or
-- changed.
local json = require "luasible.json"
local yaml11 = require "luasible.yaml11"

-- lyaml (Debian's lua-yaml: the `yaml` binding) is needed only to read
-- YAML: without it INI and Lua inventories still load.
local function optional(name)
  local ok, m = pcall(require, name)
  if ok then return m end
end
local libyaml, functional = optional("yaml"), optional("lyaml.functional")
local MISSING = not (libyaml and functional) and "reading YAML needs lyaml (Debian's lua-yaml, or the lyaml rock)"

local M = {}

--- The value of a YAML null (`~`, `null`, an empty value): lyaml.null.
M.null = functional and functional.NULL or setmetatable({}, { __name = "luasible.yaml.null" })

--- Is v nothing: nil or a YAML null?
function M.is_null(v) return v == nil or v == M.null end

local TAG = "tag:yaml.org,2002:"
local TAG_NAME = "^" .. TAG:gsub("%p", "%%%0") .. "(.*)$"

-- the keys of each decoded mapping in the order of the text (weak: a
-- mapping that is dropped takes its list along)
local ORDER = setmetatable({}, { __mode = "k" })

--- The keys of a mapping decoded here, in the order of the text (nil for
--- any other table).
function M.keys(t) return ORDER[t] end

-- !unsafe values: their marks (luasible.yaml_unsafe), offered here
local marks = require "luasible.yaml_unsafe"
M.unsafe, M.unsafe_keys, M.holds_unsafe = marks.unsafe, marks.unsafe_keys, marks.holds_unsafe
M.set_unsafe, M.merge_marked = marks.set_unsafe, marks.merge_marked

-- `!vault |` (an Ansible Vault value, inline): decrypted with the run's
-- keyring (luasible.vault.use) and registered as a secret; a wrong password
-- or a damaged value is a load error at its line. Decrypted once per text.
-- With vault.keep_inline (`luasible inventory`, as ansible-inventory shows
-- them) the value stays encrypted: the mapping { __ansible_vault = text }.
function M.vault_value(text, at)
  local vault = require "luasible.vault"
  if not vault.is_encrypted(text) then at("a !vault value must be Ansible Vault text ($ANSIBLE_VAULT;...)") end
  if vault.keep_inline then
    local v = json.object()
    v.__ansible_vault = text
    ORDER[v] = { "__ansible_vault" }
    return v
  end
  local plain, err = vault.open(text)
  if not plain then
    -- the keyring's message without its own " on FILE": the line says where
    at("vault-encrypted value: %s", err)
  end
  return plain
end

-- The lines of the parts of a collection decoded with opts.lines (M.load):
-- LINES[t] = { [key or index] = line of the key (mapping) or of the entry
-- (sequence) }, and LINES[t][LINES] = the line the collection starts at.
-- Weak keys, as ORDER. Only on request: inventories do not pay for it.
local LINES = setmetatable({}, { __mode = "k" })

--- Where the parts of a collection decoded with lines (M.load(text, source,
--- { lines = true })) are in the text: line(t) the line t starts at;
--- line(t, k) the line of its key k (a mapping) or entry k (a sequence);
--- nil when not known.
function M.line(t, k)
  local l = LINES[t]
  if not l then return nil end
  if k == nil then return l[LINES] end
  return l[k]
end

-- A load error: raised inside the loader as this table, caught by decode_first.
local function fail(line, column, message)
  error({ yaml_error = true, line = line, column = column, message = message }, 0)
end

-- The loader of one text: a table of state and the functions over it.
-- Returns the list of documents, or raises fail(...).
local function load_documents(text, with_lines)
  local next_event = libyaml.parser(text)
  local ev                -- the current event
  local anchors = {}      -- anchor name -> { value =, kind = "map"|"seq"|"scalar" }
  local node_line         -- the line the node load_node() last returned starts at (with_lines)

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

  local function anchor(value, kind, unsafe)
    if ev.anchor ~= nil then anchors[ev.anchor] = { value = value, kind = kind, unsafe = unsafe } end
  end

  local load_node

  local function load_scalar()
    local value, tag = ev.value, ev.tag
    local kind
    if tag ~= nil then
      value, kind = yaml11.tagged(tag, value)
      if value == nil and kind ~= "null" then at("%s", kind) end
    elseif ev.style == "PLAIN" then
      value, kind = yaml11.plain(value)
      if kind == "value" then at("could not determine a constructor for the tag '%svalue'", TAG) end
    end
    if value == nil then value = M.null end
    if tag == "!vault" then value = M.vault_value(value, at) end
    local unsafe = tag == "!unsafe"
    anchor(value, "scalar", unsafe)
    return value, "scalar", unsafe
  end

  -- `<<: *a` or `<<: [*a, *b]`: the keys of the sources that map does not
  -- have (the first source's value wins); their names into `merged`, in
  -- PyYAML's order (the last source's first)
  local function merge_into(map, node, kind, tag, merged)
    local sources = kind == "map" and { node } or kind == "seq" and node
    if not sources then at("invalid '%s' merge event: %s", tag, tostring(node)) end
    for i, src in ipairs(sources) do
      if type(src) ~= "table" then at("invalid '%s' sequence element %d: %s", tag, i, tostring(src)) end
      for k, v in pairs(src) do
        if map[k] == nil then
          map[k] = v
          M.set_unsafe(map, k, M.unsafe(src, k))
        end
      end
    end
    for i = #sources, 1, -1 do
      for _, k in ipairs(ORDER[sources[i]] or {}) do merged[#merged + 1] = k end
    end
  end

  -- `!unsafe` on a collection (Ansible wraps every value in it): every
  -- string in t, at any depth, is marked unsafe
  local function all_unsafe(t)
    for k, v in pairs(t) do
      if type(v) == "table" and v ~= M.null then
        all_unsafe(v)
        if marks.holds_unsafe(v) then M.set_unsafe(t, k, "nested") end
      elseif type(v) == "string" then
        M.set_unsafe(t, k, "value")
      end
    end
  end

  -- (set_unsafe only where there is something to set or to unset: most
  -- values are not !unsafe and hold nothing that is)
  local function mark(t, k, value, unsafe)
    local flag = unsafe and "value" or (type(value) == "table" and marks.holds_unsafe(value) and "nested") or nil
    if flag or marks.unsafe_keys(t) then M.set_unsafe(t, k, flag) end
  end

  local function load_map()
    local unsafe_tag = ev.tag == "!unsafe"
    local map, order, merged = json.object(), {}, nil
    local lines = with_lines and { [LINES] = ev.start_mark.line + 1 } or nil
    if lines then LINES[map] = lines end
    if ev.anchor ~= nil then anchor(map, "map") end
    local again = false -- a key given twice
    while true do
      local key = load_node()
      if key == nil then break end
      if lines and type(key) ~= "table" then lines[key] = node_line end
      local tag = ev.tag and ev.tag:match(TAG_NAME)
      if key == "<<" or tag == "merge" then
        tag = ev.tag or key
        local node, kind = load_node()
        merged = merged or {}
        merge_into(map, node, kind, tag, merged)
      else
        local value, _, unsafe = load_node()
        if value == nil then at("unexpected %s event", tostring(ev.type)) end
        order[#order + 1] = key
        if map[key] ~= nil then again = true end
        map[key] = value
        mark(map, key, value, unsafe)
      end
    end
    local keys = order
    if merged or again then
      local seen = {}
      keys = {}
      for _, list in ipairs({ merged or {}, order }) do
        for _, k in ipairs(list) do
          if not seen[k] and map[k] ~= nil then seen[k] = true; keys[#keys + 1] = k end
        end
      end
    end
    ORDER[map] = keys
    if unsafe_tag then all_unsafe(map) end
    return map, "map"
  end

  local function load_sequence()
    local unsafe_tag = ev.tag == "!unsafe"
    local seq, n = {}, 0
    local lines = with_lines and { [LINES] = ev.start_mark.line + 1 } or nil
    if lines then LINES[seq] = lines end
    if ev.anchor ~= nil then anchor(seq, "seq") end
    while true do
      local node, _, unsafe = load_node()
      if node == nil then break end
      n = n + 1
      seq[n] = node
      if lines then lines[n] = node_line end
      mark(seq, n, node, unsafe)
    end
    if unsafe_tag then all_unsafe(seq) end
    return seq, "seq"
  end

  local function load_alias()
    local a = anchors[ev.anchor]
    if a == nil then at("invalid reference: %s", tostring(ev.anchor)) end
    return a.value, a.kind, a.unsafe
  end

  local DISPATCH = { SCALAR = load_scalar, ALIAS = load_alias, MAPPING_START = load_map,
    SEQUENCE_START = load_sequence, MAPPING_END = function() end, SEQUENCE_END = function() end,
    DOCUMENT_END = function() end }

  function load_node()
    local f = DISPATCH[parse()]
    if not f then at("invalid event: %s", tostring(ev and ev.type)) end
    if not with_lines then return f() end
    local line = ev.start_mark.line + 1
    local node, kind, unsafe = f()
    node_line = line
    return node, kind, unsafe
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
local function decode_first(text, with_lines)
  if MISSING then return nil, { message = MISSING } end
  local ok, docs = pcall(load_documents, text, with_lines)
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

--- Every document of YAML text, as a list (from_yaml_all). Raises as decode.
function M.decode_all(text)
  if MISSING then error(MISSING, 0) end
  local ok, docs = pcall(load_documents, text)
  if ok then return docs end
  if type(docs) == "table" and docs.yaml_error then
    error(string.format("%d:%d: %s", docs.line, docs.column, docs.message), 0)
  end
  error(docs, 0)
end

--- Parse YAML (or JSON) text read from `source` (a file name): the value,
--- or nil, "source:line: what is wrong". opts.lines: record where each
--- part is (M.line); opts.column: the message says source:line:column.
function M.load(text, source, opts)
  opts = opts or {}
  -- a whole vault-encrypted file: its plaintext, each string in it a secret
  local vaulted = text:sub(1, 14) == "$ANSIBLE_VAULT"
  if vaulted then
    local vault = require "luasible.vault"
    local plain, verr = vault.open(text, nil, "none")
    if not plain then return nil, (source or "<yaml>") .. ": " .. verr end
    text = plain
  end
  local v, err = decode_first(text, opts.lines)
  if err then
    local at = err.line and (":" .. err.line .. (opts.column and ":" .. err.column or "")) or ""
    return nil, (source or "<yaml>") .. at .. ": " .. err.message
  end
  if vaulted then require("luasible.vault").reveal_all(v) end
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

local function by_name(a, b)
  local sa, sb = tostring(a), tostring(b)
  if sa ~= sb then return sa < sb end
  return type(a) < type(b)
end

--- The keys of mapping t in the order of the text it was decoded from
--- (keys added since, after them by name); for another table, in the
--- order they appear in `text` (the ones not found, or all without text,
--- after them by name): an order that does not depend on table iteration.
function M.ordered_keys(t, text)
  local known = ORDER[t]
  if known then
    local keys, seen, extra = {}, {}, {}
    for _, k in ipairs(known) do
      if t[k] ~= nil then keys[#keys + 1] = k; seen[k] = true end
    end
    for k in pairs(t) do if not seen[k] then extra[#extra + 1] = k end end
    table.sort(extra, by_name)
    for _, k in ipairs(extra) do keys[#keys + 1] = k end
    return keys
  end
  local keys, pos = {}, {}
  for k in pairs(t) do
    keys[#keys + 1] = k
    pos[k] = M.key_line(text, k) or math.huge
  end
  table.sort(keys, function(a, b)
    if pos[a] ~= pos[b] then return pos[a] < pos[b] end
    return by_name(a, b)
  end)
  return keys
end

return M
