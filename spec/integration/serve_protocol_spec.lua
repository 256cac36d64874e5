-- The dashboard's server (luasible.serve, core/lua_http.c) against a real
-- client: Debian's python3-websockets, and plain sockets for the bytes no
-- library sends (spec/helpers/wsclient.py). The server runs in this
-- process, on the core's loop, beside the tasks that feed it events; the
-- client is a real process.
local luasible = require "luasible"
local cjson = require "cjson"

local PY = "/usr/bin/python3"
local CLIENT = "spec/helpers/wsclient.py"

-- Run the client (inside a task: the server goes on meanwhile).
local function client(...)
  local res = assert(luasible.connect():execute({ PY, CLIENT, ... }, { timeout = 300 }))
  assert(res.rc == 0, "wsclient " .. table.concat({ ... }, " ") .. ": " .. tostring(res.stderr))
  return cjson.decode(res.stdout)
end

-- fn(srv, base, cookie) inside a task, with a server that is closed after.
local function with_server(opts, fn)
  luasible.run(function()
    local srv = assert(luasible.serve(opts))
    local ok, err = pcall(function()
      local login = client("login", srv.url)
      assert.equal(303, login.status)
      fn(srv, srv.base_url, login.cookie)
    end)
    srv:close()
    assert(ok, err)
  end)
end

local function feed_lines(srv, n, host, from)
  for i = from or 1, (from or 1) + n - 1 do
    srv:feed({ type = "stdout", host = host or "h1", task = "t", play = "p", data = "line " .. i })
  end
end

describe("serve: HTTP and auth", function()
  it("trades the one-time token for an HttpOnly, SameSite=Strict cookie, once", function()
    luasible.run(function()
      local srv = assert(luasible.serve({}))
      local ok, err = pcall(function()
        local base = srv.base_url
        local r = client("http", base, "/?" .. srv.url:match("%?(.*)$"), "")
        assert.equal(303, r.status)
        assert.equal("/", r.headers.location)
        local cookie = r.headers["set-cookie"]
        assert.matches("^luasible=%x+; HttpOnly; SameSite=Strict; Path=/$", cookie)
        -- the link again, in another browser (no cookie): refused
        local again = client("http", base, "/?" .. srv.url:match("%?(.*)$"), "")
        assert.equal(403, again.status)
        assert.matches("used already", again.body)
        -- a wrong token
        assert.equal(403, client("http", base, "/?token=00", "").status)
        local state = client("http", base, "/api/state", cookie:match("^[^;]+"))
        assert.equal(200, state.status)
        assert.equal("application/json", state.headers["content-type"])
        assert.equal(0, cjson.decode(state.body).seq)
      end)
      srv:close()
      assert(ok, err)
    end)
  end)

  it("refuses every path without the cookie (401) or with a wrong one (403)", function()
    with_server({}, function(_, base)
      local origin = cjson.encode({ Origin = "http://" .. base:match("//([^/]+)/") })
      for _, path in ipairs({ "/", "/api/state", "/api/events?since=0", "/static/x.js", "/ws" }) do
        local r = client("http", base, path, "", origin)
        assert.equal(401, r.status, path)
        assert.equal(403, client("http", base, path, "luasible=" .. ("0"):rep(48), origin).status, path)
      end
      local page = client("http", base, "/", "")
      assert.matches("text/html", page.headers["content-type"])
      assert.matches("token", page.body)
    end)
  end)

  it("refuses a Host that is not the server's (DNS rebinding): 421; a --serve-host name is accepted", function()
    with_server({ hosts = { "dash.example" } }, function(srv, base, cookie)
      local evil = client("http", base, "/api/state", cookie, cjson.encode({ Host = "evil.example:" .. srv.port }))
      assert.equal(421, evil.status)
      local port = client("http", base, "/api/state", cookie, cjson.encode({ Host = "127.0.0.1:1" }))
      assert.equal(421, port.status)
      local named = client("http", base, "/api/state", cookie, cjson.encode({ Host = "dash.example:" .. srv.port }))
      assert.equal(200, named.status)
    end)
  end)

  it("refuses a WebSocket upgrade from a foreign Origin, or none (403)", function()
    with_server({}, function(srv, base, cookie)
      assert.equal(101, client("ws_status", base, cookie, "http://127.0.0.1:" .. srv.port).status)
      assert.equal(403, client("ws_status", base, cookie, "http://evil.example").status)
      assert.equal(403, client("ws_status", base, cookie, "null").status)
      -- a plain request that says it comes from elsewhere
      local r = client("http", base, "/api/state", cookie, cjson.encode({ Origin = "http://evil.example" }))
      assert.equal(403, r.status)
    end)
  end)

  it("answers malformed HTTP with one clear status, and the run goes on", function()
    with_server({}, function(srv, base, cookie)
      local fed = 0
      local feeder = luasible.spawn(function()
        for i = 1, 50 do
          feed_lines(srv, 10, "h1", fed + 1)
          fed = fed + 10
          luasible.sleep(0.01)
          if i == 50 then break end
        end
      end)
      local host = base:match("//([^/]+)/")
      local function raw(text)
        return client("raw", base, (text:gsub(".", function(c) return ("%02x"):format(c:byte()) end))).response
      end
      local cases = {
        { "GARBAGE\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost " .. host .. "\r\n\r\n", 400 },
        { "GET / HTTP/2.0\r\nHost: " .. host .. "\r\n\r\n", 505 },
        { "GET /x HTTP/1.1\r\nHost: " .. host .. "\r\nContent-Length: 5\r\n\r\nhello", 413 },
        { "POST /api/state HTTP/1.1\r\nHost: " .. host .. "\r\nTransfer-Encoding: chunked\r\n\r\n", 411 },
        { "GET / HTTP/1.1\r\nHost: " .. host .. "\r\nX: " .. ("a"):rep(9000) .. "\r\n\r\n", 431 },
        { "GET / HTTP/1.1\r\nHost: " .. host .. "\r\n" .. ("X: y\r\n"):rep(100) .. "\r\n", 431 },
        { "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400 },
      }
      for _, c in ipairs(cases) do
        local resp = raw(c[1])
        local status = tonumber(resp:match("^HTTP/1%.1 (%d+)"))
        assert.equal(c[2], status, c[1]:sub(1, 40))
        assert.equal(1, select(2, resp:gsub("HTTP/1%.1 %d+", "")), "one response")
      end
      feeder:wait()
      assert.equal(500, fed)
      -- the server still answers, and has every event
      local st = cjson.decode(client("http", base, "/api/state", cookie).body)
      assert.equal(500, st.seq)
    end)
  end)

  it("pages the events (since, limit), a host's output (from, count) and searches the whole log", function()
    with_server({}, function(srv, base, cookie)
      srv:feed({ type = "task_start", task = "t", play = "p" })
      for i = 1, 300 do
        srv:feed({ type = "stdout", host = i % 2 == 0 and "h2" or "h1", task = "t", play = "p",
          data = "line " .. i .. (i == 201 and " needle-x" or "") })
      end
      local function get(path) return cjson.decode(client("http", base, path, cookie).body) end
      local ev = get("/api/events?since=100&limit=50")
      assert.equal(50, #ev.events)
      assert.equal(101, ev.events[1].seq)
      assert.equal(150, ev.next)
      assert.equal(301, ev.last)
      local out = get("/api/output?host=h1&from=70&count=20")
      assert.equal(150, out.total)
      assert.equal(20, #out.lines)
      assert.equal("line " .. (2 * 70 + 1), out.lines[1].data)
      assert.equal("stdout", out.lines[1].stream)
      local task_out = get("/api/output?host=h2&task=1&from=149&count=10")
      assert.equal(150, task_out.total)
      assert.equal(1, #task_out.lines)
      assert.equal("line 300", task_out.lines[1].data)
      local past = get("/api/output?host=h2&from=500&count=10")
      assert.same({ total = 150, from = 500, lines = {} }, past)
      local hits = get("/api/search?q=needle-x")
      assert.equal(1, #hits.hits)
      assert.equal("h1", hits.hits[1].host)
      assert.equal(100, hits.hits[1].line) -- the 101st line of h1: /api/output's index
      assert.is_true(hits.done)
      local re = get("/api/search?q=" .. "line%20(1|2)0$&regex=1&host=h2")
      assert.same({ "line 10", "line 20" }, { re.hits[1].data, re.hits[2].data })
      local page1 = get("/api/search?q=line&limit=5")
      assert.equal(5, #page1.hits)
      assert.is_false(page1.done)
      local page2 = get("/api/search?q=line&limit=5&after=" .. page1.next_after)
      assert.equal("line 6", page2.hits[1].data)
      assert.equal(400, client("http", base, "/api/search?q=(&regex=1", cookie).status)
    end)
  end)
end)

describe("serve: WebSocket", function()
  it("handshakes (Sec-WebSocket-Accept), reassembles fragments, answers pings, echoes close, refuses bad frames",
    function()
    with_server({}, function(_, base, cookie)
      local r = client("frames", base, cookie)
      assert.equal(101, r.status)
      assert.is_true(r.accept_ok)
      assert.equal("mid", r.pong_between_fragments)
      assert.equal("ping-payload", r.pong)
      assert.equal(1000, r.close_echo)
      assert.equal(1002, r.unmasked_close)
      assert.equal(1002, r.orphan_continuation_close)
      assert.equal(1007, r.bad_utf8_close)
      assert.equal(1009, r.too_big_close)
    end)
  end)

  it("streams every event in order, in batches of at most one frame per 100 ms", function()
    with_server({}, function(srv, base, cookie)
      local t0 = luasible.now()
      local feeder = luasible.spawn(function()
        for i = 1, 40 do
          feed_lines(srv, 50, "h" .. (i % 3), (i - 1) * 50 + 1)
          luasible.sleep(0.025)
        end
      end)
      local r = client("stream", base, cookie, "2000")
      local took = luasible.now() - t0
      feeder:wait()
      assert.equal(2000, #r.seqs)
      for i, s in ipairs(r.seqs) do assert.equal(i, s) end
      assert.is_true(r.frames <= took / 0.1 + 2, r.frames .. " frames in " .. took .. " s")
      assert.is_true(r.frames >= 3, "live, not one frame at the end: " .. r.frames)
    end)
  end)

  it("collapses consecutive \\r redraws of one host to the latest; /api/events keeps them all", function()
    with_server({}, function(srv, base, cookie)
      local function get(path) return cjson.decode(client("http", base, path, cookie).body) end
      for i = 1, 100 do srv:feed({ type = "stdout", host = "h1", data = i .. "%", cr = true }) end
      srv:feed({ type = "stdout", host = "h2", data = "other" })
      srv:feed({ type = "stdout", host = "h1", data = "done" })
      local r = client("stream", base, cookie, "102")
      assert.same({ 100, 101, 102 }, r.seqs)
      assert.equal(102, #get("/api/events?since=0").events)
      assert.equal(101, get("/api/output?host=h1&from=0&count=0").total)
    end)
  end)

  it("resumes with since= after a kill and loses nothing over 100,000 events", function()
    with_server({}, function(srv, base, cookie)
      local N = 100000
      local feeder = luasible.spawn(function()
        for i = 1, N, 500 do
          feed_lines(srv, 500, "h" .. (i % 7), i)
          luasible.sleep(0.005)
        end
      end)
      local r = client("resume", base, cookie, tostring(N), "6")
      feeder:wait()
      assert.same({}, r.missing)
      assert.equal(0, r.dups)
      assert.is_true(r.ordered)
      assert.equal(N, r.seqs_count)
      assert.is_true(r.reconnects >= 7, "killed and reconnected: " .. r.reconnects)
    end)
  end)

  it("moves a client that does not read to catch-up (code 4000) without slowing the run; memory stays bounded",
    function()
    local BOUND = 256 * 1024
    with_server({ max_queued = BOUND }, function(srv, base, cookie)
      local max_queued, feed_time = 0, 0
      local done = false
      local mem0 = collectgarbage("count")
      local feeder = luasible.spawn(function()
        luasible.sleep(0.3) -- the client is connected
        local big = ("x"):rep(400)
        for i = 1, 200 do
          local t = luasible.now()
          for j = 1, 100 do
            srv:feed({ type = "stdout", host = "h1", data = big .. (i * 100 + j) })
          end
          feed_time = feed_time + (luasible.now() - t)
          for c in pairs(srv.clients) do max_queued = math.max(max_queued, c.conn:queued()) end
          luasible.sleep(0.005)
        end
        done = true
      end)
      local r = client("slow", base, cookie, "4")
      feeder:wait()
      assert.is_true(done)
      assert.equal(4000, r.close_code)
      local last = cjson.decode(r.last_frame)
      assert.equal("catchup", last[1].type)
      assert.is_true(last[1].since >= 0 and last[1].since < 20000)
      -- bounded: the queue never grew far past the bound (one frame more at most)
      assert.is_true(max_queued < BOUND + 512 * 1024, "queued " .. max_queued)
      assert.is_nil(next(srv.clients))
      -- 20,000 events of 400 bytes fed in well under a second (the client costs nothing)
      assert.is_true(feed_time < 2, "feeding took " .. feed_time)
      collectgarbage()
      assert.is_true(collectgarbage("count") - mem0 < 32 * 1024, "Lua memory grew by "
        .. (collectgarbage("count") - mem0) .. " KiB")
    end)
  end)
end)
