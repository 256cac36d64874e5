-- The dashboard from the command line: `luasible run PLAY --serve`, --log,
-- `luasible serve FILE` on a growing log, the secrets of a run never served.
-- Real processes: the CLI, and the client of spec/helpers/wsclient.py
-- (python3-websockets).
local luasible = require "luasible"
local cjson = require "cjson"
local files = require "spec.helpers.files"

local PY = "/usr/bin/python3"
local CLIENT = "spec/helpers/wsclient.py"
local D = files.tmpdir()

local function client(...)
  local res = assert(luasible.connect():execute({ PY, CLIENT, ... }, { timeout = 120 }))
  assert(res.rc == 0, "wsclient: " .. tostring(res.stderr))
  return cjson.decode(res.stdout)
end

local started = {}

-- Start the CLI (argv after bin/luasible) in a task; returns a handle with
-- url (once printed), stdout and stderr lines, and wait() -> rc.
local function cli(argv)
  local h = { stdout = {}, stderr = {} }
  started[#started + 1] = h
  local cmd = { "bin/luasible" }
  for _, a in ipairs(argv) do cmd[#cmd + 1] = a end
  h.task = luasible.spawn(function()
    local res = luasible.connect():execute(cmd, { timeout = 120, on_output = function(line, is_stderr)
      local t = is_stderr and h.stderr or h.stdout
      t[#t + 1] = line
      if is_stderr then h.url = h.url or line:match("dashboard: (http%S+)") end
    end })
    return res.rc
  end)
  function h.wait_url()
    local t = luasible.now() + 30
    while not h.url and not h.task.done and luasible.now() < t do luasible.sleep(0.02) end
    return assert(h.url, "no URL on stderr: " .. table.concat(h.stderr, "\n"))
  end
  function h.wait() return h.task:wait() end
  return h
end

-- a play whose first task waits for the file `go`
local function write_play(name, tasks)
  local path = D .. "/" .. name .. ".lua"
  files.write(path, "return { name = 'dash', hosts = 'all', tasks = " .. tasks .. " }\n")
  return path
end

-- luasible.run(fn), every CLI still running stopped at the end, whatever happens
local function run(fn)
  luasible.run(function()
    local ok, err = pcall(fn)
    for _, h in ipairs(started) do
      if not h.task.done then h.task:cancel() end
    end
    started = {}
    assert(ok, err)
  end)
end

local function normalize(lines)
  local out = {}
  for _, l in ipairs(lines) do out[#out + 1] = (l:gsub("%[%d+%.%d+s%]", "[T]"):gsub("%*+", "*")) end
  return out
end

describe("luasible run --serve", function()
  it("prints one URL line, serves the run while it happens, leaves the terminal output as it was", function()
    local play = write_play("wait",
      ("{ { name = 'wait', shell = 'while [ ! -e %s/go ]; do sleep 0.05; done; echo started' },"
      .. " { name = 'count', shell = 'for i in 1 2 3; do echo line $i; done' } }"):format(D))
    run(function()
      local h = cli({ "run", play, "-i", "web1,web2,", "-e", "ansible_connection=local", "--serve", "--serve-exit" })
      local url = h.wait_url()
      local base = url:match("^(http://[^/]+/)")
      local cookie = client("login", url).cookie
      local st = cjson.decode(client("http", base, "/api/state", cookie).body)
      assert.is_false(st.finished)
      assert.equal("wait", st.task)
      local names = {}
      for _, host in ipairs(st.hosts) do names[#names + 1] = host.name .. "=" .. host.status end
      table.sort(names)
      assert.same({ "web1=running", "web2=running" }, names)
      files.write(D .. "/go", "")
      assert.equal(0, h.wait())
      local dash_lines = 0
      for _, l in ipairs(h.stderr) do if l:find("dashboard:", 1, true) then dash_lines = dash_lines + 1 end end
      assert.equal(1, dash_lines)
      -- the same run without --serve prints the same
      os.remove(D .. "/go")
      files.write(D .. "/go", "")
      local plain = cli({ "run", play, "-i", "web1,web2,", "-e", "ansible_connection=local" })
      assert.equal(0, plain.wait())
      local a, b = normalize(h.stdout), normalize(plain.stdout)
      table.sort(a)
      table.sort(b)
      assert.same(b, a)
      os.remove(D .. "/go")
    end)
  end)

  it("refuses a non-loopback address without --serve-public, warns with it", function()
    run(function()
      local play = write_play("one", "{ { debug = { msg = 'x' } } }")
      local h = cli({ "run", play, "-i", "localhost,", "--serve", "0.0.0.0:0", "--serve-exit" })
      assert.equal(1, h.wait())
      assert.matches("needs %-%-serve%-public", table.concat(h.stderr, "\n"))
      local p = cli({ "run", play, "-i", "localhost,", "--serve=0.0.0.0:0", "--serve-public", "--serve-exit" })
      assert.equal(0, p.wait())
      assert.matches("warning: the dashboard is served on 0%.0%.0%.0", table.concat(p.stderr, "\n"))
    end)
  end)

  it("--log writes the --json events, flushed as they go (exec too)", function()
    run(function()
      local log = D .. "/exec.ndjson"
      local h = cli({ "exec", "localhost", "-a", "printf 'a\\nb\\n'", "--log", log })
      assert.equal(0, h.wait())
      local j = cli({ "exec", "localhost", "-a", "printf 'a\\nb\\n'", "--json" })
      assert.equal(0, j.wait())
      local function shape(lines)
        local out = {}
        for _, l in ipairs(lines) do
          local ev = cjson.decode(l)
          out[#out + 1] = ev.seq .. " " .. ev.type .. " " .. tostring(ev.data)
        end
        return out
      end
      local logged = {}
      for l in io.lines(log) do logged[#logged + 1] = l end
      assert.same(shape(j.stdout), shape(logged))
      assert.is_true(#logged >= 6)
    end)
  end)

  it("never serves a secret: passwords and no_log output scrubbed in every byte", function()
    run(function()
      local SECRET, HIDDEN = "hunter2-TOPSECRET", "NOLOG-SECRET-42"
      local play = write_play("secret", "{ { name = 'pw', shell = 'echo pw={{ ansible_password }}' },"
        .. " { name = 'quiet', shell = 'echo " .. HIDDEN .. "', no_log = true } }")
      local log = D .. "/secret.ndjson"
      -- the server stays up after the run (no --serve-exit): everything is read from it then
      local h = cli({ "run", play, "-i", "localhost,", "-e", "ansible_password=" .. SECRET, "--serve", "--log", log })
      local url = h.wait_url()
      local base = url:match("^(http://[^/]+/)")
      local cookie = client("login", url).cookie
      local t = luasible.now() + 20
      while cjson.decode(client("http", base, "/api/state", cookie).body).finished ~= true and luasible.now() < t do
        luasible.sleep(0.1)
      end
      local served = {}
      for _, path in ipairs({ "/api/state", "/api/events?since=0", "/api/output?host=localhost&from=0&count=100",
        "/api/search?q=" .. SECRET, "/api/search?q=" .. HIDDEN, "/api/search?q=pw" }) do
        local r = client("http", base, path, cookie)
        assert.equal(200, r.status, path)
        served[#served + 1] = r.body
      end
      local ws = client("stream", base, cookie, tostring(math.tointeger(cjson.decode(served[1]).seq)))
      assert.is_true(#ws.seqs > 5)
      local all = table.concat(served, "\n") .. files.read(log) .. table.concat(h.stdout, "\n")
      assert.is_nil(all:find(SECRET, 1, true))
      assert.is_nil(all:find(HIDDEN, 1, true))
      assert.matches("pw=%*%*%*%*%*%*%*%*", served[2]) -- the line is there, scrubbed
      assert.same({}, cjson.decode(served[4]).hits)
      local pw_hits = cjson.decode(served[6]).hits
      assert.equal(1, #pw_hits)
      assert.equal("running", h.task:status(), "still serving after the run")
    end)
  end)
end)

describe("luasible serve FILE", function()
  it("serves a log as it grows: new events reach /api/state and the WebSocket (live tail)", function()
    run(function()
      local log = D .. "/grow.ndjson"
      local lines = {}
      local function ev(seq, t)
        t.seq = seq
        t.timestamp = 1000 + seq
        return require("luasible.render.json").record(t)
      end
      lines[1] = ev(1, { type = "play_start", play = "p", hosts = { "h1" } })
      lines[2] = ev(2, { type = "task_start", play = "p", task = "t", task_id = 1 })
      for i = 3, 100 do lines[i] = ev(i, { type = "stdout", host = "h1", play = "p", task = "t", task_id = 1,
        data = "line " .. i }) end
      files.write(log, table.concat(lines, "\n", 1, 50) .. "\n")
      local s = cli({ "serve", log })
      local url = s.wait_url()
      local base = url:match("^(http://[^/]+/)")
      local cookie = client("login", url).cookie
      local function seq()
        return cjson.decode(client("http", base, "/api/state", cookie).body).seq
      end
      local t = luasible.now() + 10
      while seq() < 50 and luasible.now() < t do luasible.sleep(0.1) end
      assert.equal(50, seq())
      -- half a line: not served until it is whole
      local f = assert(io.open(log, "ab"))
      f:write(lines[51]:sub(1, 20))
      f:flush()
      luasible.sleep(0.5)
      assert.equal(50, seq())
      local reader = luasible.spawn(function() return client("stream", base, cookie, "100", "50") end)
      luasible.sleep(0.3)
      f:write(lines[51]:sub(21), "\n", table.concat(lines, "\n", 52, 100), "\n")
      f:close()
      local got = reader:wait()
      local want = {}
      for i = 51, 100 do want[#want + 1] = i end
      assert.same(want, got.seqs)
      local out = cjson.decode(client("http", base, "/api/output?host=h1&from=95&count=10", cookie).body)
      assert.equal(98, out.total)
      assert.equal("line 100", out.lines[#out.lines].data)
    end)
  end)
end)
