--- luasible.play.strategy: Ansible's linear strategy. Each task runs on
-- every host of the batch at once (at most `forks` at a time: a pool of
-- worker tasks on the one loop), task by task, then the notified handlers;
-- the batches, their abort rules and meta are play/rolling.lua's, the free
-- strategy play/free.lua's;
-- a failed host leaves the play, an unreachable one is reported as such.
-- The plays of a list run one after the other, as a playbook. abort() stops
-- everything the run holds.
local host_task = require "luasible.play.host_task"
local handlers = require "luasible.play.handlers"
local recap = require "luasible.play.recap"
local connect = require "luasible.play.connect"
local rolling = require "luasible.play.rolling"
local errors = require "luasible.util.errors"

local M = {}

--- The hosts of the current batch (play/rolling.lua; the play's hosts
--- outside a run of batches) that have not left it.
function M.active_hosts(run)
  local out = {}
  for _, h in ipairs(run.batch or run.play.hosts) do if not run.state[h].out then out[#out + 1] = h end end
  return out
end

-- A task of the run: kept so that abort() can stop it.
local function spawn(run, fn)
  local t = run.luasible.spawn(fn)
  run.tasks[#run.tasks + 1] = t
  return t
end
M.spawn = spawn

--- Run fn(host) for each host, at most `limit` (default run.forks) at once.
function M.each_host(run, hosts, fn, limit)
  if #hosts == 0 then return end
  if not run.luasible or #hosts == 1 then
    for _, h in ipairs(hosts) do fn(h) end
    return
  end
  local next_i = 0
  local function worker()
    while true do
      next_i = next_i + 1
      local h = hosts[next_i]
      if not h then return end
      fn(h)
    end
  end
  local workers = {}
  for i = 1, math.min(limit or run.forks, #hosts) do workers[i] = spawn(run, worker) end
  for _, w in ipairs(workers) do w:wait() end
end
local each_host = M.each_host

-- One task on one host: its result; an error raised inside luasible (a
-- bug) is the host's failure, an interrupt goes on.
local function run_on(run, h, task)
  local ok, res = pcall(host_task.run, run, h, task)
  if not ok then
    if errors.is_interrupt(res) then error(res, 0) end
    res = { failed = true, msg = "internal error: " .. tostring(res) }
  end
  return res
end

--- Run a task on these hosts and record the results: at most forks (and
--- the task's or play's `throttle`) at once; with run_once on the first
--- host only, its result registered, its facts and notifications given to
--- every host of the batch, as Ansible does. Then the batch's abort rules
--- (any_errors_fatal, max_fail_percentage: play/rolling.lua).
function M.run_task(run, task, hosts)
  if task.no_log == nil and run.play.raw.no_log ~= nil then task.no_log = run.play.raw.no_log end -- the play's
  require("luasible.play.vars_files").check(run, hosts, task) -- per-host vars_files, before the banner
  rolling.task_start(run, task, hosts)
  local before = rolling.snapshot(run, hosts)
  if rolling.once_only(run, task) and #hosts > 0 then
    local first = hosts[1]
    local res = run_on(run, first, task)
    recap.record(run, first, task, res)
    rolling.share_once(run, task, first, hosts, res)
  else
    each_host(run, hosts, function(h) recap.record(run, h, task, run_on(run, h, task)) end,
      rolling.throttle(run, task))
  end
  rolling.after_task(run, task, hosts, before)
end

--- One task of a section on these hosts; meta (a play action,
--- modules/meta.lua) is done here (play/rolling.lua), counted nowhere.
function M.run_step(run, task, hosts, S)
  if task.mod.play_action then rolling.meta(run, task, hosts, S or M)
  elseif require("luasible.play.step").confirm(run, task) then (S or M).run_task(run, task, hosts) end -- --step
end

--- Does the current play run the handlers of a host that failed (the
--- play's force_handlers, else --force-handlers / the setting)?
function M.force_handlers(run)
  local f = run.play.raw.force_handlers
  if f == nil then f = run.force_handlers end
  return f == true
end

--- The hosts a section's handlers run on: S.active_hosts, and with
--- force_handlers the hosts of `before` (active when the section began)
--- that failed in it (not those unreachable), as Ansible's section blocks
--- with an always: flush_handlers.
function M.forced(_, S, before)
  if not before then return S.active_hosts end
  return function(r)
    local active, out = {}, {}
    for _, h in ipairs(S.active_hosts(r)) do active[h] = true end
    for _, h in ipairs(before) do
      if active[h] or r.state[h].out == "failed" then out[#out + 1] = h end
    end
    return out
  end
end

--- The sections of the current play on the current batch: pre_tasks,
--- tasks, post_tasks, the notified handlers after each (as Ansible flushes
--- them) when a section has tasks. `S`: the strategy whose active_hosts /
--- run_step / run_task are used (play/free.lua gives one a host).
function M.run_sections(run, S)
  S = S or M
  local play = run.play
  for _, name in ipairs({ "pre_tasks", "tasks", "post_tasks" }) do
    local before = M.force_handlers(run) and S.active_hosts(run) or nil -- (force_handlers: M.forced)
    local section = play[name] or {}
    local tree = play.raw.blocks and play.raw.blocks[name]
    if tree then require("luasible.play.blocks").run(run, tree, S) -- blocks (play/blocks.lua)
    else
      for _, task in ipairs(section) do
        local hosts = S.active_hosts(run)
        if #hosts == 0 then break end
        S.run_step(run, task, hosts, S)
      end
    end
    if #section > 0 or section == play.tasks then
      handlers.flush(run, M.forced(run, S, before), S.run_task)
    end
  end
end

--- Run the current play (run.play) in its batches (play/rolling.lua), with
--- its strategy (linear here; free: play/free.lua), then close the
--- connections of its hosts that no later play of the run has (run.keep:
--- the hosts of the later plays; a host out of the run is closed too).
--- Returns false when the run stops here (no later play runs).
function M.run_play(run)
  local play = run.play
  local go = rolling.run(run, function()
    if play.raw.strategy == "free" then require("luasible.play.free").run_batch(run, M)
    else M.run_sections(run, M) end
  end)
  local done = {}
  for _, h in ipairs(play.hosts) do
    if not (run.keep and run.keep[h]) or run.state[h].out then done[#done + 1] = h end
  end
  connect.close(run, done)
  return go
end

--- Run prepared plays one after the other. A host's state lives for the
--- whole run, as in an Ansible playbook: its registered results and facts
--- are there in the later plays, and a host that failed or was unreachable
--- leaves the later plays too. `inv`, `layer`: the inventory and the play
--- folder's vars layer, for each host's variables.
function M.run_plays(run, plays, inv, layer)
  -- a host's connection is reused by the later plays that have it: the hosts
  -- of plays i+1.. (as prepared: before hosts leave the run)
  local later, keep = {}, {}
  for i = #plays, 1, -1 do
    later[i] = keep
    local k = setmetatable({}, { __index = keep })
    for _, h in ipairs(plays[i].hosts) do k[h] = true end
    keep = k
  end
  for i, p in ipairs(plays) do
    run.keep = later[i]
    run.play = p
    run.events.play = p.name
    run.default_base_dir = run.default_base_dir or run.base_dir
    run.base_dir = p.base_dir or run.default_base_dir -- templates, files: the play's folder
    local dflt = run.default_forks or require("luasible.config.settings").DEFAULT_FORKS
    run.forks = math.max(1, math.tointeger(tonumber(run.forks_opt or p.raw.forks or dflt)) or dflt)
    if run.inventory_changed and p.host_pattern then -- add_host / group_by: the hosts chosen again
      p.hosts = require("luasible.inventory.pattern").select_limited(run.inv, p.host_pattern, p.host_limit) or p.hosts
    end
    -- a host that failed or was unreachable in an earlier play stays in the
    -- play's hosts (its batches are cut as Ansible's, counting it), but runs
    -- nothing: it is out (active_hosts)
    for _, h in ipairs(p.hosts) do
      local st = run.state[h]
      if not st then
        st = { inv_vars = inv:host_vars(h, layer), registered = {} }
        -- the configuration's connection settings, under everything (cli/config.lua)
        st.from_defaults = connect.fill_defaults(run, st.inv_vars)
        run.state[h] = st
        run.secrets:add(st.inv_vars)
      end
      st.notified = {}
      run.details[h] = run.details[h] or {}
    end
    local go
    if run.luasible and #p.hosts > 1 then
      go = spawn(run, function() return M.run_play(run) end):wait()
    else
      go = M.run_play(run)
    end
    -- a batch that failed whole, any_errors_fatal, max_fail_percentage: the
    -- run stops there (Ansible's "NO MORE HOSTS LEFT"), the later plays
    -- depend on this one
    if not go then break end
  end
  run.play, run.events.play, run.keep = nil, nil, nil
  connect.close(run) -- the connections kept for plays that did not run
end

--- Stop everything the run holds: its tasks (closing a coroutine closes its
--- pending to-be-closed values: the streams of running commands, so their
--- process groups are killed), then the connections (an SSH connection
--- cancels its commands and sends their remote kills), and let the loop
--- settle a little (at most 5 s) so that those kills go out.
function M.abort(run)
  for i = #run.tasks, 1, -1 do
    local t = run.tasks[i]
    if not t.done then pcall(t.cancel, t, errors.interrupt()) end
  end
  run.tasks = {}
  if connect.close(run) and run.luasible then
    require("luasible.scheduler").settle(5)
  end
end

return M
