--- luasible.serve.state: the snapshot of a run that /api/state answers,
-- kept up to date event by event (contract A of docs/DASHBOARD.md): the
-- hosts with their status, current task, last line and progress; the tasks
-- (numbered as they start); the tasks x hosts matrix; counts; the recap.
-- Memory: per host a few fields, per (host, task) one status.
local json = require "luasible.json"
local null = require("luasible.yaml").null

local M = {}

local State = {}
State.__index = State

-- a host's status once a task ended on it: failed and unreachable stay
local STICKY = { failed = true, unreachable = true }

-- a percentage in a redraw line ("42%", " 42.5 %")
local function percent_of(s)
  local p = tonumber(s:match("(%d+%.?%d*)%s*%%"))
  if p and p >= 0 and p <= 100 then return p end
end

--- A `\r` redraw line of host record h: its percentage, if any, is the
--- host's progress.
function M.redraw(h, data)
  local p = percent_of(data)
  if p then h.progress = { percentage = p, stage = "executing" } end
end

function M.new()
  return setmetatable({ seq = 0, finished = false, started = nil, last_time = nil, play = nil,
    task = nil, hosts = {}, order = {}, tasks = {}, task_ids = {}, matrix = {}, recap = nil,
    elapsed = nil }, State)
end

--- The host's record, made when first seen (status pending).
function State:host(name)
  local h = self.hosts[name]
  if not h then
    h = { name = name, status = "pending", ok = 0, changed = 0, failed = 0, unreachable = 0,
      skipped = 0, rescued = 0, ignored = 0, lines = 0 }
    self.hosts[name] = h
    self.order[#self.order + 1] = name
  end
  return h
end

--- The id of a task by its play and name (the latest one started), or nil.
function State:task_id(play, name)
  return self.task_ids[(play or "") .. "\0" .. tostring(name)]
end

--- Take one event into the snapshot. Returns the task id the event belongs
--- to (for a host's event), if any.
function State:add(ev)
  local t = ev.type
  self.seq = ev.seq or self.seq
  if type(ev.timestamp) == "number" then
    self.started = self.started or ev.timestamp
    self.last_time = ev.timestamp
  end
  if t == "play_start" then
    self.play = ev.play
    self.finished = false
    if type(ev.hosts) == "table" then
      for _, name in ipairs(ev.hosts) do
        if type(name) == "string" then self:host(name) end
      end
    end
    return nil
  elseif t == "task_start" then
    local id = math.tointeger(ev.task_id) or #self.tasks + 1
    self.tasks[id] = { id = id, name = ev.task, play = ev.play }
    self.task_ids[(ev.play or "") .. "\0" .. tostring(ev.task)] = id
    self.task = ev.task
    return id
  elseif t == "recap" then
    self.recap = ev.recap
    self.finished = true
    self.elapsed = ev.elapsed
    self.task = nil
    return nil
  end
  local name = ev.host
  if type(name) ~= "string" then return nil end
  local h = self:host(name)
  local id = math.tointeger(ev.task_id) or self:task_id(ev.play, ev.task)
  if t == "host_task_start" then
    if not STICKY[h.status] then h.status = "running" end
    h.task, h.task_id, h.progress = ev.task, id, null
  elseif t == "stdout" or t == "stderr" then
    h.lines = h.lines + 1
    if type(ev.data) == "string" then
      h.last_line = ev.data
      if ev.cr then M.redraw(h, ev.data) end
    end
  elseif t == "progress" and type(ev.progress) == "table" then
    h.progress = { percentage = ev.progress.percentage, stage = ev.progress.stage }
  elseif t == "host_task_result" then
    local st = ev.status
    local ignored = type(ev.result) == "table" and ev.result.ignored
    if ev.rescued == true and st == "failed" then
      -- a block's rescue took the failure: rescued, not failed, as Ansible counts it (play/recap.lua)
      h.rescued = h.rescued + 1
    elseif type(st) == "string" and h[st] and not (ignored and st == "unreachable") then
      h[st] = h[st] + 1
      if st == "changed" then h.ok = h.ok + 1 end
    end
    if ignored then h.ignored = h.ignored + 1 end
    if not STICKY[h.status] then
      h.status = ((st == "failed" or st == "unreachable") and (ignored or ev.rescued == true)) and "ok" or st
    end
    h.task = nil
    if id then
      local row = self.matrix[name]
      if not row then
        row = json.object()
        self.matrix[name] = row
      end
      row[tostring(id)] = st
    end
  end
  return id
end

--- The snapshot as /api/state's JSON object (a table for luasible.json).
function State:snapshot(now)
  local counts = json.object()
  local hosts = {}
  for i, name in ipairs(self.order) do
    local h = self.hosts[name]
    counts[h.status] = (counts[h.status] or 0) + 1
    hosts[i] = { name = name, status = h.status, task = h.task, task_id = h.task_id,
      last_line = h.last_line, progress = h.progress or null, ok = h.ok, changed = h.changed,
      failed = h.failed, unreachable = h.unreachable, skipped = h.skipped, rescued = h.rescued, ignored = h.ignored,
      lines = h.lines }
  end
  local matrix = json.object()
  for name, row in pairs(self.matrix) do matrix[name] = row end
  local elapsed = self.elapsed
  if not elapsed and self.started then
    elapsed = (self.finished and self.last_time or now or self.last_time) - self.started
  end
  return { seq = self.seq, finished = self.finished, started = self.started or null,
    elapsed = elapsed or 0, play = self.play or null, task = self.task or null,
    counts = counts, hosts = hosts, tasks = self.tasks, matrix = matrix,
    recap = self.recap or null }
end

return M
