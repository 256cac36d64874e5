--- luasible.inventory.export: an inventory as ansible-inventory (2.14)
-- shows it; the producers behind `luasible inventory` (cli/inventory.lua).
--
--   export.list(inv, play_layer)  --list: { _meta = { hostvars = ... }, all = { children },
--                             group = { hosts, children }, ... } (Lua tables)
--   export.host(inv, h, play_layer)  --host H: the host's merged variables
--   export.graph(inv, g, show_vars, opts)  --graph [GROUP] [--vars]: the text tree
--   export.list_hosts(hosts) `ansible PATTERN --list-hosts`: the text
--   export.json(t)          Python's json.dumps(t, sort_keys=True, indent=4)
--   export.yaml_list(inv, export), export.toml_list(inv, export)
--                           --list --yaml / --toml: the trees ansible-inventory dumps
--   export.yaml(t), export.toml(t)  the text, as ansible-inventory writes it
--
-- opts.export (--export): a host's own variables only (its line or entry and
-- its host_vars/), each group's own under `vars` (ansible-inventory's
-- _get_group_variables, with ansible_group_priority when not 1).
--
-- As ansible-inventory: a group's `hosts` are its own hosts and `children`
-- its child groups, in the order the sources gave them (all's children: the
-- groups with no other parent); empty lists and empty groups are left out;
-- _meta.hostvars holds every host with variables, its variables merged, the
-- magic ones left out (inventory_hostname, group_names, ...). The implicit
-- localhost is in no group and in no list (pattern.hidden).
local json = require "luasible.json"
local yaml = require "luasible.yaml"
local pattern = require "luasible.inventory.pattern"
local pyrepr = require "luasible.util.pyrepr"
local toml_dump = require "luasible.util.toml_dump"

local M = {}

-- ansible/cli/inventory.py INTERNAL_VARS: what --list and --host leave out
M.INTERNAL_VARS = {}
for _, k in ipairs({ "ansible_diff_mode", "ansible_config_file", "ansible_facts", "ansible_forks",
  "ansible_inventory_sources", "ansible_limit", "ansible_playbook_python", "ansible_run_tags",
  "ansible_skip_tags", "ansible_verbosity", "ansible_version", "inventory_dir", "inventory_file",
  "inventory_hostname", "inventory_hostname_short", "groups", "group_names", "omit", "playbook_dir" }) do
  M.INTERNAL_VARS[k] = true
end

local function yaml_null() return yaml.null end

-- t[k] as Ansible's JSON shows it: an !unsafe string as { __ansible_unsafe
-- = text }, a table holding one copied with it so shown
local function shown(t, k, depth)
  local v, mark = t[k], yaml.unsafe(t, k)
  if mark == "value" and type(v) == "string" then return json.object({ __ansible_unsafe = v }) end
  if mark and type(v) == "table" and yaml.holds_unsafe(v) and depth < 64 then
    local out = setmetatable({}, getmetatable(v))
    for kk in pairs(v) do out[kk] = shown(v, kk, depth + 1) end
    return out
  end
  return v
end

-- the tables merged in order into a new one, their !unsafe marks kept
local function merged(tables)
  local out = {}
  for _, t in ipairs(tables) do
    local marks = yaml.unsafe_keys(t)
    for k, v in pairs(t) do
      out[k] = v
      yaml.set_unsafe(out, k, marks and marks[k])
    end
  end
  return out
end

--- The merged variables of host `name` as ansible-inventory --host shows
--- them (a json.object table; an !unsafe string as { __ansible_unsafe =
--- text }, as Ansible's JSON; with opts.raw as it is, for YAML and TOML),
--- or nil when there is no such host. With opts.export only its own ones.
--- `play_layer`: a playbook folder's vars (vars_dirs), as host_vars takes it.
function M.host(inv, name, play_layer, opts)
  opts = opts or {}
  if not inv.hosts[name] then return nil end
  local out = json.object()
  local vars
  if opts.export then
    local own = { inv.hosts[name].vars }
    for _, layer in ipairs(inv.vars_layers or {}) do own[#own + 1] = layer.hosts[name] or {} end
    if play_layer then own[#own + 1] = play_layer.hosts[name] or {} end
    vars = merged(own)
  else
    vars = inv:host_vars(name, play_layer)
  end
  for k in pairs(vars) do
    if not M.INTERNAL_VARS[k] then out[k] = opts.raw and vars[k] or shown(vars, k, 0) end
  end
  return out
end

--- The hosts of group `g` itself (not its children's), the implicit
--- localhost left out.
function M.own_hosts(inv, g)
  local out = {}
  for _, h in ipairs(inv.groups[g].host_list) do
    if not pattern.hidden(inv, h) then out[#out + 1] = h end
  end
  return out
end

--- ansible-inventory --list, as a Lua table (json.object for mappings).
function M.list(inv, play_layer, opts)
  opts = opts or {}
  local results, seen = json.object(), {}
  local function format_group(g)
    local entry = json.object()
    results[g] = entry
    if g ~= "all" then
      local hosts = M.own_hosts(inv, g)
      if #hosts > 0 then entry.hosts = hosts end
    end
    local children = pattern.children(inv, g)
    if #children > 0 then entry.children = { table.unpack(children) } end
    for _, c in ipairs(children) do
      if not seen[c] then
        seen[c] = true
        format_group(c)
      end
    end
    if opts.export then
      local vars = M.group_vars(inv, g)
      if next(vars) ~= nil then
        entry.vars = json.object()
        for k, v in pairs(vars) do entry.vars[k] = v end
      end
    end
    if next(entry) == nil then results[g] = nil end
  end
  format_group("all")
  local hostvars = json.object()
  for _, h in ipairs(pattern.group_hosts(inv, "all")) do
    local vars = M.host(inv, h, play_layer, opts)
    if next(vars) ~= nil then hostvars[h] = vars end
  end
  results._meta = json.object({ hostvars = hostvars })
  return results
end

local function graph_name(name, depth)
  if depth > 0 then return string.rep("  |", depth) .. "--" .. name end
  return name
end

-- {k = v} lines, sorted by name, values as Python's str()
local function show_vars(out, vars, depth)
  local keys = {}
  for k in pairs(vars) do keys[#keys + 1] = k end
  table.sort(keys)
  local null = yaml_null()
  for _, k in ipairs(keys) do
    out[#out + 1] = graph_name("{" .. k .. " = " .. pyrepr.str(vars[k], { null = null }) .. "}", depth)
  end
end

--- A group's own variables (ansible-inventory's _get_group_variables):
--- the inventory file's, then each vars folder's group_vars/<group>, and
--- ansible_group_priority when it is not 1.
function M.group_vars(inv, g)
  local out = {}
  for k, v in pairs(inv.groups[g].vars or {}) do out[k] = v end
  for _, layer in ipairs(inv.vars_layers or {}) do
    for k, v in pairs(layer.groups[g] or {}) do out[k] = v end
  end
  for k in pairs(M.INTERNAL_VARS) do out[k] = nil end
  if (inv.groups[g].priority or 1) ~= 1 then out.ansible_group_priority = inv.groups[g].priority end
  return out
end
local group_vars = M.group_vars

--- ansible-inventory --graph [group] [--vars]: the text (no final newline),
--- or nil, err when `group` is not a group.
function M.graph(inv, group, show, opts)
  group = group or "all"
  if not inv.groups[group] then return nil, "no group '" .. tostring(group) .. "' in " .. inv.source end
  local out = {}
  local function walk(g, depth)
    out[#out + 1] = graph_name("@" .. g .. ":", depth)
    for _, c in ipairs(pattern.children(inv, g)) do walk(c, depth + 1) end
    if g ~= "all" then
      for _, h in ipairs(M.own_hosts(inv, g)) do
        out[#out + 1] = graph_name(h, depth + 1)
        if show then show_vars(out, M.host(inv, h, nil, opts), depth + 2) end
      end
    end
    if show then show_vars(out, group_vars(inv, g), depth + 1) end
  end
  walk(group, 0)
  return table.concat(out, "\n")
end

--- What `ansible PATTERN --list-hosts` prints for these hosts.
function M.list_hosts(hosts)
  local out = { string.format("  hosts (%d):", #hosts) }
  for _, h in ipairs(hosts) do out[#out + 1] = "    " .. h end
  return table.concat(out, "\n")
end

--- t as ansible-inventory prints JSON.
function M.json(t)
  return json.pretty(t, yaml_null())
end

local function remove_empty(entry)
  for _, k in ipairs({ "hosts", "vars", "children" }) do
    if entry[k] ~= nil and next(entry[k]) == nil then entry[k] = nil end
  end
end

local function exported_group_vars(inv, g, opts)
  if not opts.export then return nil end
  local vars = json.object()
  for k, v in pairs(group_vars(inv, g)) do vars[k] = v end
  return vars
end

-- a host's variables (raw) the first time it is met, {} after: --yaml and
-- --toml write them under its first group only
local function vars_once(inv, h, seen, opts)
  if seen[h] then return json.object() end
  seen[h] = true
  return M.host(inv, h, nil, { export = opts.export, raw = true })
end

--- ansible-inventory --list --yaml: { all = { children = { g = {...} },
--- hosts = ... } }, every group under its parents (again under each), a
--- host's variables under its first group only.
function M.yaml_list(inv, opts)
  opts = opts or {}
  local seen = {}
  local function format_group(g)
    local entry, children, hosts = json.object(), json.object(), json.object()
    for _, c in ipairs(pattern.children(inv, g)) do
      if c ~= "all" then children[c] = format_group(c) end
    end
    entry.children = children
    if g ~= "all" then
      for _, h in ipairs(M.own_hosts(inv, g)) do hosts[h] = vars_once(inv, h, seen, opts) end
    end
    entry.hosts = hosts
    local gvars = exported_group_vars(inv, g, opts)
    if gvars and next(gvars) ~= nil then entry.vars = gvars end
    remove_empty(entry)
    return entry
  end
  return json.object({ all = format_group("all") })
end

--- ansible-inventory --list --toml: { group = { children = {...}, hosts =
--- { h = vars } }, ... } in the order Ansible's dict gets them (ordered
--- mappings of util/toml_dump), `all` and ungrouped left out when empty.
function M.toml_list(inv, opts)
  opts = opts or {}
  local seen, results = {}, toml_dump.ordered()
  local has_ungrouped = inv.groups.ungrouped ~= nil and #M.own_hosts(inv, "ungrouped") > 0
  local function format_group(g)
    local entry = toml_dump.ordered()
    results[g] = entry
    entry.children = {}
    for _, c in ipairs(pattern.children(inv, g)) do
      if not (c == "ungrouped" and not has_ungrouped) then
        if g ~= "all" then entry.children[#entry.children + 1] = c end
        format_group(c)
      end
    end
    if g ~= "all" then
      for _, h in ipairs(M.own_hosts(inv, g)) do
        entry.hosts = entry.hosts or toml_dump.ordered()
        entry.hosts[h] = vars_once(inv, h, seen, opts)
      end
    end
    entry.vars = exported_group_vars(inv, g, opts)
    remove_empty(entry)
    if next(entry) == nil then results[g] = nil end
  end
  format_group("all")
  return results
end

--- t as ansible-inventory writes YAML (PyYAML with AnsibleDumper, block
--- style, keys sorted): a vault value as `!vault |` and its lines.
function M.yaml(t)
  local pyyaml = require "luasible.template.filters.pyyaml"
  local vaults, n = {}, 0
  local tag = ("LUASIBLEVAULT%08x"):format(math.random(0, 0x7fffffff))
  local copies = {}
  -- t with each vault value a placeholder string; a table copied once (so
  -- that what is shared stays shared: anchors), and only if it holds one
  local function swap(v, depth)
    if type(v) ~= "table" or depth > 64 then return v end
    if copies[v] then return copies[v] end
    if rawget(v, "__ansible_vault") and next(v, next(v)) == nil then
      n = n + 1
      vaults[tag .. n] = v.__ansible_vault
      copies[v] = tag .. n
      return copies[v]
    end
    local out, changed = setmetatable({}, getmetatable(v)), false
    for k, x in pairs(v) do
      out[k] = swap(x, depth + 1)
      changed = changed or out[k] ~= x
    end
    copies[v] = changed and out or v
    return copies[v]
  end
  local text = pyyaml.dump(swap(t, 0), { flow = false, anchors = true })
  if n == 0 then return text end
  return (text:gsub("([^\n]*)(" .. tag .. "%d+)\n", function(line, key)
    local indent = line:match("^ *")
    local block = vaults[key]
    local chomp = block:sub(-1) == "\n" and "|" or "|-"
    local lines = {}
    for l in (block:sub(-1) == "\n" and block or block .. "\n"):gmatch("([^\n]*)\n") do
      lines[#lines + 1] = indent .. "  " .. l .. "\n"
    end
    return line .. "!vault " .. chomp .. "\n" .. table.concat(lines)
  end))
end

--- t as ansible-inventory writes TOML (Python's toml), or nil, err: a vault
--- value is refused (Ansible writes its decrypted text as a list of characters).
function M.toml(t)
  local function check(v, path, depth)
    if type(v) ~= "table" or depth > 64 then return true end
    if rawget(v, "__ansible_vault") then
      return nil, path .. ": a vault-encrypted value cannot be written as TOML (use --yaml or JSON)"
    end
    for k, x in pairs(v) do
      local ok, err = check(x, path == "" and tostring(k) or path .. "." .. tostring(k), depth + 1)
      if not ok then return nil, err end
    end
    return true
  end
  local ok, err = check(t, "", 0)
  if not ok then return nil, err end
  local text, terr = toml_dump.dump(t, yaml_null())
  if not text then return nil, "the inventory holds a value TOML cannot hold: " .. terr end
  return text
end

return M
