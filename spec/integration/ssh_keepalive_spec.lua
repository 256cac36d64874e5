-- Keepalives OpenSSH's way (issue 8, finding 5): after `keepalive` seconds
-- without a byte from the server a keepalive goes out, then one each
-- interval; when `keepalive_count_max` (default 3, ServerAliveCountMax)
-- intervals went without an answer, at (count + 1) intervals of silence,
-- the link is lost: ECONNABORTED. A silently stalled link is made by a TCP
-- proxy between the client and a real sshd that stops forwarding.
local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"

-- A minimal stalling proxy (a child lua5.4 on luv): start(port) -> px with
-- px.host, px.port, px:stall(), px:forward(), px:stop() -- the interface of
-- the fault-injection helper spec/helpers/proxy.lua, for which it stands in.
local PROXY = [[
local uv = require "luv"
local target, stalled, conns = tonumber(arg[1]), false, {}
local server = uv.new_tcp()
assert(server:bind("127.0.0.1", 0))
local function close(h) if not h:is_closing() then h:close() end end
local function pipe(from, to)
  from:read_start(function(err, data)
    if err or not data then close(from) close(to) return end
    to:write(data)
  end)
end
local function each(fn)
  for _, p in ipairs(conns) do if not p[1]:is_closing() and not p[2]:is_closing() then fn(p[1], p[2]) end end
end
assert(server:listen(64, function()
  local c, u = uv.new_tcp(), uv.new_tcp()
  server:accept(c)
  u:connect("127.0.0.1", target, function(err)
    if err then close(c) close(u) return end
    conns[#conns + 1] = { c, u }
    if not stalled then pipe(c, u) pipe(u, c) end
  end)
end))
local function on(sig, fn) local s = uv.new_signal() s:start(sig, fn) end
on("sigusr1", function() stalled = true each(function(a, b) a:read_stop() b:read_stop() end) print("stalled") end)
on("sigusr2", function() stalled = false each(function(a, b) pipe(a, b) pipe(b, a) end) print("forwarding") end)
uv.new_timer():start(300000, 0, function() os.exit(0) end) -- never outlives a lost spec for long
print(("%d %d"):format(uv.os_getpid(), server:getsockname().port))
io.stdout:setvbuf("line")
uv.run()
]]

-- (libssh2 sends a keepalive at most every 2 s: at 1 s some intervals send
-- none, the loss still comes at (count + 1) intervals)
local KEEPALIVE = 1

local function start_proxy(dir, port)
  files.write(dir .. "/proxy.lua", PROXY)
  local out = dir .. "/proxy.out"
  assert(os.execute("lua5.4 " .. dir .. "/proxy.lua " .. port .. " > " .. out .. " 2>&1 &"))
  local px = { host = "127.0.0.1", out = out }
  for _ = 1, 200 do
    local pid, pport = (files.read(out) or ""):match("^(%d+) (%d+)\n")
    if pid then px.pid, px.port = pid, tonumber(pport) break end
    luasible.sleep(0.02)
  end
  assert(px.port, "the proxy did not start: " .. tostring(files.read(out)))
  local function signal(sig, word)
    local before = select(2, (files.read(out) or ""):gsub(word, ""))
    os.execute("kill -" .. sig .. " " .. px.pid)
    for _ = 1, 200 do
      if select(2, (files.read(out) or ""):gsub(word, "")) > before then return end
      luasible.sleep(0.01)
    end
    error("the proxy did not answer " .. sig)
  end
  function px.stall() signal("USR1", "stalled") end
  function px.forward() signal("USR2", "forwarding") end
  function px.stop() os.execute("kill " .. px.pid .. " 2>/dev/null") end
  return px
end

describe("#ssh keepalives", function()
  local srv, px
  lazy_setup(function()
    srv = sshd.start()
    px = start_proxy(files.tmpdir(), srv.port)
  end)
  lazy_teardown(function()
    if px then px.stop() end
    if srv then srv:stop() end
  end)

  local function connect(extra)
    local spec = { host = px.host, port = px.port, user = srv.user, identity = srv.key,
      host_key = srv.host_key_fingerprint, agent = false, ssh_config = false, keepalive = KEEPALIVE }
    for k, v in pairs(extra or {}) do
      if v == "nil" then spec[k] = nil else spec[k] = v end
    end
    return assert(luasible.connect(spec))
  end

  -- stream until the link is declared lost; the seconds from the last line
  -- received (the last byte from the server) to the loss, and the end event
  local function stall_and_wait(conn)
    local lines, last, final = 0, nil, nil
    for ev in conn:stream("while :; do echo tick; sleep 0.1; done", { timeout = 30 }) do
      if ev.type == "stdout" then
        lines = lines + 1
        last = luasible.now()
        if lines == 5 then px.stall() end
      elseif ev.type == "error" or ev.type == "done" then
        final = ev
      end
    end
    return luasible.now() - last, final
  end

  for _, case in ipairs { { count = nil, expect = 3 }, { count = 1, expect = 1 } } do
    local count = case.expect
    it(("a stalled link is lost after keepalive * (count + 1) of silence (keepalive = %d, count = %s)")
      :format(KEEPALIVE, case.count or "default 3"), function()
      local conn = connect { keepalive_count_max = case.count }
      local silent, final = stall_and_wait(conn)
      px.forward()
      assert.are.equal("error", final.type)
      assert.are.equal("ECONNABORTED", final.code)
      assert.matches("^ECONNABORTED: connection to .*127%.0%.0%.1:" .. px.port
        .. " lost: no answer to keepalives for %d+%.%ds %(%d sent, keepalive " .. KEEPALIVE .. "s%)$", final.error)
      -- (count + 1) intervals: not one earlier, and within a second and a half
      local want = (count + 1) * KEEPALIVE
      assert.is_true(silent >= want - 0.5 and silent <= want + 1.5,
        ("lost %.2fs after the last byte; expected about %ds"):format(silent, want))
      -- the next use connects again
      assert.are.equal("back\n", assert(conn:execute("echo back")).stdout)
      conn:close()
    end)
  end

  it("a live link that only answers keepalives is never lost (a silent command)", function()
    -- below libssh2's 2 s a keepalive it does not send is not counted
    local conn = connect { keepalive = 0.3, keepalive_count_max = 1 }
    local res = assert(conn:execute("sleep 3; echo done"))
    assert.are.equal("done\n", res.stdout)
    conn:close()
  end)

  it("ServerAliveCountMax of an ssh_config is the default count", function()
    local cfg = files.tmpdir() .. "/config"
    files.write(cfg, "Host *\n  ServerAliveInterval 1\n  ServerAliveCountMax 1\n")
    local conn = connect { keepalive = "nil", ssh_config = cfg }
    assert.are.equal(1, conn._r.keepalive_count_max)
    assert.are.equal(1, conn._r.keepalive)
    conn:close()
    assert.has_error(function() luasible.connect { host = "x", keepalive_count_max = 0 } end,
      "bad option 'keepalive_count_max' to 'connect' (a whole number >= 1 expected, got 0)")
  end)
end)
