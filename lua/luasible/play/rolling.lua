--- luasible.play.rolling: a play run batch after batch, as Ansible rolls a
-- deploy (docs/TASKS.md, "Rolling deploys"): the hosts in the play's
-- `order`, cut by `serial` (play/batches.lua); each batch runs the play's
-- sections and handlers (play/strategy.lua: linear; play/free.lua: free);
-- what stops the batch and the run (any_errors_fatal, max_fail_percentage,
-- a batch whose hosts all failed); run_once and throttle; the magic
-- variables of the batch; and the meta actions (end_play, end_batch,
-- end_host, clear_facts, clear_host_errors, flush_handlers, noop).
--
-- A host's state says why it left the batch: `out` = "failed",
-- "unreachable" (for the run), "ended" (end_host, end_batch, end_play,
-- clear_host_errors: for this play only), "aborted" (any_errors_fatal,
-- max_fail_percentage: the run stops).
local batches = require "luasible.play.batches"
local handlers = require "luasible.play.handlers"
local conditions = require "luasible.play.conditions"

local M = {}

local function raw(run) return run.play.raw end

-- A task keyword, else the play's (any_errors_fatal, ignore_unreachable, throttle, run_once).
local function keyword(run, task, k)
  if task[k] ~= nil then return task[k] end
  return raw(run)[k]
end
M.keyword = keyword

--- The magic variables of the batch: { batch = ansible_play_batch (and
--- play_hosts), hosts = ansible_play_hosts, all = ansible_play_hosts_all }:
--- the hosts that have not left (computed once a task: run.magic).
function M.magic(run)
  local m = run.magic
  if m and m.play == run.play then return m end
  local batch, hosts = {}, {}
  for _, h in ipairs(run.batch or run.play.hosts) do if not run.state[h].out then batch[#batch + 1] = h end end
  local all = run.play.inventory_hosts or run.play.hosts
  for _, h in ipairs(all) do
    local st = run.state[h]
    if st and not st.out then hosts[#hosts + 1] = h end
  end
  m = { play = run.play, batch = batch, hosts = hosts, all = all }
  run.magic = m
  return m
end

--- The task_start event of a task (under the free strategy once a batch,
--- when the first host reaches it), and each host's events numbered with it.
function M.task_start(run, task, hosts)
  run.magic = nil
  local ev = run.events
  local id = run.free_ids and run.free_ids[task]
  if not id then
    ev:emit({ type = "task_start", task = task.name, module = task.module, handler = task.handler or nil })
    id = ev.task_n
    if run.free_ids then run.free_ids[task] = id end
  end
  -- (a task_start clears the map; under free the hosts on other tasks keep theirs)
  local map = run.free and (run.free_map or {}) or (ev.host_task or {})
  if run.free then run.free_map = map end
  for _, h in ipairs(hosts) do map[h] = id end
  ev.host_task = map
end

--- Does this task run once for the batch? (run_once, as Ansible's linear
--- strategy; under free it runs on every host, with a warning, as Ansible's.)
function M.once_only(run, task)
  if not keyword(run, task, "run_once") then return false end
  if run.free then
    if not (run.free_warned and run.free_warned[task]) then
      run.free_warned = run.free_warned or {}
      run.free_warned[task] = true
      run.events:emit({ type = "warning", task = task.name, data = "run_once is not supported with the free"
        .. " strategy: the task runs on every host (as in Ansible)" })
    end
    return false
  end
  return true
end

--- run_once's result given to every host of the batch: registered, its
--- set_fact facts, its notifications (the recap counts the first host only).
function M.share_once(run, task, first, hosts, res)
  local fst = run.state[first]
  for _, h in ipairs(hosts) do
    if h ~= first then
      local st = run.state[h]
      if task.register then st.registered[task.register] = res end
      -- (with delegate_facts the facts went to the delegated host alone: play/delegate.lua)
      if task.mod.sets_facts and type(res.ansible_facts) == "table" and not res.failed
        and not (task.delegate_facts and res.delegated_to) then
        st.set_facts = st.set_facts or {}
        for k, v in pairs(res.ansible_facts) do st.set_facts[k] = v end
      end
      handlers.notify(st, task, res)
    end
  end
  if task.register then fst.registered[task.register] = res end
end

--- The hosts at once for a task: forks, bounded by its (or the play's)
--- throttle (not for run_once, as in Ansible).
function M.throttle(run, task)
  local t = math.tointeger(keyword(run, task, "throttle"))
  if t and t > 0 and t < run.forks then return t end
  return run.forks
end

--- Where each host was before a task: host -> out.
function M.snapshot(run, hosts)
  local s = {}
  for _, h in ipairs(hosts) do s[h] = run.state[h].out or false end
  return s
end

-- Every host still in the batch leaves it and the run stops after it
-- (Ansible's RUN_FAILED_BREAK_PLAY: exit status 2).
local function abort_batch(run, why)
  for _, h in ipairs(run.batch or run.play.hosts) do
    if not run.state[h].out then run.state[h].out = "aborted" end
  end
  run.break_play = true
  run.events:emit({ type = "no_hosts_left", data = "no more hosts left (" .. why .. ")" })
end

-- max_fail_percentage as a number (30, "30%", "30"), or nil.
local function max_fail(run)
  local v = raw(run).max_fail_percentage
  if type(v) == "string" then v = tonumber((v:gsub("%%", ""))) end
  return v
end

--- After a task on `hosts` (linear): any_errors_fatal (the task's or the
--- play's, or run_once, unless ignore_errors) and a failure or an
--- unreachable host not rescued by a block; max_fail_percentage of the
--- batch's hosts failed (more than it, as Ansible counts: the hosts that
--- failed in this batch over the batch's size).
function M.after_task(run, task, hosts, before)
  if run.free or run.break_play then return end
  local hit = false
  for _, h in ipairs(hosts) do
    local st = run.state[h]
    local taken = st.rescuable or st.aef_exempt -- a rescue or an always takes it (play/blocks.lua)
    if not before[h] and (st.out == "unreachable" or (st.out == "failed" and not taken)) then hit = true end
  end
  if hit and (keyword(run, task, "any_errors_fatal") or M.once_only(run, task)) and not task.ignore_errors then
    return abort_batch(run, "any_errors_fatal")
  end
  local pct = max_fail(run)
  if pct and #hosts > 0 and run.batch_was then
    local failed = 0
    for _, h in ipairs(run.batch or run.play.hosts) do
      local st = run.state[h]
      if st.out == "failed" and not st.rescuable and not run.batch_was[h] then failed = failed + 1 end
    end
    if failed / #(run.batch or run.play.hosts) > pct / 100 then abort_batch(run, "max_fail_percentage") end
  end
end

-- meta's `when` on a host (true when there is none).
local function holds(run, task, h)
  if task.when == nil then return true end
  local ok, err = conditions.eval(task.when, require("luasible.play.vars").host_vars(run, h, task))
  if err then
    run.events:emit({ type = "warning", host = h, task = task.name, data = "meta when: " .. tostring(err) })
    return false
  end
  return ok
end

local function end_hosts(run, list)
  for _, h in ipairs(list) do
    local st = run.state[h]
    if st and not st.out then st.out = "ended" end
  end
end

--- A meta action on these hosts (Ansible's _execute_meta): `S` the strategy
--- (its active_hosts and run_task for flush_handlers).
function M.meta(run, task, hosts, S)
  run.magic = nil
  local action = task.args and task.args.free_form
  local first = hosts[1]
  if action == "flush_handlers" then
    local only = {}
    for _, h in ipairs(hosts) do if holds(run, task, h) then only[#only + 1] = h end end
    handlers.flush(run, function(r)
      local out = {}
      for _, h in ipairs(S.active_hosts(r)) do
        for _, o in ipairs(only) do if o == h then out[#out + 1] = h end end
      end
      return out
    end, S.run_task)
  elseif action == "end_host" then
    for _, h in ipairs(hosts) do if holds(run, task, h) then end_hosts(run, { h }) end end
  elseif action == "end_batch" or action == "end_play" then
    if first and holds(run, task, first) then
      end_hosts(run, run.batch or run.play.hosts)
      if action == "end_play" then run.end_play = true end
    end
  elseif action == "reset_connection" then
    -- the next task connects again: a new login (groups just added, limits); a
    -- persistent connection's holder is stopped, as Ansible's ssh stops its ControlMaster
    for _, h in ipairs(hosts) do
      local st = run.state[h]
      if holds(run, task, h) and st and st.conn then
        local conn = st.conn
        if conn.reset then
          local ok, err = conn:reset()
          if not ok then run.events:emit({ type = "warning", host = h, task = task.name, data = tostring(err) }) end
        end
        require("luasible.play.connect").close(run, { h })
      end
    end
  elseif action == "clear_facts" then
    if first and holds(run, task, first) then
      for _, h in ipairs(run.play.hosts) do run.state[h].facts = nil end
    end
  elseif action == "clear_host_errors" then
    if first and holds(run, task, first) then
      for _, h in ipairs(run.play.hosts) do
        local st = run.state[h]
        if st.out == "failed" or st.out == "unreachable" then
          -- out of the errors (later plays have it; the exit status does not
          -- count what it had), but done with this play, as in Ansible
          st.out = "ended"
          local r = run.recap[h]
          run.cleared = run.cleared or {}
          run.cleared[h] = { failed = r.failed, unreachable = r.unreachable }
        end
      end
    end
  end
end

-- The play_start event of a batch.
local function play_start(run, hosts, i, n)
  run.events:emit({ type = "play_start", hosts = hosts, check = run.check or nil,
    batch = n > 1 and i or nil, batches = n > 1 and n or nil })
end

--- Run the current play batch by batch: `body()` runs the sections on
--- run.batch. Returns false when the run stops here (a batch whose hosts
--- all failed, any_errors_fatal, max_fail_percentage), true to go on.
function M.run(run, body)
  local play = run.play
  -- ansible_play_hosts(_all) keep the inventory's order, the batches the play's `order`
  play.inventory_hosts = play.inventory_hosts or play.hosts
  play.hosts = batches.order(play.hosts, raw(run).order)
  local serial = play.serial -- ({{ }} rendered: play/prepare.lua)
  if serial == nil then serial = raw(run).serial end
  local list = batches.batches(play.hosts, serial)
  if #list == 0 then play_start(run, play.hosts, 1, 1) end
  local go = true
  if raw(run).strategy == "free" and (raw(run).max_fail_percentage ~= nil or raw(run).any_errors_fatal) then
    run.events:emit({ type = "warning", data = "max_fail_percentage and any_errors_fatal are not supported with"
      .. " the free strategy: tasks run on each host on its own (as in Ansible)" })
  end
  for i, batch in ipairs(list) do
    run.batch, run.batch_n, run.magic = batch, i, nil
    run.free = raw(run).strategy == "free" or nil
    run.free_ids = run.free and {} or nil
    local running = {} -- the batch's hosts that run (not those failed in an earlier play)
    for _, h in ipairs(batch) do if not run.state[h].out then running[#running + 1] = h end end
    play_start(run, running, i, #list)
    -- a host is in the recap once a batch of it ran (Ansible's recap shows no other)
    local live, counters, was = 0, require("luasible.play.recap").counters, {}
    for _, h in ipairs(batch) do
      run.recap[h] = run.recap[h] or counters()
      was[h] = run.state[h].out -- (failed in an earlier play: in the batch, runs nothing)
      if not was[h] then live = live + 1 end
    end
    run.batch_was = was
    body()
    local failed = 0 -- the batch's hosts that failed in it
    for _, h in ipairs(batch) do
      local out = run.state[h].out
      if not was[h] and (out == "failed" or out == "unreachable") then failed = failed + 1 end
    end
    if run.break_play then go = false break end
    if live > 0 and failed == live then
      run.events:emit({ type = "no_hosts_left", data = "no more hosts left" })
      go = false
      break
    end
    if run.end_play then break end
  end
  -- end_host, end_batch, end_play, clear_host_errors: for this play only
  for _, h in ipairs(play.hosts) do
    if run.state[h].out == "ended" then run.state[h].out = nil end
  end
  run.batch, run.batch_n, run.magic, run.end_play, run.free, run.free_ids, run.free_map = nil, nil, nil, nil, nil,
    nil, nil
  run.batch_was = nil
  return go
end

return M
