--- luasible.util.gc: the garbage collector's pause raised while a playbook
-- is read and checked. Loading builds much that stays (the plays, their
-- tasks) among much that does not (YAML events, the checks' tokens and
-- trees); with Lua's default pause (a cycle each time the heap doubles) a
-- tree of 1,000 tasks spent about a third of its CPU time collecting. The
-- pause is the collector's only: what is collected, and when finalizers
-- run, is the same, later. Nested and interleaved loads (coroutines) share
-- one raise; the last to end puts the pause back as it was.
--
--   local _ <close> = require("luasible.util.gc").loading()
local M = {}

--- The pause while loading (Lua's setpause: 1000 = a cycle once the heap
--- is ten times what the last one left).
M.PAUSE = 1000

local depth, saved = 0, nil

local GUARD = { __close = function()
  depth = depth - 1
  if depth == 0 then collectgarbage("setpause", saved) end
end }

--- Raise the pause until the value returned is closed (a to-be-closed
--- variable: closed however the scope ends, an error raised through it too).
function M.loading()
  depth = depth + 1
  if depth == 1 then saved = collectgarbage("setpause", M.PAUSE) end
  return setmetatable({}, GUARD)
end

return M
