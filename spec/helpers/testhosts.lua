--- spec/helpers/testhosts.lua: throwaway "machines" on this one, for specs
-- that change system state (users, files in /etc, packages, sysctls,
-- mounts) and for plays across several real hosts.
--
--   local th = require "spec.helpers.testhosts"
--   describe("#hosts something", function()
--     local ok, why = th.available()
--     if not ok then pending("test hosts unavailable: " .. why) return end
--     local hosts
--     lazy_setup(function() hosts = th.start { n = 3 } end)
--     lazy_teardown(function() if hosts then hosts:stop() end end)
--     it("...", function()
--       local recap = luasible.play(play, { inventory = hosts:inventory() })
--       assert.equal("x\n", hosts[1]:exec("cat /etc/x"))   -- no SSH needed
--     end)
--   end)
--
-- Each host is, on this machine (needs root, network namespaces, overlayfs):
--   - a network namespace "lsbt-<pid>-<i>" whose eth0 (one end of a veth
--     pair; the other end is on the run's bridge) has host.address in a /24
--     of 10.160.0.0-10.223.255.0 that no interface or route here uses
--     (derived from the pid, checked, so concurrent runs do not collide);
--     the controller (this process) is hosts.controller (.1) on the bridge;
--     lo is up. The hosts of one run reach each other, by name too (/etc/hosts).
--   - its own UTS (hostname = host.name), IPC, PID and mount namespaces: PID
--     1 is a small shell that starts sshd and reaps orphans; the host's /proc
--     shows only its own processes;
--   - root filesystem = an overlay, lower "/" (this machine), upper on a
--     tmpfs that only the host's mount namespace holds: every change made on
--     the host (useradd, /etc, packages, ...) stays in it and is gone at
--     stop(). Private /tmp, /run, /dev (null zero full random urandom tty,
--     own devpts, shm), /proc, /sys (read-only). /proc/sys is read-only
--     except /proc/sys/net (per network namespace): `sysctl -w net.*` works
--     and stays inside; kernel.*, vm.* ... cannot be changed from a host.
--   - its own sshd (/usr/sbin/sshd) on port 22 of all its addresses, as on a
--     real machine: /etc/ssh/sshd_config (UsePAM no, StrictModes no, raised
--     MaxSessions/MaxStartups, SetEnv SHLVL=1), its own ed25519 host key
--     /etc/ssh/ssh_host_ed25519_key (the machine's other host keys are
--     removed in the host), AuthorizedKeysFile ".ssh/authorized_keys
--     /etc/ssh/luasible_authorized_keys": the run's client key logs in as any
--     user of the host, also users created later on it. /etc/hostname and
--     /etc/machine-id are the host's own.
--
-- th.available() -> true, or false, reason (cached): root, the tools, a
--   network namespace and overlayfs. Specs call pending() when false.
-- th.start(opts) -> hosts; raises "testhosts: ..." when unavailable or when
--   a host does not come up (with its log). opts, all optional:
--     n             = 1 (or #names)    how many hosts
--     names         = { "web1", ... }  hostnames (default "host1".."hostN")
--     config        = "..." or { ... } extra sshd_config lines (they win)
--     legacy_rsa    = true             as in sshd.lua
--     sshd          = "/usr/sbin/sshd"
--     start_timeout = 10               seconds for all hosts to listen
--     group         = "testhosts"      the inventory group of the hosts
--     behind        = { db = "bastion" } hosts reachable only through another
--                      one (a jump host): their eth0 is in a second /24
--                      (hosts.private_subnet) on a bridge inside that host's
--                      namespace, where the controller has no interface and
--                      no route; that host gets host.private_address there.
--                      Their inventory vars have no route from here: reach
--                      them with ProxyJump (hosts:inventory{ jump = true })
-- The hosts start in parallel: 3 hosts in 0.3-0.7 s, stop() in about
-- 0.15 s (2 busy cores); testhosts_spec asserts < 5 s and < 3 s.
--
-- hosts (a list: hosts[1], #hosts, ipairs) fields and methods:
--   dir                the run's temp dir /tmp/lsbt-<pid>-<k>.XXXXXX
--   key, key .. ".pub" the run's ed25519 client key (no passphrase)
--   known_hosts        "<name>,<address> ssh-ed25519 ..." for every host
--   ssh_config         for OpenSSH's `ssh -F` (see host:ssh)
--   subnet             "10.x.y.0/24"; controller = "10.x.y.1"; bridge
--   hosts:get(name)    the host with that name
--   hosts:inventory(o) a Lua inventory for luasible.play (opts.inventory):
--                      { all = { children = { testhosts = { hosts = {
--                      [name] = { ansible_host, ansible_port = 22,
--                      ansible_user = "root", ansible_ssh_private_key_file,
--                      luasible_known_hosts, luasible_host_key_check =
--                      "strict", luasible_ssh_config = "none" } } } } } };
--                      o.vars: more vars for every host, o.group;
--                      o.jump: hosts behind another one get
--                      ansible_ssh_common_args "-o ProxyJump=root@<its address>"
--   hosts:inventory_ini(o)  the same as INI text
--   hosts:leftovers()  what of the run still exists ({ "netns lsbt-..", ... }):
--                      empty after stop()
--   hosts:stop()       kill everything in the hosts' namespaces (by the
--                      netns: `ip netns pids`), delete the veths, the bridge,
--                      the namespaces and the dir; check that nothing is left.
--                      Idempotent; also on __close and __gc. A watchdog shell
--                      runs the same cleanup (dir/cleanup.sh) when this process
--                      dies without stop(); th.start also removes what runs of
--                      dead processes left behind.
-- host fields and methods:
--   name, address, port (22), user ("root"), key, known_hosts, netns,
--   host_key (the "ssh-ed25519 AAAA..." public key), host_key_fingerprint,
--   pid (the host's PID 1 as seen from here), root ("/proc/<pid>/root": the
--   host's / from here), namespaces ({ net = "net:[...]", mnt, pid, uts, ipc })
--   host:exec(cmd)     run `sh -c cmd` inside the host's namespaces (no SSH),
--                      as root, cwd /, a clean environment; returns stdout,
--                      ok, exit code, stderr
--   host:read(path)    a file of the host (nil when missing); host:write(path, s)
--   host:ssh(cmd, o)   the same through OpenSSH (`ssh -F hosts.ssh_config`),
--                      as srv:ssh of sshd.lua (o.user, o.options)
--   host:connect_args() the table for luasible.connect
--   host:running()     its PID 1 is alive; host:log_tail(n) its sshd's log
--
-- Good to know:
--   - host:read/write go through host.root, resolved here: fine for plain
--     files; an absolute symlink is followed from this machine's root, and
--     /proc/sys/net shows the reader's network namespace: use host:exec for
--     /proc and symlinks.
--   - UsePAM no: sshd refuses accounts whose password is locked ("!", what
--     useradd gives): `useradd -p '*' ...` or set a password to log in as them.
--   - The hosts reach only their /24 (no route out, no package archive):
--     install packages from a .deb written onto the host (dpkg -i).
--   - The lower layer is the root filesystem alone: a file system mounted
--     below / here (a separate /home, say) is an empty folder on the hosts.
--   - Names used: netns lsbt-<pid>-<i>, links lsbt<pid>b<k> (bridge) and
--     lsbt<pid>v<i> (veth), dir /tmp/lsbt-<pid>-<k>.*; <pid> is this process.
local C = require "spec.helpers.sshd_common"
local net = require "spec.helpers.testhosts_net"
local files = require "spec.helpers.files"
local q, run, now, sleep = C.q, C.run, C.now, C.sleep
local read_file, write_file = files.read, files.write

local M = {}

local WHO = "testhosts"
local function must(cmd, what) return C.must(cmd, what, WHO) end

local ENV = "env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  .. " HOME=/root USER=root LOGNAME=root SHELL=/bin/sh LANG=C.UTF-8"

-- the PID 1 of every host: testhost_init.sh beside this file (absolute)
local INIT = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/helpers") .. "/testhost_init.sh"
if INIT:sub(1, 1) ~= "/" then INIT = (os.getenv("PWD") or ".") .. "/" .. INIT:gsub("^%./", "") end

---------------------------------------------------------------------------
-- availability

local function is_root()
  return (run("id -u")):match("^0\n") ~= nil
end

local available_cache
--- true, or false, reason.
function M.available()
  if available_cache then return table.unpack(available_cache) end
  local function answer(ok, why)
    available_cache = { ok, why }
    return ok, why
  end
  if not is_root() then return answer(false, "not root (network namespaces and mounts need root)") end
  for _, tool in ipairs { "ip", "unshare", "nsenter", "mount", "pivot_root", "ssh-keygen", "/usr/sbin/sshd" } do
    local _, ok = run("command -v " .. tool)
    if not ok then return answer(false, "missing " .. tool .. " (scripts/deps installs it)") end
  end
  local fs = read_file("/proc/filesystems") or ""
  if not fs:find("%soverlay\n") then
    run("modprobe overlay")
    fs = read_file("/proc/filesystems") or ""
    if not fs:find("%soverlay\n") then return answer(false, "no overlayfs in this kernel") end
  end
  local probe = "lsbt-" .. C.lua_pid() .. "-probe"
  local out, ok = run("ip netns add " .. probe)
  run("ip netns del " .. probe)
  if not ok then return answer(false, "network namespaces unavailable: " .. out:gsub("%s+$", "")) end
  return answer(true)
end

---------------------------------------------------------------------------
-- a host

local Host = {}
Host.__index = Host
Host.__name = "luasible.testhost"

function Host:__tostring()
  return string.format("test host %s %s (pid %s)", self.name, self.address, tostring(self.pid))
end

function Host:exec(cmd)
  return C.capture("nsenter -t " .. self.pid .. " -m -u -i -n -p -- " .. ENV
    .. " sh -c " .. q("cd / && " .. cmd), self.dir .. "/exec.stderr")
end

function Host:read(path)
  return read_file(self.root .. path)
end

function Host:write(path, data)
  write_file(self.root .. path, data)
end

function Host:ssh(cmd, o)
  return C.ssh(self.ssh_config, self.name, cmd, o, self.dir .. "/ssh.stderr")
end

function Host:connect_args()
  return { host = self.address, port = self.port, user = self.user, identity = self.key,
    known_hosts = self.known_hosts, host_key_check = "strict", ssh_config = false }
end

function Host:running()
  return self.pid ~= nil and C.alive(self.pid, self._starttime)
end

function Host:log_tail(n)
  return C.tail(read_file(self.dir .. "/log"), n or 20)
end

---------------------------------------------------------------------------
-- the hosts of one run

local Hosts = {}
Hosts.__index = Hosts
Hosts.__name = "luasible.testhosts"

function Hosts:get(name)
  for _, h in ipairs(self) do if h.name == name then return h end end
  return nil
end

local function host_vars(h, extra)
  local v = { ansible_host = h.address, ansible_port = h.port, ansible_user = h.user,
    ansible_ssh_private_key_file = h.key, luasible_known_hosts = h.known_hosts,
    luasible_host_key_check = "strict", luasible_ssh_config = "none" }
  for k, x in pairs(extra or {}) do v[k] = x end
  return v
end

function Hosts:inventory(o)
  o = o or {}
  local hs = {}
  for _, h in ipairs(self) do
    hs[h.name] = host_vars(h, o.vars)
    if o.jump and h.behind then
      hs[h.name].ansible_ssh_common_args = "-o ProxyJump=root@" .. h.behind.address
    end
  end
  return { all = { children = { [o.group or self.group] = { hosts = hs } } } }
end

function Hosts:inventory_ini(o)
  o = o or {}
  local lines = { "[" .. (o.group or self.group) .. "]" }
  for _, h in ipairs(self) do
    local v = host_vars(h, o.vars)
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    local words = { h.name }
    for _, k in ipairs(keys) do words[#words + 1] = k .. "=" .. tostring(v[k]) end
    lines[#lines + 1] = table.concat(words, " ")
  end
  return table.concat(lines, "\n") .. "\n"
end

-- what is left of this run: a list of descriptions (empty when clean)
function Hosts:leftovers()
  local left = {}
  local netns = run("ip netns list")
  local links = run("ip -o link show")
  for _, h in ipairs(self) do
    if netns:find(h.netns .. "%f[%s]") then left[#left + 1] = "netns " .. h.netns end
    if links:find(": " .. h.veth .. "[@:]") then left[#left + 1] = "link " .. h.veth end
    if h.pid and C.alive(h.pid, h._starttime) then left[#left + 1] = "process " .. h.pid end
  end
  if self.bridge and links:find(": " .. self.bridge .. "[@:]") then left[#left + 1] = "link " .. self.bridge end
  if self.dir and run("test -e " .. q(self.dir) .. " && echo yes"):find("yes") then
    left[#left + 1] = "dir " .. self.dir
  end
  return left
end

function Hosts:stop()
  if self._stopped then return true end
  self._stopped = true
  C.stop_watchdog(self._watchdog, self._watchdog_start)
  self._watchdog = nil
  if self.dir and self.dir:match("^/tmp/lsbt%-") then
    must("sh " .. q(self.dir .. "/cleanup.sh"), "cleanup")
  end
  local left = self:leftovers()
  if #left > 0 then error("testhosts: stop() left " .. table.concat(left, ", "), 2) end
  return true
end

Hosts.__close = Hosts.stop
Hosts.__gc = function(self)
  if not self._stopped then pcall(Hosts.stop, self) end
end

---------------------------------------------------------------------------
-- start

local run_counter, host_counter = 0, 0

local function check_names(names)
  local seen = {}
  for _, n in ipairs(names) do
    if type(n) ~= "string" or not n:match("^%w[%w%-]*$") or #n > 63 then
      error("testhosts: bad host name " .. tostring(n) .. " (letters, digits and -)", 3)
    end
    if seen[n] then error("testhosts: host name " .. n .. " twice", 3) end
    seen[n] = true
  end
end

local function write_files(hosts, opts)
  local dir = hosts.dir
  local mkdirs = {}
  for _, h in ipairs(hosts) do
    for _, d in ipairs { "/files", "/rw", "/root" } do mkdirs[#mkdirs + 1] = q(h.dir .. d) end
  end
  must("mkdir -p " .. table.concat(mkdirs, " "), "mkdir")
  -- keys: the client key and one host key per host, in one go
  local gens = { "ssh-keygen -q -t ed25519 -N '' -C luasible-testhosts -f " .. q(hosts.key) .. " </dev/null &" }
  for _, h in ipairs(hosts) do
    gens[#gens + 1] = "ssh-keygen -q -t ed25519 -N '' -C " .. q("root@" .. h.name) .. " -f "
      .. q(h.dir .. "/files/ssh_host_ed25519_key") .. " </dev/null &"
  end
  gens[#gens + 1] = "wait"
  must(table.concat(gens, " "), "ssh-keygen")
  local client = C.pubkey(hosts.key .. ".pub")
  local kh, etc_hosts, fps = {}, {}, {}
  for _, h in ipairs(hosts) do
    local pub = h.dir .. "/files/ssh_host_ed25519_key.pub"
    h.host_key = C.pubkey(pub):match("^(%S+%s+%S+)")
    kh[#kh + 1] = h.name .. "," .. h.address .. " " .. h.host_key
    etc_hosts[#etc_hosts + 1] = h.address .. "\t" .. h.name
    fps[#fps + 1] = "ssh-keygen -l -E sha256 -f " .. q(pub)
  end
  local fp_out = must(table.concat(fps, "; "), "ssh-keygen -l")
  local i = 0
  for fp in fp_out:gmatch("(SHA256:[%w+/=]+)") do
    i = i + 1
    hosts[i].host_key_fingerprint = fp
  end
  write_file(hosts.known_hosts, table.concat(kh, "\n") .. "\n")
  local entries = {}
  for j, h in ipairs(hosts) do
    entries[j] = { alias = h.name, hostname = h.address, port = 22, user = "root", key = hosts.key }
  end
  write_file(hosts.ssh_config, C.ssh_config_text(entries, hosts.known_hosts))
  -- one sshd_config for all (the paths are the hosts' own), checked once
  local cfg = dir .. "/sshd_config"
  C.write_sshd_config(hosts.sshd_bin, cfg, {
    header = "spec/helpers/testhosts.lua", who = WHO, listen = "0.0.0.0", port = 22, config = opts.config,
    host_keys = { "/etc/ssh/ssh_host_ed25519_key" }, pid_file = "/run/sshd.pid",
    authorized_keys = ".ssh/authorized_keys /etc/ssh/luasible_authorized_keys",
    legacy_rsa = opts.legacy_rsa,
  }, "-h " .. q(hosts[1].dir .. "/files/ssh_host_ed25519_key"))
  local sshd_config = assert(read_file(cfg))
  local base_hosts = (read_file("/etc/hosts") or "127.0.0.1\tlocalhost\n"):gsub("\n*$", "\n")
  local all_hosts = base_hosts .. "# the test hosts (spec/helpers/testhosts.lua)\n"
    .. table.concat(etc_hosts, "\n") .. "\n"
  for _, h in ipairs(hosts) do
    local f = h.dir .. "/files/"
    write_file(f .. "sshd_config", sshd_config)
    write_file(f .. "luasible_authorized_keys", client .. "\n")
    write_file(f .. "hostname", h.name .. "\n")
    write_file(f .. "hosts", all_hosts)
    local uuid = (read_file("/proc/sys/kernel/random/uuid") or ""):gsub("[^%x]", "")
    write_file(f .. "machine-id", uuid .. "\n")
  end
end

local function launch(hosts, h)
  local inner = "echo $$; exec nsenter --net=/run/netns/" .. h.netns
    .. " unshare --mount --uts --ipc --pid --fork --kill-child --propagation private"
    .. " sh " .. q(INIT) .. " " .. q(h.dir) .. " " .. q(h.name) .. " "
    .. q(h.address .. "/24") .. " " .. q(hosts.sshd_bin)
    .. " </dev/null >>" .. q(h.dir .. "/log") .. " 2>&1"
  local p = assert(io.popen("sh -c " .. q(inner) .. " &", "r"))
  local line = p:read("l")
  p:close()
  h._unshare = tonumber(line)
  if not h._unshare then error("testhosts: could not start host " .. h.name .. ": " .. tostring(line)) end
end

local function namespaces(pid)
  local ns = {}
  for _, kind in ipairs { "net", "mnt", "pid", "uts", "ipc" } do
    local p = io.popen("readlink /proc/" .. pid .. "/ns/" .. kind .. " 2>/dev/null")
    ns[kind] = p and p:read("l")
    if p then p:close() end
  end
  return ns
end

-- wait until every host's sshd listens on port 22 in its namespace
local function wait_ready(hosts)
  local deadline = now() + hosts.start_timeout
  local waiting = {}
  for _, h in ipairs(hosts) do waiting[#waiting + 1] = h end
  while #waiting > 0 do
    local still = {}
    for _, h in ipairs(waiting) do
      if not h.pid then
        local s = read_file(h.dir .. "/pid")
        h.pid = s and tonumber(s:match("%d+"))
        if h.pid then
          local _, _, st = C.proc_stat(h.pid)
          h._starttime = st
          h.root = "/proc/" .. h.pid .. "/root"
        end
      end
      if h.pid and C.listening_ports("/proc/" .. h.pid)[22] then
        h.namespaces = namespaces(h.pid)
      else
        if not C.alive(h._unshare) or (h.pid and not C.alive(h.pid, h._starttime)) then
          error(string.format("testhosts: host %s did not start:\n%s", h.name, h:log_tail(30)), 0)
        end
        still[#still + 1] = h
      end
    end
    waiting = still
    if #waiting > 0 then
      if now() > deadline then
        error(string.format("testhosts: host %s: no sshd on %s:22 within %gs\n%s",
          waiting[1].name, waiting[1].address, hosts.start_timeout, waiting[1]:log_tail(30)), 0)
      end
      sleep(0.005)
    end
  end
end

function M.start(opts)
  opts = opts or {}
  local ok, why = M.available()
  if not ok then error("testhosts: unavailable: " .. why, 2) end
  local names = opts.names
  local n = opts.n or (names and #names) or 1
  if not names then
    names = {}
    for i = 1, n do names[i] = "host" .. i end
  end
  assert(n >= 1 and #names == n, "testhosts: n >= 1 hosts, and as many names")
  check_names(names)
  net.sweep()
  local pid = C.lua_pid()
  run_counter = run_counter + 1
  local hosts = setmetatable({
    group = opts.group or "testhosts",
    sshd_bin = opts.sshd or "/usr/sbin/sshd",
    start_timeout = opts.start_timeout or 10,
    bridge = string.format("lsbt%db%d", pid, run_counter),
  }, Hosts)
  local dir = must(string.format("mktemp -d /tmp/lsbt-%d-%d.XXXXXX", pid, run_counter), "mktemp"):match("[^\n]+")
  hosts.dir = dir
  hosts.key = dir .. "/id_ed25519"
  hosts.known_hosts = dir .. "/known_hosts"
  hosts.ssh_config = dir .. "/ssh_config"
  for i, name in ipairs(names) do
    host_counter = host_counter + 1
    hosts[i] = setmetatable({
      name = name, port = 22, user = "root", key = hosts.key, known_hosts = hosts.known_hosts,
      ssh_config = hosts.ssh_config, dir = dir .. "/h" .. i,
      netns = string.format("lsbt-%d-%d", pid, host_counter),
      veth = string.format("lsbt%dv%d", pid, host_counter),
    }, Host)
    assert(#hosts[i].veth <= 15 and #hosts.bridge <= 15, "testhosts: interface name too long")
  end
  for target, via in pairs(opts.behind or {}) do
    local t, b = hosts:get(target), hosts:get(via)
    if not t or not b or t == b or b.behind then
      error("testhosts: behind: " .. tostring(target) .. " behind " .. tostring(via)
        .. " (two different hosts of the run, the second not itself behind another)", 2)
    end
    t.behind = b
  end
  write_file(dir .. "/cleanup.sh", net.cleanup_script(hosts))
  local started, err = pcall(function()
    hosts._watchdog, hosts._watchdog_start = C.start_watchdog(dir, "sh " .. q(dir .. "/cleanup.sh"))
    net.make(hosts, pid, run_counter)
    write_files(hosts, opts)
    for _, h in ipairs(hosts) do launch(hosts, h) end
    wait_ready(hosts)
  end)
  if not started then
    pcall(Hosts.stop, hosts)
    error(err, 2)
  end
  return hosts
end

return M
