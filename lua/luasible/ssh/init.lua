--- The SSH connection kind: connect (the spec resolved with ~/.ssh/config,
-- the host key decided), reconnects, and commands over exec channels.
-- execute/stream/lines come from connection.Connection, put/get from
-- lua/luasible/transfer.lua (SFTP); this file provides :_start and the
-- session. The shell text comes from lua/luasible/remote.lua.
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"
local connection = require "luasible.connection"
local remote = require "luasible.remote"
local config = require "luasible.ssh.config"
local resolve = require "luasible.ssh.resolve"
local hostkey = require "luasible.ssh.hostkey"
local jump = require "luasible.ssh.jump"
local gate = require "luasible.ssh.gate"

local M = {}

M.read_config = config.read
M.gate = gate

local open

-- connect once: a ready session and the jump host entry it goes through
-- (luasible.ssh.jump, nil without one), or nil, err, name
local function open1(r)
  local hop
  if r.jump then
    local err, name
    hop, err, name = jump.acquire(r.jump, open)
    if not hop then return nil, err, name end
  end
  -- our turn among the handshakes to this server (MaxStartups): the slot is
  -- held until the session is ready or failed, released on every return
  local slot <close> = gate.acquire(r.hostname .. ":" .. tostring(r.port)) -- luacheck: ignore 211
  local sess = core.ssh_connect {
    host = r.hostname, port = r.port, user = r.user, label = r.label,
    known_hosts = r.known_hosts, password = r.password, agent = r.agent,
    identities = r.identities, connect_timeout = r.connect_timeout,
    keepalive = r.keepalive, keepalive_count_max = r.keepalive_count_max,
    via = hop and hop.sess, proxy_command = r.proxy_command,
  }
  local function fail(err, name)
    sess:close()
    jump.release(hop)
    return nil, err, name
  end
  scheduler.wait(sess)
  -- the jump host's TCP_NODELAY command once this target's key exchange is
  -- over (its host key is here): the tunnels of the other targets asked for
  -- meanwhile open first (one channel open at a time per session), and the
  -- command still reaches the jump host before this target's first reply
  if hop then jump.nodelay(hop) end
  if sess:state() == "hostkey" then
    local ok, err, name = hostkey.decide(r, sess:host_key())
    if not ok then return fail(err, name) end
    sess:accept_host_key()
    scheduler.wait(sess)
  end
  if sess:state() ~= "ready" then
    local err, name = sess:error()
    return fail(err or ("EIO: cannot connect to " .. r.label), name or "EIO")
  end
  return sess, hop
end

-- libssh2 1.10's non-blocking key exchange fails now and then on a slow
-- (loaded) peer or client with "Unable to exchange encryption keys"; one
-- more try tells that from a real algorithm mismatch.
function open(r)
  local sess, err, name = open1(r)
  if not sess and name == "EPROTO" and err:find("exchange encryption keys", 1, true) then
    sess, err, name = open1(r)
  end
  return sess, err, name
end

local SSH = setmetatable({}, { __index = connection.Connection })
SSH.__index = SSH
SSH.__close = connection.Connection.__close
SSH.__tostring = connection.Connection.__tostring
SSH._transfer = "sftp"
M.SSH = SSH

--- connect{ host = ..., ... } -> conn | nil, err, name
function M.connect(spec)
  resolve.check(spec)
  local r, rerr, rname = resolve.resolve(spec)
  if not r then return nil, rerr, rname end
  -- kept between runs (docs/SSH.md "Persistent connections"); not with a
  -- password or a host key function, which cannot go to the holder
  if (spec.persist or 0) > 0 and not spec.password and type(spec.host_key_check) ~= "function" then
    return require("luasible.ssh.persist").connect(spec, r)
  end
  local sess, hop, name = open(r)
  if not sess then return nil, hop, name end
  return setmetatable({ kind = "ssh", streaming = true, name = spec.name or spec.host,
    host = r.hostname, port = r.port, user = r.user, where = r.where, _r = r, _sess = sess, _hop = hop }, SSH)
end

--- The session, reconnecting after a loss.
function SSH:_session()
  if self.closed then error("luasible: connection used after close", 3) end
  local sess = self._sess
  if sess and sess:state() == "ready" then return sess end
  return self:reconnect()
end

--- Close the current session (if any) and connect again.
function SSH:reconnect()
  if self.closed then error("luasible: connection used after close", 2) end
  if self._sess then self._sess:close() end
  self._sess = nil
  jump.release(self._hop)
  self._hop = nil
  local sess, hop, name = open(self._r)
  if not sess then return nil, hop, name end
  self._sess, self._hop = sess, hop
  -- what a lost session left to do (the temporary file of a transfer it cut)
  local later = self._pending
  self._pending = nil
  for _, fn in ipairs(later or {}) do fn() end
  return sess
end

--- conn:_later(fn): fn() once the connection has connected again.
function SSH:_later(fn)
  self._pending = self._pending or {}
  self._pending[#self._pending + 1] = fn
end

function SSH:close()
  if self._sess then self._sess:close() end
  self._sess = nil
  jump.release(self._hop)
  self._hop = nil
  self.closed = true
end

local function wait_result(s)
  while true do
    local ev = s:pop()
    if ev then
      if ev.type == "done" or ev.type == "error" then return ev end
    elseif s:finished() then
      return nil
    else
      scheduler.wait(s)
    end
  end
end

-- run a command line on an exec channel of sess: with the process-group
-- marker and the kill line, so that a timeout or a cancel can kill it
local function exec(sess, line, opts)
  local full, chan = remote.channel(line)
  for k, v in pairs(chan) do opts[k] = v end
  return sess:exec(full, opts)
end

function SSH:_start(cmd, opts, mode)
  -- at the caller of execute/stream/lines
  if self.closed then error("luasible: connection used after close", 3) end
  local sess, err, name = self:_session()
  if not sess then return nil, err, name end
  local function probe(prefix, argv)
    local s <close> = exec(sess, remote.command_line(argv, {}, prefix),
      { capture = true, lines = false, progress = false })
    local ev = s and wait_result(s)
    return ev and ev.result
  end
  local prefix, stdin, serr = remote.sudo(opts, probe)
  if serr then return nil, serr, "EACCES" end
  return exec(sess, remote.command_line(cmd, opts, prefix), {
    timeout = opts.timeout, stdin = stdin, max_line = opts.max_line,
    lines = mode.lines, capture = mode.capture, progress = mode.progress, chunks = mode.chunks,
  })
end

return M
