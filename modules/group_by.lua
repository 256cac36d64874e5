-- group_by: the host put into the group `key` (spaces become "-"), created
-- under `parents` (default all) when new, in the run's in-memory inventory,
-- for the later plays (Ansible's ansible.builtin.group_by). Runs per host;
-- the play layer (play/inventory_changes.lua) adds it and says `changed`
-- when the host was not in the group yet.
return {
  changes_inventory = true,
  check_mode = true,
  params = {
    key = { type = "string", required = true },
    parents = { type = "list", default = { "all" } },
  },
  run = function(_, args)
    local parents = {}
    for i, p in ipairs(args.parents) do parents[i] = (tostring(p):gsub(" ", "-")) end
    return { changed = false, add_group = (args.key:gsub(" ", "-")), parent_groups = parents }
  end,
}
