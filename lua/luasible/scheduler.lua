--- The scheduler: coroutines on one libuv loop.
-- Tasks are coroutines resumed from here only. A task that waits for a core
-- object (stream, timer) parks itself on the object and yields; the C core
-- hands it back from core.run_once() when the object is ready. Code that is
-- not running as a task (the main thread, or a coroutine of the user's own)
-- drives the loop itself until the object is ready, and other tasks keep
-- running meanwhile.
local core = require "luasible.core"
local errors = require "luasible.util.errors"

local M = {}

local ready = {}      -- tasks to resume, in order
local current = nil   -- the task being resumed now
local live = 0        -- tasks not finished
local WAIT = {}       -- what a task yields when it parks on an object
local failed = {}     -- tasks that raised inside run(), for run() to report
local runs = 0        -- nesting depth of run()
local yielded = false -- a task yielded plainly in this batch
-- object -> the task, or the group of tasks, parked on it (the core keeps
-- one waiter per object: a second task parked on it joins a group)
local parked = setmetatable({}, { __mode = "k" })
local Group = {}

local Task = {}
Task.__index = Task

local function finish(task, ok, ...)
  live = live - 1
  task.done = true
  task.ok = ok
  task.n = select("#", ...)
  task.values = { ... }
  if not ok then
    local err = ...
    task.values[1] = debug.traceback(task.co, tostring(err))
    task.error = err
    if runs > 0 then failed[#failed + 1] = task end
  end
  for _, waiter in ipairs(task.waiters) do ready[#ready + 1] = waiter end
  task.waiters = nil
end

local function resume(task, ...)
  if task.done then return end -- cancelled while it was parked
  local prev = current
  current = task
  local res = table.pack(coroutine.resume(task.co, ...))
  current = prev
  if coroutine.status(task.co) == "dead" then
    finish(task, table.unpack(res, 1, res.n))
  elseif res[2] ~= WAIT then
    -- a plain coroutine.yield() inside a task: run it again on the next turn
    ready[#ready + 1] = task
    yielded = true
  end
end

-- One turn of the loop (without blocking when nowait); the woken tasks
-- become ready. Returns whether anything can still happen.
local function turn(nowait)
  local r = table.pack(core.run_once(nowait))
  for i = 2, r.n do
    local w = r[i]
    local obj = type(w) == "table" and w.parked_on or nil
    if obj ~= nil then
      if parked[obj] == w then parked[obj] = nil end
      w.parked_on = nil
    end
    if getmetatable(w) == Group then
      for _, t in ipairs(w) do
        t.parked_on = nil
        ready[#ready + 1] = t
      end
    else
      ready[#ready + 1] = w
    end
  end
  local sig = core.caught()
  if sig then error(errors.interrupt(sig), 0) end
  return r[1] or r.n > 1
end

--- One turn: resume every task that is ready, or run the loop once.
-- Returns false when nothing can ever make progress (deadlock).
function M.step()
  if #ready > 0 then
    local batch = ready
    ready = {}
    yielded = false
    for i = 1, #batch do resume(batch[i]) end
    -- a task that only yields must not keep the loop (timers, I/O) from
    -- ever turning: give it a turn that does not wait
    if yielded then turn(true) end
    return true
  end
  return turn(false)
end

local function deadlock(what)
  error("luasible: deadlock: waiting for " .. what .. " but nothing can happen", 3)
end

--- The running task, or nil when not inside one.
function M.task()
  local co = coroutine.running()
  if current and current.co == co then return current end
  return nil
end

-- Park task on obj until the core hands it back from run_once.
local function park(obj, task)
  local cur = parked[obj]
  task.parked_on = obj
  if cur and cur ~= task and not cur.done and cur.parked_on == obj then
    if getmetatable(cur) == Group then
      cur[#cur + 1] = task
      return
    end
    cur = setmetatable({ cur, task, parked_on = obj }, Group)
  else
    cur = task
  end
  parked[obj] = cur
  obj:wait_on(cur)
end

--- Wait until obj:ready() (obj: a core stream or timer).
function M.wait(obj)
  if obj:ready() then return end
  local task = M.task()
  if task then
    repeat
      park(obj, task)
      coroutine.yield(WAIT)
    until obj:ready()
  else
    repeat
      if not M.step() and not obj:ready() then deadlock(tostring(obj)) end
    until obj:ready()
  end
end

--- Start fn(...) as a task; returns its handle. The task runs when the
-- scheduler turns (inside luasible.run, or while anything waits).
function M.spawn(fn, ...)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'spawn' (function expected, got " .. type(fn) .. ")", 2)
  end
  local args = table.pack(...)
  local task = setmetatable({ waiters = {} }, Task)
  task.co = coroutine.create(function() return fn(table.unpack(args, 1, args.n)) end)
  live = live + 1
  ready[#ready + 1] = task
  return task
end

--- handle:wait() -> the task's return values; raises the task's error.
function Task:wait()
  if not self.done then
    local me = M.task()
    if me == self then error("luasible: a task cannot wait for itself", 2) end
    if me then
      self.waiters[#self.waiters + 1] = me
      coroutine.yield(WAIT)
    else
      repeat
        if not M.step() and not self.done and #ready == 0 then deadlock("a task") end
      until self.done
    end
  end
  self.observed = true
  if not self.ok then error(self.values[1], 0) end
  return table.unpack(self.values, 1, self.n)
end

--- handle:cancel([err]): stop a task that is not running now. Its coroutine
-- is closed, which closes its pending to-be-closed values (the streams of its
-- commands: their processes are killed); then it finishes as failed with
-- `err` (default "ECANCELED: task cancelled") and its waiters are woken.
function Task:cancel(err)
  if self.done then return end
  if coroutine.status(self.co) ~= "suspended" then
    error("luasible: only a suspended task can be cancelled", 2)
  end
  for i = #ready, 1, -1 do
    if ready[i] == self then table.remove(ready, i) end
  end
  -- no longer parked: what it waited for must not stay reachable through it
  local obj = self.parked_on
  if obj ~= nil then
    local cur = parked[obj]
    if cur == self then
      parked[obj] = nil
    elseif getmetatable(cur) == Group then
      for i = #cur, 1, -1 do if cur[i] == self then table.remove(cur, i) end end
    end
    self.parked_on = nil
  end
  coroutine.close(self.co)
  self.observed = true -- whoever cancels it knows
  finish(self, false, err or "ECANCELED: task cancelled")
end

--- handle:status() -> "running" | "ok" | "failed"
function Task:status()
  if not self.done then return "running" end
  return self.ok and "ok" or "failed"
end

--- Sleep without blocking other tasks.
function M.sleep(seconds)
  if type(seconds) ~= "number" or seconds < 0 or seconds ~= seconds then
    error("bad argument #1 to 'sleep' (non-negative number expected)", 2)
  end
  local t <close> = core.timer(seconds)
  M.wait(t)
end

--- Run fn(...) as a task and turn the loop until every task has ended.
-- Returns fn's values; raises its error. Errors of other tasks that nobody
-- waited for are raised too, so they are never silently lost.
function M.run(fn, ...)
  local first = #failed + 1
  local main = M.spawn(fn, ...)
  runs = runs + 1
  local ok, err = pcall(function()
    while live > 0 do
      if not M.step() and #ready == 0 then deadlock(live .. " task(s)") end
    end
  end)
  runs = runs - 1
  local lost
  for i = #failed, first, -1 do
    local t = failed[i]
    if t ~= main and not t.observed then lost = t end
    failed[i] = nil
  end
  if not ok then error(err, 0) end
  if lost then error("luasible: a spawned task failed: " .. lost.values[1], 0) end
  return main:wait()
end

--- Turn the loop until nothing is active (no handle, no request) or
-- `seconds` have passed, never blocking longer than that (each turn is
-- bounded by a short guard timer): what a program does after it stopped its
-- commands, so that their kills and closes go out. Tasks it wakes become
-- ready; they run when the scheduler next steps, never from inside settle.
-- Returns true when the loop settled.
function M.settle(seconds)
  local deadline = core.now() + seconds
  while true do
    local left = deadline - core.now()
    if left <= 0 then return false end
    local guard = core.timer(math.min(left, 0.05))
    local ok, err = pcall(turn, false)
    guard:close()
    if not ok then error(err, 0) end
    if not turn(true) then return true end
  end
end

return M
