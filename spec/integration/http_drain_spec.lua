-- The dashboard server's connections (core/lua_http.c): conn:drained(low)
-- is false while more than `low` bytes wait on the socket, and a task that
-- waits on the connection then wakes once the client has read them — and
-- stays awake (ready() is level-triggered, as the docs say), rather than
-- parking again until something else happens.
local luasible = require "luasible"
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"

describe("http connection drain", function()
  it("wakes a task waiting for a slow client to drain 8 MiB", function()
    local listener = assert(core.http_listen("127.0.0.1", 0))
    local _, port = listener:address()
    local CLIENT = { "python3", "-c", [[
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(1.0)
n = 0
while True:
    b = s.recv(1 << 20)
    if not b: break
    n += len(b)
print(n)
]], tostring(port) }
    local waited, drained_first, total
    luasible.run(function()
      local client = luasible.spawn(function()
        local res = assert(luasible.connect():execute(CLIENT, { timeout = 30 }))
        total = tonumber(res.stdout)
      end)
      local guard = luasible.spawn(function()
        luasible.sleep(15)
        error("the drain wait never woke")
      end)
      scheduler.wait(listener)
      local conn = assert(listener:accept())
      repeat scheduler.wait(conn) until conn:read()
      local chunk = ("x"):rep(1 << 20)
      for _ = 1, 8 do assert(conn:write(chunk)) end
      drained_first = conn:drained(0)
      local t0 = luasible.now()
      if not drained_first then
        repeat scheduler.wait(conn) until conn:drained(0)
      end
      waited = luasible.now() - t0
      conn:close()
      client:wait()
      guard:cancel()
    end)
    listener:close()
    assert.is_false(drained_first)
    assert.is_true(waited > 0.5 and waited < 10, "waited " .. tostring(waited))
    assert.are.equal(8 * (1 << 20), total)
  end)
end)
