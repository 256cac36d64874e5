--- luasible.inventory.export: an inventory in the shapes `ansible-inventory`
-- prints, so that a user can compare the two: --list (groups with their
-- direct hosts and children, every host's merged variables under
-- _meta.hostvars), --host NAME (one host's variables) and --graph.
local json = require "luasible.json"
local yaml = require "luasible.yaml"

local M = {}

--- The variables Ansible leaves out of --list and --host: its magic and
--- internal ones (ansible-inventory's INTERNAL_VARS).
M.INTERNAL_VARS = {}
for _, k in ipairs({ "ansible_diff_mode", "ansible_config_file", "ansible_facts", "ansible_forks",
  "ansible_inventory_sources", "ansible_limit", "ansible_playbook_python", "ansible_run_tags",
  "ansible_skip_tags", "ansible_verbosity", "ansible_version", "inventory_dir", "inventory_file",
  "inventory_hostname", "inventory_hostname_short", "groups", "group_names", "omit", "playbook_dir" }) do
  M.INTERNAL_VARS[k] = true
end

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

--- A host's merged variables as --host shows them (a mapping; an !unsafe
--- string as { __ansible_unsafe = text }, as Ansible's JSON), or nil when
--- the inventory has no such host.
function M.host(inv, name, play_layer)
  if not inv.hosts[name] then return nil end
  local out = json.object()
  local vars = inv:host_vars(name, play_layer)
  for k in pairs(vars) do
    if not M.INTERNAL_VARS[k] then out[k] = shown(vars, k, 0) end
  end
  return out
end

-- the hosts of the inventory as Ansible lists them: the implicit localhost
-- (added when a pattern named it) is not one
local function listed_hosts(inv)
  local out = {}
  for _, h in ipairs(inv.host_order) do
    if not inv.hosts[h].implicit then out[#out + 1] = h end
  end
  return out
end

--- The --list document: { _meta = { hostvars = { host = vars } },
--- all = { children = {...} }, group = { hosts = {...}, children = {...} } };
--- `all` shows no hosts; a group without hosts and children has no entry
--- (it is named among its parent's children); a host without variables
--- none under hostvars.
function M.list(inv, play_layer)
  local out = json.object()
  local function add(name)
    local g = inv.groups[name]
    local e = json.object()
    if name ~= "all" and #g.host_list > 0 then
      local hosts = {}
      for _, h in ipairs(g.host_list) do
        if not inv.hosts[h].implicit then hosts[#hosts + 1] = h end
      end
      if #hosts > 0 then e.hosts = hosts end
    end
    if #g.child_list > 0 then e.children = { table.unpack(g.child_list) } end
    if next(e) ~= nil then out[name] = e end
    for _, c in ipairs(g.child_list) do if out[c] == nil then add(c) end end
  end
  add("all")
  local hostvars = json.object()
  for _, h in ipairs(listed_hosts(inv)) do
    local v = M.host(inv, h, play_layer)
    if next(v) ~= nil then hostvars[h] = v end
  end
  out._meta = json.object({ hostvars = hostvars })
  return out
end

--- The --graph text (lines joined by "\n"), from group `name` (default
--- all): each group as @name:, its child groups first, then its hosts,
--- indented by "  |--" per level; `all` shows no hosts of its own.
function M.graph(inv, name)
  name = name or "all"
  if not inv.groups[name] then return nil, "no group '" .. tostring(name) .. "' in " .. inv.source end
  local lines = {}
  local function at(depth, text) lines[#lines + 1] = (depth > 0 and ("  |"):rep(depth) .. "--" or "") .. text end
  local function walk(g, depth)
    at(depth, "@" .. g .. ":")
    local grp = inv.groups[g]
    for _, c in ipairs(grp.child_list) do walk(c, depth + 1) end
    if g ~= "all" then
      for _, h in ipairs(grp.host_list) do
        if not inv.hosts[h].implicit then at(depth + 1, h) end
      end
    end
  end
  walk(name, 0)
  return table.concat(lines, "\n")
end

return M
