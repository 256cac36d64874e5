--- luasible.play.limits: the open file limit of a run. Every host that runs
-- at once holds file descriptors (an SSH socket; a local command's pipes and
-- pidfd; a transfer's file), and the default soft limit (often 1024) is far
-- below what a fleet needs and what the hard limit allows: before a play
-- runs, the soft limit is raised to the hard one (core.nofile). When even
-- that is too low, each host that finds no descriptor is unreachable with
-- EMFILE, whose message names `ulimit -n` (core/ssh_session.c); the other
-- hosts run (spec/integration/ssh_resources_spec.lua, fleet_limits_spec.lua).
local M = {}

--- Raise the soft limit to the hard one; returns soft, hard (nil without the core).
function M.raise(core)
  if not (core and core.nofile) then return nil end
  return core.nofile()
end

return M
