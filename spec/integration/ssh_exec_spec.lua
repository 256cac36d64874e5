-- Commands over SSH against a real OpenSSH server: results, streams, stdin,
-- env/cwd, signals, timeouts and cancels that kill the remote process tree,
-- sudo, backpressure, many channels and many sessions at once.
local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"
local proc = require "spec.helpers.proc"

local function connect(srv, extra)
  local spec = { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
    known_hosts = srv.known_hosts, agent = false, ssh_config = false }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return assert(luasible.connect(spec))
end

-- remote processes whose command line matches `pat`
local function remote_procs(srv, pat)
  local out = srv:ssh("ps -eo pid,args")
  local found = {}
  for line in out:gmatch("[^\n]+") do
    if line:find(pat, 1, true) and not line:find("ps -eo", 1, true) then found[#found + 1] = line end
  end
  return found
end

local function wait_gone(srv, pat, secs)
  local deadline = luasible.now() + (secs or 3)
  repeat
    local left = remote_procs(srv, pat)
    if #left == 0 then return {} end
    luasible.sleep(0.1)
  until luasible.now() > deadline
  return remote_procs(srv, pat)
end

local function rss_kib()
  local f = io.open("/proc/self/status")
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s+(%d+)"))
end

describe("#ssh ssh exec", function()
  local srv, conn
  lazy_setup(function()
    srv = sshd.start { aliases = (function()
      local a = {}
      for i = 1, 50 do a[i] = "h" .. i end
      return a
    end)() }
    conn = connect(srv)
  end)
  lazy_teardown(function()
    if conn then conn:close() end
    if srv then srv:stop() end
  end)

  it("returns rc, stdout and stderr like the local connection", function()
    local res = assert(conn:execute("echo out; echo err >&2; exit 3"))
    assert.are.equal(3, res.rc)
    assert.are.equal("out\n", res.stdout)
    assert.are.equal("err\n", res.stderr)
    assert.is_false(res.ok)
    assert.is_false(res.timed_out)
    assert.is_number(res.duration)
  end)

  it("runs argv tables without shell quoting issues", function()
    local res = assert(conn:execute({ "printf", "%s|", "a b", "it's", "$HOME", "*" }))
    assert.are.equal("a b|it's|$HOME|*|", res.stdout)
  end)

  it("streams lines in order with seq, and a final line without newline", function()
    local got, seqs, final = {}, {}, nil
    for ev in conn:stream("printf 'one\\ntwo\\n'; printf 'e1\\n' >&2; printf three") do
      seqs[#seqs + 1] = ev.seq
      if ev.type == "stdout" then got[#got + 1] = ev.data
      elseif ev.type == "done" then final = ev end
    end
    assert.are.same({ "one", "two", "three" }, got)
    assert.are.equal(0, final.result.rc)
    for i = 1, #seqs do assert.are.equal(i, seqs[i]) end
  end)

  it("feeds stdin, then EOF", function()
    local res = assert(conn:execute("cat; echo done", { stdin = "abc\nxyz" }))
    assert.are.equal("abc\nxyzdone\n", res.stdout)
    local r2 = assert(conn:execute("wc -c"))
    assert.are.equal("0", r2.stdout:match("%d+"))
  end)

  it("applies cwd and env with quoted values", function()
    local res = assert(conn:execute("pwd; printf '%s\\n' \"$FOO\"", { cwd = "/tmp", env = { FOO = "a b'c $x" } }))
    assert.are.equal("/tmp\na b'c $x\n", res.stdout)
  end)

  it("reports an exit signal like the local connection", function()
    local res = assert(conn:execute("kill -USR1 $$"))
    assert.are.equal("USR1", res.signal)
    assert.are.equal(128 + 10, res.rc)
    assert.is_false(res.ok)
  end)

  it("a timeout kills the remote process tree", function()
    local res = assert(conn:execute("sleep 3171 & sleep 3172 & sh -c 'sleep 3173'", { timeout = 0.5 }))
    assert.is_true(res.timed_out)
    assert.are.equal("TERM", res.signal)
    assert.is_true(res.duration < 3)
    assert.are.same({}, wait_gone(srv, "sleep 317"))
  end)

  it("an infinite timeout, connect_timeout or keepalive is none", function()
    local c = connect(srv, { connect_timeout = math.huge, keepalive = math.huge })
    local res = assert(c:execute("echo x", { timeout = math.huge }))
    assert.are.equal("x\n", res.stdout)
    assert.is_false(res.timed_out)
    c:close()
  end)

  it("breaking out of a stream kills the remote process tree", function()
    for ev in conn:stream("sleep 4181 & sleep 4182 & echo started; wait") do
      if ev.type == "stdout" then break end
    end
    collectgarbage()
    collectgarbage()
    assert.are.same({}, wait_gone(srv, "sleep 418"))
    -- and the connection goes on
    assert.are.equal("x\n", assert(conn:execute("echo x")).stdout)
  end)

  it("stream:close() kills the remote command too", function()
    local it, s = conn:stream("sleep 5191; echo never")
    it(s)
    s:close()
    assert.are.same({}, wait_gone(srv, "sleep 5191"))
  end)

  it("sudo: the password never appears in events or output", function()
    local seen = {}
    for ev in conn:stream("echo hi; cat", { sudo = true, sudo_password = "hunter2-secret" }) do
      seen[#seen + 1] = tostring(ev.data) .. tostring(ev.error)
    end
    local all = table.concat(seen, "\n")
    assert.matches("hi", all, 1, true)
    assert.not_matches("hunter2", all, 1, true)
    local res = assert(conn:execute("id -u", { sudo = true }))
    assert.are.equal("0\n", res.stdout)
  end)

  it("gives lines as strings over SSH, and raises for a failed command", function()
    local n, kinds = 0, {}
    for line, kind in conn:lines("seq 1 50000; echo oops >&2") do
      n = n + 1
      kinds[kind] = (kinds[kind] or 0) + 1
      if kind == "stderr" then assert.equal("oops", line) end
    end
    assert.equal(50001, n)
    assert.same({ stdout = 50000, stderr = 1 }, kinds)
    assert.has_error(function() for _ in conn:lines("exit 5") do end end,
      "command failed (exit status 5): exit 5")
  end)

  it("streams 10 MB with no line lost", function()
    local lines, bytes = 0, 0
    local line = ("0123456789"):rep(5) -- 50 bytes, 51 with the newline
    for ev in conn:stream("yes " .. line .. " | head -n 200000") do
      if ev.type == "stdout" then
        lines = lines + 1
        bytes = bytes + #ev.data + 1
        if ev.data ~= line then error("bad line " .. lines .. ": " .. ev.data) end
      end
    end
    assert.are.equal(200000, lines)
    assert.are.equal(200000 * 51, bytes)
  end)

  it("backpressure: a paused stream costs no CPU while the loop runs", function()
    local c = connect(srv)
    local it, s = c:stream("yes " .. ("x"):rep(100) .. " | head -c 50000000")
    it(s)
    local deadline = luasible.now() + 10
    repeat luasible.sleep(0.05) until s:stats().paused or luasible.now() > deadline
    assert.is_true(s:stats().paused)
    luasible.sleep(0.2) -- the rest of the window arrives
    local c0 = os.clock()
    luasible.sleep(1)
    local used = os.clock() - c0
    assert.is_true(s:stats().paused)
    s:close()
    c:close()
    assert.is_true(used < 0.3, "CPU while paused: " .. used .. " s")
  end)

  it("backpressure: a consumer that does not read keeps memory flat", function()
    local before = rss_kib()
    local it, s = conn:stream("yes " .. ("x"):rep(1000) .. " | head -c 200000000")
    it(s)
    luasible.sleep(1.5) -- the loop runs; nobody reads
    local grown = rss_kib() - before
    s:close()
    assert.is_true(grown < 30 * 1024, "RSS grew by " .. grown .. " KiB")
  end)

  it("a consumer that blocks longer than the keepalive limit does not lose the connection", function()
    local c = connect(srv, { keepalive = 0.5 })
    local n, final = 0, nil
    for ev in c:stream("seq 1 200000") do
      if ev.type == "stdout" then
        n = n + 1
        if n == 10 then os.execute("sleep 2") end -- the loop does not run: 4 intervals
      elseif ev.type == "done" or ev.type == "error" then
        final = ev
      end
    end
    assert.are.equal("done", final.type, final.error)
    assert.are.equal(200000, n)
    c:close()
  end)

  it("runs 50 concurrent channels on one session", function()
    local results = {}
    local t0 = luasible.now()
    luasible.run(function()
      local tasks = {}
      for i = 1, 50 do
        tasks[i] = luasible.spawn(function() return conn:execute("sleep 0.5; echo " .. i) end)
      end
      for i = 1, 50 do results[i] = tasks[i]:wait() end
    end)
    for i = 1, 50 do
      assert.are.equal(i .. "\n", results[i].stdout)
      assert.are.equal(0, results[i].rc)
    end
    assert.is_true(luasible.now() - t0 < 5)
  end)

  it("queues channel opens beyond the server's MaxSessions", function()
    local msrv = sshd.start { config = { "Match all", "MaxSessions 3" } }
    local c = connect(msrv)
    local results = {}
    luasible.run(function()
      local tasks = {}
      for i = 1, 12 do tasks[i] = luasible.spawn(function() return c:execute("sleep 0.2; echo " .. i) end) end
      for i = 1, 12 do results[i] = { tasks[i]:wait() } end
    end)
    c:close()
    msrv:stop()
    for i = 1, 12 do
      assert(results[i][1], results[i][2])
      assert.are.equal(i .. "\n", results[i][1].stdout)
    end
  end)

  it("runs 50 sessions to 50 host names at once", function()
    local results = {}
    local t0 = luasible.now()
    luasible.run(function()
      local tasks = {}
      for i = 1, 50 do
        tasks[i] = luasible.spawn(function()
          local c = assert(luasible.connect { host = "h" .. i, ssh_config = srv.ssh_config, agent = false })
          local r = c:execute("sleep 1; echo hi " .. i)
          c:close()
          return r
        end)
      end
      for i = 1, 50 do results[i] = tasks[i]:wait() end
    end)
    for i = 1, 50 do assert.are.equal("hi " .. i .. "\n", results[i].stdout) end
    assert.is_true(luasible.now() - t0 < 15)
  end)

  it("a stream keeps its session alive after the connection object is dropped", function()
    local c = connect(srv)
    local it, s = c:stream("sleep 0.2; echo late")
    c = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    local got
    for ev in it, s do
      if ev.type == "stdout" then got = ev.data end
    end
    assert.are.equal("late", got)
  end)

  it("conn:close() ends running streams with an error and kills their commands", function()
    local c = connect(srv)
    local it, s = c:stream("sleep 6201 & echo started; wait")
    repeat local ev = it(s) until ev.type == "stdout"
    c:close()
    local final
    for ev in it, s do final = ev end
    assert.are.equal("error", final.type)
    assert.matches("^ECANCELED", final.error)
    assert.are.same({}, wait_gone(srv, "sleep 6201"))
    assert.has_error(function() c:execute("true") end)
  end)

  it("a closed connection raises at the line that uses it", function()
    local c = connect(srv)
    c:close()
    local here = debug.getinfo(1, "S").short_src
    for what, use in pairs {
      execute = function() c:execute("true") end,
      stream = function() c:stream("true") end,
      put = function() c:put("x", "/tmp/never", { content = true }) end,
      get = function() c:get("/etc/hostname", "/tmp/never") end,
    } do
      local ok, err = pcall(use)
      assert.is_false(ok, what)
      assert.matches("^" .. here:gsub("%p", "%%%0") .. ":%d+: luasible: connection used after close$", err)
    end
  end)
end)

describe("#ssh ssh exec never holds the loop", function()
  local srv, conn
  setup(function()
    srv = sshd.start()
    conn = connect(srv)
  end)
  teardown(function()
    conn:close()
    srv:stop()
  end)

  -- runs fn in a task beside a 10 ms ticker; returns fn's values and the
  -- longest the ticker waited
  local function beside_ticker(fn)
    local gap, stop, rets = 0, false, nil
    luasible.run(function()
      local last = luasible.now()
      local ticker = luasible.spawn(function()
        while not stop do
          luasible.sleep(0.01)
          local now = luasible.now()
          if now - last > gap then gap = now - last end
          last = now
        end
      end)
      rets = table.pack(fn())
      stop = true
      ticker:wait()
    end)
    return gap, table.unpack(rets, 1, rets.n)
  end

  it("times out a command whose output never stops, while other tasks keep running", function()
    local t0 = luasible.now()
    local gap, last = beside_ticker(function()
      local final
      for ev in conn:stream("yes", { timeout = 1 }) do
        if ev.type == "done" or ev.type == "error" then final = ev end
      end
      return final
    end)
    -- our own timeout, not the server's timeout(1) half a second later
    assert.are.equal("error", last.type)
    assert.is_true(last.result.timed_out)
    assert.is_true(luasible.now() - t0 < 3, "took " .. (luasible.now() - t0))
    assert.is_true(gap < 0.5, "the other task waited " .. gap .. " s")
  end)

  it("ends a command that exits without reading its big stdin", function()
    local res = assert(conn:execute("exit 7", { stdin = ("x"):rep(5 * 1024 * 1024), timeout = 10 }))
    assert.are.equal(7, res.rc)
    assert.is_false(res.timed_out)
  end)

  it("lets other tasks run during a big download", function()
    local f = os.tmpname()
    local out = f .. ".copy"
    assert(os.execute("head -c 157286400 /dev/zero > " .. f))
    local gap, res = beside_ticker(function()
      return assert(conn:get(f, out, { checksum = false }))
    end)
    os.remove(f)
    os.remove(out)
    assert.are.equal(157286400, res.bytes)
    assert.is_true(gap < 0.6, "the other task waited " .. gap .. " s")
  end)
end)

describe("#ssh ssh exec at a server's MaxSessions", function()
  -- a throwaway server that allows n channels per connection, and a connection to it
  local function limited(n)
    local srv = sshd.start { config = { "Match all", "MaxSessions " .. n } }
    return srv, connect(srv)
  end
  -- start cmd, wait for its first line, and leave it running
  local function started(conn, cmd)
    local it, s = conn:stream(cmd)
    for ev in it, s do if ev.type == "stdout" then break end end
    return s
  end

  it("still ends timed-out commands and their remote processes when every channel slot is taken", function()
    local srv <close>, conn = limited(10)
    local t0 = luasible.now()
    local results = {}
    luasible.run(function()
      local hs = {}
      for i = 1, 10 do
        hs[i] = luasible.spawn(function() return conn:execute("sleep 63" .. i, { timeout = 1 }) end)
      end
      for i = 1, 10 do results[i] = hs[i]:wait() end
    end)
    local elapsed = luasible.now() - t0
    for i = 1, 10 do assert.is_true(results[i].timed_out) end
    assert.is_true(elapsed < 4, "took " .. elapsed)
    assert.are.same({}, wait_gone(srv, "sleep 63"))
    conn:close()
  end)

  it("waits for a slot held by a paused stream without spinning", function()
    local _ <close>, conn = limited(1)
    local _, a = conn:stream("yes | head -n 20000; while :; do echo tick; sleep 0.05; done")
    luasible.sleep(0.5)
    assert.is_true(a:stats().paused)
    local c0, w0 = os.clock(), luasible.now()
    local res = assert(conn:execute("echo hi", { timeout = 1.5 }))
    local cpu, wall = os.clock() - c0, luasible.now() - w0
    assert.is_true(res.timed_out) -- the slot never freed
    assert.is_true(cpu < 0.3 * wall, ("%.2f s of CPU in %.2f s"):format(cpu, wall))
    a:close()
    conn:close()
  end)

  it("kills a command holding every channel over a second connection, which closes again", function()
    local srv <close>, conn = limited(1)
    assert(conn:execute("true")) -- connected
    local before = proc.tcp_to(srv.port) -- this connection's socket
    assert.are.equal(1, before)
    started(conn, "echo up; sleep 643"):close() -- no slot for the kill on this connection
    assert.are.same({}, wait_gone(srv, "sleep 643", 5))
    local res = assert(conn:execute("echo next", { timeout = 5 }))
    assert.are.equal("next\n", res.stdout)
    local deadline = luasible.now() + 5
    while proc.tcp_to(srv.port) > before and luasible.now() < deadline do luasible.sleep(0.05) end
    -- the second connection to this server is closed again (counted by its sockets, not by
    -- every fd of the process, which an earlier spec's leftovers may change meanwhile)
    assert.are.equal(before, proc.tcp_to(srv.port), "sockets to the server after the kill")
    conn:close()
  end)

  it("kills a command holding every channel on conn:close() too", function()
    local srv <close>, conn = limited(1)
    started(conn, "echo up; sleep 645")
    conn:close()
    assert.are.same({}, wait_gone(srv, "sleep 645", 5))
  end)

  it("once the limit is known, keeps the last channel for kills: a cancelled command dies", function()
    local srv <close>, conn = limited(2)
    luasible.run(function() -- three at once: the third is refused, the limit learned
      local t = {}
      for i = 1, 3 do t[i] = luasible.spawn(function() return conn:execute("sleep 0.3") end) end
      for i = 1, 3 do assert(t[i]:wait()) end
    end)
    local a = started(conn, "echo a; sleep 641")
    local _, b = conn:stream("sleep 642; echo b")
    luasible.sleep(0.5) -- b would take the second channel now, were it not kept
    a:close() -- its kill takes the kept channel
    assert.are.same({}, wait_gone(srv, "sleep 641", 5))
    b:close()
    assert.are.same({}, wait_gone(srv, "sleep 642", 5))
    conn:close()
  end)
end)
