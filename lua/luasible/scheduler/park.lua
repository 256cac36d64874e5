--- The scheduler's parking: which task (or group of tasks) waits on which
-- core object, and one-shot waiters (scheduler.waiter()). The core keeps one
-- waiter per object: a second task parked on it joins a group, which the
-- core hands back as one. The task runner (luasible.scheduler) binds in how
-- a task is made ready, suspended and driven (bind()).
local P = {}

-- object -> the task, or the group of tasks, parked on it
local parked = setmetatable({}, { __mode = "k" })
local Group = {}

-- Park task on obj until the core hands it back from run_once.
function P.park(obj, task)
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

-- A waiter run_once or woken handed back: no longer parked; push(task) for
-- its task, or for each task of its group.
function P.woken(w, push)
  local obj = type(w) == "table" and w.parked_on or nil
  if obj ~= nil then
    if parked[obj] == w then parked[obj] = nil end
    w.parked_on = nil
  end
  if getmetatable(w) == Group then
    for _, t in ipairs(w) do
      t.parked_on = nil
      push(t)
    end
  else
    push(w)
  end
end

-- A task cancelled while parked: what it waited for must not stay reachable
-- through it.
function P.unpark(task)
  local obj = task.parked_on
  if obj == nil then return end
  local cur = parked[obj]
  if cur == task then
    parked[obj] = nil
  elseif getmetatable(cur) == Group then
    for i = #cur, 1, -1 do if cur[i] == task then table.remove(cur, i) end end
  end
  task.parked_on = nil
end

--- A one-shot wake-up: w = scheduler.waiter(); w:wait() parks the running
-- task (or turns the loop, outside a task) until w:wake() is called; a wake
-- before the wait makes the wait return at once. For queues of tasks that
-- wait their turn (luasible.ssh.gate) without polling.
local Waiter = {}
Waiter.__index = Waiter
local runner -- bind()'s: make_ready(task), suspend(), current(), drive(), deadlock(what)

function P.waiter() return setmetatable({ woken = false }, Waiter) end

function Waiter:wake()
  if self.woken then return end
  self.woken = true
  local t = self.task
  self.task = nil
  if t and not t.done then runner.make_ready(t) end
end

function Waiter:wait()
  if self.woken then return end
  local task = runner.current()
  if task then
    self.task = task
    repeat runner.suspend() until self.woken
  else
    repeat
      if not runner.drive() and not self.woken then runner.deadlock("a turn (luasible.ssh.gate)") end
    until self.woken
  end
end

-- The runner's side: { make_ready, suspend, current, drive, deadlock }.
function P.bind(r) runner = r end

return P
