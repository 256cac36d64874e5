--- luasible.play.events: every event of a run goes out through here to
-- opts.on_event, with its secrets scrubbed, the play's name, and its stamp:
-- `seq` (the run's: 1, 2, 3, ... over every event of the run, of every
-- kind) and `timestamp` (seconds since the epoch, from luasible.wall(); the
-- differences between events come from the monotonic clock). An event
-- relayed from a stream (a line, a stream's progress) also keeps the core's
-- number in that stream as `stream_seq`, the moment the core read it as its
-- timestamp, and a `\r` redraw's `cr`. Tasks are numbered as they start
-- (`task_id` on task_start and on every event of a host's task).
local M = {}

local Events = {}
Events.__index = Events

-- the fields of an event that may hold a secret
local SCRUBBED = { "data", "result", "progress", "error", "item", "label" }

-- Seconds since the epoch (a float, from the core).
local function wall_clock(luasible)
  if luasible and luasible.wall then
    local t = luasible.wall()
    if t then return t end
  end
  return os.time()
end

--- An emitter for on_event (may be nil). secrets: play.vars' secrets.
function M.new(on_event, luasible, secrets)
  local now = luasible and luasible.now or os.clock
  return setmetatable({ on_event = on_event, secrets = secrets, seq = 0, task_n = 0, now = now,
    mono0 = now(), wall0 = wall_clock(luasible), play = nil }, Events)
end

--- Send an event. `from`: the core's event it relays (a stream's line or
--- progress), whose seq (as stream_seq) and timestamp it keeps.
function Events:emit(ev, from)
  local secrets = self.secrets
  if secrets and secrets:any() then
    for _, k in ipairs(SCRUBBED) do
      if ev[k] ~= nil then ev[k] = secrets:scrub(ev[k]) end
    end
  end
  self.seq = self.seq + 1
  ev.seq = self.seq
  -- tasks numbered as they start (handlers too): the dashboard's task ids;
  -- a task runs on its hosts before the next one starts
  if ev.type == "task_start" then
    self.task_n = self.task_n + 1
    ev.task_id = self.task_n
    self.host_task = nil -- (play/rolling.lua sets each host's after it)
  elseif ev.task ~= nil and ev.host ~= nil and ev.task_id == nil and self.task_n > 0 then
    -- the host's task (play/rolling.lua: under the free strategy hosts run different tasks)
    ev.task_id = self.host_task and self.host_task[ev.host] or self.task_n
  end
  if type(from) == "table" and from.seq ~= nil and type(from.timestamp) == "number" then
    -- the core's clock is the monotonic one: the same reading on the epoch
    ev.stream_seq, ev.timestamp = from.seq, self.wall0 + (from.timestamp - self.mono0)
    if from.cr then ev.cr = true end
  else
    ev.timestamp = self.wall0 + (self.now() - self.mono0)
  end
  ev.play = ev.play or self.play
  if self.on_event then self.on_event(ev) end
end

-- no_log hides what the task prints and moves too, not only its result
local function hide(ev)
  if ev.type == "stdout" or ev.type == "stderr" then return nil end
  local p = ev.progress
  if type(p) == "table" then
    ev.progress = { stage = p.stage, percentage = p.percentage, bytes_done = p.bytes_done,
      bytes_total = p.bytes_total, timestamp = p.timestamp }
  end
  if ev.type ~= "retry" and ev.data ~= nil then ev.data = "output hidden by no_log" end
  ev.item, ev.label = nil, nil
  if ev.result ~= nil then ev.result = { msg = "output hidden by no_log" } end
  if ev.error ~= nil then ev.error = "output hidden by no_log" end
  return ev
end

--- The emit function of one host's task (the module context's ctx.emit):
--- emit(ev[, from]) names the host and the task, honours no_log, and keeps
--- the core's seq (as stream_seq) and timestamp of `from`, the stream event ev relays.
function Events:for_host(host, task)
  return function(ev, from)
    ev.host, ev.task = host, task.name
    if task.no_log and not hide(ev) then return end
    self:emit(ev, from)
  end
end

return M
