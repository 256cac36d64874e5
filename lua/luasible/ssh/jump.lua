--- luasible.ssh.jump: jump hosts (ProxyJump). A chain given as
-- "user@host:port,user2@host2" (or ssh:// URIs) is parsed here; the
-- session of each hop is shared by the connections behind it (a bastion
-- session, a direct-tcpip channel per target; up to MAX_SESSIONS of them
-- when targets connect at once) and closed when the last of them closes.
local scheduler = require "luasible.scheduler"

local M = {}

--- "user@host:port,..." -> { { user =, host =, port = }, ... }, or nil, why.
--- "none" (any case) is the empty list: no jump host.
function M.parse(chain)
  if type(chain) ~= "string" then return nil, "a string expected" end
  local hops = {}
  if chain:lower() == "none" then return hops end
  for item in (chain .. ","):gmatch("([^,]*),") do
    local s = item:match("^%s*(.-)%s*$")
    s = s:gsub("^ssh://", "")
    if s == "" then return nil, "an empty host in '" .. chain .. "'" end
    local user, rest = s:match("^(.*)@([^@]*)$")
    if not user then rest = s end
    if user == "" then return nil, "an empty user in '" .. item .. "'" end
    local host, port = rest:match("^%[([^%]]+)%]:?(%d*)$") -- [v6]:port
    if not host then
      host, port = rest:match("^([^:]+):(%d+)$")
      if not host then host, port = rest, "" end
    end
    if host == "" or host:find("[%s/@%[%]]") then
      return nil, "a bad host '" .. rest .. "' in '" .. chain .. "'"
    end
    local p
    if port ~= "" then
      p = math.tointeger(tonumber(port))
      if not p or p < 1 or p > 65535 then return nil, "a bad port '" .. port .. "' in '" .. chain .. "'" end
    end
    hops[#hops + 1] = { user = user, host = host, port = p }
  end
  return hops
end

-- the hop sessions open now: key (resolve.lua's r.key) -> a pool, the
-- list of its entries { key, sess, users, up (the entry of the hop before
-- it), opening }
local pools = {}
M._pools = pools

--- At most this many sessions to one jump host at once. libssh2 opens one
-- channel at a time a session (each open a round trip): targets that all
-- connect at once (a play's hosts) would wait for each other's tunnel opens
-- on one session. While every session to the hop is still in its
-- handshake, a target that comes starts one more (in parallel: no longer
-- wait) instead of queueing behind it; once one is ready, targets share the
-- ready one with the fewest users. Sequential connections share one.
M.MAX_SESSIONS = 4

local function remove(pool, e)
  for i = #pool, 1, -1 do
    if pool[i] == e then table.remove(pool, i) end
  end
end

-- the ready entry of `pool` with the fewest users (lost ones dropped:
-- their users let go of them as they go); and whether one is opening
local function pick(pool)
  local best, opening
  for i = #pool, 1, -1 do
    local e = pool[i]
    if e.opening then
      opening = true
    elseif e.sess:state() == "ready" then
      if not best or e.users <= best.users then best = e end
    else
      table.remove(pool, i)
    end
  end
  return best, opening
end

--- A shared session of hop `hr` (a resolved spec, resolve.lua), opened
--- with open(hr) -> sess, up | nil, err, name when no usable one is open;
--- the caller holds one use of it until release(entry).
function M.acquire(hr, open)
  local pool = pools[hr.key]
  if not pool then
    pool = {}
    pools[hr.key] = pool
  end
  while true do
    local e, opening = pick(pool)
    if e then
      e.users = e.users + 1
      return e
    end
    if not opening or #pool < M.MAX_SESSIONS then break end -- none, or all in their handshakes: one more
    -- as many as allowed are opening: wait for the first of them to end;
    -- when that one failed, its outcome is ours (no new attempt per waiter
    -- at a jump host that is down)
    local waited = { table.unpack(pool) }
    local ended
    repeat
      scheduler.sleep(0.002)
      for _, w in ipairs(waited) do
        if not w.opening then ended = w end
      end
    until ended
    if ended.err then return nil, ended.err, ended.name end
  end
  local e = { key = hr.key, users = 1, opening = true, label = hr.label }
  pool[#pool + 1] = e
  local sess, up_or_err, name = open(hr)
  e.opening = false
  if not sess then
    remove(pool, e)
    local err = up_or_err or ""
    name = name or "EIO"
    -- "NAME: jump host user@bastion:22: what" (the hop's own message)
    local msg = err:gsub("^" .. name .. ": ", "")
    if not msg:find("^jump host ") then msg = "jump host " .. hr.label .. ": " .. msg end
    e.err, e.name = name .. ": " .. msg, name -- for those that waited on this attempt
    return nil, e.err, name
  end
  e.sess, e.up = sess, up_or_err
  return e
end

--- Once the first target through hop entry `e` has its key exchange done
--- (so that neither its tunnel's channel open nor those of the targets that
--- came meanwhile are queued behind this one): one command on the jump
--- host, not waited for. OpenSSH's sshd turns Nagle's algorithm off on a
--- connection (TCP_NODELAY, ssh_packet_set_interactive) only once a session
--- runs a command; a connection that only forwards (direct-tcpip) keeps it
--- on, and every reply of a target that comes in two segments waits for our
--- ACK (40 ms of delayed ACK on loopback, a round trip on a network).
--- Measured: 52 -> 19 ms per command through a loopback bastion. A jump
--- host that refuses commands (ForceCommand, no shell) runs whatever it
--- runs instead; one that refuses the channel costs nothing more.
function M.nodelay(e)
  if e.poke ~= nil then return end
  e.poke = e.sess:exec("exit 0", { capture = true, lines = false, progress = false }) or false
end

--- One use of the hop less: the last one closes its session (and lets go
--- of the hop before it).
function M.release(e)
  if not e then return end
  e.users = e.users - 1
  if e.users > 0 then return end
  local pool = pools[e.key]
  if pool then
    remove(pool, e)
    if #pool == 0 then pools[e.key] = nil end
  end
  if e.poke then e.poke:close() end
  if e.sess then e.sess:close() end
  M.release(e.up)
end

--- How many hop sessions are open (for the specs and the bench).
function M.count()
  local n = 0
  for _, pool in pairs(pools) do n = n + #pool end
  return n
end

return M
