--- luasible.play.recap: what a host's task result does to the run: the
-- recap's counts, the host leaving the play when it failed or was
-- unreachable, the notified handlers, the details, the result event; and
-- the exit status of a recap.
local handlers = require "luasible.play.handlers"
local status_of = require("luasible.play.host_task").status_of

local M = {}

--- The counters of a host (once per run: the recap sums over the plays);
--- `rescued` is added when a block rescues the host (play/blocks.lua).
function M.counters()
  return { ok = 0, changed = 0, failed = 0, unreachable = 0, skipped = 0, ignored = 0 }
end

--- Record the result of a task on a host and emit host_task_result.
function M.record(run, host, task, res)
  local st = run.state[host]
  local status = status_of(res)
  local r = run.recap[host]
  local ignore_unreachable = status == "unreachable" and require("luasible.play.rolling").keyword(run, task,
    "ignore_unreachable")
  local rescued
  if status == "failed" and task.ignore_errors then
    -- as Ansible counts it: ignored, and ok (and changed when it changed)
    res.ignored = true
    r.ignored, r.ok = r.ignored + 1, r.ok + 1
    if res.changed then r.changed = r.changed + 1 end
  elseif status == "failed" and st.rescuable then
    -- in a block with a rescue (play/blocks.lua): rescued, not failed, as Ansible counts it
    rescued = true
    r.rescued = (r.rescued or 0) + 1
  elseif ignore_unreachable then
    -- ignore_unreachable: ignored and ok, and the host goes on, as in Ansible
    res.ignored = true
    r.ignored, r.ok = r.ignored + 1, r.ok + 1
  else
    r[status] = r[status] + 1
  end
  if status == "changed" then r.ok = r.ok + 1 end
  if status == "unreachable" and not ignore_unreachable then st.out = "unreachable"
  elseif status == "failed" and not task.ignore_errors then st.out = "failed" end
  handlers.notify(st, task, res)
  local details = run.details[host]
  details[#details + 1] = { task = task.name, status = status, result = res }
  local ev = { type = "host_task_result", host = host, task = task.name, module = task.module,
    status = status, result = res, delegated_to = res.delegated_to, rescued = rescued }
  if task.no_log then ev.result = { changed = res.changed, failed = res.failed, msg = "output hidden by no_log" } end
  run.events:emit(ev)
end

--- Exit status for a recap, like Ansible: 0 ok, 2 failures, 4 unreachable;
--- with the run's details (play.play's second result): 2 when a batch was
--- stopped by any_errors_fatal or max_fail_percentage (details.break_play,
--- as ansible-playbook's RUN_FAILED_BREAK_PLAY), and what meta:
--- clear_host_errors cleared not counted (details.cleared).
function M.exit_code(recap, details)
  if type(details) == "table" and details.break_play then return 2 end
  local cleared = type(details) == "table" and details.cleared or {}
  local code = 0
  for h, r in pairs(recap) do
    local c = cleared[h] or { failed = 0, unreachable = 0 }
    if r.unreachable > c.unreachable then code = 4 end
    if r.failed > c.failed and code == 0 then code = 2 end
  end
  return code
end

return M
