-- Persistent connections (connect option `persist`, docs/SSH.md "Persistent
-- connections") against a real OpenSSH server: a holder process keeps the
-- SSH connection between runs on a 0600 unix socket, commands go through
-- it with the stream contract, it expires when idle.
local luasible = require "luasible"
local core = require "luasible.core"
local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"
local read, sh = files.read, files.sh

-- established TCP connections from this machine to 127.0.0.1:port
local function connections_to(port)
  local n = 0
  for rport in (read("/proc/net/tcp") or ""):gmatch("\n%s*%d+:%s+%x+:%x+%s+0100007F:(%x+)%s+01") do
    if tonumber(rport, 16) == port then n = n + 1 end
  end
  return n
end

-- the pid of a process whose command line starts with `prefix`, or nil
local function running(prefix)
  for pid in sh("ls /proc"):gmatch("%d+") do
    local c = read("/proc/" .. pid .. "/cmdline")
    if c and c:gsub("%z", " "):sub(1, #prefix) == prefix then return pid end
  end
end

-- the pid of the holder serving the socket at path, or nil
local function holder(path)
  for pid in sh("ls /proc"):gmatch("%d+") do
    local c = read("/proc/" .. pid .. "/cmdline")
    if c and c:gsub("%z", " "):find(" serve " .. path .. " ", 1, true) then return pid end
  end
end

local function wait_until(fn, secs)
  local t0 = luasible.now()
  while luasible.now() - t0 < (secs or 5) do
    if fn() then return true end
    luasible.sleep(0.05)
  end
  return fn()
end

describe("#ssh persistent connections", function()
  local srv, dir

  lazy_setup(function()
    srv = sshd.start {}
    dir = srv.dir .. "/cp"
  end)
  lazy_teardown(function() if srv then srv:stop() end end)

  local function spec(extra)
    local s = { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
      known_hosts = srv.known_hosts, agent = false, ssh_config = false, persist = 2, control_dir = dir }
    for k, v in pairs(extra or {}) do s[k] = v end
    return s
  end

  local function sockets()
    local out = {}
    -- (the NAME.lock files, flock(2) locks that serialize starting holders, stay)
    for name in sh("ls -A " .. dir .. " 2>/dev/null"):gmatch("[^\n]+") do
      if not name:find("%.lock$") then out[#out + 1] = name end
    end
    return out
  end

  it("runs commands through a holder that outlives the connection, on a 0600 socket, gone when idle", function()
    local before = connections_to(srv.port)
    local c = assert(luasible.connect(spec()))
    assert.is_true(c.persistent)
    local r = assert(c:execute("echo hi; echo err >&2; printf tail"))
    assert.equal(0, r.rc)
    assert.equal("hi\ntail", r.stdout) -- the unterminated last line stays so
    assert.equal("err\n", r.stderr)
    assert.equal("abc\ndef", assert(c:execute("cat", { stdin = "abc\ndef" })).stdout)
    local evs = {}
    for ev in c:stream("seq 3; exit 3") do
      if ev.type == "stdout" then evs[#evs + 1] = ev.data end
      if ev.type == "done" then assert.equal(3, ev.result.rc) end
    end
    assert.same({ "1", "2", "3" }, evs)
    -- put and get through commands, checked
    local bin = string.rep("\0\1\2 binary\n\255", 5000)
    assert(c:put(bin, srv.dir .. "/p.bin", { content = true }))
    assert.equal(bin, read(srv.dir .. "/p.bin"))
    assert(c:get(srv.dir .. "/p.bin", srv.dir .. "/g.bin"))
    assert.equal(bin, read(srv.dir .. "/g.bin"))
    -- become goes through the holder too
    assert.equal("0\n", assert(c:execute("id -u", { sudo = true })).stdout)
    c:close()
    -- one socket, the user's alone; the folder 0700
    local names = sockets()
    assert.equal(1, #names)
    assert.equal(tonumber("700", 8), core.stat(dir).mode)
    assert.equal(tonumber("600", 8), core.stat(dir .. "/" .. names[1]).mode)
    -- the next run connects to the holder: still one SSH connection
    assert.equal(before + 1, connections_to(srv.port))
    local c2 = assert(luasible.connect(spec()))
    assert.equal("again\n", assert(c2:execute("echo again")).stdout)
    assert.equal(before + 1, connections_to(srv.port))
    c2:close()
    -- idle for persist seconds: the holder ends, its socket and connection go
    assert.is_true(wait_until(function() return #sockets() == 0 end, 6), "the socket is still there")
    assert.is_true(wait_until(function() return connections_to(srv.port) == before end, 3))
  end)

  it("reset: the holder stops after its commands, the next command logs in anew", function()
    local c = assert(luasible.connect(spec()))
    local ppid = assert(c:execute("echo $PPID")).stdout
    assert.equal(ppid, assert(c:execute("echo $PPID")).stdout) -- one sshd session
    local name = sockets()[1]
    local old = holder(dir .. "/" .. name)
    assert.truthy(old)
    -- a command running through it when the reset comes finishes
    local iter, st = c:stream("sleep 0.5; echo finished")
    assert.is_true(wait_until(function() return running("sleep 0.5") ~= nil end, 5))
    assert.is_true(c:reset())
    local lines = {}
    for ev in iter, st do if ev.type == "stdout" then lines[#lines + 1] = ev.data end end
    assert.same({ "finished" }, lines)
    assert.is_true(wait_until(function() return holder(dir .. "/" .. name) ~= old end, 5), "the old holder lives on")
    local again = assert(c:execute("echo $PPID")).stdout
    assert.not_equal(ppid, again) -- a new login
    assert.truthy(holder(dir .. "/" .. name))
    assert.is_true(c:reset())
    assert.is_true(c:reset()) -- nobody there: nothing to do
    c:close()
  end)

  it("a command's timeout and a closed connection kill it over there", function()
    local c = assert(luasible.connect(spec()))
    local cmd = "sleep 63." .. math.random(100000, 999999)
    local t0 = luasible.now()
    local r = c:execute(cmd, { timeout = 0.5 })
    assert.is_true(r.timed_out)
    assert.is_true(luasible.now() - t0 < 4)
    assert.is_true(wait_until(function() return not running(cmd) end, 5), "the timed-out command runs on")
    local cmd2 = "sleep 64." .. math.random(100000, 999999)
    local _, s = c:stream(cmd2)
    assert.is_true(wait_until(function() return running(cmd2) ~= nil end, 5))
    c:close()
    s:close()
    assert.is_true(wait_until(function() return not running(cmd2) end, 5), "the command runs on after close")
  end)

  it("replaces a stale socket, and checks the host key as a direct connection does", function()
    -- a socket nobody answers on (its holder was killed) is replaced
    assert.is_true(wait_until(function() return #sockets() == 0 end, 6))
    local c = assert(luasible.connect(spec()))
    assert(c:execute("true"))
    c:close()
    local name = sockets()[1]
    local pid = holder(dir .. "/" .. name)
    assert.truthy(pid)
    os.execute("kill -9 " .. pid)
    assert.is_true(wait_until(function() return not holder(dir .. "/" .. name) end))
    assert.equal(name, sockets()[1]) -- left behind
    local c2 = assert(luasible.connect(spec()))
    assert.equal("new\n", assert(c2:execute("echo new")).stdout)
    c2:close()
    -- an unknown host key: refused as directly, with the same error name
    local empty = srv.dir .. "/empty_known_hosts"
    files.write(empty, "")
    local d, derr, dname = luasible.connect(spec { persist = 0, known_hosts = empty })
    assert.is_nil(d)
    local p, perr, pname = luasible.connect(spec { known_hosts = empty })
    assert.is_nil(p)
    assert.equal(dname, pname)
    assert.truthy(perr:find(derr:match("^%u+: [^:]+"), 1, true), perr)
  end)
end)
