--- luasible.play.handlers: what a task notifies, and the handlers run once
-- at the end of the play on the hosts where a task notifying them (by name
-- or by one of their `listen` names) changed something.
local M = {}

--- Note on a host's state what a task's result notifies.
function M.notify(st, task, res)
  if res.changed and not res.failed then
    for _, h in ipairs(task.notify) do st.notified[h] = true end
  end
end

--- The hosts among `hosts` that notified this handler.
function M.hosts(run, handler, hosts)
  local out = {}
  for _, h in ipairs(hosts) do
    local n = run.state[h].notified
    local hit = n[handler.name]
    for _, l in ipairs(handler.listen) do hit = hit or n[l] end
    if hit then out[#out + 1] = h end
  end
  return out
end

--- Run each notified handler of the play, in the play's order, with
--- run_task(handler, hosts) on the hosts still in the play.
function M.flush(run, active_hosts, run_task)
  local active = active_hosts(run)
  for _, handler in ipairs(run.play.handlers) do
    local hosts = M.hosts(run, handler, active_hosts(run))
    if #hosts > 0 then run_task(run, handler, hosts) end
  end
  -- what was notified is done: a later flush runs only what is notified
  -- again (on these hosts: under the free strategy each host flushes its own)
  for _, h in ipairs(active) do run.state[h].notified = {} end
end

return M
