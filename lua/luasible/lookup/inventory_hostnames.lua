--- lookup('inventory_hostnames', PATTERN...): the names of the hosts a host
-- pattern (`web:&prod`, `all:!db*`, `~re`, `web[0]`) matches, as Ansible's
-- inventory_hostnames lookup: an inventory made of the play's `groups`
-- (each group's hosts, in order; no variables), the patterns of the terms
-- joined by commas; a pattern that matches nothing gives an empty list.
local lookup = require "luasible.lookup"

return {
  run = function(terms, _, env)
    local groups = env.vars and env.vars.groups
    if type(groups) ~= "table" then lookup.fail("inventory_hostnames: no groups (not in a play)") end
    local inv = require("luasible.inventory.model").new("groups")
    local all = type(groups.all) == "table" and groups.all or {}
    for _, h in ipairs(all) do inv:add_host(h, {}, "all") end
    local names = {}
    for g in pairs(groups) do if g ~= "all" then names[#names + 1] = g end end
    table.sort(names)
    for _, g in ipairs(names) do
      inv:add_group(g)
      for _, h in ipairs(groups[g]) do inv:add_host(h, {}, g) end
    end
    local parts = {}
    for i, t in ipairs(terms) do parts[i] = tostring(t) end
    local hosts = require("luasible.inventory.pattern").select(inv, table.concat(parts, ","))
    return hosts or {}
  end,
}
