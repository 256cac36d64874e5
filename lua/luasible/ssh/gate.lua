--- luasible.ssh.gate: at most `max` SSH handshakes in flight at once per
-- server address (host:port as connected to), per process. The others wait
-- their turn in order (no failure, no polling). A handshake holds its slot
-- from the TCP connect until the session is authenticated or has failed:
-- what OpenSSH's sshd counts against MaxStartups (default 10:30:100: from
-- 10 unauthenticated connections on it drops new ones at random), so a
-- default of 8 keeps one process's connections to a shared server (many
-- inventory names for one machine, a bastion's targets behind one NAT
-- address) under it. docs/SSH.md ("Handshakes in flight"), setting
-- max_handshakes (docs/CONFIG.md).
local scheduler = require "luasible.scheduler"
local fifo = require "luasible.util.fifo"

local M = {}

--- Why 8: under the 10 of sshd's default MaxStartups, with room for
-- other clients of the same server.
M.DEFAULT_MAX = 5
M.max = M.DEFAULT_MAX
--- And at most `total` in the whole process, whatever the address (256:
-- a thousand hosts at once do not start a thousand key exchanges, whose
-- servers would then time them out; the connect timeout runs from the
-- turn, not from the queue). nil or < 1: no bound.
M.DEFAULT_TOTAL = 256
M.total = M.DEFAULT_TOTAL
M.TOTAL_KEY = "*"

local servers = {} -- key -> { n = slots held, queue = fifo of waiters }

local Slot = {}
Slot.__index = Slot

local function release(slot)
  if slot.released then return end
  slot.released = true
  local s = servers[slot.key]
  local w = fifo.shift(s.queue)
  if w then
    w.granted = true -- the slot passes on: n stays
    w:wake()
  else
    s.n = s.n - 1
    if s.n == 0 and fifo.size(s.queue) == 0 then servers[slot.key] = nil end
  end
end
Slot.__close = release
Slot.release = release

local function acquire(key, max)
  local s = servers[key]
  if not s then
    s = { n = 0, queue = fifo.new() }
    servers[key] = s
  end
  local slot = setmetatable({ key = key }, Slot)
  if not max or max < 1 or s.n < max then
    s.n = s.n + 1
    return slot
  end
  local w = scheduler.waiter()
  fifo.push(s.queue, w)
  -- cancelled while waiting: leave the queue, or pass on a slot granted meanwhile
  local guard <close> = setmetatable({}, { __close = function() -- luacheck: ignore 211
    if w.granted then
      if not slot.taken then release(slot) end
    else
      fifo.drop(s.queue, w)
    end
  end })
  w:wait()
  slot.taken = true
  return slot
end

local Pair = {}
Pair.__index = Pair
local function release_pair(p)
  release(p[1])
  if p[2] then release(p[2]) end
end
Pair.__close = release_pair
Pair.release = release_pair

--- gate.acquire(key) -> slot (to-be-closed; slot:release() is idempotent).
-- Waits while `max` slots of key are held, then while `total` are held in
-- the process (in that order: a task waiting for a busy server holds no
-- process-wide turn).
function M.acquire(key)
  local one = acquire(key, M.max)
  if not M.total or M.total < 1 then return setmetatable({ one }, Pair) end
  local done = false
  -- cancelled while waiting for the process-wide turn: the server's goes back
  local hold <close> = setmetatable({}, { __close = function() -- luacheck: ignore 211
    if not done then release(one) end
  end })
  local all = acquire(M.TOTAL_KEY, M.total)
  done = true
  return setmetatable({ one, all }, Pair)
end

--- How many handshakes to key are in flight and how many wait (for the specs).
function M.stats(key)
  local s = servers[key]
  if not s then return 0, 0 end
  return s.n, fifo.size(s.queue)
end

return M
