-- Jump hosts (ProxyJump), ProxyCommand, ssh-agent, password and
-- keyboard-interactive authentication against real OpenSSH servers on
-- loopback (spec/helpers/sshd.lua). The network-namespace case (a target
-- only the bastion can reach) is spec/integration/ssh_jump_hosts_spec.lua.
local luasible = require "luasible"
local jump = require "luasible.ssh.jump"
local plays = require "luasible.play"
local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"
local proc = require "spec.helpers.proc"
local read, write, sh = files.read, files.write, files.sh

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- a 127.0.0.1 port nothing listens on (from /proc/net/tcp)
local function dead_port()
  local busy = {}
  for _, file in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
    for port in (read(file) or ""):gmatch("\n%s*%d+:%s+%x+:(%x+)%s+%x+:%x+%s+%x%x") do
      busy[tonumber(port, 16)] = true
    end
  end
  for port = 29500, 29999 do if not busy[port] then return port end end
end

-- established TCP connections from this machine to 127.0.0.1:port
local function connections_to(port)
  local n = 0
  for _, file in ipairs({ "/proc/net/tcp" }) do
    for rport in (read(file) or ""):gmatch("\n%s*%d+:%s+%x+:%x+%s+0100007F:(%x+)%s+01") do
      if tonumber(rport, 16) == port then n = n + 1 end
    end
  end
  return n
end

-- established TCP connections of this process to 127.0.0.1:port (its own
-- sockets: the inodes of /proc/self/fd in /proc/net/tcp)
local function my_connections_to(port)
  local mine = {}
  for fd in sh("ls /proc/" .. proc.self_pid() .. "/fd"):gmatch("%d+") do
    local l = sh("readlink /proc/" .. proc.self_pid() .. "/fd/" .. fd .. " 2>/dev/null")
    local ino = l:match("^socket:%[(%d+)%]")
    if ino then mine[ino] = true end
  end
  local n = 0
  for line in (read("/proc/net/tcp") or ""):gmatch("[^\n]+") do
    local f = {}
    for w in line:gmatch("%S+") do f[#f + 1] = w end
    local rport = f[3] and f[3]:match("^0100007F:(%x+)$")
    if rport and tonumber(rport, 16) == port and f[4] == "01" and mine[f[10]] then n = n + 1 end
  end
  return n
end

-- every process's command line (arguments joined by spaces)
local function all_cmdlines()
  local out = {}
  for pid in sh("ls /proc"):gmatch("%d+") do
    local c = read("/proc/" .. pid .. "/cmdline")
    if c and c ~= "" then out[#out + 1] = c:gsub("%z", " ") end
  end
  return out
end

local function wait_until(fn, secs)
  local t0 = luasible.now()
  while not fn() do
    if luasible.now() - t0 > (secs or 5) then return false end
    luasible.sleep(0.05)
  end
  return true
end

describe("#ssh jump hosts on loopback", function()
  local bastion, bastion2, target, dir, cfg, kh

  lazy_setup(function()
    bastion = sshd.start { aliases = { "bastion" } }
    bastion2 = sshd.start { aliases = { "bastion2" } }
    target = sshd.start { aliases = { "target" } }
    dir = bastion.dir
    -- one known_hosts with every server's keys, one ssh_config as a user
    -- writes it: each host with its own key, the target behind the bastion
    kh = dir .. "/known_hosts_all"
    write(kh, read(bastion.known_hosts) .. read(bastion2.known_hosts) .. read(target.known_hosts))
    cfg = dir .. "/config"
    write(cfg, table.concat({
      "Host bastion", "  HostName 127.0.0.1", "  Port " .. bastion.port, "  User " .. bastion.user,
      "  IdentityFile " .. bastion.key,
      "Host bastion2", "  HostName 127.0.0.1", "  Port " .. bastion2.port, "  User " .. bastion2.user,
      "  IdentityFile " .. bastion2.key,
      "Host target target-two", "  HostName 127.0.0.1", "  Port " .. target.port, "  User " .. target.user,
      "  IdentityFile " .. target.key,
      "Host target", "  ProxyJump bastion",
      "Host target-two", "  ProxyJump bastion,bastion2",
      "" }, "\n"))
  end)
  lazy_teardown(function()
    for _, s in ipairs({ bastion, bastion2, target }) do if s then s:stop() end end
  end)

  local function spec(extra)
    local s = { host = "target", ssh_config = cfg, known_hosts = kh, agent = false, connect_timeout = 10 }
    for k, v in pairs(extra or {}) do s[k] = v end
    return s
  end

  it("goes through a ProxyJump of ssh_config; targets behind one bastion share its session", function()
    local before = connections_to(bastion.port)
    local c1 = assert(luasible.connect(spec()))
    local c2 = assert(luasible.connect(spec()))
    local r1 = assert(c1:execute("echo one; echo $LUASIBLE_TEST_SSHD"))
    assert.equal("one\n" .. target.dir .. "\n", r1.stdout) -- the target's sshd ran it
    assert.equal("two\n", assert(c2:execute("echo two")).stdout)
    -- one bastion session (one TCP connection to it) for both
    assert.equal(1, jump.count())
    assert.equal(before + 1, connections_to(bastion.port))
    -- we hold one TCP connection, to the bastion; none to the target
    assert.equal(1, my_connections_to(bastion.port))
    assert.equal(0, my_connections_to(target.port))
    -- the target's connections come from the bastion's sshd, not from us:
    -- the bastion's session process holds them
    local via_bastion = 0
    for _, pid in ipairs(bastion:processes()) do
      for fd in sh("ls /proc/" .. pid .. "/fd 2>/dev/null"):gmatch("%d+") do
        local l = sh("readlink /proc/" .. pid .. "/fd/" .. fd .. " 2>/dev/null")
        if l:find("^socket:") then via_bastion = via_bastion + 1 end
      end
    end
    assert.is_true(via_bastion >= 3) -- its client socket and one per target
    -- streaming works through the tunnel, every line live and complete
    local n = 0
    for ev in c1:stream("seq 1 20000") do
      if ev.type == "stdout" then n = n + 1 end
    end
    assert.equal(20000, n)
    c1:close()
    assert.equal(1, jump.count()) -- c2 still uses it
    assert.equal("still\n", assert(c2:execute("echo still")).stdout)
    c2:close()
    assert.equal(0, jump.count())
    assert.is_true(wait_until(function() return connections_to(bastion.port) == before end))
  end)

  it("targets that connect at once open their tunnels on parallel bastion sessions, at most MAX_SESSIONS", function()
    -- libssh2 opens one channel at a time a session: on one bastion session
    -- the tunnels of targets connecting at once would wait for each other
    local before = connections_to(bastion.port)
    local conns, outs, most = {}, {}, 0
    luasible.run(function()
      local tasks = {}
      for i = 1, 6 do
        tasks[i] = luasible.spawn(function()
          local c = assert(luasible.connect(spec()))
          most = math.max(most, jump.count())
          conns[i] = c
          outs[i] = assert(c:execute("echo " .. i)).stdout
        end)
      end
      for i = 1, 6 do tasks[i]:wait() end
    end)
    for i = 1, 6 do assert.equal(i .. "\n", outs[i]) end
    -- more than one session (they connected at once), never more than the bound
    assert.is_true(most >= 2, "sessions: " .. most)
    assert.is_true(jump.count() <= jump.MAX_SESSIONS, "sessions: " .. jump.count())
    assert.equal(jump.count(), my_connections_to(bastion.port))
    -- one made now shares a ready one
    local n = jump.count()
    local c7 = assert(luasible.connect(spec()))
    assert.equal(n, jump.count())
    c7:close()
    for i = 1, 6 do conns[i]:close() end
    assert.equal(0, jump.count())
    assert.is_true(wait_until(function() return connections_to(bastion.port) == before end))
  end)

  it("takes a jump option (user@host:port chain) and -o ProxyJump in ansible_ssh_common_args", function()
    local c = assert(luasible.connect { host = "127.0.0.1", port = target.port, user = target.user,
      identity = target.key, known_hosts = kh, agent = false, ssh_config = cfg,
      jump = bastion.user .. "@bastion" })
    assert.equal("ok\n", assert(c:execute("echo ok")).stdout)
    c:close()
    -- a play whose inventory says it the Ansible way
    local events = {}
    local recap = assert(plays.play({ hosts = "t", gather_facts = false,
      tasks = { { name = "hi", shell = "echo via $LUASIBLE_TEST_SSHD" } } }, {
      inventory = { all = { hosts = { t = {
        ansible_host = "127.0.0.1", ansible_port = target.port, ansible_user = target.user,
        ansible_ssh_private_key_file = target.key, luasible_known_hosts = kh, luasible_ssh_config = cfg,
        -- the hop by its ssh_config alias (its key comes from there)
        ansible_ssh_common_args = "-o ProxyJump=" .. bastion.user .. "@bastion -o IdentityFile=" .. target.key,
      } } } },
      on_event = function(ev) events[#events + 1] = ev end }))
    assert.equal(1, recap.t.ok, require("cjson").encode(events))
    local out = {}
    for _, ev in ipairs(events) do if ev.type == "stdout" then out[#out + 1] = ev.data end end
    assert.equal("via " .. target.dir, table.concat(out))
  end)

  it("the CLI's -F reads that ssh_config (its ProxyJump too) for hosts that name none", function()
    local inv = dir .. "/cli_inv.ini"
    write(inv, "[t]\ntarget luasible_known_hosts=" .. kh .. " luasible_ssh_agent=false\n")
    local out = sh("bin/luasible exec all -i " .. q(inv) .. " -F " .. q(cfg)
      .. " -a 'echo on $LUASIBLE_TEST_SSHD' 2>&1")
    assert.truthy(out:find("on " .. target.dir, 1, true), out)
    -- without -F, ~/.ssh/config (here: HOME without one) knows no "target"
    local out2 = sh("HOME=" .. q(dir .. "/nohome") .. " bin/luasible exec all -i " .. q(inv) .. " -a 'echo x' 2>&1")
    assert.is_falsy(out2:find("on " .. target.dir, 1, true), out2)
    assert.truthy(out2:find("ENOENT", 1, true) or out2:find("unreachable", 1, true), out2)
  end)

  it("goes through two hops, each its own session", function()
    local c = assert(luasible.connect(spec { host = "target-two" }))
    assert.equal(2, jump.count())
    assert.equal("two hops\n", assert(c:execute("echo two hops")).stdout)
    -- the second bastion is reached through the first one: its sshd
    -- handles the target's channel
    assert.equal(1, my_connections_to(bastion.port))
    assert.equal(0, my_connections_to(bastion2.port))
    assert.equal(0, my_connections_to(target.port))
    assert.is_true(connections_to(bastion2.port) >= 1) -- the bastion's sshd holds it
    c:close()
    assert.equal(0, jump.count())
  end)

  it("checks every hop's host key as strictly as the target's", function()
    -- a known_hosts without the bastion's key: refused, nothing reaches the target
    local only_target = dir .. "/kh_target_only"
    write(only_target, read(target.known_hosts))
    local c, err, name = luasible.connect(spec { known_hosts = only_target })
    assert.is_nil(c)
    assert.equal("EHOSTKEY", name)
    assert.truthy(err:find("^EHOSTKEY: jump host " .. bastion.user .. "@127.0.0.1:" .. bastion.port .. ": host key of ")
      , err)
    assert.truthy(err:find(bastion.host_key_fingerprint, 1, true), err)
    assert.truthy(err:find("is unknown", 1, true), err)
    -- a changed key for the bastion: refused as CHANGED
    local wrong = dir .. "/kh_wrong"
    local other_key = sh("ssh-keygen -q -t ed25519 -N '' -f " .. dir .. "/fake_hk >/dev/null; cat " .. dir
      .. "/fake_hk.pub"):match("^(%S+ %S+)")
    write(wrong, "[127.0.0.1]:" .. bastion.port .. " " .. other_key .. "\n" .. read(target.known_hosts))
    c, err, name = luasible.connect(spec { known_hosts = wrong })
    assert.is_nil(c)
    assert.equal("EHOSTKEY", name)
    assert.truthy(err:find("CHANGED", 1, true), err)
    -- and a target key that is unknown while the bastion's is known: refused
    -- on the target, through the bastion
    local only_bastion = dir .. "/kh_bastion_only"
    write(only_bastion, read(bastion.known_hosts))
    c, err, name = luasible.connect(spec { known_hosts = only_bastion })
    assert.is_nil(c)
    assert.equal("EHOSTKEY", name)
    assert.truthy(err:find("host key of 127.0.0.1:" .. target.port .. " is unknown", 1, true), err)
    assert.is_falsy(err:find("jump host", 1, true))
    assert.equal(0, jump.count()) -- the bastion session was let go of
  end)

  it("names the hop that is down, and the target the hop cannot reach", function()
    local dead = dead_port()
    local c, err, name = luasible.connect(spec { jump = "127.0.0.1:" .. dead })
    assert.is_nil(c)
    assert.equal("ECONNREFUSED", name)
    assert.equal("ECONNREFUSED: jump host " .. bastion.user .. "@127.0.0.1:" .. dead .. ": cannot connect to "
      .. bastion.user .. "@127.0.0.1:" .. dead .. ": Connection refused", err)
    c, err, name = luasible.connect(spec { host = "127.0.0.1", port = dead, user = target.user,
      identity = target.key, jump = "bastion" })
    assert.is_nil(c)
    assert.equal("ECONNREFUSED", name)
    assert.truthy(err:find("jump host " .. bastion.user .. "@127.0.0.1:" .. bastion.port
      .. " cannot open a connection to 127.0.0.1:" .. dead, 1, true), err)
    assert.equal(0, jump.count())
    -- a play: every host behind the dead hop is unreachable with its reason
    -- (8 at once: more than jump.MAX_SESSIONS attempts in flight, the others
    -- take the outcome of one they waited for)
    local msgs = {}
    local hs = {}
    for i = 1, 8 do
      hs["t" .. i] = { ansible_host = "127.0.0.1", ansible_port = target.port, ansible_user = target.user,
        ansible_ssh_private_key_file = target.key, luasible_known_hosts = kh, luasible_ssh_config = cfg,
        ansible_ssh_common_args = "-J 127.0.0.1:" .. dead }
    end
    local recap = assert(plays.play({ hosts = "all", gather_facts = false, tasks = { { shell = "true" } } }, {
      inventory = { all = { hosts = hs } },
      on_event = function(ev) if ev.type == "host_task_result" then msgs[ev.host] = ev.result.msg end end }))
    for i = 1, 8 do
      assert.equal(1, recap["t" .. i].unreachable)
      local m = msgs["t" .. i]
      assert.truthy(m:find("^ECONNREFUSED: jump host " .. bastion.user .. "@127.0.0.1:" .. dead), m)
    end
    assert.equal(0, jump.count())
  end)

  it("a lost bastion ends the target's commands with an error naming it, and the next use reconnects", function()
    local c = assert(luasible.connect(spec { keepalive = 1 }))
    finally(function() if not bastion:running() then bastion:restart() end end)
    local last
    local t0 = luasible.now()
    for ev in c:stream("echo started; sleep 30") do
      if ev.type == "stdout" then
        -- the bastion's processes (listener and sessions) die
        for _, pid in ipairs(bastion:processes()) do os.execute("kill -9 " .. pid .. " 2>/dev/null") end
      end
      last = ev
    end
    assert.is_true(luasible.now() - t0 < 15)
    assert.equal("error", last.type)
    assert.truthy(last.code:find("^ECONN"), last.code)
    -- the target's connection is lost because its jump host's is
    assert.truthy(last.error:find("^ECONN%u+: connection to " .. target.user .. "@127.0.0.1:" .. target.port
      .. " lost: jump host " .. bastion.user .. "@127.0.0.1:" .. bastion.port .. ": "), last.error)
    c:close()
    bastion:restart()
    local c2 = assert(luasible.connect(spec()))
    assert.equal("back\n", assert(c2:execute("echo back")).stdout)
    c2:close()
  end)

  it("closing a connection kills its commands through the tunnel before the bastion session goes", function()
    local c = assert(luasible.connect(spec()))
    local marker = "61." .. math.random(100000, 999999)
    local _, s = c:stream("sleep " .. marker)
    assert.is_true(wait_until(function()
      for _, l in ipairs(all_cmdlines()) do if l:find(marker, 1, true) and l:find("^sleep") then return true end end
    end))
    c:close()
    s:close()
    assert.equal(0, jump.count())
    assert.is_true(wait_until(function()
      for _, l in ipairs(all_cmdlines()) do if l:find(marker, 1, true) and l:find("^sleep") then return false end end
      return true
    end, 8), "the remote sleep was not killed")
  end)
end)

describe("#ssh ProxyCommand", function()
  local srv
  lazy_setup(function() srv = sshd.start { aliases = { "gw" } } end)
  lazy_teardown(function() if srv then srv:stop() end end)

  local function spec(extra)
    local s = { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
      known_hosts = srv.known_hosts, agent = false, ssh_config = false }
    for k, v in pairs(extra or {}) do s[k] = v end
    return s
  end

  -- OpenSSH's own `ssh -W` as the command (what people use it for)
  local function w_cmd()
    return "ssh -F " .. q(srv.ssh_config) .. " -o BatchMode=yes -o UserKnownHostsFile=" .. q(srv.known_hosts)
      .. " -W %h:%p gw"
  end

  it("carries the session over the command's stdin/stdout, %h %p expanded, killed on close", function()
    local c = assert(luasible.connect(spec { proxy_command = w_cmd() }))
    assert.equal("pc\n", assert(c:execute("echo pc")).stdout)
    local mine = function()
      for _, l in ipairs(all_cmdlines()) do
        if l:find("-W 127.0.0.1:" .. srv.port .. " gw", 1, true) then return true end
      end
      return false
    end
    assert.is_true(mine()) -- %h:%p became the address
    c:close()
    assert.is_true(wait_until(function() return not mine() end, 5), "the ProxyCommand still runs")
  end)

  it("comes from ssh_config, and -o ProxyCommand from ansible_ssh_extra_args", function()
    local cfg = srv.dir .. "/pc_config"
    write(cfg, "Host viapc\n  HostName 127.0.0.1\n  Port " .. srv.port .. "\n  ProxyCommand " .. w_cmd() .. "\n")
    local c = assert(luasible.connect(spec { host = "viapc", port = false and 0 or nil, ssh_config = cfg }))
    assert.equal("cfg\n", assert(c:execute("echo cfg")).stdout)
    c:close()
    local inventory = require "luasible.inventory"
    local args = assert(inventory.connect_args("h", { ansible_host = "127.0.0.1", ansible_port = srv.port,
      ansible_user = srv.user, ansible_ssh_private_key_file = srv.key, luasible_known_hosts = srv.known_hosts,
      luasible_ssh_config = "none", ansible_ssh_extra_args = "-o ProxyCommand=" .. q(w_cmd()) }))
    assert.equal(w_cmd(), args.proxy_command)
    args.agent = false
    c = assert(luasible.connect(args))
    assert.equal("inv\n", assert(c:execute("echo inv")).stdout)
    c:close()
  end)

  it("a failing command: its exit status and stderr are in the error", function()
    local c, err, name = luasible.connect(spec { proxy_command = "echo 'no route to %h' >&2; exit 7" })
    assert.is_nil(c)
    assert.equal("ECONNRESET", name)
    assert.equal("ECONNRESET: cannot connect to " .. srv.user .. "@127.0.0.1:" .. srv.port
      .. ": ProxyCommand 'echo 'no route to 127.0.0.1' >&2; exit 7' exited with status 7: no route to 127.0.0.1", err)
    c, err = luasible.connect(spec { proxy_command = "/nonexistent/tunnel %h" })
    assert.is_nil(c)
    assert.truthy(err:find("exited with status 127: ", 1, true), err)
    assert.truthy(err:find("/nonexistent/tunnel", 1, true), err)
  end)
end)

describe("#ssh agent, password and keyboard-interactive", function()
  local srv
  lazy_setup(function()
    srv = sshd.start { password_user = true, use_pam = true }
  end)
  lazy_teardown(function() if srv then srv:stop() end end)

  it("authenticates with the keys of a real ssh-agent (agent socket, IdentityAgent)", function()
    local sock = srv.dir .. "/agent.sock"
    local out = sh("ssh-agent -a " .. q(sock) .. " -s")
    local pid = out:match("SSH_AGENT_PID=(%d+)")
    finally(function() os.execute("kill " .. pid) end)
    assert.equal("", sh("SSH_AUTH_SOCK=" .. q(sock) .. " ssh-add -q " .. q(srv.key) .. " 2>&1"))
    local c = assert(luasible.connect { host = "127.0.0.1", port = srv.port, user = srv.user, identity = {},
      known_hosts = srv.known_hosts, ssh_config = false, agent = sock })
    assert.equal("agent\n", assert(c:execute("echo agent")).stdout)
    c:close()
    -- IdentityAgent of ssh_config
    local cfg = srv.dir .. "/agent_config"
    write(cfg, "Host *\n  IdentityAgent " .. sock .. "\n")
    c = assert(luasible.connect { host = "127.0.0.1", port = srv.port, user = srv.user, identity = {},
      known_hosts = srv.known_hosts, ssh_config = cfg })
    c:close()
    -- an agent without the key: EAUTH saying it was tried
    os.execute("SSH_AUTH_SOCK=" .. q(sock) .. " ssh-add -q -D 2>/dev/null")
    local _, err, name = luasible.connect { host = "127.0.0.1", port = srv.port, user = srv.user, identity = {},
      known_hosts = srv.known_hosts, ssh_config = false, agent = sock }
    assert.equal("EAUTH", name)
    assert.truthy(err:find("ssh-agent", 1, true), err)
  end)

  it("keyboard-interactive alone (PasswordAuthentication no) answers with the password", function()
    local ksrv = sshd.start { password_user = true, use_pam = true,
      config = { "PasswordAuthentication no", "KbdInteractiveAuthentication yes" } }
    finally(function() ksrv:stop() end)
    local c = assert(luasible.connect { host = "127.0.0.1", port = ksrv.port, user = ksrv.password_user,
      password = ksrv.password, identity = {}, known_hosts = ksrv.known_hosts, ssh_config = false, agent = false })
    assert.equal(ksrv.password_user .. "\n", assert(c:execute("id -un")).stdout)
    c:close()
    local _, err, name = luasible.connect { host = "127.0.0.1", port = ksrv.port, user = ksrv.password_user,
      password = "wrong-pw-123", identity = {}, known_hosts = ksrv.known_hosts, ssh_config = false, agent = false }
    assert.equal("EAUTH", name)
    assert.truthy(err:find("tried keyboard-interactive", 1, true), err)
    assert.is_falsy(err:find("wrong-pw-123", 1, true))
  end)

  it("-k asks for the password; it is never on a command line, in an event or in --json", function()
    local inv = srv.dir .. "/pw_inv.ini"
    write(inv, "[pw]\npwhost ansible_host=127.0.0.1 ansible_port=" .. srv.port .. " ansible_user="
      .. srv.password_user .. " luasible_known_hosts=" .. srv.known_hosts
      .. " luasible_ssh_config=none luasible_ssh_agent=false ansible_ssh_private_key_file=/nonexistent\n")
    local pwfile = srv.dir .. "/pw_in"
    write(pwfile, srv.password .. "\n")
    local outf = srv.dir .. "/pw_out"
    -- no terminal (setsid: no controlling one): the prompt reads stdin
    local cmd = "setsid bin/luasible exec all -i " .. q(inv) .. " -k --json -a "
      .. q("echo $USER; sleep 1.5; echo the password is " .. "$(cat " .. q(pwfile) .. ")")
      .. " < " .. q(pwfile) .. " > " .. q(outf) .. " 2>&1 & echo $!"
    local pid = sh(cmd)
    local seen_in_argv = false
    local t0 = luasible.now()
    -- the processes of this run: the CLI's tree and the server's (other
    -- specs running beside this one may hold the same test password)
    local function tree_cmdlines()
      local out, todo = {}, { tonumber(pid) }
      for _, p in ipairs(srv:processes()) do todo[#todo + 1] = p end
      while #todo > 0 do
        local p = table.remove(todo)
        local c = read("/proc/" .. p .. "/cmdline")
        if c and c ~= "" then out[#out + 1] = c:gsub("%z", " ") end
        for _, k in ipairs(proc.children(p)) do todo[#todo + 1] = k end
      end
      return out
    end
    while proc.alive(tonumber(pid)) and luasible.now() - t0 < 20 do
      for _, l in ipairs(tree_cmdlines()) do
        if l:find(srv.password, 1, true) then seen_in_argv = l end
      end
      luasible.sleep(0.1)
    end
    assert.is_false(seen_in_argv)
    local out = read(outf)
    assert.truthy(out:find(srv.password_user, 1, true), out) -- it logged in
    assert.truthy(out:find("the password is ********", 1, true), out) -- scrubbed from the output events
    assert.is_falsy(out:find(srv.password, 1, true), out)
  end)
end)
