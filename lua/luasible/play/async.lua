--- luasible.play.async: `async: N` / `poll: M` tasks. The task's command
-- (the one command/shell/streaming_shell run: module ctx:run with
-- opts.job) runs as a remote job that outlives the channel and the
-- connection that started it (the layout and the wrapper are
-- luasible.remote_async's fragments: ~/.luasible_async/JID). With poll > 0
-- the job is polled every M seconds, at most N seconds in all, as Ansible
-- counts it: each poll reads the job's output files on from the offsets
-- read so far, and emits the new complete lines as stdout/stderr events
-- (a line still being written waits for the next poll); the module then
-- makes its usual result of the job's rc and output, and the job's folder
-- is removed. Past N seconds the job's process group is killed and the
-- task fails with Ansible's message. With poll 0 the task returns at once
-- with ansible_job_id, started 1, finished 0; async_status (modules/
-- async_status.lua through ctx:async_job) reads the job later.
local remote = require "luasible.remote"
local remote_async = require "luasible.remote_async"

local M = {}

--- Ansible's default poll interval (DEFAULT_POLL_INTERVAL), seconds.
M.DEFAULT_POLL = 15

local counter = 0

-- A new job id: digits as Ansible's ("<random>.<n>"), unique on the host
-- (the job's folder is made with mkdir, never reused).
local function new_jid()
  counter = counter + 1
  local n = 0
  -- from the CSPRNG (a play's math.randomseed must not make two runs' ids meet)
  local ok, raw = pcall(function() return require("luasible.core").crypto.random(5) end)
  if ok and type(raw) == "string" and #raw == 5 then
    for i = 1, 5 do n = n * 256 + raw:byte(i) end
  else
    n = math.random(0, 999999999999)
  end
  return ("%d.%d"):format(n % 1000000000000, counter)
end

-- The options of the commands of a job: the task's become; no cwd, env, timeout.
local function plain(eopts)
  return { sudo = eopts.sudo, user = eopts.user, sudo_password = eopts.sudo_password }
end

-- Run a fragment on the job's host: res, or raises as ctx:run does.
local function exec(ctx, script, opts)
  local res, err, name = ctx.conn:execute(script, opts)
  if not res then
    if require("luasible.module.context").is_unreachable(err, name) then ctx:unreachable(err) end
    ctx:fail(err)
  end
  return res
end

--- One poll of job `jid`: the parsed state (remote_async.parse_async_poll), false
--- when there is no such job; nil, err when it could not be read.
function M.poll(ctx, jid, out_off, err_off, opts)
  local res, err, name = ctx.conn:execute(remote_async.async_poll(jid, out_off or 0, err_off or 0), opts or {})
  if not res then return nil, err, name end
  local st = remote_async.parse_async_poll(res.stdout, out_off or 0, err_off or 0)
  if st == nil then return nil, "async: unreadable job state: " .. tostring(res.stdout):sub(1, 200) end
  return st
end

-- The complete lines of buf (emitted with emit(line)), and what is left
-- of it (a line not ended yet), or everything when `final`.
local function take_lines(buf, final, emit)
  local i = 1
  while true do
    local a = buf:find("\n", i, true)
    if not a then break end
    emit((buf:sub(i, a - 1):gsub("\r$", "")))
    i = a + 1
  end
  local rest = buf:sub(i)
  if final and rest ~= "" then emit(rest); rest = "" end
  return rest
end

-- The job of a task: { limit, poll, jid, results_file, started }.
function M.job(task)
  return { limit = task.async, poll = task.poll or M.DEFAULT_POLL }
end

--- ctx.async of a task's module context: runs `cmd` (with ctx:run's
--- connection options `eopts`) as the job. Returns what conn:execute would.
function M.runner(job)
  return function(ctx, cmd, eopts)
    local line = remote.command_line(cmd, { cwd = eopts.cwd, env = eopts.env, timeout = eopts.timeout })
    local jid = new_jid()
    local sopts = plain(eopts)
    sopts.stdin = eopts.stdin
    local res = exec(ctx, remote_async.async_start(jid, line, job.limit, eopts.stdin ~= nil), sopts)
    if not res.ok then ctx:fail("async: the job could not start: " .. (res.stderr or ""):gsub("%s+$", "")) end
    job.jid, job.results_file, job.started = jid, (res.stdout:gsub("\n$", "")), true
    if job.poll == 0 then return { rc = 0, ok = true, stdout = "", stderr = "", duration = 0 } end
    local t0, popts = ctx.now(), plain(eopts)
    local offs, bufs, whole = { 0, 0 }, { "", "" }, { {}, {} }
    local on_output = eopts.on_output
    local time_left, st = job.limit, nil
    while time_left > 0 do
      ctx.sleep(job.poll)
      time_left = time_left - job.poll
      local s, perr, pname = M.poll(ctx, jid, offs[1], offs[2], popts)
      if s == false then ctx:fail("async: the job " .. jid .. " is gone (its folder was removed)") end
      if s then
        st = s
        for k, data in ipairs({ s.out, s.err }) do
          offs[k] = offs[k] + #data
          whole[k][#whole[k] + 1] = data
          if on_output then
            bufs[k] = take_lines(bufs[k] .. data, s.rc ~= nil, function(l) on_output(l, k == 2) end)
          end
        end
        if s.rc then break end
      elseif time_left <= 0 then -- as Ansible: a poll that cannot reach the host is retried while time is left
        if require("luasible.module.context").is_unreachable(perr, pname) then ctx:unreachable(perr) end
        ctx:fail(perr)
      end
    end
    -- not done in its time (or killed by its own watchdog for it): Ansible's failure
    if not (st and st.rc) or st.timed_out then
      if not (st and st.rc) then exec(ctx, remote_async.async_kill(jid), popts) end
      ctx:fail(("async task did not complete within the requested time - %ds"):format(job.limit))
    end
    job.finished = true
    exec(ctx, remote_async.async_cleanup(jid), popts) -- as Ansible: a polled job's file goes once it is read
    local rc = st.rc
    return { rc = rc, ok = rc == 0, stdout = table.concat(whole[1]), stderr = table.concat(whole[2]),
      duration = ctx.now() - t0, signal = rc > 128 and rc < 160 and rc - 128 or nil }
  end
end

--- The task's result once its module returned: with poll 0 the started
--- job's (Ansible's shape: ansible_job_id, started 1, finished 0,
--- results_file, changed true as ansible-playbook registers it); polled, the module's with the job's fields.
function M.result(job, res)
  if not job.started then return res end
  if job.poll == 0 and not res.failed then
    return { ansible_job_id = job.jid, started = 1, finished = 0, results_file = job.results_file,
      changed = true, failed = false }
  end
  res.ansible_job_id, res.started, res.results_file = job.jid, 1, job.results_file
  res.finished = job.finished and 1 or 0
  return res
end

--- async_status: the job `jid` of the host (ctx's connection and become):
--- mode "status" its state (Ansible's fields: started, finished,
--- ansible_job_id, results_file; once it ended rc, stdout, stderr, their
--- lines, changed, failed and msg as command gives them), mode "cleanup"
--- its folder removed (erased).
function M.status(ctx, eopts, jid, mode)
  if type(jid) ~= "string" or not jid:match("^[%w._-]+$") or jid:match("^%.+$") then
    return { failed = true, msg = "async_status: jid must be a job id (letters, digits, . _ -), got " .. tostring(jid) }
  end
  local popts = plain(eopts)
  local s, err, name = M.poll(ctx, jid, 0, 0, popts)
  if s == nil then
    if require("luasible.module.context").is_unreachable(err, name) then ctx:unreachable(err) end
    return { failed = true, msg = err, ansible_job_id = jid }
  end
  if s == false then
    return { failed = true, msg = "could not find job", ansible_job_id = jid, started = 1, finished = 1 }
  end
  if mode == "cleanup" then
    exec(ctx, remote_async.async_cleanup(jid), popts)
    return { ansible_job_id = jid, erased = s.dir, changed = false, started = 0, finished = 0 }
  end
  local out = { ansible_job_id = jid, results_file = s.dir, started = 1, changed = false }
  if not s.rc then
    out.finished, out.stdout, out.stderr = 0, "", ""
    return out
  end
  out.finished, out.rc, out.changed = 1, s.rc, true
  out.stdout, out.stderr = (s.out:gsub("\n$", "")), (s.err:gsub("\n$", ""))
  if s.timed_out then
    out.failed, out.msg = true, "the job was killed: it ran past its async time"
  elseif s.rc ~= 0 then
    out.failed, out.msg = true, "non-zero return code"
  end
  return out
end

return M
