--- luasible.serve.pages: reading a store's log back (serve/store.lua writes
-- it and keeps the indexes): the events of a seq range from the ring or the
-- file (catch-up, /api/events), a live batch with its redraws collapsed,
-- and a page of a host's (or a task's) output lines (/api/output). The
-- functions become methods of the store (extend).
local cjson = require("cjson.safe").new()
local core = require "luasible.core"
local json = require "luasible.json"
local live = require "luasible.serve.live"

local M = {}
local P = {}
local EVERY, RING

-- A reader of the file from byte `off`: returns next() -> line, its offset.
local function lines_from(self, off)
  self:flush()
  local f = io.open(self.path, "rb")
  if not f then return function() return nil end end
  f:seek("set", off)
  local buf, pos, base = "", 1, off
  local limit = self.size -- what is indexed: a line being written is not read
  return function()
    while true do
      local nl = buf:find("\n", pos, true)
      if nl then
        local line, at = buf:sub(pos, nl - 1), base + pos - 1
        pos = nl + 1
        if at >= limit then f:close() return nil end
        return line, at
      end
      local chunk = f:read(1 << 20)
      if not chunk then
        f:close()
        return nil
      end
      base = base + pos - 1
      buf = buf:sub(pos) .. chunk
      pos = 1
    end
  end, function() pcall(f.close, f) end
end

-- The line at byte off of the log.
function P:line_at(off)
  local next_line, close = lines_from(self, off)
  local line = next_line()
  if close then close() end
  return line
end

--- The JSON lines of the events from seq `from` to `to` (inclusive), from
--- the ring or the log; a list of { line, host, cr }.
function P:range(from, to)
  local out = {}
  if to < from then return out end
  if from >= self.ring_first then
    local ring, rh, rc = self.ring, self.ring_host, self.ring_cr
    for s = from, to do
      local k = (s - 1) % RING + 1
      out[#out + 1] = { line = ring[k], host = rh[k], cr = rc[k] }
    end
    return out
  end
  local k = (from - 1) // EVERY + 1
  local off = self.seq_off[k]
  if not off then return out end
  local seq = (k - 1) * EVERY
  local next_line, close = lines_from(self, off)
  for line in next_line do
    seq = seq + 1
    if seq > to then break end
    if seq >= from then
      -- host and cr for collapsing, read off the text (no decoding)
      local out_line = line:find('"type":"stdout"}', -17, true) or line:find('"type":"stderr"}', -17, true)
      out[#out + 1] = { line = line, host = out_line and line:match(',"host":"([^"\\]*)",') or nil,
        cr = out_line and line:sub(1, 10) == '{"cr":true' or nil }
    end
  end
  if close then close() end
  return out
end

--- The lines of a live batch, seq `from` to `to`: consecutive `\r` redraws
--- of one host collapsed to the latest (live.collapse), straight from the
--- ring's arrays when it holds them (no table per event: a flooding run
--- pays this for every line a client is sent), at most `budget` bytes of
--- events (at least one). Returns the lines and how many events they stand
--- for.
function P:batch(from, to, budget)
  if to < from then return {}, 0 end
  budget = budget or math.huge
  if from < self.ring_first then
    local evs = self:range(from, to)
    local size = 0
    for i, e in ipairs(evs) do
      size = size + #e.line + 1
      if size > budget and i > 1 then
        for j = #evs, i, -1 do evs[j] = nil end
        break
      end
    end
    return live.collapse(evs), #evs
  end
  local ring, rh, rc = self.ring, self.ring_host, self.ring_cr
  local out, n, last_cr, dropped, size = {}, 0, {}, false, 0
  for s = from, to do
    local k = (s - 1) % RING + 1
    local h = rh[k]
    local line = ring[k]
    size = size + (line and #line or 0) + 1
    if size > budget and n > 0 then break end
    n = n + 1
    out[n] = ring[k]
    if h then
      if rc[k] then
        local prev = last_cr[h]
        if prev then
          out[prev] = false
          dropped = true
        end
        last_cr[h] = n
      else
        last_cr[h] = nil
      end
    end
  end
  if not dropped then return out, n end
  local kept, m = {}, 0
  for i = 1, n do
    local l = out[i]
    if l then
      m = m + 1
      kept[m] = l
    end
  end
  return kept, n
end

--- /api/events: the events after `since` (at most limit): lines, next, last.
function P:events_since(since, limit)
  since = math.max(0, since)
  local to = math.min(self.seq, since + limit)
  local evs = self:range(since + 1, to)
  local lines = {}
  for i, e in ipairs(evs) do lines[i] = e.line end
  return lines, since + #lines, self.seq
end

-- The output lines of a host from byte `off` on, as core.ndjson_grep finds
-- them (jumping from one mention of the host to the next): calls
-- each(ev, line_off) for each, decoded, until it returns false; want: how
-- many are wanted (the file is read no further than that many).
function P:host_lines(host, off, upto, each, want)
  self:flush()
  local needle = ',"host":' .. json.encode(host) .. ","
  upto = upto or self.size
  while off < upto do
    -- want: how many a call finds at most (the reading stops there)
    local hits, stop = core.ndjson_grep(self.path, off, upto, needle, math.max(1, math.min(want or 512, 4096)), true)
    if not hits then return end
    for i = 1, #hits, 2 do
      local ev = cjson.decode(hits[i + 1])
      if ev and ev.host == host and each(ev, hits[i]) == false then return end
    end
    if stop <= off then return end
    off = stop
  end
end

--- /api/output: a page of a host's output lines (all of them, or one
--- task's): total, from, lines = { { seq, stream, data, cr } }.
function P:output(host, task_id, from, count)
  local hx = self.hosts[host]
  local x = hx and (task_id and hx.tasks[task_id] or (not task_id and hx.all)) or nil
  if not x or from >= x.n or count <= 0 then return x and x.n or 0, {} end
  local k = from // EVERY + 1
  local idx = (k - 1) * EVERY -- the index of the line at off[k]
  local task_name
  if task_id then
    local t = self.state.tasks[task_id]
    task_name = t and t.name
  end
  local lines = {}
  local last = math.min(x.n, from + count) - 1
  self:host_lines(host, x.off[k], nil, function(ev)
    local tid = math.tointeger(ev.task_id)
    if not task_id or tid == task_id or (not tid and ev.task == task_name) then
      if idx >= from then
        lines[#lines + 1] = { seq = math.tointeger(ev.seq), stream = ev.type, data = ev.data,
          cr = ev.cr == true or nil }
      end
      idx = idx + 1
      if idx > last then return false end
    end
  end, last - idx + 1)
  return x.n, lines
end
M.lines_from = lines_from

--- Give the store's metatable these methods; consts: its EVERY and RING.
function M.extend(Store, consts)
  EVERY, RING = consts.EVERY, consts.RING
  for k, v in pairs(P) do Store[k] = v end
end

return M
