-- Persistent connections, hardened (docs/SSH.md "Persistent connections"),
-- against real OpenSSH servers: runs that start at once make one holder
-- (a lock), become with a sudo password through the holder (a test host),
-- idle expiry counted from the last command's end, the holder and its
-- socket the user's (a peer of another user gets nothing), a killed
-- holder replaced, and output in binary frames: every byte as the command
-- wrote it, stdin larger than a frame.
local luasible = require "luasible"
local core = require "luasible.core"
local sshd = require "spec.helpers.sshd"
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local read, sh = files.read, files.sh

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- established TCP connections from this machine to 127.0.0.1:port
local function connections_to(port)
  local n = 0
  for rport in (read("/proc/net/tcp") or ""):gmatch("\n%s*%d+:%s+%x+:%x+%s+0100007F:(%x+)%s+01") do
    if tonumber(rport, 16) == port then n = n + 1 end
  end
  return n
end

-- the pids of the holders serving sockets in dir
local function holders(dir)
  local out = {}
  for pid in sh("ls /proc"):gmatch("%d+") do
    local c = read("/proc/" .. pid .. "/cmdline")
    if c and c:gsub("%z", " "):find(" serve " .. dir .. "/", 1, true) then out[#out + 1] = pid end
  end
  return out
end

local function wait_until(fn, secs)
  local t0 = luasible.now()
  while luasible.now() - t0 < (secs or 5) do
    if fn() then return true end
    luasible.sleep(0.05)
  end
  return fn()
end

local function sockets(dir)
  local out = {}
  for name in sh("ls -A " .. dir .. " 2>/dev/null"):gmatch("[^\n]+") do
    if not name:find("%.lock$") then out[#out + 1] = name end
  end
  return out
end

describe("#ssh persistent connections, hardened", function()
  local srv, n = nil, 0
  lazy_setup(function() srv = sshd.start {} end)
  lazy_teardown(function() if srv then srv:stop() end end)

  -- a control folder of its own for each test
  local function fresh()
    n = n + 1
    return srv.dir .. "/cp" .. n
  end
  local function spec(dir, extra)
    local s = { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
      known_hosts = srv.known_hosts, agent = false, ssh_config = false, persist = 2, control_dir = dir }
    for k, v in pairs(extra or {}) do s[k] = v end
    return s
  end

  it("five runs that start at the same instant make one holder and one SSH connection", function()
    local dir = fresh()
    local inv = srv.dir .. "/inv" .. n .. ".ini"
    files.write(inv, ("h1 ansible_host=127.0.0.1 ansible_port=%d ansible_user=%s ansible_ssh_private_key_file=%s "
      .. "luasible_known_hosts=%s luasible_ssh_config=false luasible_ssh_agent=false\n")
      :format(srv.port, srv.user, srv.key, srv.known_hosts))
    local before = connections_to(srv.port)
    local out = srv.dir .. "/runs" .. n
    local lines = { "mkdir -p " .. q(out) }
    for i = 1, 5 do
      lines[#lines + 1] = ("(LUASIBLE_SSH_PERSIST=3 LUASIBLE_CONTROL_DIR=%s bin/luasible exec h1 -i %s"
        .. " -m shell -a 'echo run%d' >%s/%d.out 2>&1; echo $? >%s/%d.rc) &")
        :format(q(dir), q(inv), i, q(out), i, q(out), i)
    end
    lines[#lines + 1] = "wait"
    os.execute(table.concat(lines, "\n"))
    for i = 1, 5 do
      assert.equal("0\n", read(out .. "/" .. i .. ".rc"), read(out .. "/" .. i .. ".out"))
      assert.truthy(read(out .. "/" .. i .. ".out"):find("run" .. i, 1, true))
    end
    assert.equal(1, #holders(dir))
    assert.equal(1, #sockets(dir))
    assert.equal(before + 1, connections_to(srv.port))
    assert.is_true(wait_until(function() return #holders(dir) == 0 end, 8), "the holder did not expire")
  end)

  it("expires persist seconds after the last command ended, not while one runs", function()
    local dir = fresh()
    local c = assert(luasible.connect(spec(dir, { persist = 1 })))
    local t0 = luasible.now()
    -- a command longer than the idle time: the holder stays while it runs
    local r = assert(c:execute("sleep 2.5; echo slept"))
    assert.equal("slept\n", r.stdout)
    assert.is_true(luasible.now() - t0 >= 2.5)
    local pid = holders(dir)[1]
    assert.truthy(pid, "the holder ended while a command ran")
    -- idle from now: still there at half the time, gone within a few
    luasible.sleep(0.4)
    assert.equal(pid, holders(dir)[1])
    local t1 = luasible.now()
    assert.is_true(wait_until(function() return #holders(dir) == 0 end, 5))
    assert.is_true(luasible.now() - t1 >= 0.4, "gone too early")
    assert.equal(0, #sockets(dir))
    -- the next command on the same connection starts a new holder
    assert.equal("again\n", assert(c:execute("echo again")).stdout)
    assert.equal(1, #holders(dir))
    assert.is_true(holders(dir)[1] ~= pid)
    c:close()
  end)

  it("the holder and its socket are the user's, 0600; a peer of another user gets no answer", function()
    local dir = fresh()
    local c = assert(luasible.connect(spec(dir, { persist = 5 })))
    assert(c:execute("true"))
    local pid = assert(holders(dir)[1])
    local uid = core.stat("/proc/" .. pid).uid
    assert.equal(tonumber(sh("id -u"):match("%d+")), uid)
    local sock = dir .. "/" .. sockets(dir)[1]
    local st = core.lstat(sock)
    assert.equal("socket", sh("test -S " .. q(sock) .. " && echo socket"))
    assert.equal(uid, st.uid)
    assert.equal(tonumber("600", 8), st.mode & tonumber("777", 8))
    assert.equal(tonumber("700", 8), core.stat(dir).mode)
    -- opened up on purpose: the socket's own check (SO_PEERCRED) still
    -- closes a peer of another user without reading its request
    local top = core.stat(srv.dir).mode
    os.execute("chmod 711 " .. q(srv.dir) .. " " .. q(dir) .. "; chmod 666 " .. q(sock))
    local function peer(who, mark)
      local py = ("import socket,struct,json\n"
        .. "s=socket.socket(socket.AF_UNIX);s.connect(%q)\n"
        .. "b=json.dumps({'line':'touch %s'}).encode()\n"
        .. "try:\n  s.sendall(b'q'+struct.pack('>I',len(b))+b)\n  d=s.recv(100)\n"
        .. "except (ConnectionResetError, BrokenPipeError):\n  d=b''\n"
        .. "print('got', len(d))\n"):format(sock, mark)
      return sh(who .. "/usr/bin/python3 -c " .. q(py) .. " 2>&1")
    end
    local other, mine = "/tmp/luasible-peer-other-" .. n, "/tmp/luasible-peer-mine-" .. n
    local outp = peer("setpriv --reuid=65534 --regid=65534 --clear-groups ", other)
    os.execute(("chmod %o %s"):format(top, q(srv.dir)))
    assert.truthy(outp:find("got 0", 1, true), outp)
    assert.is_nil(core.stat(other))
    -- the same request from this user is run (the frames above are right)
    outp = peer("", mine)
    assert.truthy(outp:find("got [1-9]"), outp)
    assert.truthy(core.stat(mine))
    os.remove(mine)
    -- and this user is served as before
    os.execute("chmod 700 " .. q(dir) .. "; chmod 600 " .. q(sock))
    assert.equal("ok\n", assert(c:execute("echo ok")).stdout)
    c:close()
    os.execute("kill " .. pid .. " 2>/dev/null")
  end)

  it("a holder killed mid-run is replaced by the next command, on the same socket", function()
    local dir = fresh()
    local c = assert(luasible.connect(spec(dir, { persist = 5 })))
    assert(c:execute("true"))
    local name = sockets(dir)[1]
    local pid = holders(dir)[1]
    os.execute("kill -9 " .. pid)
    assert.is_true(wait_until(function() return #holders(dir) == 0 end))
    assert.equal(name, sockets(dir)[1]) -- the stale socket is left behind
    assert.equal("new\n", assert(c:execute("echo new")).stdout)
    local p2 = holders(dir)[1]
    assert.truthy(p2)
    assert.is_true(p2 ~= pid)
    assert.same({ name }, sockets(dir))
    c:close()
    os.execute("kill " .. p2 .. " 2>/dev/null")
  end)

  it("passes output as bytes: unterminated lines, CR, NUL, stderr, 300000 lines in order", function()
    local dir = fresh()
    local c = assert(luasible.connect(spec(dir, { persist = 5 })))
    local direct = assert(luasible.connect(spec(dir, { persist = 0 })))
    local cmd = [[printf 'a\r\nb\0c\rd\n'; printf 'err1\nerr2' >&2; printf 'no newline']]
    local rp, rd = assert(c:execute(cmd)), assert(direct:execute(cmd))
    assert.equal(rd.stdout, rp.stdout)
    assert.equal(rd.stderr, rp.stderr)
    assert.equal("a\r\nb\0c\rd\nno newline", rp.stdout)
    -- the events are the direct connection's
    local function events(conn)
      local t = {}
      for ev in conn:stream(cmd) do
        if ev.type == "stdout" or ev.type == "stderr" then
          t[#t + 1] = ev.type .. ":" .. ev.data .. (ev.partial and "|partial" or "") .. (ev.cr and "|cr" or "")
        end
      end
      table.sort(t)
      return t
    end
    assert.same(events(direct), events(c))
    local count, last, ordered, ends = 0, 0, true, {}
    for ev in c:stream("seq 1 300000") do
      if ev.type == "stdout" then
        count = count + 1
        local v = tonumber(ev.data)
        if v ~= last + 1 then ordered = false end
        last = v
      elseif ev.type ~= "progress" then
        ends[#ends + 1] = ("%s %s rc=%s stderr=%s"):format(ev.type, tostring(ev.error), tostring(ev.result.rc),
          tostring(ev.result.stderr))
      end
    end
    assert.equal(300000, count, table.concat(ends, "; "))
    assert.is_true(ordered)
    -- stdin larger than one frame (1 MiB), binary
    local big = string.rep("\0\255 stdin bytes\n", 200000) -- 3.2 MB
    local r = assert(c:execute("sha256sum", { stdin = big }))
    assert.equal(core.sha256(big), r.stdout:match("^(%x+)"))
    c:close()
    direct:close()
    for _, p in ipairs(holders(dir)) do os.execute("kill " .. p .. " 2>/dev/null") end
  end)
end)

describe("#hosts persistent connections with become", function()
  local ok, why = th.available()
  if not ok then
    pending("test hosts unavailable: " .. why)
    return
  end
  local hosts
  lazy_setup(function()
    hosts = th.start { n = 1 }
    local h = hosts[1]
    h:exec("useradd -m -s /bin/sh deploy && echo 'deploy:deploy-pw-7731' | chpasswd"
      .. " && echo 'deploy ALL=(ALL) ALL' > /etc/sudoers.d/deploy && chmod 0440 /etc/sudoers.d/deploy")
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  it("sudo with a password runs through the holder; the password is in no argv or environment", function()
    local h = hosts[1]
    local dir = hosts.dir .. "/cp"
    local a = h:connect_args()
    a.user, a.persist, a.control_dir, a.agent = "deploy", 5, dir, false
    local c = assert(luasible.connect(a))
    assert.is_true(c.persistent)
    local function sessions()
      local k = 0
      for _ in h:exec("cat /proc/net/tcp /proc/net/tcp6"):gmatch("\n%s*%d+:%s+%x+:0016%s+%x+:%x+%s+01") do k = k + 1 end
      return k
    end
    local before = sessions()
    local r = assert(c:execute("id -un; cat", { sudo = true, sudo_password = "deploy-pw-7731", stdin = "in\n" }))
    assert.equal(0, r.rc, r.stderr)
    assert.equal("root\nin\n", r.stdout)
    -- no direct connection was opened for it: one SSH connection, the holder's
    assert.equal(before, sessions())
    assert.equal(1, before)
    -- a wrong password fails as over a direct connection
    local bad = c:execute("id -un", { sudo = true, sudo_password = "wrong" })
    assert.is_true(bad == nil or bad.rc ~= 0)
    -- the secret is in no process's command line or environment here
    for _, pid in ipairs(holders(dir)) do
      for _, f in ipairs { "cmdline", "environ" } do
        local text = read("/proc/" .. pid .. "/" .. f) or ""
        assert.is_nil(text:find("deploy-pw-7731", 1, true), f)
      end
    end
    local it, s = c:stream("sleep 30", { sudo = true, sudo_password = "deploy-pw-7731" })
    assert.truthy(it)
    luasible.sleep(0.5)
    for pid in sh("ls /proc"):gmatch("%d+") do
      for _, f in ipairs { "cmdline", "environ" } do
        local text = read("/proc/" .. pid .. "/" .. f) or ""
        assert.is_nil(text:find("deploy-pw-7731", 1, true), pid .. " " .. f)
      end
    end
    s:close()
    c:close()
    for _, p in ipairs(holders(dir)) do os.execute("kill " .. p .. " 2>/dev/null") end
  end)
end)
