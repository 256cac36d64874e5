--- luasible.play.inventory_changes: what add_host and group_by ask of the
-- run's in-memory inventory (their result's add_host / add_group, as
-- Ansible's strategy applies them): hosts and groups added, a new group
-- under its parents (`all` when it has none), host variables merged, the
-- run's `groups`, `hostvars` and the host's own variables brought up to
-- date; `changed` when a host or a membership is new. The later plays
-- choose their hosts again (play/strategy.lua: run.inventory_changed).
local M = {}

local function ensure_group(inv, g)
  local grp = inv:add_group(g)
  if g ~= "all" and #grp.parent_list == 0 then assert(inv:add_child("all", g)) end
  return grp
end

local function refresh(run, name)
  local inv = run.inv
  for _, g in ipairs(inv.group_order) do run.groups[g] = inv:group_hosts(g) end
  if run.hostvars then rawset(run.hostvars, name, nil) end
  local st = run.state[name]
  if st then -- its group_names, its new groups' vars, add_host's vars
    for k, v in pairs(inv:host_vars(name, run.layer)) do st.inv_vars[k] = v end
  end
  run.inventory_changed = true
end

--- Apply a result of add_host or group_by of host `host`; the result's
--- `changed` set, or failed with msg.
function M.apply(run, host, res)
  local inv = run.inv
  if not inv or res.failed then return res end
  if type(res.add_host) == "table" then
    local a = res.add_host
    local existed = inv.hosts[a.host_name] ~= nil
    local names, err = inv:add_hosts(a.host_name, a.host_vars)
    if not names then res.failed, res.msg = true, "add_host: " .. tostring(err) return res end
    -- changed as Ansible's strategy says it: a new host, or any groups given (its check of a
    -- membership compares a name with Group objects: always "new"), or new vars
    local changed = not existed or #(a.groups or {}) > 0 or next(a.host_vars or {}) ~= nil
    for _, n in ipairs(names) do
      for _, g in ipairs(a.groups or {}) do
        local grp = ensure_group(inv, g)
        if not grp.hosts[n] then inv:add_host(n, nil, g) end
      end
      local h = inv.hosts[n]
      if #h.group_list == 0 then ensure_group(inv, "ungrouped"); inv:add_host(n, nil, "ungrouped") end
      refresh(run, n)
    end
    res.changed = changed
  elseif type(res.add_group) == "string" then
    local g = res.add_group
    local grp = inv.groups[g]
    if not grp then
      grp = inv:add_group(g)
      for _, p in ipairs(res.parent_groups or { "all" }) do
        if p ~= "all" then ensure_group(inv, p) end
        local ok, err = inv:add_child(p, g)
        if not ok then res.failed, res.msg = true, "group_by: " .. err return res end
      end
      if #grp.parent_list == 0 then assert(inv:add_child("all", g)) end
    end
    res.changed = not grp.hosts[host]
    if res.changed then inv:add_host(host, nil, g) end
    -- a host in a group of its own leaves ungrouped, as reconcile does
    local ug = inv.groups.ungrouped
    if ug and ug.hosts[host] and g ~= "ungrouped" then
      ug.hosts[host] = nil
      for i, x in ipairs(ug.host_list) do if x == host then table.remove(ug.host_list, i) break end end
      local h = inv.hosts[host]
      h.groups.ungrouped = nil
      for i, x in ipairs(h.group_list) do if x == "ungrouped" then table.remove(h.group_list, i) break end end
    end
    refresh(run, host)
  end
  return res
end

return M
