-- luasible.inventory: hosts, groups and their variables.
--
-- Sources: Ansible's INI format, Ansible's YAML format (all/children/hosts/vars),
-- a Lua table of the same shape, or a .lua file returning one. Without a
-- source the inventory holds only the implicit `localhost` (local connection).

local wordsplit = require "luasible.util.shell"

local M = {}

local Inventory = {}
Inventory.__index = Inventory
M.Inventory = Inventory

local function new(source)
  local inv = setmetatable({ hosts = {}, host_order = {}, groups = {}, group_order = {},
    source = source or "<inventory>" }, Inventory)
  inv:add_group("all")
  inv:add_group("ungrouped")
  inv:add_child("all", "ungrouped")
  return inv
end
M.new = new

function M.is_inventory(x) return getmetatable(x) == Inventory end

function Inventory:add_group(name)
  local g = self.groups[name]
  if not g then
    g = { name = name, hosts = {}, host_list = {}, children = {}, child_list = {}, parents = {}, vars = {} }
    self.groups[name] = g
    self.group_order[#self.group_order + 1] = name
    if name ~= "all" and self.groups.all then self:add_child("all", name) end
  end
  return g
end

function Inventory:add_child(parent, child)
  local p, c = self:add_group(parent), self:add_group(child)
  if not p.children[child] then
    p.children[child] = true
    p.child_list[#p.child_list + 1] = child
    c.parents[parent] = true
  end
end

--- Add (or update) a host; vars are merged into its host vars.
function Inventory:add_host(name, vars, group)
  local h = self.hosts[name]
  if not h then
    h = { name = name, vars = {}, groups = {} }
    self.hosts[name] = h
    self.host_order[#self.host_order + 1] = name
  end
  for k, v in pairs(vars or {}) do h.vars[k] = v end
  group = group or "ungrouped"
  local g = self:add_group(group)
  if not g.hosts[name] then
    g.hosts[name] = true
    g.host_list[#g.host_list + 1] = name
    h.groups[group] = true
  end
  if group ~= "ungrouped" and self.groups.ungrouped.hosts[name] then
    local ug = self.groups.ungrouped
    ug.hosts[name] = nil
    h.groups.ungrouped = nil
    for i, n in ipairs(ug.host_list) do if n == name then table.remove(ug.host_list, i) break end end
  end
  return h
end

--- All hosts of a group, its children included, in inventory order.
function Inventory:group_hosts(name)
  if name == "all" then return { table.unpack(self.host_order) } end
  local set, seen = {}, {}
  local function walk(gname)
    if seen[gname] then return end
    seen[gname] = true
    local g = self.groups[gname]
    for h in pairs(g.hosts) do set[h] = true end
    for c in pairs(g.children) do walk(c) end
  end
  walk(name)
  local out = {}
  for _, h in ipairs(self.host_order) do if set[h] then out[#out + 1] = h end end
  return out
end

--- Names of every group a host belongs to, ancestors included, sorted by
--- depth (all first) then name: the order in which group vars apply.
function Inventory:host_groups(name)
  local h = self.hosts[name]
  if not h then return {} end
  local member = {}
  local function walk(g)
    if member[g] then return end
    member[g] = true
    for p in pairs(self.groups[g].parents) do walk(p) end
  end
  for g in pairs(h.groups) do walk(g) end
  -- level = longest chain of parents up to `all`
  local function level(g, seen)
    seen = seen or {}
    if g == "all" or seen[g] then return 0 end
    seen[g] = true
    local best = 0
    for p in pairs(self.groups[g].parents) do best = math.max(best, level(p, seen) + 1) end
    seen[g] = nil
    return best
  end
  local list = {}
  for g in pairs(member) do list[#list + 1] = { name = g, level = level(g) } end
  table.sort(list, function(a, b)
    if a.level ~= b.level then return a.level < b.level end
    return a.name < b.name
  end)
  local out = {}
  for i, g in ipairs(list) do out[i] = g.name end
  return out
end

--- The merged variables of a host, lowest precedence first, as Ansible
--- merges them: the inventory file's group vars (all first, then parents
--- before children), group_vars/all of each vars folder (the inventory's,
--- then the playbook's), group_vars/<group> of each folder (parents before
--- children), the inventory file's host vars, host_vars/<host> of each
--- folder. `play_layer` (from M.vars_dir) is the playbook's folder, applied
--- after the inventory's own. Adds inventory_hostname and group_names.
function Inventory:host_vars(name, play_layer)
  local vars = {}
  local function merge(t) if t then for k, v in pairs(t) do vars[k] = v end end end
  local layers = {}
  for i, l in ipairs(self.vars_layers or {}) do layers[i] = l end
  if play_layer then layers[#layers + 1] = play_layer end
  local groups = self:host_groups(name)
  for _, g in ipairs(groups) do merge(self.groups[g].vars) end
  for _, l in ipairs(layers) do merge(l.groups.all) end
  for _, l in ipairs(layers) do
    for _, g in ipairs(groups) do if g ~= "all" then merge(l.groups[g]) end end
  end
  local h = self.hosts[name]
  if h then merge(h.vars) end
  for _, l in ipairs(layers) do merge(l.hosts[name]) end
  local names = {}
  for _, g in ipairs(groups) do if g ~= "all" and g ~= "ungrouped" then names[#names + 1] = g end end
  table.sort(names)
  vars.inventory_hostname = name
  vars.inventory_hostname_short = name:match("^[^.]+") or name
  vars.group_names = names
  return vars
end

--- Add the implicit localhost (local connection) if it is not in the inventory.
function Inventory:implicit_localhost()
  if not self.hosts.localhost then
    self:add_host("localhost", { ansible_connection = "local" }, "ungrouped")
    self.hosts.localhost.implicit = true
  end
  return self.hosts.localhost
end

function Inventory:select(pattern)
  return require("luasible.pattern").select(self, pattern)
end

---------------------------------------------------------------------------
-- Host ranges: web[01:20].example.com, db-[a:c], x[0:10:2]
---------------------------------------------------------------------------
M.MAX_RANGE = 100000   -- hosts one host pattern with ranges may give
M.MAX_HOSTS = 250000   -- hosts in one inventory

-- How many names a host pattern gives (nil when a range is malformed: the
-- expansion says what is wrong).
local function range_count(name)
  local total = 1
  for body in name:gmatch("%[([^%]]*)%]") do
    local a, b, step = body:match("^([^:]*):([^:]*):?(%d*)$")
    if not a then return nil end
    step = tonumber(step) or 1
    if step < 1 then return nil end
    local n
    if a:match("^%d+$") and b:match("^%d+$") then n = (tonumber(b) - tonumber(a)) // step + 1
    elseif a:match("^%a$") and b:match("^%a$") then n = (b:byte() - a:byte()) // step + 1
    else return nil end
    if n < 1 then return nil end
    total = total * n
  end
  return total
end
M.range_count = range_count

function M.expand_range(name)
  local count = range_count(name)
  if count and count > M.MAX_RANGE then
    return nil, string.format("host range '%s' gives %.0f hosts, more than the %d one pattern may give",
      name, count, M.MAX_RANGE)
  end
  local pre, body, post = name:match("^(.-)%[([^%]]*)%](.*)$")
  if not pre then
    if name:find("[%[%]]") then return nil, "unbalanced '[' or ']' in host name '" .. name .. "'" end
    return { name }
  end
  local a, b, step = body:match("^([^:]*):([^:]*):?(%d*)$")
  if not a or a == "" or b == "" then return nil, "bad range '[" .. body .. "]' in host name '" .. name .. "'" end
  step = tonumber(step) or 1
  if step < 1 then return nil, "bad range step in host name '" .. name .. "'" end
  local items = {}
  if a:match("^%d+$") and b:match("^%d+$") then
    local width = (a:sub(1, 1) == "0" and #a > 1) and #a or 0
    local x, y = tonumber(a), tonumber(b)
    if x > y then return nil, "range start after end in host name '" .. name .. "'" end
    for i = x, y, step do items[#items + 1] = width > 0 and string.format("%0" .. width .. "d", i) or tostring(i) end
  elseif a:match("^%a$") and b:match("^%a$") then
    if a > b then return nil, "range start after end in host name '" .. name .. "'" end
    for i = a:byte(), b:byte(), step do items[#items + 1] = string.char(i) end
  else
    return nil, "bad range '[" .. body .. "]' in host name '" .. name .. "'"
  end
  local out = {}
  for _, it in ipairs(items) do
    local rest, err = M.expand_range(it .. post)
    if not rest then return nil, err end
    for _, r in ipairs(rest) do out[#out + 1] = pre .. r end
  end
  return out
end

---------------------------------------------------------------------------
-- INI
---------------------------------------------------------------------------
-- An INI value as Ansible reads it (Python's literal_eval): a decimal
-- integer or float without a leading zero is a number, True/False (and
-- true/false) a boolean; anything else ("042", "1.2.3", "0x1g", "1e3")
-- stays the string it is, as do quoted values.
local function literal(v, quoted)
  if quoted then return v end
  if v:match("^%-?0$") or v:match("^%-?[1-9]%d*$") then return math.tointeger(tonumber(v)) or v end
  if v:match("^%-?%d+%.%d+$") and not v:match("^%-?0%d") then return tonumber(v) end
  if v == "true" or v == "True" then return true end
  if v == "false" or v == "False" then return false end
  return v
end

-- Split a host line into words, honouring quotes; strips a trailing # comment.
-- Each word is {text=, quoted=} (quoted: truthy when any part was quoted).
-- Returns words or nil, err.
local function split_words(line)
  return wordsplit.split(line, { comments = true })
end

local function unquote_value(v)
  v = v:match("^%s*(.-)%s*$")
  local q = v:sub(1, 1)
  if (q == '"' or q == "'") and #v >= 2 then
    if v:sub(-1) ~= q then return nil, "unterminated quote" end
    return v:sub(2, -2), true
  end
  v = v:gsub("%s+[#;].*$", "")
  return v, false
end

local GROUP_NAME = "^[%w_%-%.]+$"

function M.parse_ini(text, source)
  source = source or "<inventory>"
  local inv = new(source)
  local section, kind = "ungrouped", "hosts"
  local lineno = 0
  local function err(msg) return nil, string.format("%s:%d: %s", source, lineno, msg) end
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    lineno = lineno + 1
    local s = line:match("^%s*(.-)%s*$")
    if s == "" or s:match("^[#;]") then -- luacheck: ignore 542
      -- blank or comment
    elseif s:sub(1, 1) == "[" then
      local head = s:match("^%[(.*)%]$")
      if not head then return err("section header not closed: '" .. s .. "' (expected [name])") end
      local name, k = head:match("^([^:]+):(.+)$")
      name, k = name or head, k or "hosts"
      if k ~= "hosts" and k ~= "children" and k ~= "vars" then
        return err("unknown section type ':" .. k .. "' (use :children or :vars)")
      end
      if not name:match(GROUP_NAME) then return err("bad group name '" .. name .. "'") end
      section, kind = name, k
      inv:add_group(section)
    elseif kind == "hosts" then
      local words, werr = split_words(s)
      if not words then return err(werr) end
      local hostpat = words[1].text
      local vars = {}
      for i = 2, #words do
        local k, v = words[i].text:match("^([%w_]+)=(.*)$")
        if not k then return err("expected key=value after the host name, got '" .. words[i].text .. "'") end
        vars[k] = literal(v, words[i].quoted)
      end
      local hname, port = hostpat:match("^([^:%[%]]+):(%d+)$")
      if hname then hostpat = hname; vars.ansible_port = vars.ansible_port or tonumber(port) end
      local names, rerr = M.expand_range(hostpat)
      if not names then return err(rerr) end
      if #inv.host_order + #names > M.MAX_HOSTS then
        return err(string.format("more than %d hosts in one inventory", M.MAX_HOSTS))
      end
      for _, h in ipairs(names) do inv:add_host(h, vars, section) end
    elseif kind == "children" then
      if not s:match(GROUP_NAME) then return err("bad child group name '" .. s .. "'") end
      if s == section then return err("group '" .. s .. "' cannot be its own child") end
      inv:add_child(section, s)
    else -- vars
      local k, v = s:match("^([%w_]+)%s*=%s*(.*)$")
      if not k then return err("expected key=value in [" .. section .. ":vars], got '" .. s .. "'") end
      local val, q = unquote_value(v)
      if not val then return err(q or "unterminated quote") end
      inv.groups[section].vars[k] = literal(val, q)
    end
  end
  local ok, cerr = M.check_cycles(inv)
  if not ok then return nil, source .. ": " .. cerr end
  return inv
end

function M.check_cycles(inv)
  local state = {}
  local function visit(g, path)
    if state[g] == 1 then return nil, "group cycle: " .. table.concat(path, " -> ") .. " -> " .. g end
    if state[g] == 2 then return true end
    state[g] = 1
    path[#path + 1] = g
    for _, c in ipairs(inv.groups[g].child_list) do
      local ok, e = visit(c, path)
      if not ok then return nil, e end
    end
    path[#path] = nil
    state[g] = 2
    return true
  end
  for _, g in ipairs(inv.group_order) do
    local ok, e = visit(g, {})
    if not ok then return nil, e end
  end
  return true
end

---------------------------------------------------------------------------
-- YAML / Lua table: { all = { hosts = {h = {vars}}, vars = {}, children = { g = {...} } } }
---------------------------------------------------------------------------
local function is_null(v)
  if v == nil then return true end
  local ok, lyaml = pcall(require, "lyaml")
  return ok and v == lyaml.null
end

function M.from_table(t, source, text)
  source = source or "<inventory table>"
  local inv = new(source)
  local function line_of(key)
    if text then
      local n, pat = 0, "^%s*['\"]?" .. tostring(key):gsub("%p", "%%%0") .. "['\"]?%s*:"
      for line in (text .. "\n"):gmatch("(.-)\r?\n") do
        n = n + 1
        if line:match(pat) then return n end
      end
    end
  end
  local function where(key)
    local n = line_of(key)
    return n and string.format("%s:%d", source, n) or source
  end
  -- keys in the order they appear in the source text (alphabetical for tables)
  local function ordered(keys)
    local pos = {}
    for _, k in ipairs(keys) do pos[k] = line_of(k) or math.huge end
    table.sort(keys, function(a, b)
      if pos[a] ~= pos[b] then return pos[a] < pos[b] end
      return tostring(a) < tostring(b)
    end)
    return keys
  end
  local function bad(key, msg) error({ inv_error = where(key) .. ": " .. msg }, 0) end
  local function group(name, g, parent)
    if type(name) ~= "string" or not name:match(GROUP_NAME) then
      bad(tostring(name), "bad group name '" .. tostring(name) .. "'")
    end
    inv:add_group(name)
    if parent then inv:add_child(parent, name) end
    if is_null(g) then return end
    if type(g) ~= "table" then bad(name, "group '" .. name .. "' must be a mapping (hosts, vars, children)") end
    for k in pairs(g) do
      if k ~= "hosts" and k ~= "vars" and k ~= "children" then
        bad(name, "unknown key '" .. tostring(k) .. "' in group '" .. name .. "' (expected hosts, vars or children)")
      end
    end
    if not is_null(g.vars) then
      if type(g.vars) ~= "table" then bad(name, "vars of group '" .. name .. "' must be a mapping") end
      for k, v in pairs(g.vars) do inv.groups[name].vars[k] = v end
    end
    if not is_null(g.hosts) then
      if type(g.hosts) ~= "table" then bad(name, "hosts of group '" .. name .. "' must be a mapping") end
      local hnames = {}
      for h in pairs(g.hosts) do hnames[#hnames + 1] = h end
      if #g.hosts > 0 then -- a list of names
        hnames = {}
        for i, h in ipairs(g.hosts) do hnames[i] = h end
      else
        ordered(hnames)
      end
      for _, h in ipairs(hnames) do
        local hv = #g.hosts > 0 and {} or g.hosts[h]
        if type(h) ~= "string" then bad(name, "host names in group '" .. name .. "' must be strings") end
        if is_null(hv) then hv = {} end
        if type(hv) ~= "table" then bad(h, "vars of host '" .. h .. "' must be a mapping") end
        local names, rerr = M.expand_range(h)
        if not names then bad(h, rerr) end
        if #inv.host_order + #names > M.MAX_HOSTS then
          bad(h, string.format("more than %d hosts in one inventory", M.MAX_HOSTS))
        end
        for _, n in ipairs(names) do inv:add_host(n, hv, name) end
      end
    end
    if not is_null(g.children) then
      if type(g.children) ~= "table" then bad(name, "children of group '" .. name .. "' must be a mapping") end
      local cnames = {}
      for c in pairs(g.children) do cnames[#cnames + 1] = c end
      ordered(cnames)
      for _, c in ipairs(cnames) do group(c, g.children[c], name) end
    end
  end
  local ok, e = pcall(function()
    if type(t) ~= "table" then bad("", "inventory must be a mapping of groups") end
    local names = {}
    for k in pairs(t) do names[#names + 1] = k end
    ordered(names)
    for _, k in ipairs(names) do group(k, t[k], k ~= "all" and "all" or nil) end
  end)
  if not ok then
    if type(e) == "table" and e.inv_error then return nil, e.inv_error end
    error(e, 0)
  end
  local cok, cerr = M.check_cycles(inv)
  if not cok then return nil, source .. ": " .. cerr end
  return inv
end

-- An empty mapping (`{}`) loaded by lyaml is a plain empty table, the same
-- as an empty list: the event stream is watched so that it becomes
-- render.object({}), which stays `{}` in to_json and messages.
local EMPTY_MAP_TAG = "tag:luasible:empty-mapping"

--- Decode YAML (or JSON) text as lyaml.load does (raising on malformed
--- text), except that an empty mapping is marked with render.object.
function M.yaml_decode(text)
  local lyaml, yaml, explicit = require "lyaml", require "yaml", require "lyaml.explicit"
  local json = require "luasible.json"
  local T = "tag:yaml.org,2002:"
  local explicit_scalar = { [T .. "bool"] = explicit.bool, [T .. "float"] = explicit.float,
    [T .. "int"] = explicit.int, [T .. "null"] = explicit.null, [T .. "str"] = explicit.str,
    [EMPTY_MAP_TAG] = function() return json.object() end }
  local orig = yaml.parser
  yaml.parser = function(s)
    local next_event, pending = orig(s), nil
    return function()
      local ev
      if pending then ev, pending = pending, nil else ev = next_event() end
      if ev and ev.type == "MAPPING_START" then
        local after = next_event()
        if after and after.type == "MAPPING_END" then
          return { type = "SCALAR", tag = EMPTY_MAP_TAG, value = "", style = "PLAIN", anchor = ev.anchor,
            start_mark = ev.start_mark, end_mark = after.end_mark }
        end
        pending = after
      end
      return ev
    end
  end
  local ok, t = pcall(lyaml.load, text, { explicit_scalar = explicit_scalar })
  yaml.parser = orig
  if not ok then error(t, 0) end
  return t
end

--- Parse YAML (or JSON) text: the value, or nil, "source:line: what is wrong".
function M.yaml_load(text, source)
  local ok, t = pcall(M.yaml_decode, text)
  if not ok then
    local msg = tostring(t):gsub("^[^:]*lyaml[^:]*:%d+: ", "")
    local line, rest = msg:match("^(%d+):%d+: (.*)$")
    -- lyaml tells the line of the last good event; libYAML's own message
    -- has the line of the problem
    local pok, yaml = pcall(require, "yaml")
    if pok and type(yaml) == "table" and yaml.parser then
      local parser = yaml.parser(text)
      for _ = 1, #text + 16 do
        local eok, ev = pcall(parser)
        if not eok then
          local what, l = tostring(ev):match("^(.-) at document: %d+, line: (%d+)")
          if what then line, rest = l, what end
          break
        end
        if not ev then break end
      end
    end
    if line then return nil, string.format("%s:%s: %s", source, line, rest) end
    return nil, source .. ": " .. msg
  end
  return t
end

function M.parse_yaml(text, source)
  source = source or "<inventory>"
  local t, err = M.yaml_load(text, source)
  if err then return nil, err end
  if t == nil or is_null(t) then return new(source) end
  return M.from_table(t, source, text)
end

local read_file = require("luasible.util.fs").read

---------------------------------------------------------------------------
-- group_vars/ and host_vars/ folders (next to the inventory, next to the play)
---------------------------------------------------------------------------
local VARS_EXT = { "", ".yml", ".yaml", ".json" }
local VAR_NAME = "^[%a_][%w_]*$"


-- Every file and folder under dir (following links), as { [relpath] = "f"|"d" }
-- plus the sorted list of paths; empty when dir does not exist.
local function tree(dir)
  local entries, paths = {}, {}
  local exists = io.open(dir) -- (opens a folder too) no find process for none
  if not exists then return entries, paths end
  exists:close()
  -- a relative folder starting with '-' would be an option of find
  local arg = dir:sub(1, 1) == "-" and ("./" .. dir) or dir
  local p = io.popen("find -L " .. require("luasible.template").quote(arg)
    .. " -mindepth 1 \\( -type f -o -type d \\) -printf '%y %P\\0'"
    .. " 2>/dev/null")
  if not p then return entries, paths end
  local out = p:read("a") or ""
  p:close()
  for kind, rel in out:gmatch("(%a) ([^%z]+)%z") do
    entries[rel] = kind
    paths[#paths + 1] = rel
  end
  table.sort(paths)
  return entries, paths
end

-- Turn YAML nulls into nothing (Lua tables cannot hold nil: a key without
-- value is left undefined) and find vault-encrypted values.
local function clean(v, path, depth)
  if type(v) == "string" and v:match("^%s*%$ANSIBLE_VAULT;") then
    error({ vars_error = "the value of '" .. path .. "' is vault-encrypted (!vault): ansible-vault files are"
      .. " not supported (decrypt it, or pass the secret with -e)" }, 0)
  end
  if type(v) ~= "table" or depth > 64 then return v end
  local out = setmetatable({}, getmetatable(v)) -- an empty mapping stays one (render.object)
  if #v > 0 then
    for _, x in ipairs(v) do if not is_null(x) then out[#out + 1] = clean(x, path, depth + 1) end end
  else
    for k, x in pairs(v) do
      if not is_null(x) then out[k] = clean(x, path .. "." .. tostring(k), depth + 1) end
    end
  end
  return out
end

--- Load one vars file (YAML or JSON): a mapping of variable names to values.
--- Returns the table, or nil, "file[:line]: what is wrong".
function M.load_vars_file(path)
  local text, err = read_file(path)
  if not text then return nil, "cannot read " .. path .. ": " .. tostring(err) end
  if text:match("^%s*%$ANSIBLE_VAULT;") then
    return nil, path .. ": ansible-vault files are not supported (decrypt it with ansible-vault decrypt)"
  end
  local t, yerr = M.yaml_load(text, path)
  if yerr then return nil, yerr end
  if t == nil or is_null(t) then return {} end
  local function line_of(key)
    local n, pat = 0, "^%s*['\"]?" .. tostring(key):gsub("%p", "%%%0") .. "['\"]?%s*:"
    for line in (text .. "\n"):gmatch("(.-)\r?\n") do
      n = n + 1
      if line:match(pat) then return path .. ":" .. n end
    end
    return path
  end
  if type(t) ~= "table" or (#t > 0) then
    return nil, path .. ": must be a mapping of variable names to values, got a "
      .. (type(t) == "table" and "list" or type(t))
  end
  for k in pairs(t) do
    if type(k) ~= "string" or not k:match(VAR_NAME) then
      return nil, line_of(k) .. ": '" .. tostring(k) .. "' is not a valid variable name"
    end
  end
  local ok, res = pcall(clean, t, "", 0)
  if not ok then
    if type(res) == "table" and res.vars_error then
      local key = res.vars_error:match("^the value of '%.([^.']+)")
      return nil, (key and line_of(key) or path) .. ": " .. res.vars_error:gsub("'%.", "'")
    end
    error(res, 0)
  end
  return res
end

--- The group_vars/ and host_vars/ of a folder (Ansible's host_group_vars):
--- for a name, the file `NAME`, `NAME.yml`, `NAME.yaml` or `NAME.json`, or
--- the folder `NAME/` whose files (those names' endings, hidden files and
--- `~` backups left out) are loaded in sorted order, later ones overriding
--- earlier ones. Every such file is read, for hosts and groups of the
--- inventory or not. Returns a layer { dir =, groups = {}, hosts = {} } or
--- nil, "file[:line]: what is wrong".
function M.vars_dir(dir)
  local layer = { dir = dir, groups = {}, hosts = {} }
  for _, kind in ipairs({ "group_vars", "host_vars" }) do
    local into = kind == "group_vars" and layer.groups or layer.hosts
    local base = dir .. "/" .. kind
    local entries, paths = tree(base)
    local function usable(rel)
      local leaf = rel:match("[^/]*$")
      if leaf:sub(1, 1) == "." or leaf:sub(-1) == "~" then return nil end
      for comp in rel:gmatch("[^/]+") do if comp:sub(1, 1) == "." then return nil end end
      for _, ext in ipairs(VARS_EXT) do
        if ext == "" then
          if not leaf:find(".", 1, true) then return leaf end
        elseif leaf:sub(-#ext) == ext and #leaf > #ext then
          return leaf:sub(1, -#ext - 1)
        end
      end
      return nil
    end
    -- the names, each with its files in Ansible's order: NAME, NAME.yml,
    -- NAME.yaml, NAME.json (a folder NAME/ in the place of NAME)
    local names, order = {}, {}
    for _, rel in ipairs(paths) do
      if not rel:find("/", 1, true) then
        local name = entries[rel] == "d" and rel or usable(rel)
        if name and not names[name] then names[name] = true; order[#order + 1] = name end
      end
    end
    for _, name in ipairs(order) do
      local files = {}
      for _, ext in ipairs(VARS_EXT) do
        local top = name .. ext
        if entries[top] == "f" then files[#files + 1] = top
        elseif entries[top] == "d" then
          for _, rel in ipairs(paths) do
            if entries[rel] == "f" and rel:sub(1, #top + 1) == top .. "/" and usable(rel) then
              files[#files + 1] = rel
            end
          end
        end
      end
      for _, rel in ipairs(files) do
        local vars, err = M.load_vars_file(base .. "/" .. rel)
        if not vars then return nil, err end
        local t = into[name] or {}
        into[name] = t
        for k, v in pairs(vars) do t[k] = v end
      end
    end
  end
  return layer
end

--- The folder of a file path ("." for a bare name).
function M.dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

--- Load an inventory. `src`: nil (implicit localhost only), a path, a comma
--- list of host names ("a,b,"), a table, or an Inventory. Returns inv or nil, err.
function M.load(src)
  if src == nil then
    local inv = new("<implicit>")
    inv:implicit_localhost()
    return inv
  end
  if M.is_inventory(src) then return src end
  if type(src) == "table" then return M.from_table(src) end
  if type(src) ~= "string" then return nil, "inventory must be a path, a table or an Inventory" end
  local text, err = read_file(src)
  if not text then
    if src:find(",") then -- Ansible's "host1,host2," inline list
      local inv = new("<inline>")
      for h in src:gmatch("[^,%s]+") do inv:add_host(h, h == "localhost" and { ansible_connection = "local" } or {}) end
      return inv
    end
    return nil, "cannot read inventory " .. src .. ": " .. tostring(err):gsub("^" .. src:gsub("%p", "%%%0") .. ": ", "")
  end
  local inv, perr
  if src:match("%.lua$") then
    local chunk, lerr = load(text, "@" .. src, "t", {})
    if not chunk then return nil, lerr end
    local ok, t = pcall(chunk)
    if not ok then return nil, tostring(t) end
    inv, perr = M.from_table(t, src)
  elseif src:match("%.ya?ml$") or (text:match("^%s*%-%-%-") or text:match("^%s*all%s*:")) then
    inv, perr = M.parse_yaml(text, src)
  else
    inv, perr = M.parse_ini(text, src)
  end
  if not inv then return nil, perr end
  -- group_vars/ and host_vars/ next to the inventory file
  local layer, verr = M.vars_dir(M.dirname(src))
  if not layer then return nil, verr end
  inv.vars_layers = { layer }
  return inv
end

---------------------------------------------------------------------------
-- Connection variables -> luasible.connect arguments
---------------------------------------------------------------------------
local function bool(v)
  if type(v) == "string" then return ({ yes = true, ["true"] = true, ["1"] = true, on = true })[v:lower()] or false end
  return v == true or v == 1
end
M.bool = bool

--- Variables that must never appear in logs or events.
M.secret_vars = { ansible_password = true, ansible_ssh_pass = true, ansible_become_password = true,
  ansible_become_pass = true, ansible_sudo_pass = true, ansible_ssh_private_key_passphrase = true }

--- Is `name` the name of a secret: a connection secret above, or a name
--- holding password, passphrase, secret or token (any case)? `debug`
--- masks the values of such names.
function M.is_secret_name(name)
  if type(name) ~= "string" then return false end
  if M.secret_vars[name] then return true end
  local l = name:lower()
  return l:find("password", 1, true) ~= nil or l:find("passphrase", 1, true) ~= nil
    or l:find("secret", 1, true) ~= nil or l:find("token", 1, true) ~= nil
end

local HOST_KEY_CHECK = { yes = "strict", ask = "strict", ["true"] = "strict", strict = "strict",
  no = "off", off = "off", ["false"] = "off", ["accept-new"] = "accept-new" }

-- The part of OpenSSH's command line that luasible understands, from
-- ansible_ssh_common_args / ansible_ssh_extra_args: -F, -i, -p, -l and
-- -o Key=Value for the keys below. Anything else is refused (it would be
-- silently ignored otherwise: a ProxyCommand, say, would be bypassed).
local SSH_O = {
  stricthostkeychecking = function(a, v)
    local c = HOST_KEY_CHECK[v:lower()]
    if not c then return "StrictHostKeyChecking=" .. v .. " (yes, no, accept-new)" end
    a.host_key_check = c
  end,
  userknownhostsfile = function(a, v) a.known_hosts = v:match("^(%S+)") end,
  identityfile = function(a, v) a.identity = v end,
  port = function(a, v) a.port = tonumber(v) if not a.port then return "Port=" .. v end end,
  user = function(a, v) a.user = v end,
  connecttimeout = function(a, v)
    a.connect_timeout = tonumber(v)
    if not a.connect_timeout then return "ConnectTimeout=" .. v end
  end,
  serveraliveinterval = function(a, v)
    a.keepalive = tonumber(v)
    if not a.keepalive then return "ServerAliveInterval=" .. v end
  end,
  -- accepted and meaningless here
  globalknownhostsfile = false, batchmode = false, identitiesonly = false,
  loglevel = false, controlmaster = false, controlpath = false, controlpersist = false, checkhostip = false,
  updatehostkeys = false, compression = false, serveralivecountmax = false, preferredauthentications = false,
  pubkeyauthentication = false, passwordauthentication = false, kbdinteractiveauthentication = false,
}

--- Parse OpenSSH client options into `into` (connect arguments).
--- Returns into, or nil, err naming the option luasible cannot honour.
function M.ssh_args(s, into)
  into = into or {}
  local words = {}
  for w in tostring(s):gmatch("%S+") do words[#words + 1] = (w:gsub("^(['\"])(.*)%1$", "%2")) end
  local i = 1
  while i <= #words do
    local w = words[i]
    local flag, rest = w:match("^%-(%a)(.*)$")
    if not flag then return nil, "unsupported ssh argument '" .. w .. "'" end
    local val = rest ~= "" and rest or words[i + 1]
    if rest == "" then i = i + 1 end
    if val == nil then return nil, "ssh option -" .. flag .. " needs a value" end
    if flag == "o" then
      local k, v = val:match("^([%w]+)%s*=%s*(.*)$")
      if not k then k, v = val, words[i + 1]; i = i + 1 end
      local f = k and SSH_O[k:lower()]
      if f == nil or v == nil then return nil, "unsupported ssh option -o " .. tostring(val) end
      if f then
        local bad = f(into, v)
        if bad then return nil, "bad ssh option -o " .. bad end
      end
    elseif flag == "F" then into.ssh_config = val
    elseif flag == "i" then into.identity = val
    elseif flag == "p" then
      into.port = tonumber(val)
      if not into.port then return nil, "bad ssh option -p " .. val end
    elseif flag == "l" then into.user = val
    else return nil, "unsupported ssh option -" .. flag end
    i = i + 1
  end
  return into
end

--- Turn a host's vars into the argument for luasible.connect: "local" or a
--- table; or nil, err. Variables (Ansible's, then luasible's own):
---   ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file,
---   ansible_ssh_private_key_passphrase, ansible_password, ansible_ssh_timeout,
---   ansible_host_key_checking / ansible_ssh_host_key_checking (bool),
---   ansible_ssh_common_args / ansible_ssh_extra_args (-o StrictHostKeyChecking=,
---   -o UserKnownHostsFile=, -F, -i, -p, -l ...),
---   luasible_known_hosts, luasible_host_key_check (strict|accept-new|off),
---   luasible_host_key (pinned "SHA256:..."), luasible_ssh_config (path, or
---   false/"none" to read no ~/.ssh/config), luasible_ssh_agent (bool or socket),
---   luasible_keepalive.
function M.connect_args(name, vars)
  local c = vars.ansible_connection
  if c == "local" then return "local" end
  if c ~= nil and c ~= "ssh" and c ~= "paramiko" and c ~= "smart" then
    return nil, "host " .. name .. ": unsupported ansible_connection '" .. tostring(c) .. "'"
  end
  local args = {}
  for _, k in ipairs({ "ansible_ssh_common_args", "ansible_ssh_extra_args" }) do
    if vars[k] ~= nil and vars[k] ~= "" then
      local ok, err = M.ssh_args(vars[k], args)
      if not ok then return nil, "host " .. name .. ": " .. k .. ": " .. err end
    end
  end
  local function num(k, v)
    if v == nil then return nil end
    local n = tonumber(v)
    if not n then error("host " .. name .. ": " .. k .. " must be a number, got '" .. tostring(v) .. "'", 0) end
    return n
  end
  local ok, err = pcall(function()
    args.host = tostring(vars.ansible_host or vars.ansible_ssh_host or name)
    args.port = num("ansible_port", vars.ansible_port or vars.ansible_ssh_port) or args.port
    args.user = vars.ansible_user or vars.ansible_ssh_user or args.user
    args.identity = vars.ansible_ssh_private_key_file or vars.ansible_private_key_file or args.identity
    args.passphrase = vars.ansible_ssh_private_key_passphrase
    args.password = vars.ansible_password or vars.ansible_ssh_pass
    args.known_hosts = vars.luasible_known_hosts or args.known_hosts
    args.connect_timeout = num("ansible_ssh_timeout", vars.ansible_ssh_timeout or vars.ansible_timeout)
      or args.connect_timeout
    args.keepalive = num("luasible_keepalive", vars.luasible_keepalive) or args.keepalive
  end)
  if not ok then return nil, err end
  local hkc = vars.luasible_host_key_check
  if hkc ~= nil then
    hkc = HOST_KEY_CHECK[tostring(hkc):lower()]
    if not hkc then
      return nil, "host " .. name .. ": luasible_host_key_check must be strict, accept-new or off, got '"
        .. tostring(vars.luasible_host_key_check) .. "'"
    end
    args.host_key_check = hkc
  else
    local v = vars.ansible_ssh_host_key_checking
    if v == nil then v = vars.ansible_host_key_checking end
    if v ~= nil then args.host_key_check = bool(v) and "strict" or "off" end
  end
  if vars.luasible_host_key ~= nil then args.host_key = vars.luasible_host_key end
  local cfg = vars.luasible_ssh_config
  if cfg ~= nil then
    if cfg == false or cfg == "none" or cfg == "false" or cfg == "no" then args.ssh_config = false
    else args.ssh_config = tostring(cfg) end
  end
  local agent = vars.luasible_ssh_agent
  if agent ~= nil then
    if type(agent) == "string" and agent:find("/", 1, true) then args.agent = agent else args.agent = bool(agent) end
  end
  for _, k in ipairs({ "user", "identity", "passphrase", "password", "known_hosts" }) do
    if args[k] ~= nil and type(args[k]) ~= "string" and not (k == "identity" and type(args[k]) == "table") then
      args[k] = tostring(args[k])
    end
  end
  return args
end

--- Become settings of a host: { become = bool, user = "root", password = ... }.
function M.become(vars)
  return {
    become = bool(vars.ansible_become),
    user = vars.ansible_become_user or "root",
    password = vars.ansible_become_password or vars.ansible_become_pass or vars.ansible_sudo_pass,
  }
end

return M
