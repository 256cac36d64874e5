--- The dashboard's server (issue 10), the server-side targets:
--   make && lua5.4 bench/serve_bench.lua [log|run|all] [MB] [rounds]
-- log: `luasible serve` of a log of MB megabytes (default 1024; generated
--   once into bench/out/serve_<MB>.ndjson: 200 hosts, tasks of 2,000 lines
--   each): from starting the process, when is the page usable (/api/state
--   and the last page of a host's terminal answered) and when does a search
--   return its first hit (a text near the start, and one only in the last
--   task); baselines in the same invocation: `wc -l` and `grep -m1 -F` of
--   the same file (what reading it takes).
-- run: a play's own time with --serve (and one WebSocket client reading
--   the stream) against the same play without it: 20 local hosts, each
--   `seq 1 50000` (1,000,000 lines), rounds alternating.
-- Medians of `rounds` (default 3).
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local luasible = require "luasible"
local cjson = require "cjson"

local mode, MB, ROUNDS = arg[1] or "all", tonumber(arg[2]) or 1024, tonumber(arg[3]) or 3

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  return s[(#s + 1) // 2]
end

local function fmt(t)
  local out = {}
  for i, v in ipairs(t) do out[i] = ("%.3f"):format(v) end
  return table.concat(out, ", ")
end

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

-- The log: 200 hosts, a task of 2,000 lines each after another, until MB.
local function make_log(path, mb)
  local f = io.open(path, "rb")
  if f then
    local size = f:seek("end")
    f:close()
    if size >= mb * 1024 * 1024 then return end
  end
  io.stderr:write("generating ", path, " (", mb, " MB)...\n")
  local record = require("luasible.render.json").record
  f = assert(io.open(path, "wb"))
  local seq, size, target = 0, 0, mb * 1024 * 1024
  local function put(ev)
    seq = seq + 1
    ev.seq, ev.timestamp = seq, 1.7e9 + seq / 1e4
    local l = record(ev)
    f:write(l, "\n")
    size = size + #l + 1
  end
  local hosts = {}
  for i = 1, 200 do hosts[i] = ("web%03d.example.com"):format(i) end
  put({ type = "play_start", play = "bench", hosts = hosts })
  local task = 0
  while size < target do
    task = task + 1
    local name = "task " .. task
    put({ type = "task_start", play = "bench", task = name, task_id = task, module = "shell" })
    for _, h in ipairs(hosts) do
      put({ type = "host_task_start", host = h, play = "bench", task = name, task_id = task })
    end
    for i = 1, 2000 do
      for _, h in ipairs(hosts) do
        put({ type = "stdout", host = h, play = "bench", task = name, task_id = task, stream_seq = i,
          data = ("%s line %d of task %d: the quick brown fox jumps over the lazy dog"):format(h, i, task) })
      end
      if size >= target then break end
    end
    for _, h in ipairs(hosts) do
      put({ type = "host_task_result", host = h, play = "bench", task = name, task_id = task, status = "changed",
        module = "shell", result = { rc = 0, changed = true } })
    end
  end
  put({ type = "recap", recap = {}, elapsed = 100 })
  f:close()
  return task
end

-- GET with curl inside a task; returns the body.
local function get(base, path, cookie)
  local res = assert(luasible.connect():execute({ "curl", "-s", "-H", "Cookie: " .. cookie, base .. path:sub(2) }))
  return res.stdout
end

local function bench_log()
  os.execute("mkdir -p bench/out")
  local path = ("bench/out/serve_%d.ndjson"):format(MB)
  make_log(path, MB)
  local size = tonumber(sh("stat -c %s " .. path))
  -- the last task's number, for a text only there
  local last_task
  for id in sh("tail -c 4096 " .. path):gmatch('"task_id":(%d+)') do last_task = id end
  sh("cat " .. path .. " > /dev/null") -- in the page cache, as for every round
  local r = { url = {}, usable = {}, early = {}, late = {}, wc = {}, grep = {} }
  for round = 1, ROUNDS do
    local t = luasible.now()
    sh("wc -l " .. path)
    r.wc[round] = luasible.now() - t
    t = luasible.now()
    sh("grep -m1 -F 'line 1999 of task " .. last_task .. ":' " .. path)
    r.grep[round] = luasible.now() - t
    luasible.run(function()
      local t0 = luasible.now()
      local url
      local server = luasible.spawn(function()
        luasible.connect():execute({ "bin/luasible", "serve", path }, { on_output = function(line, is_err)
          if is_err then url = url or line:match("dashboard: (http%S+)") end
        end })
      end)
      while not url do luasible.sleep(0.001) end
      r.url[round] = luasible.now() - t0
      local base = url:match("^(http://[^/]+/)")
      local res = assert(luasible.connect():execute({ "curl", "-s", "-D", "-", "-o", "/dev/null", url }))
      local cookie = res.stdout:match("Set%-Cookie: (luasible=%x+)")
      local state = cjson.decode(get(base, "/api/state", cookie))
      local host = state.hosts[7].name
      local total = cjson.decode(get(base, "/api/output?host=" .. host .. "&from=0&count=0", cookie)).total
      local last_page = ("/api/output?host=%s&from=%d&count=200"):format(host, math.max(0, total - 200))
      local page = cjson.decode(get(base, last_page, cookie))
      assert(#page.lines > 0)
      r.usable[round] = luasible.now() - t0
      t = luasible.now()
      local hits = cjson.decode(get(base, "/api/search?q=line%20200%20of%20task%201:&limit=1", cookie)).hits
      r.early[round] = luasible.now() - t
      assert(#hits == 1)
      t = luasible.now()
      local after = 0
      repeat
        local q = "/api/search?limit=1&after=" .. after .. "&q=line%201999%20of%20task%20" .. last_task .. ":"
        local s = cjson.decode(get(base, q, cookie))
        after = s.next_after
      until #s.hits > 0 or s.done
      r.late[round] = luasible.now() - t
      server:cancel()
    end)
  end
  -- the same work in this process, in CPU seconds (what a loaded machine does not skew)
  local cpu = {}
  for round = 1, ROUNDS do
    local c0 = os.clock()
    local store = assert(require("luasible.serve.store").new({ path = path, read_only = true }))
    assert(store:bulk(assert(require("luasible.core").ndjson_scan(path, 0, 64))))
    local c1 = os.clock()
    require("luasible.json").encode(store:snapshot())
    local host = store.state.order[7]
    local total = store:output(host, nil, 0, 0)
    store:output(host, nil, math.max(0, total - 200), 200)
    local c2 = os.clock()
    local q = { q = "line 1999 of task " .. last_task .. ":", limit = "1" }
    local found
    repeat
      local res = require("luasible.serve.search").run(store, q, os.clock)
      q.after = tostring(res.next_after)
      found = #res.hits > 0
    until found or res.done
    cpu[round] = { c1 - c0, c2 - c0, os.clock() - c2 }
  end
  local function col(i)
    local t = {}
    for k, v in ipairs(cpu) do t[k] = v[i] end
    return t
  end
  print(("`luasible serve` of a %.0f MB log (%s), load average %s"):format(size / 1048576, path,
    sh("cut -d' ' -f1-3 /proc/loadavg"):gsub("%s+$", "")))
  print(("  CPU s in one process: scan + bulk %.3f (%s); page usable (+ state, last page) %.3f (%s); "
    .. "late search hit %.3f (%s)"):format(median(col(1)), fmt(col(1)), median(col(2)), fmt(col(2)),
    median(col(3)), fmt(col(3))))
  print(("  URL printed: median %.3f s (rounds %s)"):format(median(r.url), fmt(r.url)))
  print(("  page usable (state + a host's last page): median %.3f s (rounds %s)")
    :format(median(r.usable), fmt(r.usable)))
  print(("  first search hit, early text: median %.3f s (rounds %s)"):format(median(r.early), fmt(r.early)))
  print(("  first search hit, text only in the last task: median %.3f s (rounds %s)")
    :format(median(r.late), fmt(r.late)))
  print(("  baseline wc -l: median %.3f s (%s); grep -m1 -F of the last task's text: median %.3f s (%s)")
    :format(median(r.wc), fmt(r.wc), median(r.grep), fmt(r.grep)))
  print(("  ratios: usable / wc -l %.2fx; late hit / grep %.2fx"):format(median(r.usable) / median(r.wc),
    median(r.late) / median(r.grep)))
end

local function bench_run()
  local D = sh("mktemp -d"):gsub("%s+$", "")
  local play = D .. "/play.lua"
  local f = assert(io.open(play, "w"))
  f:write("return { name = 'bench', hosts = 'all', tasks = { { name = 'seq', shell = 'seq 1 50000' } } }\n")
  f:close()
  local hosts = {}
  for i = 1, 20 do hosts[i] = "h" .. i end
  local inv = table.concat(hosts, ",") .. ","
  local times = { plain = {}, serve = {}, client = {} }
  for round = 1, ROUNDS do
    for _, how in ipairs({ "plain", "serve", "client" }) do
      luasible.run(function()
        local argv = { "bin/luasible", "run", play, "-i", inv, "-e", "ansible_connection=local", "-f", "20" }
        if how ~= "plain" then
          argv[#argv + 1] = "--serve"
          argv[#argv + 1] = "--serve-exit"
        end
        local url
        local reader
        local t0 = luasible.now()
        local res = luasible.connect():execute(argv, { on_output = function(line, is_err)
          if is_err and not url and how == "client" then
            url = line:match("dashboard: (http%S+)")
            if url then
              -- one client reading the whole stream while the run goes
              reader = luasible.spawn(function()
                local login = luasible.connect():execute({ "/usr/bin/python3", "spec/helpers/wsclient.py",
                  "login", url })
                local cookie = cjson.decode(login.stdout).cookie
                luasible.connect():execute({ "/usr/bin/python3", "spec/helpers/wsclient.py", "stream",
                  url:match("^(http://[^/]+/)"), cookie, "1000000000" }, { timeout = 120 })
              end)
            end
          end
        end })
        times[how][round] = luasible.now() - t0
        assert(res.rc == 0, res.stderr)
        if reader then reader:wait() end
      end)
    end
  end
  local plain = times.plain
  print(("a play's own time, 20 local hosts x `seq 1 50000` (1,000,000 lines), terminal output to a pipe; "
    .. "load average %s"):format(sh("cut -d' ' -f1-3 /proc/loadavg"):gsub("%s+$", "")))
  print(("  without --serve: median %.3f s (rounds %s)"):format(median(plain), fmt(plain)))
  print(("  with --serve (no client): median %.3f s (rounds %s): ratio %.3fx")
    :format(median(times.serve), fmt(times.serve), median(times.serve) / median(plain)))
  print(("  with --serve and one WebSocket client reading the stream: median %.3f s (rounds %s): ratio %.3fx")
    :format(median(times.client), fmt(times.client), median(times.client) / median(plain)))
  print("  (target <= 1.05x)")
  os.execute("rm -rf '" .. D .. "'")
end

if mode == "log" or mode == "all" then bench_log() end
if mode == "run" or mode == "all" then bench_run() end
