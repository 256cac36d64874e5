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

-- the included tasks of a handler, run as handlers (a proxy: the prepared task is shared)
local proxies = setmetatable({}, { __mode = "k" })
local function as_handler(task)
  local p = proxies[task]
  if not p then
    p = setmetatable({ handler = true }, { __index = task })
    proxies[task] = p
  end
  return p
end

--- An include_tasks handler notified on hosts: its file read (per host, as
--- a task's include_tasks: play/include.lua), then its tasks run on the
--- hosts that included it, as handlers, whether notified or not, right
--- after it, as Ansible's (a handler in that file cannot be notified).
function M.include(run, handler, hosts, run_task)
  local blocks = require "luasible.play.blocks"
  local S = { run_step = function(r, task, hs) run_task(r, as_handler(task), hs) end }
  require("luasible.play.include").run(run, { include = handler.include_node }, hosts, function(_, tree, hs)
    return blocks.run_tree(run, tree, hs, S, false, false)
  end, function() end)
end

--- Run each notified handler of the play, in the play's order, with
--- run_task(handler, hosts) on the hosts still in the play.
function M.flush(run, active_hosts, run_task)
  local active = active_hosts(run)
  for _, handler in ipairs(run.play.handlers) do
    local hosts = M.hosts(run, handler, active_hosts(run))
    if #hosts > 0 then
      if handler.include_node then M.include(run, handler, hosts, run_task)
      else run_task(run, handler, hosts) end
    end
  end
  -- what was notified is done: a later flush runs only what is notified
  -- again (on these hosts: under the free strategy each host flushes its own)
  for _, h in ipairs(active) do run.state[h].notified = {} end
end

return M
