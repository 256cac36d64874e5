--- spec/helpers/sshd_common.lua: what the two test-server helpers share,
-- spec/helpers/sshd.lua (one sshd on loopback) and spec/helpers/testhosts.lua
-- (throwaway machines in namespaces, each with its own sshd): shell and
-- /proc utilities, keys, sshd_config text, the OpenSSH client, and the
-- watchdog that cleans up when the Lua process dies without stop().
local files = require "spec.helpers.files"
local read_file, write_file = files.read, files.write

local C = {}

local has_system, system = pcall(require, "system")
if has_system and type(system.sleep) ~= "function" then has_system = false end

---------------------------------------------------------------------------
-- small utilities

--- `s` quoted for sh.
function C.q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
local q = C.q

function C.sleep(s)
  if has_system then
    system.sleep(s)
  else
    os.execute("sleep " .. string.format("%.3f", s))
  end
end
local sleep = C.sleep

function C.now()
  if has_system and system.monotime then return system.monotime() end
  return os.time()
end
local now = C.now

--- Run a shell command: its output (stdout+stderr), ok, exit code.
function C.run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok == true, code
end
local run = C.run

--- C.run, raising "<who>: <what> failed ..." (who: "sshd helper") when it fails.
function C.must(cmd, what, who)
  local out, ok, code = run(cmd)
  if not ok then
    error(string.format("%s: %s failed (exit %s): %s\n%s", who or "sshd helper",
      what or "command", tostring(code), cmd, out), 3)
  end
  return out
end
local must = C.must

--- The last n lines of text.
function C.tail(text, n)
  if not text or text == "" then return "" end
  local lines = {}
  for line in text:gmatch("[^\n]*") do lines[#lines + 1] = line end
  while #lines > 0 and lines[#lines] == "" do lines[#lines] = nil end
  local from = math.max(1, #lines - (n or 20) + 1)
  return table.concat(lines, "\n", from)
end

--- Run the shell command line (stdin /dev/null, stderr through errfile):
--- stdout, ok, exit code, stderr.
function C.capture(cmdline, errfile)
  local p = assert(io.popen(cmdline .. " </dev/null 2>" .. q(errfile), "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  local err = read_file(errfile) or ""
  os.remove(errfile)
  return out, ok == true, code, err
end

---------------------------------------------------------------------------
-- /proc helpers (no names: parent pids and start times)

--- state, ppid, starttime of pid, or nil when it does not exist.
function C.proc_stat(pid)
  local s = read_file("/proc/" .. pid .. "/stat")
  if not s then return nil end
  local rest = s:match("^.*%)%s+(.*)$")   -- comm may contain spaces and ")"
  if not rest then return nil end
  local t = {}
  for field in rest:gmatch("%S+") do t[#t + 1] = field end
  return t[1], tonumber(t[2]), t[20]
end
local proc_stat = C.proc_stat

--- Is pid a live process (with that start time, when given)? A zombie is
--- dead (PID 1 may never reap orphans in a container).
function C.alive(pid, starttime)
  local state, _, st = proc_stat(pid)
  if not state or state == "Z" or state == "X" then return false end
  if starttime and st ~= starttime then return false end   -- pid reused
  return true
end
local alive = C.alive

function C.all_pids()
  local pids = {}
  local p = io.popen("ls /proc 2>/dev/null")
  if p then
    for name in p:lines() do
      if name:match("^%d+$") then pids[#pids + 1] = tonumber(name) end
    end
    p:close()
  end
  return pids
end

--- roots plus every (living) descendant of them, by parent pid
function C.tree(roots, pids)
  pids = pids or C.all_pids()
  local children = {}
  for _, pid in ipairs(pids) do
    local state, ppid = proc_stat(pid)
    if state and state ~= "Z" and state ~= "X" and ppid then
      local c = children[ppid]
      if not c then c = {}; children[ppid] = c end
      c[#c + 1] = pid
    end
  end
  local seen, out, queue = {}, {}, {}
  for _, r in ipairs(roots) do queue[#queue + 1] = r end
  local i = 1
  while queue[i] do
    local pid = queue[i]
    i = i + 1
    if not seen[pid] then
      seen[pid] = true
      out[#out + 1] = pid
      for _, c in ipairs(children[pid] or {}) do queue[#queue + 1] = c end
    end
  end
  return out
end

function C.signal(pids, sig)
  if #pids == 0 then return end
  local list = {}
  for i, pid in ipairs(pids) do list[i] = tostring(pid) end
  os.execute("kill -" .. sig .. " " .. table.concat(list, " ") .. " 2>/dev/null")
end
local signal = C.signal

--- Wait until none of pids lives: true, or false, the pids still alive.
function C.wait_dead(pids, timeout)
  local deadline = now() + (timeout or 5)
  repeat
    local left = {}
    for _, pid in ipairs(pids) do
      if alive(pid) then left[#left + 1] = pid end
    end
    if #left == 0 then return true end
    pids = left
    sleep(0.02)
  until now() > deadline
  return false, pids
end

--- The set of TCP ports in state LISTEN in a network namespace: the
--- controller's, or the one of the process whose /proc folder is proc_dir
--- ("/proc/<pid>").
function C.listening_ports(proc_dir)
  local ports = {}
  for _, name in ipairs { "/net/tcp", "/net/tcp6" } do
    local s = read_file((proc_dir or "/proc") .. name)
    if s then
      for port, state in s:gmatch("\n%s*%d+:%s+%x+:(%x+)%s+%x+:%x+%s+(%x%x)") do
        if state == "0A" then ports[tonumber(port, 16)] = true end
      end
    end
  end
  return ports
end

---------------------------------------------------------------------------
-- keys

--- A new key pair at path (and path .. ".pub"), replacing what was there.
function C.keygen(path, ktype, passphrase, comment)
  os.remove(path)
  os.remove(path .. ".pub")
  local bits = ""
  if ktype == "rsa" then bits = " -b 2048"
  elseif ktype == "ecdsa" then bits = " -b 256" end
  must(string.format("ssh-keygen -q -t %s%s -N %s -C %s -f %s </dev/null",
    ktype, bits, q(passphrase or ""), q(comment or "luasible-test"), q(path)),
    "ssh-keygen " .. ktype)
end

--- "SHA256:..." of a public key file.
function C.fingerprint(pubfile)
  local out = must("ssh-keygen -l -E sha256 -f " .. q(pubfile), "ssh-keygen -l")
  return (assert(out:match("(SHA256:[%w+/=]+)"), "no fingerprint in: " .. out))
end

--- The one line of a public key file, without the final newline.
function C.pubkey(path)
  local s = assert(read_file(path), "cannot read " .. path)
  return (s:gsub("%s+$", ""))
end

---------------------------------------------------------------------------
-- sshd_config

-- config keywords newer/older sshds may not know: dropped when `sshd -t`
-- calls them bad (cached per process)
local optional_keywords = { PerSourcePenalties = true, PerSourceMaxStartups = true }
local unsupported = {}

--- The text of an sshd_config for the specs. o: header (first comment),
--- listen, port, config (extra lines, string or list: they go first, as sshd
--- keeps the first value of a keyword), host_keys (list of paths), pid_file,
--- authorized_keys (AuthorizedKeysFile value), use_pam, set_env (extra
--- NAME=value words for SetEnv), legacy_rsa (false: modern algorithms only),
--- who (the helper named in errors).
function C.sshd_config_text(o)
  local c = {
    "# written by " .. (o.header or "spec/helpers"),
    "ListenAddress " .. o.listen,
    "Port " .. o.port,
  }
  local extra = o.config
  if type(extra) == "string" then extra = { extra } end
  for _, l in ipairs(extra or {}) do c[#c + 1] = l end
  for _, k in ipairs(o.host_keys) do c[#c + 1] = "HostKey " .. k end
  for _, l in ipairs {
    "PidFile " .. o.pid_file,
    "AuthorizedKeysFile " .. o.authorized_keys,
    "UsePAM " .. (o.use_pam and "yes" or "no"),
    "StrictModes no",
    "MaxSessions 100",
    "MaxStartups 200:30:300",
    "MaxAuthTries 20",
    "LoginGraceTime 30",
    "PubkeyAuthentication yes",
    "PasswordAuthentication yes",
    "KbdInteractiveAuthentication yes",
    "PermitEmptyPasswords no",
    "PermitRootLogin yes",
    -- root's ~/.bashrc is slow to read when SHLVL is unset
    "SetEnv SHLVL=1" .. (o.set_env and " " .. o.set_env or ""),
    "LogLevel VERBOSE",
    "Subsystem sftp internal-sftp",
    "ClientAliveInterval 0",
    "TCPKeepAlive yes",
    "AcceptEnv none",
    "PermitUserEnvironment no",
    "UseDNS no",
    "PrintMotd no",
    "PrintLastLog no",
    "X11Forwarding no",
    "AllowTcpForwarding yes",
    "PerSourceMaxStartups none",
    "PerSourcePenalties no",
  } do c[#c + 1] = l end
  if o.legacy_rsa ~= false then
    c[#c + 1] = "PubkeyAcceptedAlgorithms +ssh-rsa,ssh-rsa-cert-v01@openssh.com"
    c[#c + 1] = "HostKeyAlgorithms +ssh-rsa"
  end
  -- keywords the spec's own lines set: the defaults below them are left
  -- out (MaxStartups: sshd keeps the last value, not the first)
  local own = {}
  for _, l in ipairs(extra or {}) do
    local kw = l:match("^%s*(%S+)")
    if kw and kw:lower() == "maxstartups" then own.maxstartups = true end
  end
  local out = {}
  for i, l in ipairs(c) do
    local kw = l:match("^(%S+)")
    local dup = i > 3 + #(extra or {}) and kw and own[kw:lower()]
    if not unsupported[kw] and not dup then out[#out + 1] = l end
  end
  return table.concat(out, "\n") .. "\n"
end

--- Write C.sshd_config_text(o) to path and check it with `sshd -t`
--- (check_args: more arguments, such as "-h <key>" when the config's host
--- keys are not there yet); raises when sshd rejects it.
function C.write_sshd_config(sshd_bin, path, o, check_args)
  os.execute("mkdir -p /run/sshd 2>/dev/null")   -- privilege separation dir
  for _ = 1, 5 do
    write_file(path, C.sshd_config_text(o))
    local out, ok = run(q(sshd_bin) .. " -t -f " .. q(path) .. (check_args and " " .. check_args or ""))
    if ok then return end
    local bad = out:match("Bad configuration option: (%S+)")
      or out:match("Unsupported option (%S+)")
    if bad and optional_keywords[bad] and not unsupported[bad] then
      unsupported[bad] = true
    else
      error((o.who or "sshd helper") .. ": sshd -t rejects " .. path .. ":\n" .. out, 3)
    end
  end
end

---------------------------------------------------------------------------
-- the OpenSSH client

--- An ssh_config for `ssh -F`: a Host block per entry ({ alias, hostname,
--- port, user, key }), then the settings for every host.
function C.ssh_config_text(entries, known_hosts)
  local b = {}
  for _, e in ipairs(entries) do
    b[#b + 1] = "Host " .. e.alias
    b[#b + 1] = "    HostName " .. e.hostname
    b[#b + 1] = "    Port " .. e.port
    b[#b + 1] = "    User " .. e.user
    b[#b + 1] = "    IdentityFile " .. e.key
    b[#b + 1] = ""
  end
  b[#b + 1] = "Host *"
  for _, l in ipairs {
    "IdentitiesOnly yes",
    "UserKnownHostsFile " .. known_hosts,
    "GlobalKnownHostsFile /dev/null",
    "StrictHostKeyChecking yes",
    "UpdateHostKeys no",
    "CheckHostIP no",
    "BatchMode yes",
    "ConnectTimeout 10",
    "ControlMaster no",
    "ControlPath none",
    "LogLevel ERROR",
  } do b[#b + 1] = "    " .. l end
  return table.concat(b, "\n") .. "\n"
end

--- Run cmd on host (an alias of ssh_config) with OpenSSH's client; stderr
--- goes through errfile. Returns stdout, ok, exit code, stderr.
--- o.user, o.options ({ "-o", "X=y" }).
function C.ssh(ssh_config, host, cmd, o, errfile)
  o = o or {}
  local args = { "ssh", "-F", q(ssh_config), "-o", "BatchMode=yes" }
  if o.user then args[#args + 1] = "-l"; args[#args + 1] = q(o.user) end
  for _, a in ipairs(o.options or {}) do args[#args + 1] = q(a) end
  args[#args + 1] = q(host)
  args[#args + 1] = "--"
  args[#args + 1] = q(cmd)
  return C.capture(table.concat(args, " "), errfile)
end

---------------------------------------------------------------------------
-- watchdog: when the Lua process dies without stop() (busted killed by a
-- timeout, Ctrl-C, os.exit without close), clean up. One `sh` per server
-- in its own session (setsid: signals sent to the test runner's process
-- group do not reach it), polling once a second.

local lua_pid
--- The pid of this Lua process.
function C.lua_pid()
  if not lua_pid then
    local p = io.popen("echo $PPID")   -- the popen shell's parent is us
    if p then
      lua_pid = tonumber(p:read("l"))
      p:close()
    end
  end
  return lua_pid
end

--- Start a watchdog: once this process is gone and `dir` still exists, it
--- runs the shell text `cleanup` (which must remove dir). Returns the
--- watchdog's pid and start time (for C.stop_watchdog), or nil.
function C.start_watchdog(dir, cleanup)
  local me = C.lua_pid()
  if not me then return nil end
  local _, _, me_start = proc_stat(me)
  if not me_start then return nil end
  dir = q(dir)
  -- "alive" = /proc/<me>/stat exists, is no zombie and has our start time
  local script = "trap '' INT TERM HUP; echo $$; exec >/dev/null 2>&1 </dev/null; "
    .. "alive() { read -r s </proc/" .. me .. "/stat || return 1; s=${s##*) }; "
    .. "set -- $s; [ \"$1\" != Z ] && [ \"${20}\" = " .. me_start .. " ]; }; "
    .. "while alive && [ -d " .. dir .. " ]; do sleep 1; done; "
    .. "if [ -d " .. dir .. " ]; then " .. cleanup .. "; fi"
  local setsid = os.execute("command -v setsid >/dev/null 2>&1") and "setsid " or ""
  local p = io.popen(setsid .. "sh -c " .. q(script) .. " &")
  if not p then return nil end
  local pid = tonumber(p:read("l"))
  p:close()
  if not pid then return nil end
  local _, _, st = proc_stat(pid)
  return pid, st
end

--- End a watchdog started by C.start_watchdog (nothing when pid is nil).
function C.stop_watchdog(pid, starttime)
  if pid and alive(pid, starttime) then signal({ pid }, "KILL") end
end

return C
