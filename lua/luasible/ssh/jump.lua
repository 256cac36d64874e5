--- luasible.ssh.jump: jump hosts (ProxyJump). A chain given as
-- "user@host:port,user2@host2" (or ssh:// URIs) is parsed here; the
-- session of each hop is shared by every connection behind it (one
-- bastion session, a direct-tcpip channel per target) and closed when the
-- last of them closes.
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

-- the hop sessions open now: key (resolve.lua's r.key) -> entry
-- { key, sess, users, up (the entry of the hop before it), opening }
local entries = {}
M._entries = entries

--- The shared session of hop `hr` (a resolved spec, resolve.lua), opened
--- with open(hr) -> sess, up | nil, err, name when no usable one is open;
--- the caller holds one use of it until release(entry).
function M.acquire(hr, open)
  local e = entries[hr.key]
  if e and e.opening then -- another connection is opening it: its outcome is ours
    while e.opening do scheduler.sleep(0.002) end
    if e.err then return nil, e.err, e.name end
    e = entries[hr.key]
  end
  if e and e.sess:state() == "ready" then
    e.users = e.users + 1
    return e
  end
  if e then entries[hr.key] = nil end -- lost: its users drop it as they go
  e = { key = hr.key, users = 1, opening = true, label = hr.label }
  entries[hr.key] = e
  local sess, up_or_err, name = open(hr)
  e.opening = false
  if not sess then
    if entries[hr.key] == e then entries[hr.key] = nil end
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
  if entries[e.key] == e then entries[e.key] = nil end
  if e.poke then e.poke:close() end
  if e.sess then e.sess:close() end
  M.release(e.up)
end

--- How many hop sessions are open (for the specs and the bench).
function M.count()
  local n = 0
  for _ in pairs(entries) do n = n + 1 end
  return n
end

return M
