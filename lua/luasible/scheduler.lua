--- The scheduler: coroutines on one libuv loop.
-- Tasks are coroutines resumed from here only. A task that waits for a core
-- object (stream, timer) parks itself on the object and yields; the C core
-- hands it back from core.run_once() when the object is ready. Code that is
-- not running as a task (the main thread, or a coroutine of the user's own)
-- drives the loop itself until the object is ready, and other tasks keep
-- running meanwhile. A host program with a loop of its own drives it with
-- step() instead (see docs/CORE.md).
local core = require "luasible.core"
local errors = require "luasible.util.errors"
local fifo = require "luasible.util.fifo"
local park = require "luasible.scheduler.park"

local M = {}

-- Fairness: the loop turns (timers, I/O, keepalives) at least every SLICE
-- seconds while tasks have work, and one task's turn lasts at most half a
-- slice when others want to run (a whole one otherwise). A task that used
-- its turn up is preempted at its next tick() (the stream iterator calls it
-- every 128 events) and queued in `later`, behind the tasks that woke up: a
-- task that only waits (a ticker, a server) runs first, whatever output the
-- others are swamped with. (Shorter turns bought no shorter waits, and cost
-- up to a fifth more CPU a streamed event: bench/RESULTS.md, issue 8.)
local SLICE = 0.005

local push, shift, size = fifo.push, fifo.shift, fifo.size
local ready = fifo.new() -- tasks woken (or spawned) to resume, in order
local later = fifo.new() -- tasks preempted (or that yielded plainly): after those
local yield_at = math.huge -- when the running task gives way at its tick()
local last_turn = 0   -- when the loop last turned
local current = nil   -- the task being resumed now
local live = 0        -- tasks not finished
local WAIT = {}       -- what a task yields when it parks on an object
local failed = {}     -- tasks that raised while run() or step() drove them
local runs = 0        -- nesting depth of run()
local embedded = false -- step() drives the tasks (until nothing is left)
local driving = 0     -- > 0 while tasks are being resumed
local function make_ready(task) push(ready, task) end

local Task = {}
Task.__index = Task
Task.__name = "luasible.task"

function Task:__tostring()
  return ("luasible.task (%s): %s"):format(self:status(), tostring(self.co):match("0x%x+") or "?")
end

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
    if runs > 0 or embedded then failed[#failed + 1] = task end
  end
  for _, waiter in ipairs(task.waiters) do push(ready, waiter) end
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
    -- preempted, or a plain coroutine.yield() inside a task: once more
    -- after the loop's next turn
    push(later, task)
  end
end

local function queued() return size(ready) + size(later) end

-- Resume the tasks that are ready, for one slice: the woken first (while
-- preempted ones wait, for half of it at most), then each preempted one
-- once, and one of them at least, even when a woken one took the whole
-- slice; the loop must turn before they run again.
local function resume_ready()
  local now = core.now()
  local slice_end, woken_end = now + SLICE, now + SLICE / 2
  local n_later, served = size(later), false
  local outer = yield_at
  driving = driving + 1
  local ok, err = pcall(function()
    while true do
      local task
      local over = now >= slice_end
      if n_later > 0 and (over or now >= woken_end or size(ready) == 0) then
        if over and served then break end
        task, n_later, served = shift(later), n_later - 1, true
      elseif not over and size(ready) > 0 then
        task = shift(ready)
      else
        break
      end
      yield_at = math.min(slice_end, now + (queued() > 0 and SLICE / 2 or SLICE))
      resume(task)
      now = core.now()
    end
    -- the woken ones left over wait behind the preempted ones: those the
    -- next turn wakes come first
    while size(ready) > 0 do push(later, shift(ready)) end
  end)
  yield_at = outer
  driving = driving - 1
  -- resume raises only for what is no task's fault (out of memory...): the
  -- tasks still queued stay so
  if not ok then error(err, 0) end
end

-- The waiters run_once / woken handed back: their tasks become ready.
-- Returns the first value (whether the loop is alive).
local function enqueue(alive, ...)
  for i = 1, select("#", ...) do park.woken((select(i, ...)), make_ready) end
  return alive, select("#", ...)
end

-- One turn of the loop (without blocking when nowait); the woken tasks
-- become ready. Returns whether anything can still happen.
local function turn(nowait)
  local alive, n = enqueue(core.run_once(nowait))
  last_turn = core.now()
  local sig = core.caught()
  if sig then error(errors.interrupt(sig), 0) end
  return alive or n > 0
end

-- One turn for whoever blocks (the main thread waiting, run()): resume every
-- task that is ready, or run the loop once. Returns false when nothing can
-- ever make progress (deadlock).
local function advance()
  if queued() > 0 then
    resume_ready()
    -- tasks left (the slice ran out, or they were preempted or yielded):
    -- the loop turns, without waiting, before they run again
    if queued() > 0 then turn(true) end
    return true
  end
  return turn(false)
end

local function deadlock(what)
  error("luasible: deadlock: waiting for " .. what .. " but nothing can happen", 3)
end

-- step() and run() drive the loop: never from inside a task, nor from code
-- that step() or run() is running.
local function refuse_reentry(fn)
  if driving > 0 or current then
    error(("luasible.%s: called from inside a task (or from code that luasible.step or run "
      .. "is running): the loop is already being driven; wait inside the task instead "
      .. "(luasible.spawn, handle:wait(), luasible.sleep)"):format(fn), 3)
  end
end

--- The running task, or nil when not inside one.
function M.task()
  local co = coroutine.running()
  if current and current.co == co then return current end
  return nil
end

--- Wait until obj:ready() (obj: a core stream or timer).
function M.wait(obj)
  if obj:ready() then return end
  local task = M.task()
  if task then
    repeat
      park.park(obj, task)
      coroutine.yield(WAIT)
    until obj:ready()
  else
    repeat
      if not advance() and not obj:ready() then deadlock(tostring(obj)) end
    until obj:ready()
  end
end

--- Give way when the running task has used its turn up: whatever
-- consumes many events in a row (the stream iterators) calls it every few
-- hundred. Inside a task it yields: the task is resumed after the loop's
-- next turn and the tasks that woke meanwhile. The main thread, outside
-- run(), gives the loop and the tasks a turn once a slice has passed.
function M.tick()
  if current then
    if core.now() >= yield_at and M.task() then coroutine.yield() end
  elseif driving == 0 and core.now() - last_turn >= SLICE and not core.hosted() then
    turn(true)
    if queued() > 0 then resume_ready() end
  end
end

--- Start fn(...) as a task; returns its handle. The task runs when the
-- scheduler turns (inside luasible.run or step, or while anything waits).
function M.spawn(fn, ...)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'spawn' (function expected, got " .. type(fn) .. ")", 2)
  end
  local args = table.pack(...)
  local task = setmetatable({ waiters = {} }, Task)
  task.co = coroutine.create(function() return fn(table.unpack(args, 1, args.n)) end)
  live = live + 1
  push(ready, task)
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
        if not advance() and not self.done and queued() == 0 then deadlock("a task") end
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
  fifo.drop(ready, self)
  fifo.drop(later, self)
  park.unpark(self)
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

-- The failures of tasks that nobody waited for, from index `first` on (and
-- clears them); returns the last one of them, if any.
local function take_lost(first, except)
  local lost
  for i = #failed, first, -1 do
    local t = failed[i]
    if t ~= except and not t.observed then lost = t end
    failed[i] = nil
  end
  if lost then lost.observed = true end
  return lost
end

--- Run fn(...) as a task and turn the loop until every task has ended.
-- Returns fn's values; raises its error. Errors of other tasks that nobody
-- waited for are raised too, so they are never silently lost.
function M.run(fn, ...)
  refuse_reentry("run")
  local first = #failed + 1
  local main = M.spawn(fn, ...)
  runs = runs + 1
  local ok, err = pcall(function()
    while live > 0 do
      if not advance() and queued() == 0 then deadlock(live .. " task(s)") end
    end
  end)
  runs = runs - 1
  local lost = take_lost(first, main)
  if not ok then error(err, 0) end
  if lost then error("luasible: a spawned task failed: " .. lost.values[1], 0) end
  return main:wait()
end

--- One turn for a host program that owns the loop it waits in (a poll(2)
-- loop on poll_fd(), or a uv loop handed over with core.use_loop): never
-- blocks. Turns the core's loop without waiting (on a host's uv loop, which
-- the host turns, only collects what its turn woke), resumes the tasks that
-- are ready, and returns busy, timeout: whether anything is still alive or
-- pending, and the seconds the host may wait for poll_fd() before the next
-- step (0: call again at once; nil: no timer, wait for the fd). On a host's
-- loop, busy means tasks are left. When nothing is left, the error of a task
-- that failed and that nobody waited for is raised, as run() does; tasks that
-- wait for something that can never happen raise a deadlock.
function M.step()
  refuse_reentry("step")
  embedded = true
  local hosted = core.hosted()
  local alive
  if hosted then
    alive = enqueue(core.woken())
    local sig = core.caught()
    if sig then error(errors.interrupt(sig), 0) end
  else
    alive = turn(true)
  end
  if queued() > 0 then
    resume_ready()
    -- what the tasks started (a process, a connection, a timer) is on the
    -- loop before the host waits on poll_fd()
    if not hosted then alive = turn(true) end
  end
  -- on a host's loop, its own handles keep it alive: only tasks count
  local busy = live > 0 or queued() > 0 or (alive and not hosted)
  if not busy then
    embedded = false
    local lost = take_lost(1)
    if lost then error("luasible: a spawned task failed: " .. lost.values[1], 0) end
    return false, nil
  end
  if queued() > 0 then return true, 0 end
  if not alive and not hosted then deadlock(live .. " task(s)") end
  return true, core.timeout()
end

--- The file descriptor a host program polls for readability: the core's
-- loop has work when it is readable (libuv's backend fd).
function M.poll_fd()
  return core.poll_fd()
end

--- Turn the loop until nothing is active any more or `seconds` have passed,
-- never blocking longer than that: what was closed gets its last messages
-- out (remote kills, disconnects). Tasks it wakes are resumed later, by
-- whoever drives them. Inside a task it sleeps meanwhile (the other tasks
-- go on). Returns true when nothing is active.
function M.settle(seconds)
  if type(seconds) ~= "number" or seconds < 0 or seconds ~= seconds then
    error("bad argument #1 to 'settle' (non-negative number expected)", 2)
  end
  local deadline = core.now() + seconds
  local in_task = M.task() ~= nil
  while core.active() > 0 do
    local left = deadline - core.now()
    if left <= 0 then return false end
    if in_task then
      M.sleep(math.min(left, 0.05))
    elseif core.hosted() then
      return false -- the host turns its loop; nothing to do from here
    else
      local guard = core.timer(math.min(left, 0.05)) -- run_once blocks at most this long
      enqueue(core.run_once())
      guard:close()
      enqueue(core.run_once(true)) -- the guard's close
    end
  end
  return true
end

--- A one-shot wake-up (luasible.scheduler.park).
M.waiter = park.waiter
park.bind {
  make_ready = make_ready,
  suspend = function() coroutine.yield(WAIT) end,
  current = M.task,
  drive = function() return advance() or queued() > 0 end,
  deadlock = deadlock,
}

return M
