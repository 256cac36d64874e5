-- SSH connections against a real OpenSSH server on loopback: every auth
-- method, ~/.ssh/config aliases, the host key policies and the faults.
local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local files = require "spec.helpers.files"
local read_file, write_file = files.read, files.write

local function spec_for(srv, extra)
  local spec = { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
    known_hosts = srv.known_hosts, agent = false, ssh_config = false, connect_timeout = 10 }
  for k, v in pairs(extra or {}) do
    if v == "nil" then spec[k] = nil else spec[k] = v end
  end
  return spec
end

local function connect(srv, extra)
  return luasible.connect(spec_for(srv, extra))
end

local function must_run(conn)
  local res = assert(conn:execute("echo ok"))
  assert.are.equal("ok\n", res.stdout)
  assert.is_true(res.ok)
end

describe("#ssh ssh connect", function()
  local srv
  lazy_setup(function() srv = sshd.start() end)
  lazy_teardown(function() if srv then srv:stop() end end)

  describe("authentication", function()
    it("uses an ed25519 identity file", function()
      local conn = assert(connect(srv))
      assert.are.equal("ssh", conn.kind)
      assert.is_true(conn.streaming)
      must_run(conn)
      conn:close()
    end)

    it("uses an RSA identity file (OpenSSH and PEM format)", function()
      for _, key in ipairs { srv.key_rsa, srv.key_rsa_pem } do
        local conn = assert(connect(srv, { identity = key }))
        must_run(conn)
        conn:close()
      end
    end)

    it("uses a key with a passphrase, and names the key when the passphrase is wrong", function()
      local conn = assert(connect(srv, { identity = srv.key_pass, passphrase = srv.key_pass_passphrase }))
      must_run(conn)
      conn:close()
      local c2, err, name = connect(srv, { identity = srv.key_pass, passphrase = "wrong" })
      assert.is_nil(c2)
      assert.are.equal("EAUTH", name)
      assert.matches("^EAUTH: ", err)
      assert.matches(srv.user .. "@127.0.0.1:" .. srv.port, err, 1, true)
      assert.matches(srv.key_pass, err, 1, true)
    end)

    it("fails with EAUTH naming host, port and what was tried", function()
      local c, err, name = connect(srv, { identity = {} })
      assert.is_nil(c)
      assert.are.equal("EAUTH", name)
      assert.matches("127.0.0.1:" .. srv.port, err, 1, true)
      assert.matches("tried nothing", err, 1, true)
    end)

    it("uses ssh-agent first (agent = socket path)", function()
      local sock = srv.dir .. "/agent.sock"
      local out = io.popen("ssh-agent -a " .. q(sock) .. " -s"):read("a")
      local pid = assert(tonumber(out:match("SSH_AGENT_PID=(%d+)")))
      local ok, err = pcall(function()
        assert(os.execute("SSH_AUTH_SOCK=" .. q(sock) .. " ssh-add -q " .. q(srv.key) .. " 2>/dev/null"))
        local conn = assert(connect(srv, { identity = {}, agent = sock }))
        must_run(conn)
        conn:close()
        -- without the agent the same login has no key
        local c2, _, name = connect(srv, { identity = {}, agent = false })
        assert.is_nil(c2)
        assert.are.equal("EAUTH", name)
      end)
      os.execute("kill " .. pid)
      assert(ok, err)
    end)

    it("reads User, HostName, Port and IdentityFile from an ssh_config", function()
      local conn = assert(luasible.connect { host = "web2", ssh_config = srv.ssh_config, agent = false })
      assert.are.equal("127.0.0.1", conn.host)
      assert.are.equal(srv.port, conn.port)
      assert.are.equal(srv.user, conn.user)
      must_run(conn)
      conn:close()
    end)

    it("rejects unknown options and bad host_key_check values", function()
      assert.has_error(function() luasible.connect { host = "x", colour = 1 } end,
        "bad argument #1 to 'connect' (unknown option 'colour')")
      assert.has_error(function() luasible.connect { host = "x", host_key_check = "maybe" } end)
    end)
  end)

  describe("password authentication", function()
    local psrv
    lazy_setup(function() psrv = sshd.start { password_user = true, use_pam = true } end)
    lazy_teardown(function() if psrv then psrv:stop() end end)

    it("logs in with a password (password, else keyboard-interactive)", function()
      local conn = assert(connect(psrv, { user = psrv.password_user, password = psrv.password, identity = {} }))
      local res = assert(conn:execute("id -un"))
      assert.are.equal(psrv.password_user .. "\n", res.stdout)
      conn:close()
    end)

    it("fails with EAUTH on a wrong password", function()
      local c, err, name = connect(psrv, { user = psrv.password_user, password = "nope", identity = {} })
      assert.is_nil(c)
      assert.are.equal("EAUTH", name)
      assert.matches("password", err, 1, true)
      assert.not_matches("nope", err, 1, true)
    end)
  end)

  describe("host keys", function()
    local empty
    before_each(function()
      empty = srv.dir .. "/kh_" .. math.random(1e9)
      write_file(empty, "")
    end)

    it("strict (default) refuses an unknown key, naming host and SHA256 fingerprint", function()
      local c, err, name = connect(srv, { known_hosts = empty })
      assert.is_nil(c)
      assert.are.equal("EHOSTKEY", name)
      assert.matches("127.0.0.1:" .. srv.port, err, 1, true)
      assert.matches(srv.host_key_fingerprint, err, 1, true)
      assert.matches("unknown", err, 1, true)
    end)

    it("accepts hashed known_hosts entries", function()
      local conn = assert(connect(srv, { known_hosts = srv.known_hosts_hashed }))
      must_run(conn)
      conn:close()
    end)

    it("accept-new records a new key, which strict then accepts", function()
      local conn = assert(connect(srv, { known_hosts = empty, host_key_check = "accept-new" }))
      conn:close()
      assert.matches("[127.0.0.1]:" .. srv.port .. " ssh-ed25519 ", read_file(empty), 1, true)
      local c2 = assert(connect(srv, { known_hosts = empty }))
      must_run(c2)
      c2:close()
      -- and OpenSSH reads what we wrote
      local out = io.popen("ssh-keygen -F '[127.0.0.1]:" .. srv.port .. "' -f " .. q(empty)):read("a")
      assert.matches("ssh-ed25519", out, 1, true)
    end)

    it("off must be explicit and connects to anything", function()
      local conn = assert(connect(srv, { known_hosts = empty, host_key_check = "off" }))
      must_run(conn)
      conn:close()
    end)

    it("a function decides on unknown keys", function()
      local seen
      local conn = assert(connect(srv, { known_hosts = empty, host_key_check = function(host, fp, state)
        seen = { host, fp, state }
        return true
      end }))
      conn:close()
      assert.are.same({ "127.0.0.1:" .. srv.port, srv.host_key_fingerprint, "unknown" }, seen)
      local c, err, name = connect(srv, { known_hosts = empty, host_key_check = function() return false end })
      assert.is_nil(c)
      assert.are.equal("EHOSTKEY", name)
      assert.matches(srv.host_key_fingerprint, err, 1, true)
    end)

    it("honours a pinned fingerprint", function()
      local conn = assert(connect(srv, { known_hosts = empty, host_key = srv.host_key_fingerprint }))
      must_run(conn)
      conn:close()
      local c, err, name = connect(srv, { host_key = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" })
      assert.is_nil(c)
      assert.are.equal("EHOSTKEY", name)
      assert.matches(srv.host_key_fingerprint, err, 1, true)
    end)
  end)

  describe("a changed host key", function()
    local csrv
    lazy_setup(function() csrv = sshd.start() end)
    lazy_teardown(function() if csrv then csrv:stop() end end)

    it("is refused by strict and accept-new, and offered as 'changed' to a function", function()
      local old_kh = csrv.dir .. "/kh_old"
      write_file(old_kh, read_file(csrv.known_hosts))
      csrv:regen_host_key()
      for _, mode in ipairs { "strict", "accept-new" } do
        local c, err, name = connect(csrv, { known_hosts = old_kh, host_key_check = mode })
        assert.is_nil(c)
        assert.are.equal("EHOSTKEY", name)
        assert.matches("CHANGED", err, 1, true)
        assert.matches(csrv.host_key_fingerprint, err, 1, true)
      end
      local state
      local conn = assert(connect(csrv, { known_hosts = old_kh, host_key_check = function(_, _, st)
        state = st
        return true
      end }))
      conn:close()
      assert.are.equal("changed", state)
    end)
  end)

  describe("host key types", function()
    -- the server offers ed25519 first; known_hosts knows only its RSA key
    local tsrv, rsa_line
    lazy_setup(function()
      tsrv = sshd.start { host_key_types = { "ed25519", "rsa" } }
      local pub = read_file(tsrv.host_keys.rsa .. ".pub"):match("^(%S+ %S+)")
      rsa_line = "[127.0.0.1]:" .. tsrv.port .. " " .. pub .. "\n"
    end)
    lazy_teardown(function() if tsrv then tsrv:stop() end end)

    it("verifies the key type known_hosts holds (plain and hashed), not the server's first choice", function()
      local kh = tsrv.dir .. "/kh_rsa_only"
      write_file(kh, rsa_line)
      local conn = assert(connect(tsrv, { known_hosts = kh }))
      must_run(conn)
      conn:close()
      assert.is_true(os.execute("ssh-keygen -q -H -f " .. q(kh) .. " >/dev/null 2>&1"))
      assert.is_nil(read_file(kh):find("127.0.0.1", 1, true))
      conn = assert(connect(tsrv, { known_hosts = kh }))
      must_run(conn)
      conn:close()
      -- with every key known, any one of them is fine
      conn = assert(connect(tsrv, { known_hosts = tsrv.known_hosts }))
      conn:close()
    end)

    it("skips known_hosts lines libssh2 cannot parse instead of stopping there", function()
      local kh = tsrv.dir .. "/kh_odd_lines"
      write_file(kh, "@cert-authority *.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0b\n"
        .. "other.example.com sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t\n"
        .. "a-host-without-a-key\n|1|not-base64|\n"
        .. rsa_line)
      local conn = assert(connect(tsrv, { known_hosts = kh }))
      must_run(conn)
      conn:close()
    end)

    it("a different RSA key in known_hosts is a CHANGED key, not an unknown one", function()
      local other = tsrv.dir .. "/other_rsa"
      assert.is_true(os.execute("ssh-keygen -q -t rsa -b 2048 -N '' -f " .. q(other) .. " >/dev/null"))
      local kh = tsrv.dir .. "/kh_wrong_rsa"
      write_file(kh, "[127.0.0.1]:" .. tsrv.port .. " " .. read_file(other .. ".pub"):match("^(%S+ %S+)") .. "\n")
      local c, err, name = connect(tsrv, { known_hosts = kh })
      assert.is_nil(c)
      assert.are.equal("EHOSTKEY", name)
      assert.matches("CHANGED", err, 1, true)
      assert.matches("ssh-rsa " .. tsrv.host_key_fingerprints.rsa, err, 1, true)
      local state
      c = assert(connect(tsrv, { known_hosts = kh, host_key_check = function(_, _, st)
        state = st
        return true
      end }))
      c:close()
      assert.are.equal("changed", state)
    end)
  end)

  describe("faults", function()
    it("connection refused", function()
      local c, err, name = luasible.connect { host = "127.0.0.1", port = 9, user = "x", identity = {},
        agent = false, ssh_config = false }
      assert.is_nil(c)
      assert.are.equal("ECONNREFUSED", name)
      assert.matches("127.0.0.1:9", err, 1, true)
    end)

    it("an unknown host name", function()
      local c, _, name = luasible.connect { host = "no-such-host.invalid", user = "x", identity = {},
        agent = false, ssh_config = false }
      assert.is_nil(c)
      assert.are.equal("ENOENT", name)
    end)

    it("connect timeout: a server that never sends its banner", function()
      local tsrv = sshd.start()
      os.execute("kill -STOP " .. tsrv.pid)
      local t0 = luasible.now()
      local c, err, name = connect(tsrv, { connect_timeout = 0.5 })
      local dt = luasible.now() - t0
      os.execute("kill -CONT " .. tsrv.pid)
      tsrv:stop()
      assert.is_nil(c)
      assert.are.equal("ETIMEDOUT", name)
      assert.matches("127.0.0.1:" .. tsrv.port, err, 1, true)
      assert.is_true(dt >= 0.45 and dt < 3, "took " .. dt)
    end)

    it("server killed mid-stream: an error event, then a reconnect on next use", function()
      local ksrv = sshd.start()
      local conn = assert(connect(ksrv, { keepalive = 1 }))
      local lines, final = 0, nil
      local t0
      for ev in conn:stream("while :; do echo tick; sleep 0.05; done") do
        if ev.type == "stdout" then
          lines = lines + 1
          if lines == 3 then
            t0 = luasible.now()
            ksrv:kill_all()
          end
        elseif ev.type == "error" or ev.type == "done" then
          final = ev
        end
      end
      assert.are.equal("error", final.type)
      assert.matches("^ECONNRESET: connection to .*127%.0%.0%.1:" .. ksrv.port .. " lost", final.error)
      assert.is_true(luasible.now() - t0 < 3)
      -- a failed execute names the loss
      ksrv:restart()
      local res = assert(conn:execute("echo back"))
      assert.are.equal("back\n", res.stdout)
      conn:close()
      ksrv:stop()
    end)

    it("a hung server: the stream ends within the keepalive interval", function()
      local hsrv = sshd.start()
      local conn = assert(connect(hsrv, { keepalive = 0.5 }))
      local lines, final, t0 = 0, nil, nil
      local frozen
      for ev in conn:stream("while :; do echo tick; sleep 0.05; done") do
        if ev.type == "stdout" then
          lines = lines + 1
          if lines == 3 then
            t0 = luasible.now()
            frozen = hsrv:processes()
            os.execute("kill -STOP " .. table.concat(frozen, " "))
          end
        elseif ev.type == "error" or ev.type == "done" then
          final = ev
        end
      end
      local dt = luasible.now() - t0
      os.execute("kill -CONT " .. table.concat(frozen, " "))
      assert.are.equal("error", final.type)
      assert.matches("^ECONNABORTED: connection to .* lost: no answer to keepalives", final.error)
      assert.is_true(dt < 3, "took " .. dt)
      conn:close()
      hsrv:stop()
    end)

    it("channel open refused (MaxSessions 0) is a clear error", function()
      local rsrv = sshd.start { config = { "Match all", "MaxSessions 0" } }
      local conn = assert(connect(rsrv))
      local res, err, name = conn:execute("true")
      assert.is_nil(res)
      assert.are.equal("ECHANNEL", name)
      assert.matches("opening a channel on .*127%.0%.0%.1:" .. rsrv.port, err)
      -- with a timeout too: refused at once, not timed out
      local t0 = luasible.now()
      res, err, name = conn:execute("true", { timeout = 5 })
      assert.is_nil(res, "no error: " .. tostring(err))
      assert.are.equal("ECHANNEL", name)
      assert.is_true(luasible.now() - t0 < 3)
      conn:close()
      rsrv:stop()
    end)
  end)
end)

describe("#ssh ssh_config reading", function()
  local config = require "luasible.ssh.config"

  it("tells the local user without $USER or $LOGNAME, and without running a process", function()
    local p = io.popen("env -u USER -u LOGNAME lua5.4 -e \"package.path = './lua/?.lua;' .. package.path;"
      .. " io.popen = nil; os.execute = nil; io.write(require('luasible.ssh.config').local_user())\"")
    local got = p:read("a")
    p:close()
    local id = io.popen("id -un")
    local want = id:read("l")
    id:close()
    assert.are.equal(want, got)
  end)

  it("matches Host globs and negations, first value wins, IdentityFile accumulates", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("Host *.example.com !bad.example.com\n  User = deploy\n  IdentityFile ~/.ssh/a\n",
      "Host *\n  User other\n  Port 2222\n  IdentityFile \"%d/b %h\"\n")
    f:close()
    local good = config.read(path, "web.example.com")
    assert.are.equal("deploy", good.user)
    assert.are.equal("2222", good.port)
    assert.are.same({ "~/.ssh/a", "%d/b %h" }, good.identityfile)
    assert.are.equal("other", config.read(path, "bad.example.com").user)
    assert.are.equal(config.HOME .. "/b web", config.expand(good.identityfile[2], { hostname = "web" }))
    os.remove(path)
  end)
end)
