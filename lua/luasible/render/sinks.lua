--- luasible.render.sinks: one on_event for many sinks at once: the
-- terminal (or --json), the --log file, the dashboard, the user's own.
--   local s = sinks.new({ terminal, server.on_event })
--   s:add(fn); luasible.play(play, { on_event = s.on_event })
-- Every sink gets every event in the order they happen, in the order the
-- sinks were added. Also the --log writer (log_file) and the --syslog one.
local json_render = require "luasible.render.json"

local M = {}

local Sinks = {}
Sinks.__index = Sinks

--- A sink list (list: functions, nil entries skipped).
function M.new(list)
  local self = setmetatable({ list = {} }, Sinks)
  for i = 1, #(list or {}) do
    if list[i] then self:add(list[i]) end
  end
  self.on_event = function(ev)
    local l = self.list
    for i = 1, #l do l[i](ev) end
  end
  return self
end

--- Add a sink: a function(ev) (or a table with on_event). Returns self.
function Sinks:add(fn)
  if type(fn) == "table" and fn.on_event then fn = fn.on_event end
  if type(fn) ~= "function" then error("bad argument #1 to 'add' (function expected)", 2) end
  self.list[#self.list + 1] = fn
  return self
end

--- The --log writer: every event as one JSON line (as --json), written
--- and flushed as it goes. Returns on_event, close; or nil, err.
function M.log_file(path)
  local f, err = io.open(path, "wb")
  if not f then return nil, "cannot write the log " .. path .. ": " .. tostring(err) end
  local record = json_render.record
  return function(ev)
    f:write(record(ev), "\n")
    f:flush()
  end, function() f:close() end
end

--- The --syslog sink: one line per task result (host, task, status; the
--- message of a failure), sent with send(priority, line) (default the
--- core's syslog(3)).
function M.syslog(send)
  send = send or require("luasible.core").syslog
  return function(ev)
    if ev.type ~= "host_task_result" then return end
    local st = tostring(ev.status)
    local line = ("host=%s task=%q status=%s"):format(tostring(ev.host), tostring(ev.task), st)
    if ev.play then line = ("play=%q "):format(tostring(ev.play)) .. line end
    local r = ev.result
    if (st == "failed" or st == "unreachable") and type(r) == "table" and type(r.msg) == "string" then
      line = line .. (" msg=%q"):format(r.msg:sub(1, 400))
    end
    send((st == "failed" or st == "unreachable") and "err" or "info", line)
  end
end

return M
