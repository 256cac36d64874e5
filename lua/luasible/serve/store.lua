--- luasible.serve.store: the events of a run, as the dashboard serves them.
-- The NDJSON log on disk is the source of truth (one event a line, the same
-- JSON as --json, with the run-wide seq); in memory there are only indexes,
-- of bounded size a line:
--   * the byte offset of every EVERY-th event (catch-up: /api/events),
--   * per host, and per (host, task), the count of output lines and the
--     offset of every EVERY-th one (a page of a terminal: /api/output),
--   * the last RING events' lines (at most RING_BYTES of them: the live
--     stream and short catch-ups never touch the disk),
--   * the snapshot of serve/state.lua.
-- That is about 16 bytes per EVERY (64) events and lines, plus the ring
-- (at most RING events and RING_BYTES of JSON), plus per host and task a
-- few fields; docs/DASHBOARD.md states it.
local cjson = require("cjson.safe").new()
local core = require "luasible.core"
local json = require "luasible.json"
local json_render = require "luasible.render.json"
local state_mod = require "luasible.serve.state"
local live = require "luasible.serve.live"

local M = {}

local EVERY = 64
local RING, RING_BYTES = 65536, 16 * 1024 * 1024
M.EVERY = EVERY

local Store = {}
Store.__index = Store

-- The JSON line of an output line event, as json_render.record writes it
-- (the same text: spec/unit/serve_store_spec.lua compares them), built
-- directly: most events of a run are lines, and this is the run's own cost
-- of serving it. nil for any other event (the general encoder then).
local quote, mtype, format, huge, tointeger = json.quote, math.type, string.format, math.huge, math.tointeger
local OTHER = { "progress", "result", "status", "recap", "hosts", "elapsed", "module", "signal",
  "interrupted", "item" }
local quoted, nquoted = {}, 0 -- host, play and task names repeat: quoted once
local function q(s)
  local v = quoted[s]
  if not v then
    if nquoted >= 4096 then quoted, nquoted = {}, 0 end
    v = quote(s)
    quoted[s], nquoted = v, nquoted + 1
  end
  return v
end
local function num(v)
  if mtype(v) == "integer" then return tostring(v) end
  if v ~= v or v == huge or v == -huge then return "null" end
  return format("%.14g", v)
end
local function line_record(ev)
  local t = ev.type
  if t ~= "stdout" and t ~= "stderr" then return nil end
  for i = 1, #OTHER do
    if ev[OTHER[i]] ~= nil then return nil end
  end
  local data, host, play, task, cr = ev.data, ev.host, ev.play, ev.task, ev.cr
  local seq, sseq, tid, ts = ev.seq, ev.stream_seq, ev.task_id, ev.timestamp
  if type(data) ~= "string" or type(host) ~= "string" or (cr ~= nil and cr ~= true)
    or (play ~= nil and type(play) ~= "string") or (task ~= nil and type(task) ~= "string")
    or mtype(seq) ~= "integer" or (sseq ~= nil and type(sseq) ~= "number")
    or (tid ~= nil and type(tid) ~= "number") or (ts ~= nil and type(ts) ~= "number") then
    return nil
  end
  return (cr and '{"cr":true,"data":' or '{"data":') .. quote(data) .. ',"host":' .. q(host)
    .. (play and ',"play":' .. q(play) or "") .. ',"seq":' .. seq
    .. (sseq and ',"stream_seq":' .. num(sseq) or "") .. (task and ',"task":' .. q(task) or "")
    .. (tid and ',"task_id":' .. num(tid) or "") .. (ts and ',"timestamp":' .. num(ts) or "")
    .. ',"type":"' .. t .. '"}'
end
M.line_record = line_record
-- the core's (core/lua_ndjson.c): the same text again, in C
local core_line = core.ndjson_line

local function is_output(t) return t == "stdout" or t == "stderr" end

--- A store writing (or, with opts.read_only, reading) the log at opts.path.
--- opts.path nil: a private temporary file, removed by close(); a file
--- given is written anew (as --log FILE).
function M.new(opts)
  opts = opts or {}
  local path, temp = opts.path, false
  if not path then
    path = os.tmpname() -- created 0600 by mkstemp
    temp = true
  end
  local self = setmetatable({ path = path, temp = temp, seq = 0, size = 0, seq_off = {},
    hosts = {}, ring = {}, ring_host = {}, ring_cr = {}, ring_bytes = 0, ring_first = 1,
    state = state_mod.new(),
    dirty = false, live = true, now = opts.now or os.time, record = json_render.record }, Store)
  if not opts.read_only then
    local f, err = io.open(path, "wb")
    if not f then return nil, "cannot write the log " .. path .. ": " .. tostring(err) end
    f:setvbuf("full", 65536)
    self.out = f
  end
  return self
end

-- the output-line index of one host (and of one of its tasks)
local function line_index(t, key)
  local x = t[key]
  if not x then
    x = { n = 0, off = {} }
    t[key] = x
  end
  return x
end

-- Index one event whose JSON line `line` starts at byte `off`.
function Store:index(ev, line, off)
  local seq = ev.seq
  self.seq = seq
  if (seq - 1) % EVERY == 0 then self.seq_off[(seq - 1) // EVERY + 1] = off end
  local task_id = self.state:add(ev)
  local host = ev.host
  local out = is_output(ev.type) and type(host) == "string"
  if out then
    local hx = self.hosts[host]
    if not hx then
      hx = { all = { n = 0, off = {} }, tasks = {} }
      self.hosts[host] = hx
    end
    local a = hx.all
    if a.n % EVERY == 0 then a.off[a.n // EVERY + 1] = off end
    a.n = a.n + 1
    if task_id then
      local tx = line_index(hx.tasks, task_id)
      if tx.n % EVERY == 0 then tx.off[tx.n // EVERY + 1] = off end
      tx.n = tx.n + 1
    end
  end
  self:ring_put(seq, line, out and host or nil, out and ev.cr == true or nil)
end

-- The ring: the last events' lines, for the live stream; three circular
-- arrays of RING slots by seq (no table per event, and no rehashing as seq
-- grows): the events from ring_first to seq, at most RING_BYTES of lines.
function Store:ring_put(seq, line, host, cr)
  if not self.live then -- no one to stream to: the ring stays empty
    self.ring_first = seq + 1
    return
  end
  local ring, slot = self.ring, (seq - 1) % RING + 1
  local bytes = self.ring_bytes
  if seq - RING >= self.ring_first then -- the slot's event leaves
    local old = ring[slot]
    if old then bytes = bytes - #old end
    self.ring_first = seq - RING + 1
  end
  ring[slot], self.ring_host[slot], self.ring_cr[slot] = line, host, cr
  bytes = bytes + #line
  if bytes > RING_BYTES then
    local first, rh, rc = self.ring_first, self.ring_host, self.ring_cr
    while bytes > RING_BYTES and first < seq do
      local k = (first - 1) % RING + 1
      local old = ring[k]
      if old then bytes = bytes - #old end
      ring[k], rh[k], rc[k] = nil, nil, nil
      first = first + 1
    end
    self.ring_first = first
  end
  self.ring_bytes = bytes
end

-- Index an output line event (core.ndjson_line took it: host and data are
-- strings, cr true or nil): what index() and state:add() do for it, inline
-- (most events of a run are lines; this is the run's own cost of serving).
function Store:index_line(ev, line, off, seq, host)
  self.seq = seq
  if (seq - 1) % EVERY == 0 then self.seq_off[(seq - 1) // EVERY + 1] = off end
  local state = self.state
  state.seq = seq
  local ts = ev.timestamp
  if ts then -- a number (ndjson_line checked)
    state.started = state.started or ts
    state.last_time = ts
  end
  local h = state.hosts[host] or state:host(host)
  local id = tointeger(ev.task_id) or state:task_id(ev.play, ev.task)
  h.lines = h.lines + 1
  local data, cr = ev.data, ev.cr
  h.last_line = data
  if cr then state_mod.redraw(h, data) end
  local hx = self.hosts[host]
  if not hx then
    hx = { all = { n = 0, off = {} }, tasks = {} }
    self.hosts[host] = hx
  end
  local a = hx.all
  local n = a.n
  if n % EVERY == 0 then a.off[n // EVERY + 1] = off end
  a.n = n + 1
  if id then
    local tx = hx.tasks[id] or line_index(hx.tasks, id)
    n = tx.n
    if n % EVERY == 0 then tx.off[n // EVERY + 1] = off end
    tx.n = n + 1
  end
  self:ring_put(seq, line, host, cr or nil)
end

--- Keep the ring (live true: the default) or not. A server keeps it only
--- while a WebSocket client is connected: with none, the last events'
--- lines would only be garbage for the collector to walk (a fifth of a
--- flooding run's time); a client that connects catches up from the log.
function Store:set_live(on)
  on = on and true or false
  if on == self.live then return end
  self.live = on
  self.ring, self.ring_host, self.ring_cr, self.ring_bytes = {}, {}, {}, 0
  self.ring_first = self.seq + 1
end

--- Add an event: it gets the next seq (an event that carries a seq of its
--- own, a core stream's, keeps it as stream_seq), goes to the log and the
--- indexes. Returns its seq. The event table itself is not changed.
function Store:add(ev)
  local seq = self.seq + 1
  local own, own_stream = ev.seq, ev.stream_seq
  ev.seq = seq
  if own ~= nil and own ~= seq and own_stream == nil then ev.stream_seq = own end
  local off = self.size
  local line = core_line(ev)
  if line then
    self.out:write(line, "\n")
    self.size = off + #line + 1
    self.dirty = true
    self:index_line(ev, line, off, seq, ev.host)
  else
    line = self.record(ev)
    self.out:write(line, "\n")
    self.size = off + #line + 1
    self.dirty = true
    self:index(ev, line, off)
  end
  ev.seq, ev.stream_seq = own, own_stream
  return seq
end

--- Add a line read from a log (luasible serve FILE): decoded, indexed as it
--- is (its seq must follow the last one). Returns true, or nil, err.
function Store:ingest(line, off)
  local ev = cjson.decode(line)
  local seq = type(ev) == "table" and math.tointeger(ev.seq)
  if not seq then return nil, "not an event with an integer seq" end
  ev.seq = seq
  if ev.seq ~= self.seq + 1 then
    return nil, ("seq %d after %d"):format(ev.seq, self.seq)
  end
  if ev.cr == cjson.null then ev.cr = nil end
  self:index(ev, line, off)
  self.size = off + #line + 1
  return true
end

--- Write what is buffered to the file (before it is read, and every batch).
function Store:flush()
  if self.out and self.dirty then
    self.out:flush()
    self.dirty = false
  end
end

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
M.lines_from = lines_from

--- Take the indexes of a whole log at once (core.ndjson_scan of the file
--- from its start, into a new store): the output lines are only counted
--- there; the other lines are decoded here, for the snapshot. Returns true,
--- or nil, err.
function Store:bulk(scan)
  local sp = scan.special
  local state = self.state
  for i = 1, #sp, 3 do
    local off, line, n = sp[i], sp[i + 1], sp[i + 2]
    local ev = cjson.decode(line)
    local seq = type(ev) == "table" and math.tointeger(ev.seq)
    if seq ~= n then
      return nil, ("byte %d: line %d is not the event of seq %d"):format(off, n, n)
    end
    ev.seq = seq
    if ev.cr == cjson.null then ev.cr = nil end
    if is_output(ev.type) and type(ev.host) == "string" then
      self:index(ev, line, off) -- an output line the scan was not sure of
    else
      state:add(ev)
    end
  end
  self.seq_off = scan.seq_off
  self.size = scan.size
  for name, hx in pairs(scan.hosts) do
    local h = state:host(name)
    h.lines = h.lines + hx.all.n
    local ev = cjson.decode(self:line_at(hx.all.last) or "")
    if type(ev) == "table" and type(ev.data) == "string" then h.last_line = ev.data end
    local mine = self.hosts[name]
    if mine then -- lines of it the scan left to Lua come after (rare: escapes in the name)
      for _, o in ipairs(mine.all.off) do hx.all.off[#hx.all.off + 1] = o end
      hx.all.n = hx.all.n + mine.all.n
    end
    self.hosts[name] = { all = hx.all, tasks = hx.tasks }
  end
  self.seq = scan.lines
  state.seq = scan.lines
  self.size = scan.size
  self.ring, self.ring_host, self.ring_cr, self.ring_first, self.ring_bytes = {}, {}, {}, scan.lines + 1, 0
  return true
end

-- The line at byte off of the log.
function Store:line_at(off)
  local next_line, close = lines_from(self, off)
  local line = next_line()
  if close then close() end
  return line
end

--- The JSON lines of the events from seq `from` to `to` (inclusive), from
--- the ring or the log; a list of { line, host, cr }.
function Store:range(from, to)
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
function Store:batch(from, to, budget)
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
function Store:events_since(since, limit)
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
function Store:host_lines(host, off, upto, each, want)
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
function Store:output(host, task_id, from, count)
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

--- /api/state's snapshot.
function Store:snapshot()
  return self.state:snapshot(self.now())
end

--- Close the log (a temporary one is removed).
function Store:close()
  if self.out then
    self.out:close()
    self.out = nil
  end
  if self.temp then os.remove(self.path) end
end

return M
