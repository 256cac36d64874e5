--- luasible.play.start_at: --start-at-task NAME: the prepared plays' tasks
-- before the first one named NAME (its name, or a role task's name without
-- "ROLE : ", or a glob of either, as Ansible's fnmatch) are not run: left
-- out of their sections and of play.prepared (the blocks' leaves). Facts
-- are still gathered and handlers still run when notified, as in Ansible;
-- the tasks of an include_tasks / include_role cannot be started at (read
-- when run; Ansible: "can only follow static includes").
local fnmatch = require "luasible.util.fnmatch"

local M = {}

local function matches(task, want)
  local name = tostring(task.name)
  local short = name:match("^.- : (.*)$")
  for _, n in ipairs({ name, short }) do
    if n == want or fnmatch.match(want, n) then return true end
  end
  return false
end

--- Drop the tasks before the start; true, or nil, err when no task has that name.
function M.apply(prepared, want)
  local found = false
  for _, p in ipairs(prepared) do
    if found then break end
    local skip = {}
    for _, section in ipairs({ "pre_tasks", "tasks", "post_tasks" }) do
      local kept = {}
      for _, t in ipairs(p[section] or {}) do
        if not found and not t.facts and matches(t, want) then found = true end
        if found or t.facts then kept[#kept + 1] = t else skip[t] = true end
      end
      p[section] = kept
    end
    for leaf, t in pairs(p.prepared or {}) do
      if skip[t] then p.prepared[leaf] = nil end
    end
  end
  if not found then
    return nil, "--start-at-task: no task named '" .. want .. "' (a task of an include_tasks or include_role"
      .. " cannot be started at)"
  end
  return true
end

return M
