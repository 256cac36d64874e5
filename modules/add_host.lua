-- add_host: a host (and its groups and variables) added to the run's
-- in-memory inventory, for the later plays (Ansible's
-- ansible.builtin.add_host): `name` (aliases host, hostname; "name:port"
-- sets ansible_port), `groups` (aliases group, groupname; a list or a comma
-- string), and any other argument a host variable. Runs once for all hosts
-- (bypass_host_loop, as Ansible's; a loop adds many); the play layer
-- (play/inventory_changes.lua) adds it and says `changed` when the host or a
-- group of it is new.
return {
  any_params = true,
  changes_inventory = true,
  bypass_host_loop = true,
  check_mode = true,
  params = {
    name = { type = "string", aliases = { "host", "hostname" } },
    groups = { type = "list", aliases = { "group", "groupname" } },
  },
  required_one_of = { { "name" } },
  run = function(ctx, args)
    local vars = ctx.object()
    for k, v in pairs(args) do
      if k ~= "name" and k ~= "groups" then
        if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then
          return { failed = true, msg = "add_host: '" .. tostring(k) .. "' is not a valid variable name" }
        end
        vars[k] = v
      end
    end
    local groups, seen = {}, {}
    for _, g in ipairs(args.groups or {}) do
      g = ctx.chomp(tostring(g)):gsub("^%s+", ""):gsub("%s+$", "")
      if g ~= "" and not seen[g] then seen[g] = true; groups[#groups + 1] = g end
    end
    return { changed = false, add_host = { host_name = args.name, groups = groups, host_vars = vars } }
  end,
}
