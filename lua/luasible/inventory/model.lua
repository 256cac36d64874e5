--- luasible.inventory.model: the Inventory object: groups (with children
-- and parents), hosts, their variables and Ansible's precedence over them.
-- The readers (ini, yaml) fill one; vars_dirs adds its folder layers.
local ranges = require "luasible.inventory.ranges"
local pattern = require "luasible.inventory.pattern"

local M = {}

M.MAX_HOSTS = 250000   -- hosts in one inventory

--- What a group name may be.
M.GROUP_NAME = "^[%w_%-%.]+$"

local Inventory = {}
Inventory.__index = Inventory
M.Inventory = Inventory

--- A new inventory with the groups every one has: all, and ungrouped in it.
function M.new(source)
  local inv = setmetatable({ hosts = {}, host_order = {}, groups = {}, group_order = {},
    source = source or "<inventory>" }, Inventory)
  inv:add_group("all")
  inv:add_group("ungrouped")
  inv:add_child("all", "ungrouped")
  return inv
end

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

--- Add the hosts of a host pattern with ranges (web[01:10]) to a group,
--- each with vars: their names, or nil, err (a bad range, or more hosts
--- than M.MAX_HOSTS in the inventory).
function Inventory:add_hosts(hostpat, vars, group)
  local names, err = ranges.expand(hostpat)
  if not names then return nil, err end
  if #self.host_order + #names > M.MAX_HOSTS then
    return nil, string.format("more than %d hosts in one inventory", M.MAX_HOSTS)
  end
  for _, h in ipairs(names) do self:add_host(h, vars, group) end
  return names
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
--- folder. `play_layer` (from vars_dirs.vars_dir) is the playbook's folder,
--- applied after the inventory's own. Adds inventory_hostname and group_names.
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

--- The hosts matching a host pattern (luasible.inventory.pattern).
function Inventory:select(pat)
  return pattern.select(self, pat)
end

--- True, or nil, "group cycle: a -> b -> a".
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

return M
