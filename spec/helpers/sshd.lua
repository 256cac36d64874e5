--- spec/helpers/sshd.lua: a real OpenSSH server on loopback for the specs.
--
--   local sshd = require "spec.helpers.sshd"
--   local srv = sshd.start()            -- or sshd.start{ ...opts }
--   -- connect to srv.host ("127.0.0.1"), srv.port as srv.user with srv.key,
--   -- checking against srv.known_hosts ...
--   srv:stop()                           -- always; also runs on __close/__gc
--
-- Every server lives in its own `mktemp -d /tmp/luasible-sshd.XXXXXX` dir with
-- its own host key(s), client keys, authorized_keys, known_hosts, ssh_config,
-- sshd_config and logs; it runs `/usr/sbin/sshd -D` on a free 127.0.0.1 port
-- as the current user (root in CI: sshd needs root to switch users; as
-- non-root only the own account can log in).
--
-- sshd.start(opts) -- all optional:
--   aliases        = { "web1", "web2", "web3" }  inventory-style names: each one
--                    gets a Host block in srv.ssh_config (HostName 127.0.0.1,
--                    Port, User, IdentityFile) and "[alias]:PORT" lines in the
--                    known_hosts files
--   host_key_types = { "ed25519" }   add "rsa" and/or "ecdsa" for more host keys
--   password_user  = true            create (once, idempotently) the local
--                    account "luasible-test" (useradd -m, shell /bin/bash) and
--                    set its password with chpasswd; srv.password_user and
--                    srv.password ("luasible-test-pw") are then set. Needs
--                    root. root's own password is never touched (root has none
--                    here, so password auth can only be tested with this user).
--   use_pam        = false           true: "UsePAM yes". With the default
--                    "UsePAM no" sshd checks passwords itself
--                    ("password" method) but keyboard-interactive has no
--                    device: sshd advertises it and then always fails it.
--                    With PAM, keyboard-interactive asks "Password: " once.
--   legacy_rsa     = true            accept "ssh-rsa" (SHA-1) signatures for
--                    user keys and host keys: OpenSSH >= 8.8 refuses them by
--                    default and libssh2 1.10 knows no rsa-sha2-*
--   config         = "..." or { "...", ... }  extra sshd_config lines
--   listen         = "127.0.0.1"     the ListenAddress ("0.0.0.0": every address
--                    of 127.0.0.0/8 answers too; spec/helpers/fleet.lua)
--   sshd           = "/usr/sbin/sshd"
--   start_timeout  = 10              seconds until the port must listen
--
-- srv fields:
--   host ("127.0.0.1"), port, user (`id -un`), dir, pid, sshd_config, log
--   key, key .. ".pub"         ed25519 client key, no passphrase
--   key_pass, key_pass_passphrase ("secret pass")  ed25519 key with passphrase
--   key_rsa                    RSA 2048 client key, OpenSSH private key format
--   key_rsa_pem                the same RSA key in PEM ("BEGIN RSA PRIVATE KEY")
--                              (all three public keys are in authorized_keys)
--   authorized_keys            path (mode 0644, dir 0711: any user can use it)
--   known_hosts                "[127.0.0.1]:PORT", "[localhost]:PORT" and
--                              "[alias]:PORT" with every host key
--   known_hosts_hashed         the same, hashed with `ssh-keygen -H`
--   ssh_config                 for OpenSSH's `ssh -F` (see srv:ssh)
--   host_key_fingerprint       "SHA256:..." of the ed25519 host key
--   host_key_fingerprints      { ed25519 = "SHA256:...", rsa = ..., ecdsa = ... }
--   host_keys                  { ed25519 = "<dir>/ssh_host_ed25519_key", ... }
--   previous_host_key_fingerprint   set by regen_host_key()
--   password_user, password    only with opts.password_user
--
-- srv methods:
--   srv:stop()          kill the listener, every per-connection child and
--                       session process (found through /proc: parent pids,
--                       and the marker LUASIBLE_TEST_SSHD=<dir> that sshd puts
--                       in every session's environment, which also catches
--                       daemonized leftovers), wait for them, remove the dir.
--                       Idempotent. Also on __close and __gc.
--   srv:restart(o)      stop all processes and start again: same port and keys.
--                       o.keep_sessions = true: only the listener is replaced
--                       and open connections live on.
--   srv:kill()          SIGKILL the listener only (established connections
--                       survive, new ones are refused)
--   srv:kill_all()      SIGKILL the listener and all its children/sessions
--   srv:regen_host_key() new host key(s), restart: known_hosts now mismatches
--                       (host_key_fingerprint is updated to the new key)
--   srv:trust_host_keys() rewrite known_hosts(+_hashed) for the current keys
--   srv:ssh(cmd, o)     run cmd with OpenSSH's client (`ssh -F ssh_config web1
--                       -- cmd`, BatchMode, srv.known_hosts) and return
--                       stdout, ok, exit_code, stderr. o.host (alias, default
--                       the first one), o.user, o.options ({ "-o", "X=y" }).
--   srv:running()       true while the listener is alive
--   srv:processes()     pids of the listener and all of its descendants
--   srv:log_tail(n)     the last n (20) lines of the sshd log
--
-- If the Lua process dies without stop() (killed by `timeout`, Ctrl-C), a
-- small watchdog shell per server (own session, polls every second) kills
-- the listener and removes the dir; stop() ends the watchdog at once.
-- On hosts whose PID 1 does not reap orphans, killed sshd processes stay
-- as zombies (state Z): the helper counts them as dead.
--
-- Only standard tools (sh, ssh-keygen, ssh, kill, rm, mkdir, id, setsid, useradd,
-- chpasswd) and /proc are used; lua-system (a busted dependency) is used for
-- sleeping when present, luasocket for an extra bind test when present.

local M = {}

local TEST_USER = "luasible-test"
local TEST_PASSWORD = "luasible-test-pw"
local PASSPHRASE = "secret pass"
local MARKER = "LUASIBLE_TEST_SSHD"

M.TEST_USER = TEST_USER
M.TEST_PASSWORD = TEST_PASSWORD
M.PASSPHRASE = PASSPHRASE

local has_socket, socket = pcall(require, "socket")
if has_socket and type(socket.bind) ~= "function" then has_socket = false end

-- shell, /proc, keys, sshd_config and watchdog: shared with testhosts.lua
local C = require "spec.helpers.sshd_common"
local q, sleep, now, run, must, tail = C.q, C.sleep, C.now, C.run, C.must, C.tail
local proc_stat, alive, all_pids, tree = C.proc_stat, C.alive, C.all_pids, C.tree
local signal, wait_dead = C.signal, C.wait_dead
local keygen, fingerprint, pubkey = C.keygen, C.fingerprint, C.pubkey

local files = require "spec.helpers.files"
local read_file, write_file = files.read, files.write

---------------------------------------------------------------------------
-- the env marker

-- pids whose environment holds MARKER=<dir> (sshd's SetEnv puts it in
-- every session; it survives daemonizing, unlike the parent pid)
local function marked_pids(dir, pids)
  local needle = "\0" .. MARKER .. "=" .. dir .. "\0"
  local found = {}
  for _, pid in ipairs(pids) do
    local env = read_file("/proc/" .. pid .. "/environ")
    if env and ("\0" .. env):find(needle, 1, true) then
      found[#found + 1] = pid
    end
  end
  return found
end


---------------------------------------------------------------------------
-- ports

local function is_listening(port)
  return C.listening_ports()[port] == true
end


local used_ports = {}   -- ports handed out by this process

local function pick_port()
  local busy = C.listening_ports()
  for _ = 1, 200 do
    -- below the kernel's ephemeral range (32768..) so outgoing
    -- connections never occupy our pick
    local port = math.random(20000, 32000)
    if not busy[port] and not used_ports[port] then
      local free = true
      if has_socket then
        local s = socket.bind("127.0.0.1", port)
        if s then s:close() else free = false end
      end
      if free then return port end
    end
  end
  error("sshd helper: no free port found on 127.0.0.1")
end

---------------------------------------------------------------------------
-- keys and files

function M._write_known_hosts(srv)
  local names = { "[127.0.0.1]:" .. srv.port, "[localhost]:" .. srv.port }
  for _, a in ipairs(srv.aliases) do names[#names + 1] = "[" .. a .. "]:" .. srv.port end
  local lines = {}
  for _, kt in ipairs(srv.host_key_types) do
    local key = pubkey(srv.host_keys[kt] .. ".pub"):match("^(%S+%s+%S+)")
    for _, n in ipairs(names) do lines[#lines + 1] = n .. " " .. key end
  end
  local text = table.concat(lines, "\n") .. "\n"
  write_file(srv.known_hosts, text)
  write_file(srv.known_hosts_hashed, text)
  must("ssh-keygen -q -H -f " .. q(srv.known_hosts_hashed), "ssh-keygen -H")
  os.remove(srv.known_hosts_hashed .. ".old")
end


local function write_ssh_config(srv)
  local entries = {}
  for i, a in ipairs(srv.aliases) do
    entries[i] = { alias = a, hostname = "127.0.0.1", port = srv.port, user = srv.user, key = srv.key }
  end
  write_file(srv.ssh_config, C.ssh_config_text(entries, srv.known_hosts))
end

local function write_sshd_config(srv, opts)
  local host_keys = {}
  for i, kt in ipairs(srv.host_key_types) do host_keys[i] = srv.host_keys[kt] end
  C.write_sshd_config(srv.sshd_bin, srv.sshd_config, {
    header = "spec/helpers/sshd.lua", listen = srv.listen, port = srv.port,
    config = opts.config, host_keys = host_keys, pid_file = srv.dir .. "/sshd.pid",
    authorized_keys = srv.authorized_keys, use_pam = opts.use_pam,
    set_env = MARKER .. "=" .. srv.dir, legacy_rsa = opts.legacy_rsa,
  })
end


---------------------------------------------------------------------------
-- the test user for password authentication

local test_user_ready = false

local function ensure_test_user()
  if test_user_ready then return end
  local uid = must("id -u", "id -u"):match("%d+")
  if uid ~= "0" then
    error("sshd helper: password_user needs root (to create " .. TEST_USER .. ")", 3)
  end
  for attempt = 1, 10 do
    local _, exists = run("id -u " .. TEST_USER)
    local out, ok = "", true
    if not exists then
      out, ok = run("useradd -m -s /bin/bash " .. TEST_USER)
      -- another process may have created it concurrently
      if not ok then
        local _, now_exists = run("id -u " .. TEST_USER)
        ok = now_exists
      end
    end
    if ok then
      out, ok = run("echo " .. q(TEST_USER .. ":" .. TEST_PASSWORD) .. " | chpasswd")
    end
    if ok then
      test_user_ready = true
      return
    end
    if attempt == 10 then
      error("sshd helper: cannot create/set password of " .. TEST_USER .. ": " .. out, 3)
    end
    sleep(0.2)   -- /etc/shadow locked by a concurrent run
  end
end

---------------------------------------------------------------------------
-- watchdog (see sshd_common): kills the listener and removes the dir

local function start_watchdog(srv)
  local dir = q(srv.dir)
  srv._watchdog, srv._watchdog_start = C.start_watchdog(srv.dir,
    "kill -9 $(cat " .. dir .. "/sshd.pid) 2>/dev/null; rm -rf " .. dir)
end

local function stop_watchdog(srv)
  C.stop_watchdog(srv._watchdog, srv._watchdog_start)
  srv._watchdog = nil
end

---------------------------------------------------------------------------
-- the server object

local Server = {}
Server.__index = Server
Server.__name = "luasible.test_sshd"

function Server:__tostring()
  return string.format("test sshd 127.0.0.1:%s pid %s (%s)",
    tostring(self.port), tostring(self.pid), self.dir or "?")
end

function Server:log_tail(n)
  local parts = {}
  local log = tail(read_file(self.log), n or 20)
  if log ~= "" then parts[#parts + 1] = log end
  local out = tail(read_file(self.dir .. "/sshd.out"), n or 20)
  if out ~= "" then parts[#parts + 1] = out end
  return table.concat(parts, "\n")
end

function Server:running()
  return self.pid ~= nil and alive(self.pid, self._starttime)
end

-- start the listener; returns true, or nil, "EADDRINUSE"; raises otherwise
local function launch(self)
  os.execute("mkdir -p /run/sshd 2>/dev/null")   -- privilege separation dir
  local inner = "echo $$; exec " .. q(self.sshd_bin) .. " -D -e -f " .. q(self.sshd_config)
    .. " -E " .. q(self.log) .. " </dev/null >>" .. q(self.dir .. "/sshd.out") .. " 2>&1"
  local p = assert(io.popen("sh -c " .. q(inner) .. " &", "r"))
  local line = p:read("l")
  p:close()
  local pid = tonumber(line)
  if not pid then error("sshd helper: could not start sshd (no pid): " .. tostring(line), 3) end
  self.pid = pid
  local _, _, st = proc_stat(pid)
  self._starttime = st
  local deadline = now() + self.start_timeout
  while true do
    if not alive(pid, st) then
      self.pid = nil
      local log = self:log_tail(30)
      if log:find("Address already in use", 1, true) then return nil, "EADDRINUSE" end
      error(string.format("sshd helper: sshd exited at start (port %d)\n%s", self.port, log), 3)
    end
    -- a LISTEN socket on our port while our sshd lives: it is ours (Linux
    -- does not let two sockets listen on one port without SO_REUSEPORT)
    if is_listening(self.port) then return true end
    if now() > deadline then
      signal({ pid }, "KILL")
      wait_dead({ pid }, 2)
      self.pid = nil
      error(string.format("sshd helper: sshd did not listen on 127.0.0.1:%d within %gs\n%s",
        self.port, self.start_timeout, self:log_tail(30)), 3)
    end
    sleep(0.01)
  end
end

function Server:processes()
  local pids = all_pids()
  local roots = {}
  if self.pid and alive(self.pid, self._starttime) then roots[#roots + 1] = self.pid end
  for pid, st in pairs(self._orphans) do
    if alive(pid, st) then roots[#roots + 1] = pid else self._orphans[pid] = nil end
  end
  local result = tree(roots, pids)
  local seen = {}
  for _, pid in ipairs(result) do seen[pid] = true end
  if self.dir then
    for _, pid in ipairs(tree(marked_pids(self.dir, pids), pids)) do
      if not seen[pid] and alive(pid) then
        seen[pid] = true
        result[#result + 1] = pid
      end
    end
  end
  return result
end

-- freeze everything (no new forks), then SIGKILL and wait
local function kill_everything(self)
  for _ = 1, 10 do
    local pids = self:processes()
    if #pids == 0 then break end
    signal(pids, "STOP")
    local again = self:processes()
    local new = false
    local set = {}
    for _, pid in ipairs(pids) do set[pid] = true end
    for _, pid in ipairs(again) do if not set[pid] then new = true end end
    signal(again, "KILL")
    signal(again, "CONT")
    local ok, left = wait_dead(again, 5)
    if not ok then
      error("sshd helper: processes survive SIGKILL: " .. table.concat(left, " "), 3)
    end
    if not new then break end
  end
  self._orphans = {}
  self.pid = nil
end

function Server:kill()
  local pid = self.pid
  if not pid or not alive(pid, self._starttime) then self.pid = nil; return true end
  signal({ pid }, "STOP")           -- no new children while we look
  for _, c in ipairs(tree({ pid })) do
    if c ~= pid then
      local _, _, st = proc_stat(c)
      if st then self._orphans[c] = st end
    end
  end
  signal({ pid }, "KILL")
  signal({ pid }, "CONT")
  wait_dead({ pid }, 5)
  self.pid = nil
  return true
end

function Server:kill_all()
  kill_everything(self)
  return true
end

function Server:stop()
  if self._stopped then return true end
  self._stopped = true
  stop_watchdog(self)
  kill_everything(self)
  if self.dir and self.dir:match("^/tmp/luasible%-sshd%.") then
    os.execute("rm -rf " .. q(self.dir))
  end
  return true
end

Server.__close = Server.stop
Server.__gc = function(self)
  if not self._stopped then pcall(Server.stop, self) end
end

function Server:restart(o)
  assert(not self._stopped, "sshd helper: restart() after stop()")
  if o and o.keep_sessions then
    self:kill()
  else
    kill_everything(self)
  end
  local deadline = now() + self.start_timeout
  while true do
    local ok, err = launch(self)
    if ok then return self end
    -- the old listening socket may linger a moment
    if now() > deadline then
      error("sshd helper: restart: port " .. self.port .. " stays in use (" .. err .. ")", 2)
    end
    sleep(0.05)
  end
end

function Server:trust_host_keys()
  M._write_known_hosts(self)
  return self
end

function Server:regen_host_key()
  self.previous_host_key_fingerprint = self.host_key_fingerprint
  for _, kt in ipairs(self.host_key_types) do
    keygen(self.host_keys[kt], kt, "", "luasible-test-host")
    self.host_key_fingerprints[kt] = fingerprint(self.host_keys[kt] .. ".pub")
  end
  self.host_key_fingerprint = self.host_key_fingerprints.ed25519
    or self.host_key_fingerprints[self.host_key_types[1]]
  return self:restart()
end

function Server:ssh(cmd, o)
  o = o or {}
  return C.ssh(self.ssh_config, o.host or self.aliases[1], cmd, o, self.dir .. "/ssh.stderr")
end

---------------------------------------------------------------------------

function M.start(opts)
  opts = opts or {}
  local srv = setmetatable({
    host = "127.0.0.1",
    aliases = opts.aliases or { "web1", "web2", "web3" },
    host_key_types = opts.host_key_types or { "ed25519" },
    sshd_bin = opts.sshd or "/usr/sbin/sshd",
    start_timeout = opts.start_timeout or 10,
    listen = opts.listen or "127.0.0.1",
    host_keys = {},
    host_key_fingerprints = {},
    key_pass_passphrase = PASSPHRASE,
    _orphans = {},
  }, Server)
  local has_ed = false
  for _, kt in ipairs(srv.host_key_types) do
    assert(kt == "ed25519" or kt == "rsa" or kt == "ecdsa",
      "sshd helper: host_key_types: unknown type " .. tostring(kt))
    if kt == "ed25519" then has_ed = true end
  end
  if not has_ed then table.insert(srv.host_key_types, 1, "ed25519") end
  if opts.password_user then
    ensure_test_user()
    srv.password_user = TEST_USER
    srv.password = TEST_PASSWORD
  end

  srv.user = must("id -un", "id -un"):match("[^\n]+")
  local dir = must("mktemp -d /tmp/luasible-sshd.XXXXXX", "mktemp"):match("[^\n]+")
  srv.dir = dir
  -- from here on, clean up the dir if anything fails
  local ok, err = pcall(function()
    must("chmod 0711 " .. q(dir), "chmod")
    srv.sshd_config = dir .. "/sshd_config"
    srv.log = dir .. "/sshd.log"
    srv.authorized_keys = dir .. "/authorized_keys"
    srv.known_hosts = dir .. "/known_hosts"
    srv.known_hosts_hashed = dir .. "/known_hosts_hashed"
    srv.ssh_config = dir .. "/ssh_config"
    srv.key = dir .. "/id_ed25519"
    srv.key_pass = dir .. "/id_ed25519_pass"
    srv.key_rsa = dir .. "/id_rsa"
    srv.key_rsa_pem = dir .. "/id_rsa_pem"

    for _, kt in ipairs(srv.host_key_types) do
      srv.host_keys[kt] = dir .. "/ssh_host_" .. kt .. "_key"
      keygen(srv.host_keys[kt], kt, "", "luasible-test-host")
      srv.host_key_fingerprints[kt] = fingerprint(srv.host_keys[kt] .. ".pub")
    end
    srv.host_key_fingerprint = srv.host_key_fingerprints.ed25519

    keygen(srv.key, "ed25519", "", "luasible-test-key")
    keygen(srv.key_pass, "ed25519", PASSPHRASE, "luasible-test-key-pass")
    keygen(srv.key_rsa, "rsa", "", "luasible-test-key-rsa")
    -- the same RSA key as a PEM file
    write_file(srv.key_rsa_pem, assert(read_file(srv.key_rsa)))
    must("chmod 0600 " .. q(srv.key_rsa_pem), "chmod")
    must("ssh-keygen -q -p -m PEM -P '' -N '' -f " .. q(srv.key_rsa_pem), "ssh-keygen -p -m PEM")
    write_file(srv.key_rsa_pem .. ".pub", assert(read_file(srv.key_rsa .. ".pub")))

    write_file(srv.authorized_keys, pubkey(srv.key .. ".pub") .. "\n"
      .. pubkey(srv.key_pass .. ".pub") .. "\n" .. pubkey(srv.key_rsa .. ".pub") .. "\n")
    must("chmod 0644 " .. q(srv.authorized_keys), "chmod")

    for _ = 1, 20 do
      srv.port = pick_port()
      used_ports[srv.port] = true
      M._write_known_hosts(srv)
      write_ssh_config(srv)
      write_sshd_config(srv, opts)
      if launch(srv) then
        start_watchdog(srv)
        return
      end
    end
    error("sshd helper: no port could be bound after 20 tries")
  end)
  if not ok then
    pcall(stop_watchdog, srv)
    pcall(kill_everything, srv)
    srv._stopped = true
    os.execute("rm -rf " .. q(dir))
    error(err, 2)
  end
  return srv
end

return M
