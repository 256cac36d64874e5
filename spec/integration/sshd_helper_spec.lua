-- Checks spec/helpers/sshd.lua with OpenSSH's own client: keys, known_hosts,
-- ssh_config aliases, sftp, restarts, kills and that nothing is left behind.
local sshd = require "spec.helpers.sshd"

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function sh(cmd)
  local p = assert(io.popen(cmd .. " </dev/null 2>&1", "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok == true, code
end

local files = require "spec.helpers.files"
local read_file = files.read

local function write_file(path, data, mode)
  files.write(path, data)
  if mode then assert(os.execute("chmod " .. mode .. " " .. q(path))) end
end

-- ssh options for a direct (no ssh_config) login with one key
local function ssh_cmd(srv, o)
  local parts = {
    "ssh", "-F", "/dev/null",
    "-o", "IdentitiesOnly=yes",
    "-o", "StrictHostKeyChecking=yes",
    "-o", "UserKnownHostsFile=" .. q(o.known_hosts or srv.known_hosts),
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "UpdateHostKeys=no",
    "-o", "ConnectTimeout=10",
    "-o", "LogLevel=ERROR",
    "-p", tostring(srv.port),
  }
  if o.batch ~= false then parts[#parts + 1] = "-o BatchMode=yes" end
  if o.key then parts[#parts + 1] = "-i " .. q(o.key) end
  for _, x in ipairs(o.extra or {}) do parts[#parts + 1] = x end
  parts[#parts + 1] = q((o.user or srv.user) .. "@" .. (o.host or "127.0.0.1"))
  parts[#parts + 1] = "--"
  parts[#parts + 1] = q(o.cmd or "echo ok")
  return table.concat(parts, " ")
end

local function proc_state(pid)
  local s = read_file("/proc/" .. pid .. "/stat")
  return s and s:match("^.*%)%s+(%S)")
end

local function alive(pid)
  local st = proc_state(pid)
  return st ~= nil and st ~= "Z" and st ~= "X"
end

local function port_listening(port)
  for _, f in ipairs { "/proc/net/tcp", "/proc/net/tcp6" } do
    local s = read_file(f) or ""
    for p, st in s:gmatch("\n%s*%d+:%s+%x+:(%x+)%s+%x+:%x+%s+(%x%x)") do
      if tonumber(p, 16) == port and st == "0A" then return true end
    end
  end
  return false
end

local function is_root()
  local out = sh("id -u")
  return out:match("^0%s") ~= nil
end

-- an SSH_ASKPASS script that answers every prompt with `answer`
local function askpass(srv, answer)
  local path = srv.dir .. "/askpass.sh"
  write_file(path, "#!/bin/sh\nprintf '%s\\n' " .. q(answer) .. "\n", "0755")
  return "SSH_ASKPASS=" .. q(path) .. " SSH_ASKPASS_REQUIRE=force DISPLAY=none "
end

-- a long-running session through OpenSSH; returns the popen handle once the
-- remote command has started
local function open_session(srv, cmd)
  local p = assert(io.popen(srv.dir and ssh_cmd(srv, {
    key = srv.key, cmd = "echo started; " .. cmd,
  }) .. " </dev/null 2>/dev/null", "r"))
  assert.equal("started", p:read("l"))
  return p
end

describe("#ssh spec.helpers.sshd", function()
  local srv

  lazy_setup(function()
    srv = sshd.start()
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
  end)

  it("starts sshd on a loopback port with all files in place", function()
    assert.equal("127.0.0.1", srv.host)
    assert.is_number(srv.port)
    assert.truthy(port_listening(srv.port))
    assert.truthy(alive(srv.pid))
    assert.equal((sh("id -un")):match("[^\n]+"), srv.user)
    assert.truthy(srv.dir:match("^/tmp/luasible%-sshd%."))
    for _, f in ipairs { "key", "key_pass", "key_rsa", "key_rsa_pem", "known_hosts",
                          "known_hosts_hashed", "ssh_config", "authorized_keys", "sshd_config" } do
      assert.truthy(read_file(srv[f]), f)
    end
    assert.truthy(read_file(srv.key .. ".pub"):match("^ssh%-ed25519 "))
    assert.truthy(read_file(srv.key_rsa .. ".pub"):match("^ssh%-rsa "))
    assert.truthy(read_file(srv.key_rsa_pem):match("BEGIN RSA PRIVATE KEY"))
    assert.truthy(read_file(srv.key_rsa):match("BEGIN OPENSSH PRIVATE KEY"))
    assert.equal("secret pass", srv.key_pass_passphrase)
    local cfg = read_file(srv.sshd_config)
    assert.truthy(cfg:find("SetEnv SHLVL=1", 1, true))
    assert.truthy(cfg:find("Subsystem sftp internal-sftp", 1, true))
    assert.truthy(srv.host_key_fingerprint:match("^SHA256:[%w+/]+$"))
    local lf = sh("ssh-keygen -lf " .. q(srv.host_keys.ed25519 .. ".pub"))
    assert.truthy(lf:find(srv.host_key_fingerprint, 1, true))
    -- known_hosts names the loopback address and every alias
    local kh = read_file(srv.known_hosts)
    for _, name in ipairs { "127.0.0.1", "web1", "web2", "web3" } do
      assert.truthy(kh:find("[" .. name .. "]:" .. srv.port .. " ssh-ed25519 ", 1, true), name)
    end
    assert.truthy(read_file(srv.known_hosts_hashed):match("^|1|"))
  end)

  it("accepts the unencrypted ed25519 key and both RSA key files", function()
    for _, key in ipairs { srv.key, srv.key_rsa, srv.key_rsa_pem } do
      local out, ok = sh(ssh_cmd(srv, { key = key, cmd = "echo ok-$SHLVL" }))
      assert.is_true(ok, key .. ": " .. out)
      assert.equal("ok-2\n", out)     -- SHLVL=1 from sshd, +1 by bash
    end
  end)

  it("refuses the passphrase key in BatchMode but accepts it with the passphrase", function()
    local out, ok = sh(ssh_cmd(srv, { key = srv.key_pass }))
    assert.is_false(ok, out)
    assert.truthy(out:find("Permission denied", 1, true), out)
    out, ok = sh(askpass(srv, srv.key_pass_passphrase)
      .. ssh_cmd(srv, { key = srv.key_pass, batch = false }))
    assert.is_true(ok, out)
    assert.equal("ok\n", out)
  end)

  it("refuses a key that is not authorized", function()
    local other = srv.dir .. "/other_key"
    sh("ssh-keygen -q -t ed25519 -N '' -f " .. q(other))
    local out, ok = sh(ssh_cmd(srv, { key = other }))
    assert.is_false(ok, out)
  end)

  it("verifies the host key with the hashed known_hosts too", function()
    local out, ok = sh(ssh_cmd(srv, { key = srv.key, known_hosts = srv.known_hosts_hashed }))
    assert.is_true(ok, out)
    out, ok = sh(ssh_cmd(srv, { key = srv.key, known_hosts = "/dev/null" }))
    assert.is_false(ok, out)
    assert.truthy(out:find("Host key verification failed", 1, true), out)
  end)

  it("resolves every alias through srv.ssh_config (srv:ssh)", function()
    for _, alias in ipairs { "web1", "web2", "web3" } do
      local out, ok, code, err = srv:ssh("echo $((6*7)); echo err >&2; exit 3", { host = alias })
      assert.equal("42\n", out)
      assert.is_false(ok)
      assert.equal(3, code)
      assert.equal("err\n", err)
    end
    local out, ok = srv:ssh("printf '%s|' 'a  b' \"c'd\" -n")
    assert.is_true(ok, out)
    assert.equal("a  b|c'd|-n|", out)   -- the command went as one string
    out, ok = sh("ssh -F " .. q(srv.ssh_config) .. " web2 hostname")
    assert.is_true(ok, out)
  end)

  it("serves SFTP", function()
    local src = srv.dir .. "/sftp_src.txt"
    local back = srv.dir .. "/sftp_back.txt"
    local remote = srv.dir .. "/sftp_remote.txt"
    write_file(src, ("line\n"):rep(1000))
    local batch = srv.dir .. "/sftp.batch"
    write_file(batch, table.concat({
      "put " .. src .. " " .. remote,
      "get " .. remote .. " " .. back,
      "ls -l " .. remote,
    }, "\n") .. "\n")
    local out, ok = sh("sftp -b " .. q(batch) .. " -F /dev/null -o IdentitiesOnly=yes"
      .. " -o UserKnownHostsFile=" .. q(srv.known_hosts) .. " -o GlobalKnownHostsFile=/dev/null"
      .. " -i " .. q(srv.key) .. " -P " .. srv.port .. " " .. srv.user .. "@127.0.0.1")
    assert.is_true(ok, out)
    assert.equal(read_file(src), read_file(back))
    assert.truthy(out:find("sftp_remote.txt", 1, true))
  end)

  it("restart() keeps port and host key", function()
    local port, fp, pid = srv.port, srv.host_key_fingerprint, srv.pid
    srv:restart()
    assert.equal(port, srv.port)
    assert.equal(fp, srv.host_key_fingerprint)
    assert.are_not.equal(pid, srv.pid)
    assert.is_false(alive(pid))
    local out, ok = srv:ssh("echo back")
    assert.is_true(ok, out)
    assert.equal("back\n", out)
  end)

  it("kill() stops new connections but open sessions live on; restart() serves again", function()
    local p = open_session(srv, "sleep 30")
    local listener = srv.pid
    local before = srv:processes()
    assert.truthy(#before >= 3, "listener + connection + session")
    srv:kill()
    assert.is_false(alive(listener))
    assert.is_false(srv:running())
    local out, ok, _, err = srv:ssh("true")
    assert.is_false(ok, out)
    assert.truthy(err:find("refused", 1, true), err)
    local alive_count = 0
    for _, pid in ipairs(before) do
      if pid ~= listener and alive(pid) then alive_count = alive_count + 1 end
    end
    assert.truthy(alive_count >= 2, "the open connection survives kill()")
    srv:restart()
    out, ok = srv:ssh("echo again")
    assert.is_true(ok, out)
    -- restart() (without keep_sessions) also ended the old session
    for _, pid in ipairs(before) do assert.is_false(alive(pid), pid) end
    assert.is_nil(p:read("l"))
    p:close()
  end)

  it("restart{keep_sessions = true} keeps open sessions", function()
    local p = open_session(srv, "sleep 1; echo still-here")
    srv:restart { keep_sessions = true }
    assert.equal("still-here", p:read("l"))
    p:close()
    local out, ok = srv:ssh("echo new")
    assert.is_true(ok, out)
  end)

  it("kill_all() ends the listener and every session", function()
    local p = open_session(srv, "sleep 30")
    local before = srv:processes()
    srv:kill_all()
    for _, pid in ipairs(before) do assert.is_false(alive(pid), pid) end
    assert.is_nil(p:read("l"))
    p:close()
    assert.is_false(port_listening(srv.port))
    srv:restart()
    local out, ok = srv:ssh("echo up")
    assert.is_true(ok, out)
  end)

  it("regen_host_key() makes known_hosts mismatch; trust_host_keys() fixes it", function()
    local old = srv.host_key_fingerprint
    srv:regen_host_key()
    assert.are_not.equal(old, srv.host_key_fingerprint)
    assert.equal(old, srv.previous_host_key_fingerprint)
    local out, ok, _, err = srv:ssh("true")
    assert.is_false(ok, out)
    assert.truthy(err:find("REMOTE HOST IDENTIFICATION HAS CHANGED", 1, true), err)
    assert.truthy(err:find(srv.host_key_fingerprint, 1, true), err)
    srv:trust_host_keys()
    out, ok = srv:ssh("echo trusted")
    assert.is_true(ok, out)
  end)
end)

describe("#ssh spec.helpers.sshd lifecycle", function()
  it("stop() leaves no process alive and removes the dir", function()
    local srv = sshd.start()
    -- a session that daemonizes a grandchild away from the sshd tree
    local out, ok = srv:ssh("nohup sleep 60 >/dev/null 2>&1 & echo $!")
    assert.is_true(ok, out)
    local escaped = tonumber(out:match("%d+"))
    assert.truthy(alive(escaped))
    local p = open_session(srv, "sleep 30")
    local pids = srv:processes()
    assert.truthy(#pids >= 4, "listener, connection, session and the escaped sleep")
    local dir, port, listener = srv.dir, srv.port, srv.pid
    srv:stop()
    assert.is_false(alive(listener))
    for _, pid in ipairs(pids) do assert.is_false(alive(pid), pid) end
    assert.is_false(alive(escaped))
    assert.is_false(port_listening(port))
    assert.is_nil(read_file(dir .. "/sshd_config"))
    assert.is_nil(p:read("l"))
    p:close()
    assert.is_true(srv:stop())   -- idempotent
  end)

  it("runs two servers at once on different ports", function()
    local a = sshd.start()
    local b = sshd.start { aliases = { "db1" } }
    assert.are_not.equal(a.port, b.port)
    assert.are_not.equal(a.dir, b.dir)
    assert.are_not.equal(a.host_key_fingerprint, b.host_key_fingerprint)
    local out, ok = a:ssh("echo a")
    assert.is_true(ok, out)
    assert.equal("a\n", out)
    out, ok = b:ssh("echo b")
    assert.is_true(ok, out)
    assert.equal("b\n", out)
    -- a's key is not authorized on b, and b's host key is not in a's known_hosts
    out, ok = sh(ssh_cmd(b, { key = a.key }))
    assert.is_false(ok, out)
    out, ok = sh(ssh_cmd(b, { key = b.key, known_hosts = a.known_hosts }))
    assert.is_false(ok, out)
    a:stop()
    out, ok = b:ssh("echo b")
    assert.is_true(ok, out)
    b:stop()
    assert.is_false(alive(a.pid or 0) or alive(b.pid or 0))
  end)

  it("stops on <close>", function()
    local dir, pid
    do
      local srv <close> = sshd.start()
      dir, pid = srv.dir, srv.pid
      assert.truthy(alive(pid))
    end
    assert.is_false(alive(pid))
    assert.is_nil(read_file(dir .. "/sshd_config"))
  end)

  it("cleans up after a Lua process that dies without stop()", function()
    local script = [[package.path = "./?.lua;" .. package.path
      local srv = require("spec.helpers.sshd").start()
      print(srv.dir); print(srv.pid); io.stdout:flush()
      while true do os.execute("sleep 0.2") end]]
    local p = assert(io.popen("sh -c 'echo $$; exec lua5.4 -e \"$0\"' " .. q(script)
      .. " 2>/dev/null", "r"))
    local lua_pid = tonumber(p:read("l"))
    local dir = p:read("l")
    local pid = tonumber(p:read("l"))
    assert.truthy(lua_pid and pid and dir, "child started a server")
    assert.truthy(alive(pid))
    os.execute("kill -9 " .. lua_pid)
    p:close()
    local gone = false
    for _ = 1, 50 do
      if not alive(pid) and not read_file(dir .. "/sshd_config") then gone = true; break end
      os.execute("sleep 0.1")
    end
    assert.is_true(gone, "watchdog removed " .. dir .. " and killed " .. pid)
  end)

  it("offers RSA and ECDSA host keys when asked", function()
    local srv <close> = sshd.start { host_key_types = { "ed25519", "rsa", "ecdsa" } }
    for alg, kt in pairs { ["rsa-sha2-256"] = "rsa", ["ssh-rsa"] = "rsa",
                           ["ecdsa-sha2-nistp256"] = "ecdsa", ["ssh-ed25519"] = "ed25519" } do
      local out, ok = sh(ssh_cmd(srv, { key = srv.key, extra = { "-o HostKeyAlgorithms=" .. alg } }))
      assert.is_true(ok, alg .. ": " .. out)
      assert.truthy(srv.host_key_fingerprints[kt]:match("^SHA256:"))
    end
  end)

  describe("password user", function()
    local function login(srv, method)
      return sh(askpass(srv, srv.password) .. ssh_cmd(srv, {
        user = srv.password_user, batch = false, cmd = "id -un",
        extra = { "-o PreferredAuthentications=" .. method, "-o PubkeyAuthentication=no",
                  "-o NumberOfPasswordPrompts=1" },
      }))
    end

    it("logs in with a password; keyboard-interactive needs use_pam", function()
      if not is_root() then pending("needs root to create " .. sshd.TEST_USER); return end
      local srv <close> = sshd.start { password_user = true }
      assert.equal("luasible-test", srv.password_user)
      assert.equal("luasible-test-pw", srv.password)
      local out, ok = login(srv, "password")
      assert.is_true(ok, out)
      assert.equal("luasible-test\n", out)
      out, ok = login(srv, "keyboard-interactive")
      assert.is_false(ok, out)   -- UsePAM no: advertised, never succeeds
      -- the shared authorized_keys works for this user too
      out, ok = srv:ssh("id -un", { user = srv.password_user })
      assert.is_true(ok, out)
      assert.equal("luasible-test\n", out)
    end)

    it("does keyboard-interactive with use_pam = true", function()
      if not is_root() then pending("needs root to create " .. sshd.TEST_USER); return end
      local srv <close> = sshd.start { password_user = true, use_pam = true }
      local out, ok = login(srv, "keyboard-interactive")
      assert.is_true(ok, out)
      assert.equal("luasible-test\n", out)
      out, ok = srv:ssh("echo root-ok")
      assert.is_true(ok, out)
    end)
  end)
end)
