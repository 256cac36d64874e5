--- The live dashboard under load (issue 10): HOSTS hosts each printing RATE
-- lines a second for SECS seconds, every line stamped by the remote command
-- with its clock ("T<epoch> host n"), the run watched by TABS browser tabs
-- (headless Chromium: bench/dashboard_bench.mjs). Measured:
--   * in the page, the delay from a line leaving the remote command to the
--     animation frame that painted it (performance.timeOrigin + now minus
--     the line's stamp; the hosts are network namespaces of this machine,
--     one clock): median, p99, max, over every line of every tab;
--   * the run's own time, with --serve and three tabs against the same run
--     without --serve, both with --log (the server keeps that log; without
--     --serve it is the only sink besides the terminal): from the emitting
--     task's task_start to the recap, from the log's timestamps; the ratio
--     per round (rounds alternate which goes first), and the median ratio;
--   * the luasible process's peak RSS (getrusage of the child) in both.
--   make && lua5.4 bench/dashboard_bench.lua
--   HOSTS=20 RATE=1000 SECS=30 TABS=3 ROUNDS=3 CONN=ssh|local lua5.4 bench/dashboard_bench.lua
-- CONN=ssh (default): test hosts (spec/helpers/testhosts.lua: root, one sshd
-- each); CONN=local: HOSTS hosts on the local connection.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local cjson = require "cjson"
local shell = require "luasible.util.shell"
local files = require "spec.helpers.files"
local browser = require "spec.helpers.browser"
local read, write = files.read, files.write

local HOSTS = tonumber(os.getenv("HOSTS")) or 20
local RATE = tonumber(os.getenv("RATE")) or 1000
local SECS = tonumber(os.getenv("SECS")) or 30
local TABS = tonumber(os.getenv("TABS")) or 3
local ROUNDS = tonumber(os.getenv("ROUNDS")) or 3
local CONN = os.getenv("CONN") or "ssh"

local dir = files.sh("mktemp -d /tmp/luasible-dashbench.XXXXXX")
local GATE = "/tmp/lsb-dashbench-gate"

-- the remote command: RATE lines a second, each stamped as it is written
local EMIT = ([[python3 -u - {{ inventory_hostname }} <<'PY'
import sys, time
h = sys.argv[1]
rate, secs = %d, %d
w, fl = sys.stdout.write, sys.stdout.flush
t0 = time.time()
for i in range(rate * secs):
    d = t0 + i / rate - time.time()
    if d > 0.002:
        time.sleep(d)
    w("T%%.6f %%s %%d\n" %% (time.time(), h, i))
    fl()
PY]]):format(RATE, SECS)

local function play_text()
  return ([[return { name = "dashboard bench", hosts = "bench", forks = %d, gather_facts = false, tasks = {
  { name = "gate", wait_for = { path = %q, timeout = 600, sleep = 0.05 } },
  { name = "emit", streaming_shell = { cmd = %q, show_progress = false } },
} }
]]):format(HOSTS, GATE, EMIT)
end

local hosts
local function gate(open)
  if CONN == "local" then
    os.execute((open and "touch " or "rm -f ") .. GATE)
  else
    for _, h in ipairs(hosts) do h:exec((open and "touch " or "rm -f ") .. GATE) end
  end
end

local function inventory()
  if CONN == "local" then
    local lines = { "[bench]" }
    for i = 1, HOSTS do lines[#lines + 1] = ("b%03d ansible_connection=local"):format(i) end
    return table.concat(lines, "\n") .. "\n"
  end
  local th = require "spec.helpers.testhosts"
  local names = {}
  for i = 1, HOSTS do names[i] = ("b%03d"):format(i) end
  hosts = th.start { names = names, start_timeout = 60, group = "bench" }
  return hosts:inventory_ini()
end

local alive, wait_for = browser.alive, browser.wait_for

-- luasible under a wrapper that reports its peak RSS (KiB) in dir/<tag>.rss
local function start(tag, extra)
  local wrap = ("python3 -c 'import resource,subprocess,sys; subprocess.run(sys.argv[2:]); "
    .. "open(sys.argv[1], \"w\").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))' %s/%s.rss ")
    :format(dir, tag)
  local cmd = ("%s bin/luasible run %s/play.lua -i %s/inv.ini --log %s/%s.log %s >%s/%s.out 2>%s/%s.err & echo $!")
    :format(wrap, dir, dir, dir, tag, extra or "", dir, tag, dir, tag)
  return files.sh(cmd)
end

-- the run's own time from its log: task_start of "emit" to the recap
local function run_time(log)
  local t_start, t_end, lines = nil, nil, 0
  for line in io.lines(log) do
    if line:find('"type":"stdout"', 1, true) then
      lines = lines + 1
    elseif line:find('"task_start"', 1, true) or line:find('"recap"', 1, true) then
      local ev = cjson.decode(line)
      if ev.type == "task_start" and ev.task == "emit" then t_start = ev.timestamp end
      if ev.type == "recap" then t_end = ev.timestamp end
    end
  end
  return t_end - t_start, lines
end

local function baseline(r)
  gate(true)
  local pid = start("base" .. r)
  wait_for("the run without --serve", 900, function() return not alive(pid) end)
  local t, lines = run_time(dir .. "/base" .. r .. ".log")
  return { time = t, lines = lines, rss = tonumber(read(dir .. "/base" .. r .. ".rss")) }
end

local function served(r)
  gate(false)
  local tag = "serve" .. r
  local pid = start(tag, "--serve 127.0.0.1:0")
  local url = browser.url(dir .. "/" .. tag .. ".err", 60)
  local node = browser.node(("bench/dashboard_bench.mjs --url %s --tabs %d --out %s/%s.json --ready %s/%s.ready"
    .. " --open b001"):format(shell.quote(url), TABS, dir, tag, dir, tag), dir .. "/" .. tag .. ".node")
  browser.wait_ready(node, dir .. "/" .. tag .. ".ready", dir .. "/" .. tag .. ".node", 120)
  gate(true)
  wait_for("the tabs' end", 900, function() return not alive(node) end)
  -- the server stays up after the run: stop luasible (the wrapper's child)
  os.execute("kill -INT $(pgrep -P " .. pid .. ") 2>/dev/null")
  wait_for("luasible's end", 30, function() return not alive(pid) end)
  local t, lines = run_time(dir .. "/" .. tag .. ".log")
  local res = cjson.decode(assert(read(dir .. "/" .. tag .. ".json")))
  assert(not res.failure, res.failure)
  return { time = t, lines = lines, rss = tonumber(read(dir .. "/" .. tag .. ".rss")), tabs = res.tabs }
end

local function median(xs)
  local s = {}
  for i, x in ipairs(xs) do s[i] = x end
  table.sort(s)
  if #s == 0 then return 0 end
  return #s % 2 == 1 and s[(#s + 1) // 2] or (s[#s // 2] + s[#s // 2 + 1]) / 2
end

-- percentile of a histogram (1 ms buckets) merged over tabs
local function hist_stats(tabs, key)
  local h, n, over, max = {}, 0, 0, 0
  for _, t in ipairs(tabs) do
    for i, c in ipairs(t[key or "hist"]) do h[i] = (h[i] or 0) + c; n = n + c end
    over = over + t.over
    max = math.max(max, t.max)
  end
  local function p(q)
    local want, acc = math.ceil((n + over) * q), 0
    for i, c in ipairs(h) do
      acc = acc + c
      if acc >= want then return i - 1 end
    end
    return max
  end
  return { n = n + over, p50 = p(0.5), p99 = p(0.99), max = max }
end

write(dir .. "/inv.ini", inventory())
write(dir .. "/play.lua", play_text())
print(("dashboard bench: %d hosts (%s) x %d lines/s x %d s, %d tabs, %d rounds; cores: %s")
  :format(HOSTS, CONN, RATE, SECS, TABS, ROUNDS, files.sh("nproc")))
local ratios, all_p50, all_p99 = {}, {}, {}
local ok, err = pcall(function()
  for r = 1, ROUNDS do
    local a, b
    if r % 2 == 1 then a = baseline(r); b = served(r) else b = served(r); a = baseline(r) end
    local st = hist_stats(b.tabs)
    local rc = hist_stats(b.tabs, "recv")
    ratios[#ratios + 1] = b.time / a.time
    all_p50[#all_p50 + 1] = st.p50
    all_p99[#all_p99 + 1] = st.p99
    local seen, per = {}, {}
    for i, t in ipairs(b.tabs) do
      seen[#seen + 1] = tostring(t.lines)
      local s1, s2 = hist_stats({ t }), hist_stats({ t }, "recv")
      per[#per + 1] = ("tab %d%s: p50 %d / p99 %d ms (at the socket %d / %d), %d frames"):format(i,
        i == 1 and " (terminal open)" or "", s1.p50, s1.p99, s2.p50, s2.p99, t.frames)
    end
    print(("round %d: without --serve %.2f s (rss %d MiB), with --serve + %d tabs %.2f s (rss %d MiB): "
      .. "ratio %.3f; delay p50 %d ms, p99 %d ms, max %d ms over %d lines (per tab %s of %d); "
      .. "to the page's WebSocket (before the paint): p50 %d ms, p99 %d ms")
      :format(r, a.time, a.rss // 1024, TABS, b.time, b.rss // 1024, b.time / a.time, st.p50, st.p99, st.max, st.n,
        table.concat(seen, "/"), HOSTS * RATE * SECS, rc.p50, rc.p99))
    print("  " .. table.concat(per, "\n  "))
  end
end)
if hosts then hosts:stop() end
if not ok then print("FAILED: " .. tostring(err) .. " (files in " .. dir .. ")") os.exit(1) end
print(("median over %d rounds: run time ratio %.3f (target <= 1.05), delay p50 %d ms (target < 50), p99 %d ms "
  .. "(target < 250)"):format(ROUNDS, median(ratios), median(all_p50), median(all_p99)))
os.execute("rm -rf " .. shell.quote(dir))
