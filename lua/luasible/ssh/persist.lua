--- luasible.ssh.persist: connections kept between runs (connect option
-- `persist = SECONDS`, docs/SSH.md "Persistent connections"). The client
-- side: where the control socket is, starting the holder process
-- (lua/luasible/ssh/mux.lua, `serve`) when none answers, and a connection
-- whose commands run through it: each command is a local relay process
-- (mux.lua `exec`) whose stdout, stderr and exit status are the remote
-- command's, so that the stream contract (every line live, timeouts,
-- kills: the relay's end cancels the remote command) is the local one.
local core = require "luasible.core"
local cjson = require "cjson"
local scheduler = require "luasible.scheduler"
local connection = require "luasible.connection"
local shell = require "luasible.util.shell"
local remote = require "luasible.remote"

local M = {}

local LUA = os.getenv("LUASIBLE_LUA") or "lua5.4"

-- the spec fields the holder connects with (no password: refused before)
local SPEC_KEYS = { "host", "port", "user", "identity", "passphrase", "agent", "known_hosts",
  "host_key_check", "host_key", "connect_timeout", "keepalive", "keepalive_count_max", "ssh_config",
  "jump", "proxy_command", "identities_only", "hash_known_hosts", "forward_agent", "name" }

local function mux() return require "luasible.ssh.mux" end

local function mux_file()
  return assert(package.searchpath("luasible.ssh.mux", package.path), "luasible.ssh.mux not found")
end

--- The folder of control sockets: the connect option control_dir, else
-- LUASIBLE_CONTROL_DIR, $XDG_RUNTIME_DIR/luasible, ~/.luasible/cp; made 0700, and refused unless it is a folder of ours
-- that nobody else may enter. Returns the path or nil, err.
function M.dir(custom)
  local base = custom or os.getenv("LUASIBLE_CONTROL_DIR")
  if not base then
    local xdg = os.getenv("XDG_RUNTIME_DIR")
    if xdg and xdg ~= "" then base = xdg .. "/luasible"
    else
      local home = assert(os.getenv("HOME"), "HOME is not set")
      core.mkdir(home .. "/.luasible", 448)
      base = home .. "/.luasible/cp"
    end
  end
  core.mkdir(base, 448) -- 0700; an existing one is checked below
  local st = core.lstat(base)
  if not st or st.type ~= "directory" then return nil, "EACCES: " .. base .. " is not a folder" end
  local probe = base .. "/.owner." .. tostring(core.now()):gsub("%.", "")
  local ok = core.create_private(probe)
  local mine = ok and core.stat(probe)
  os.remove(probe)
  if not mine or mine.uid ~= st.uid or st.mode & 63 ~= 0 then
    return nil, "EACCES: " .. base .. " must be a folder of this user with mode 0700"
  end
  return base
end

--- The socket of a resolved connection: one per user@host:port, jump
-- chain, keys and known_hosts (never shared between different keys).
function M.socket_path(r, custom)
  local base, err = M.dir(custom)
  if not base then return nil, err end
  local ids = {}
  for _, id in ipairs(r.identities or {}) do ids[#ids + 1] = type(id) == "table" and (id.path or "") or id end
  local key = table.concat({ r.label, r.key or "", table.concat(ids, ","), r.known_hosts or "" }, "\n")
  return base .. "/" .. core.sha256(key):sub(1, 24)
end

-- the holder started for path answers: true, or nil, err (what it printed)
local function wait_socket(path, errfile, seconds)
  local t0 = core.now()
  while core.now() - t0 < seconds do
    if mux().alive(path, scheduler) then return true end
    local f = io.open(errfile)
    local why = f and f:read("a")
    if f then f:close() end
    if why and why ~= "" then
      os.remove(errfile)
      return nil, why:gsub("%s+$", "")
    end
    scheduler.sleep(0.01)
  end
  return nil, "ETIMEDOUT: the connection holder did not answer on " .. path
end

--- Start the holder of spec (a process of its own session) unless one
-- answers on path. Two runs that start at once make one holder: the
-- start is serialized by a lock (path .. ".lock", flock), under which a
-- holder is asked again before one is started; a holder ends under the
-- same lock. Returns true or nil, err, name.
function M.ensure(spec, path, idle)
  local m = mux()
  if m.alive(path, scheduler) then return true end
  local wait = (spec.connect_timeout or 10) + 10
  local lock <close>, lerr, lname = m.lock(path, scheduler, wait)
  if not lock then return nil, lerr, lname end
  if m.alive(path, scheduler) then return true end -- the other run made it
  local s = {}
  for _, k in ipairs(SPEC_KEYS) do s[k] = spec[k] end
  local specfile = path .. ".spec"
  os.remove(specfile)
  local ok, err = core.create_private(specfile)
  if not ok then return nil, err, "EACCES" end
  local f = assert(io.open(specfile, "w"))
  f:write(cjson.encode(s))
  f:close()
  local errfile = path .. ".err"
  os.remove(errfile)
  local cmd = ("env LUA_PATH=%s LUA_CPATH=%s setsid %s %s serve %s %s %s </dev/null >/dev/null 2>%s &")
    :format(shell.quote(package.path), shell.quote(package.cpath), shell.quote(LUA), shell.quote(mux_file()),
      shell.quote(path), shell.quote(specfile), tostring(idle), shell.quote(errfile))
  os.execute(cmd)
  local up, why = wait_socket(path, errfile, (spec.connect_timeout or 10) + 5)
  if not up then
    os.remove(specfile)
    return nil, why, why:match("^(%u+):") or "EIO"
  end
  os.remove(errfile) -- the holder's stderr from now on goes nowhere
  return true
end

-- The connection -------------------------------------------------------

local Persist = setmetatable({}, { __index = connection.Connection })
Persist.__index = Persist
Persist.__close = connection.Connection.__close
Persist.__tostring = connection.Connection.__tostring
M.Persist = Persist

--- connect(spec, r) -> a connection through the holder, or nil, err, name
function M.connect(spec, r)
  local path, err = M.socket_path(r, spec.control_dir)
  if not path then return nil, err, "EACCES" end
  local ok, e2, n2 = M.ensure(spec, path, spec.persist)
  if not ok then return nil, e2, n2 end
  return setmetatable({ kind = "ssh", streaming = true, persistent = true, name = spec.name or spec.host,
    host = r.hostname, port = r.port, user = r.user, where = r.where, _r = r, _spec = spec, _path = path,
    _running = setmetatable({}, { __mode = "k" }) }, Persist)
end

-- a relay process running line (stdin on its stdin) through the holder
function Persist:_relay(line, stdin, timeout, mode)
  -- the holder may have ended since (idle between two commands): asked,
  -- and started again, before every relay
  local ok, err, name = M.ensure(self._spec, self._path, self._spec.persist)
  if not ok then return nil, err, name end
  local s
  s, err, name = core.spawn({ LUA, mux_file(), "exec", self._path }, {
    env = { LUA_PATH = package.path, LUA_CPATH = package.cpath, LUASIBLE_MUX_REQ = cjson.encode({ line = line }) },
    timeout = timeout, stdin = stdin, max_line = mode.max_line,
    lines = mode.lines ~= false, capture = mode.capture, progress = mode.progress ~= false,
  })
  if s then self._running[s] = true end
  return s, err, name
end

function Persist:_start(cmd, opts, mode)
  if self.closed then error("luasible: connection used after close", 3) end
  -- become as over a direct connection (remote.sudo): the sudo password
  -- goes on the relay's stdin, to the holder over the 0600 socket, and on
  -- the channel's stdin to `sudo -S`; never in an argument or the environment
  local function probe(prefix, argv)
    local s <close> = self:_relay(remote.command_line(argv, {}, prefix), nil, nil,
      { capture = true, lines = false, progress = false })
    if not s then return nil end
    while not s:finished() do
      local ev = s:pop()
      if ev and (ev.type == "done" or ev.type == "error") then return ev.result end
      if not ev then scheduler.wait(s) end
    end
  end
  local prefix, stdin, serr = remote.sudo(opts, probe)
  if serr then return nil, serr, "EACCES" end
  return self:_relay(remote.command_line(cmd, opts, prefix), stdin, opts.timeout,
    { max_line = opts.max_line, lines = mode.lines, capture = mode.capture, progress = mode.progress })
end

Persist._transfer = "exec"
function Persist:put(src, dest, opts)
  local plugins = require "luasible.plugins"
  opts = require("luasible.transfer").check("put", src, dest, opts)
  return plugins.kit.put_exec(self, src, dest, opts)
end

function Persist:get(src, dest, opts)
  local plugins = require "luasible.plugins"
  opts = require("luasible.transfer").check("get", src, dest, opts)
  return plugins.kit.get_exec(self, src, dest, opts)
end

--- reset: the holder is told to stop (it ends when its commands have); the
--- next command starts a new holder, a new SSH connection (a new login:
--- new groups, limits), as Ansible's reset_connection. Returns true, or
--- nil, err, name.
function Persist:reset()
  local c = core.unix_connect(self._path)
  c:write_frame("s")
  local t = mux().next_frame(c, scheduler)
  c:close()
  -- (false: no holder listens there, nothing to reset)
  if t ~= "s" and t ~= false then
    return nil, "EIO: the connection holder at " .. self._path .. " did not stop", "EIO"
  end
  return true
end

--- close: the commands still running are cancelled (their relays killed,
--- which cancels them over there); the holder stays for the next run.
function Persist:close()
  if self.closed then return end
  self.closed = true
  for s in pairs(self._running) do
    if not s:finished() then s:cancel("connection closed") end
  end
end

return M
