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
-- Here the writing and the indexes; serve/pages.lua reads them back (catch-up,
-- live batches, a terminal's pages).
local cjson = require("cjson.safe").new()
local core = require "luasible.core"
local json_render = require "luasible.render.json"
local state_mod = require "luasible.serve.state"
local pages = require "luasible.serve.pages"
local tointeger = math.tointeger

local M = {}

local EVERY = 64
local RING, RING_BYTES = 65536, 16 * 1024 * 1024
M.EVERY = EVERY

local Store = {}
Store.__index = Store

-- An output line event's JSON line, as --json writes it, built in C
-- (core/lua_ndjson.c: most events of a run are lines, and this is the
-- run's own cost of serving it); nil for any other event (the general
-- encoder, json_render.record, then).
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


pages.extend(Store, { EVERY = EVERY, RING = RING })
M.lines_from = pages.lines_from

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
