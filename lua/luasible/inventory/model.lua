--- luasible.inventory.model: the Inventory object: groups (with children
-- and parents), hosts, their variables and Ansible's precedence over them,
-- as Ansible's InventoryData, Group and Host keep them. The readers (ini,
-- yaml, toml) fill one, then reconcile() settles it as Ansible does after
-- reading every source: a group without parent goes under `all`, a host
-- without group into `ungrouped`; vars_dirs adds its folder layers.
local yaml = require "luasible.yaml"
local pattern = require "luasible.inventory.pattern"
local address = require "luasible.inventory.address"
local literal = require "luasible.inventory.literal"

local M = {}

M.MAX_HOSTS = 250000   -- hosts in one inventory

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

--- A new inventory of `source` filled by read(inv, ...) (true, or nil,
--- err), then reconciled: the inventory, or nil, err.
function M.read_new(source, read, ...)
  local inv = M.new(source)
  local ok, err = read(inv, ...)
  if not ok then return nil, err end
  return inv:reconcile()
end

--- The parse(text, source) function of a format whose reader is
--- read(inv, text, source): a reconciled Inventory, or nil, err.
function M.parser(read)
  return function(text, source)
    source = source or "<inventory>"
    return M.read_new(source, read, text, source)
  end
end

--- Run f(...), which reports what is wrong by raising { inv_error = msg }:
--- true, or nil, msg (any other error is raised again).
function M.catch(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return true end
  if type(e) == "table" and e.inv_error then return nil, e.inv_error end
  error(e, 0)
end

--- The group `name`, created when new (with no parent: reconcile() puts it
--- under `all` if it still has none then). Any non-empty string is a name.
function Inventory:add_group(name)
  local g = self.groups[name]
  if not g then
    g = { name = name, hosts = {}, host_list = {}, children = {}, child_list = {}, parents = {},
      parent_list = {}, vars = {}, depth = 0, priority = 1 }
    self.groups[name] = g
    self.group_order[#self.group_order + 1] = name
  end
  return g
end

-- Is `a` the group `b` or one of its ancestors?
local function is_ancestor(inv, a, b, seen)
  if a == b then return true end
  seen = seen or {}
  if seen[b] then return false end
  seen[b] = true
  for _, p in ipairs(inv.groups[b].parent_list) do
    if is_ancestor(inv, a, p, seen) then return true end
  end
  return false
end

-- depth: the longest chain of parents above a group; children go deeper
-- (add_child refuses cycles first)
local function deepen(inv, g, depth)
  if g.depth >= depth then return end
  g.depth = depth
  for _, c in ipairs(g.child_list) do deepen(inv, inv.groups[c], depth + 1) end
end

--- Make group `child` a child of group `parent` (both created when new).
--- Returns true, or nil, err when that would make a cycle.
function Inventory:add_child(parent, child)
  local p, c = self:add_group(parent), self:add_group(child)
  if p.children[child] then return true end
  if parent == child or is_ancestor(self, child, parent) then
    return nil, "adding group '" .. child .. "' as a child of '" .. parent .. "' makes a cycle"
  end
  p.children[child] = true
  p.child_list[#p.child_list + 1] = child
  c.parents[parent] = true
  c.parent_list[#c.parent_list + 1] = parent
  deepen(self, c, p.depth + 1)
  return true
end

--- Set a group's variable, as Ansible's Group.set_variable:
--- ansible_group_priority is no variable but the group's rank among groups
--- of the same depth (an integer). `unsafe`: the !unsafe mark of the value
--- (luasible.yaml.unsafe). Returns true, or nil, err.
function Inventory:set_group_var(name, key, value, unsafe)
  local g = self:add_group(name)
  if key == "ansible_group_priority" then
    local n = literal.int(value)
    if not n then
      return nil, "group '" .. name .. "': ansible_group_priority must be an integer, got '" .. tostring(value) .. "'"
    end
    g.priority = n
  else
    g.vars[key] = value
    yaml.set_unsafe(g.vars, key, unsafe)
  end
  return true
end

--- Add a host (created when new; `port`, when given, is its ansible_port
--- if it is new, as in Ansible) to group `group` (none when nil:
--- reconcile() puts it into ungrouped); vars are merged into its host vars.
function Inventory:add_host(name, vars, group, port)
  local h = self.hosts[name]
  if not h then
    h = { name = name, vars = {}, groups = {}, group_list = {} }
    self.hosts[name] = h
    self.host_order[#self.host_order + 1] = name
    if port then h.vars.ansible_port = port end
  end
  local marks = vars and yaml.unsafe_keys(vars)
  for k, v in pairs(vars or {}) do
    h.vars[k] = v
    if marks or yaml.unsafe_keys(h.vars) then yaml.set_unsafe(h.vars, k, marks and marks[k]) end
  end
  if group then
    local g = self:add_group(group)
    if not g.hosts[name] then
      g.hosts[name] = true
      g.host_list[#g.host_list + 1] = name
      h.groups[group] = true
      h.group_list[#h.group_list + 1] = group
    end
  end
  return h
end

--- Add the hosts of an inventory host pattern (a name, an address with a
--- port, ranges: web[01:10]:2222, [2001:db8::1]:22) to a group, each with
--- vars: their names, or nil, err (a bad range, or more hosts than
--- M.MAX_HOSTS in the inventory).
function Inventory:add_hosts(hostpat, vars, group)
  local names, port = address.expand(hostpat)
  if not names then return nil, port end
  if #self.host_order + #names > M.MAX_HOSTS then
    return nil, string.format("more than %d hosts in one inventory", M.MAX_HOSTS)
  end
  for _, h in ipairs(names) do self:add_host(h, vars, group, port) end
  return names
end

local function remove(list, x)
  for i, v in ipairs(list) do if v == x then table.remove(list, i) return end end
end

--- Settle the inventory after reading its sources, as Ansible's
--- reconcile_inventory: every group but `all` without a parent becomes a
--- child of `all`; a host in `ungrouped` and in another group leaves
--- ungrouped; a host in no group but `all` joins it.
function Inventory:reconcile()
  for _, name in ipairs(self.group_order) do
    if name ~= "all" and #self.groups[name].parent_list == 0 then assert(self:add_child("all", name)) end
  end
  local ug = self.groups.ungrouped
  -- groups that have ungrouped as themselves or an ancestor, and whether
  -- ungrouped has an ancestor other than all
  local under_ug, ug_up = {}, false
  for _, name in ipairs(self.group_order) do
    if is_ancestor(self, "ungrouped", name) then under_ug[name] = true end
  end
  for _, p in ipairs(ug.parent_list) do if p ~= "all" then ug_up = true end end
  for _, name in ipairs(self.host_order) do
    local h = self.hosts[name]
    local in_ug, other = false, false
    for _, g in ipairs(h.group_list) do
      if under_ug[g] then in_ug = true end
      if g ~= "all" and g ~= "ungrouped" then other = true end
    end
    if in_ug then
      if (other or ug_up) and ug.hosts[name] then
        ug.hosts[name] = nil
        remove(ug.host_list, name)
        h.groups.ungrouped = nil
        remove(h.group_list, "ungrouped")
      end
    elseif not h.implicit and not other then
      self:add_host(name, nil, "ungrouped")
    end
  end
  return self
end

--- A group and the groups below it, in Ansible's order: the group, its
--- children in order, then theirs level by level (Ansible takes a level
--- in the order of a Python set; here in the order of the level above).
function Inventory:descendants(name)
  local out, seen, level = { name }, { [name] = true }, { name }
  while #level > 0 do
    local next_level = {}
    for _, g in ipairs(level) do
      for _, c in ipairs(self.groups[g].child_list) do
        if not seen[c] then
          seen[c] = true
          out[#out + 1] = c
          next_level[#next_level + 1] = c
        end
      end
    end
    level = next_level
  end
  return out
end

--- All hosts of a group, its descendants' included, in Ansible's order:
--- the hosts of each group of descendants(name) in turn, each once.
function Inventory:group_hosts(name)
  if not self.groups[name] then return {} end
  local out, seen = {}, {}
  for _, g in ipairs(self:descendants(name)) do
    for _, h in ipairs(self.groups[g].host_list) do
      if not seen[h] then
        seen[h] = true
        out[#out + 1] = h
      end
    end
  end
  return out
end

--- Names of every group a host belongs to, ancestors included, sorted as
--- Ansible sorts them to apply their vars: by depth (all first), then
--- ansible_group_priority, then name.
function Inventory:host_groups(name)
  local h = self.hosts[name]
  if not h then return {} end
  local member, list = {}, {}
  local function walk(g)
    if member[g] then return end
    member[g] = true
    list[#list + 1] = self.groups[g]
    for _, p in ipairs(self.groups[g].parent_list) do walk(p) end
  end
  for _, g in ipairs(h.group_list) do walk(g) end
  if not member.all then walk("all") end
  table.sort(list, function(a, b)
    if a.depth ~= b.depth then return a.depth < b.depth end
    if a.priority ~= b.priority then return a.priority < b.priority end
    return a.name < b.name
  end)
  local out = {}
  for i, g in ipairs(list) do out[i] = g.name end
  return out
end

--- The merged variables of a host, lowest precedence first, as Ansible
--- merges them: the inventory file's vars of `all`, group_vars/all of each
--- vars folder (the inventory's, then the playbook's), the inventory file's
--- vars of the other groups (host_groups order), group_vars/<group> of the
--- inventory's folder then the playbook's, the inventory file's host vars,
--- host_vars/<host> of each folder. `play_layer` (from vars_dirs.vars_dir)
--- is the playbook's folder. Adds inventory_hostname, inventory_hostname_short
--- and group_names (every group but all, sorted). A variable whose value
--- came !unsafe keeps the mark (luasible.yaml.unsafe_keys of the result).
function Inventory:host_vars(name, play_layer)
  local vars, marked = {}, false
  local function merge(t)
    if not t then return end
    local marks = yaml.unsafe_keys(t)
    for k, v in pairs(t) do
      vars[k] = v
      if marks or marked then
        yaml.set_unsafe(vars, k, marks and marks[k])
        marked = true
      end
    end
  end
  local layers = {}
  for i, l in ipairs(self.vars_layers or {}) do layers[i] = l end
  if play_layer then layers[#layers + 1] = play_layer end
  local groups = self:host_groups(name)
  merge(self.groups.all.vars)
  for _, l in ipairs(layers) do merge(l.groups.all) end
  for _, g in ipairs(groups) do if g ~= "all" then merge(self.groups[g].vars) end end
  for _, l in ipairs(layers) do
    for _, g in ipairs(groups) do if g ~= "all" then merge(l.groups[g]) end end
  end
  local h = self.hosts[name]
  if h then merge(h.vars) end
  for _, l in ipairs(layers) do merge(l.hosts[name]) end
  local names = {}
  for _, g in ipairs(groups) do if g ~= "all" then names[#names + 1] = g end end
  table.sort(names)
  vars.inventory_hostname = name
  vars.inventory_hostname_short = address.is_ip(name) and name or name:match("^[^.]*")
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

--- True: groups are checked for cycles as they are linked (add_child).
function M.check_cycles() return true end

return M
