--- luasible.inventory.export: an inventory as ansible-inventory (2.14)
-- shows it; the producers behind `luasible inventory` (cli/inventory.lua).
--
--   export.list(inv, play_layer)  --list: { _meta = { hostvars = ... }, all = { children },
--                             group = { hosts, children }, ... } (Lua tables)
--   export.host(inv, h, play_layer)  --host H: the host's merged variables
--   export.graph(inv, g, show_vars)  --graph [GROUP] [--vars]: the text tree
--   export.list_hosts(hosts) `ansible PATTERN --list-hosts`: the text
--   export.json(t)          Python's json.dumps(t, sort_keys=True, indent=4)
--
-- As ansible-inventory: a group's `hosts` are its own hosts and `children`
-- its child groups, in the order the sources gave them (all's children: the
-- groups with no other parent); empty lists and empty groups are left out;
-- _meta.hostvars holds every host with variables, its variables merged, the
-- magic ones left out (inventory_hostname, group_names, ...). The implicit
-- localhost is in no group and in no list (pattern.hidden).
local json = require "luasible.json"
local pattern = require "luasible.inventory.pattern"
local pyrepr = require "luasible.util.pyrepr"

local M = {}

-- ansible/cli/inventory.py INTERNAL_VARS: what --list and --host leave out
M.INTERNAL_VARS = {}
for _, k in ipairs({ "ansible_diff_mode", "ansible_config_file", "ansible_facts", "ansible_forks",
  "ansible_inventory_sources", "ansible_limit", "ansible_playbook_python", "ansible_run_tags",
  "ansible_skip_tags", "ansible_verbosity", "ansible_version", "inventory_dir", "inventory_file",
  "inventory_hostname", "inventory_hostname_short", "groups", "group_names", "omit", "playbook_dir" }) do
  M.INTERNAL_VARS[k] = true
end

local function yaml_null()
  local ok, yaml = pcall(require, "luasible.yaml")
  return ok and yaml.null or nil
end

--- The merged variables of host `name` as ansible-inventory --host shows
--- them (a json.object table), or nil when there is no such host.
--- `play_layer`: a playbook folder's vars (vars_dirs), as host_vars takes it.
function M.host(inv, name, play_layer)
  if not inv.hosts[name] then return nil end
  local out = json.object()
  for k, v in pairs(inv:host_vars(name, play_layer)) do
    if not M.INTERNAL_VARS[k] then out[k] = v end
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
function M.list(inv, play_layer)
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
    if next(entry) == nil then results[g] = nil end
  end
  format_group("all")
  local hostvars = json.object()
  for _, h in ipairs(pattern.group_hosts(inv, "all")) do
    local vars = M.host(inv, h, play_layer)
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

-- A group's own variables (ansible-inventory's _get_group_variables):
-- the inventory file's, then each vars folder's group_vars/<group>.
local function group_vars(inv, g)
  local out = {}
  for k, v in pairs(inv.groups[g].vars or {}) do out[k] = v end
  for _, layer in ipairs(inv.vars_layers or {}) do
    for k, v in pairs(layer.groups[g] or {}) do out[k] = v end
  end
  for k in pairs(M.INTERNAL_VARS) do out[k] = nil end
  return out
end

--- ansible-inventory --graph [group] [--vars]: the text (no final newline),
--- or nil, err when `group` is not a group.
function M.graph(inv, group, show)
  group = group or "all"
  if not inv.groups[group] then return nil, "no group '" .. tostring(group) .. "' in " .. inv.source end
  local out = {}
  local function walk(g, depth)
    out[#out + 1] = graph_name("@" .. g .. ":", depth)
    for _, c in ipairs(pattern.children(inv, g)) do walk(c, depth + 1) end
    if g ~= "all" then
      for _, h in ipairs(M.own_hosts(inv, g)) do
        out[#out + 1] = graph_name(h, depth + 1)
        if show then show_vars(out, M.host(inv, h), depth + 2) end
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

return M
