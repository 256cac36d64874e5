--- luasible.play.free: Ansible's free strategy. Each host of the batch
-- runs the play's sections (and its own handlers after each) on its own,
-- as fast as it goes, not waiting for the others at each task: at most
-- `forks` hosts at once, and at most a task's (or the play's) `throttle`
-- hosts in the same task at once. As in Ansible, run_once runs on every
-- host (with a warning), and any_errors_fatal and max_fail_percentage do
-- not stop the batch (play/rolling.lua skips them under free).
local M = {}

-- A strategy for one host: its active_hosts are that host (while it is
-- in the batch); run_task waits for a place under the task's throttle.
local function for_host(S, h)
  local H = setmetatable({}, { __index = S })
  function H.active_hosts(r)
    if r.state[h].out then return {} end
    return { h }
  end
  function H.run_task(r, task, hosts)
    local limit = require("luasible.play.rolling").throttle(r, task)
    local busy = r.free_busy
    if limit < r.forks then
      while (busy[task] or 0) >= limit do r.luasible.sleep(0.002) end
    end
    busy[task] = (busy[task] or 0) + 1
    local ok, err = pcall(S.run_task, r, task, hosts)
    busy[task] = busy[task] - 1
    if not ok then error(err, 0) end
  end
  function H.run_step(r, task, hosts) return S.run_step(r, task, hosts, H) end
  return H
end

--- Run the current batch (run.batch) with the free strategy; S is
--- play/strategy.lua (run_sections, each_host, run_task).
function M.run_batch(run, S)
  run.free_busy = {}
  local hosts = S.active_hosts(run)
  S.each_host(run, hosts, function(h) S.run_sections(run, for_host(S, h)) end)
  run.free_busy = nil
end

return M
