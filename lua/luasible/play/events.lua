--- luasible.play.events: every event of a run goes out through here to
-- opts.on_event, with its secrets scrubbed, the play's name, and its stamp:
-- `seq` and `timestamp` (seconds since the epoch, from luasible.wall(); the
-- differences between events come from the monotonic clock). An event the
-- run makes itself gets the run's own stamp (its seq counts those events);
-- an event relayed from a stream (a line, a stream's progress) keeps the
-- core's: its seq in that stream and the moment the core read it.
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
  return setmetatable({ on_event = on_event, secrets = secrets, seq = 0, now = now,
    mono0 = now(), wall0 = wall_clock(luasible), play = nil }, Events)
end

--- Send an event. `from`: the core's event it relays (a stream's line or
--- progress), whose seq and timestamp it keeps.
function Events:emit(ev, from)
  local secrets = self.secrets
  if secrets and secrets:any() then
    for _, k in ipairs(SCRUBBED) do
      if ev[k] ~= nil then ev[k] = secrets:scrub(ev[k]) end
    end
  end
  if type(from) == "table" and from.seq ~= nil and type(from.timestamp) == "number" then
    -- the core's clock is the monotonic one: the same reading on the epoch
    ev.seq, ev.timestamp = from.seq, self.wall0 + (from.timestamp - self.mono0)
  else
    self.seq = self.seq + 1
    ev.seq, ev.timestamp = self.seq, self.wall0 + (self.now() - self.mono0)
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
--- the core's seq and timestamp of `from`, the stream event ev relays.
function Events:for_host(host, task)
  return function(ev, from)
    ev.host, ev.task = host, task.name
    if task.no_log and not hide(ev) then return end
    self:emit(ev, from)
  end
end

return M
