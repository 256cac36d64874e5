--- Issue 3 benchmarks: SSH against a test sshd on loopback, each beside a
-- baseline measured in the same run.
--   make && make -C bench && lua5.4 bench/ssh_bench.lua [--append]
-- --append adds the results to bench/RESULTS.md.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"
local system = require "system"

local APPEND = arg[1] == "--append"
local BLOCKING = "bench/out/ssh_blocking"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local t0 = system.monotime()
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local ok = p:close()
  return system.monotime() - t0, out, ok
end

local function rss_kib()
  local f = io.open("/proc/self/status")
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s+(%d+)"))
end

local function cpu() return os.clock() end

local rows = {}
local function row(name, ours, base, ratio_text, target, met)
  rows[#rows + 1] = ("| %s | %s | %s | %s | %s | %s |"):format(name, ours, base, ratio_text, target,
    met and "met" or "NOT met")
  print(rows[#rows])
end

local aliases = {}
for i = 1, 50 do aliases[i] = "h" .. i end
local srv = sshd.start { aliases = aliases }
local function spec(extra)
  local s = { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
    known_hosts = srv.known_hosts, agent = false, ssh_config = false }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end
local blocking = table.concat({ BLOCKING, "127.0.0.1", srv.port, q(srv.user), q(srv.key) }, " ")

-- 1. 50 sequential `true` on one connection (connect included on both sides)
do
  local best_ours, best_base = math.huge, math.huge
  for _ = 1, 3 do
    local t0 = system.monotime()
    local conn = assert(luasible.connect(spec()))
    for _ = 1, 50 do assert(conn:execute("true")) end
    conn:close()
    best_ours = math.min(best_ours, system.monotime() - t0)
    best_base = math.min(best_base, (sh(blocking .. " 50 true")))
  end
  local r = best_ours / best_base
  row("50 sequential `true`, one connection (best of 3)", ("%.3f s"):format(best_ours),
    ("%.3f s (ssh_blocking)"):format(best_base), ("%.2fx"):format(r), "<= 1.25x", r <= 1.25)
end

-- 2. `sleep 1; echo hi` on 50 host names at once (best of 2 on both sides:
-- the server's 50 handshakes on 2 cores make single runs noisy)
do
  local best_wall, best_base, cpu_used, rss_open, r0 = math.huge, math.huge, 0, 0, rss_kib()
  for _ = 1, 2 do
    local c0 = cpu()
    local t0 = system.monotime()
    local conns = {}
    luasible.run(function()
      local tasks = {}
      for i = 1, 50 do
        tasks[i] = luasible.spawn(function()
          local c = assert(luasible.connect { host = "h" .. i, ssh_config = srv.ssh_config, agent = false })
          conns[i] = c
          local res = assert(c:execute("sleep 1; echo hi"))
          assert(res.stdout == "hi\n")
        end)
      end
      for i = 1, 50 do tasks[i]:wait() end
      rss_open = math.max(rss_open, rss_kib())
    end)
    best_wall = math.min(best_wall, system.monotime() - t0)
    cpu_used = cpu() - c0
    for i = 1, 50 do conns[i]:close() end
    best_base = math.min(best_base,
      (sh("seq 50 | xargs -P50 -I{} " .. blocking .. " 1 'sleep 1; echo hi' >/dev/null")))
  end
  local r = best_wall / best_base
  row("`sleep 1; echo hi` on 50 hosts at once (wall, best of 2)", ("%.3f s"):format(best_wall),
    ("%.3f s (xargs -P50 ssh_blocking)"):format(best_base), ("%.2fx"):format(r), "<= 1.0x", r <= 1.0)
  local per = cpu_used / 50 * 1000
  row("client CPU per host (connect + exec, os.clock)", ("%.2f ms"):format(per), "-", "-", "< 10 ms", per < 10)
  local mem = (rss_open - r0) / 50
  row("memory per open SSH connection (RSS delta / 50)", ("%.0f KiB"):format(mem), "-", "-", "< 256 KiB",
    mem < 256)
end

-- 3. seq 1 2000000 into a Lua loop vs OpenSSH | wc -l (best of 5 on both
-- sides, interleaved: single runs swing by +-30% on this shared machine)
do
  local conn = assert(luasible.connect(spec()))
  local best_ours, best_lines, best_base, runs = math.huge, math.huge, math.huge, {}
  for _ = 1, 5 do
    local t0 = system.monotime()
    local n = 0
    for ev in conn:stream("seq 1 2000000") do
      if ev.type == "stdout" then n = n + 1 end
    end
    local ours = system.monotime() - t0
    assert(n == 2000000, "lines: " .. n)
    t0 = system.monotime()
    n = 0
    for _ in conn:lines("seq 1 2000000") do n = n + 1 end
    local lines = system.monotime() - t0
    assert(n == 2000000, "lines: " .. n)
    local base, out = sh("ssh -F " .. q(srv.ssh_config) .. " h1 seq 1 2000000 | wc -l")
    assert(tonumber(out) == 2000000)
    runs[#runs + 1] = ("%.2fx/%.2fx"):format(ours / base, lines / base)
    best_ours, best_base = math.min(best_ours, ours), math.min(best_base, base)
    best_lines = math.min(best_lines, lines)
  end
  print("  seq single-run ratios (stream/lines): " .. table.concat(runs, " "))
  local r = best_ours / best_base
  row("`seq 1 2000000` into a Lua for-loop over `conn:stream` events (best of 5)", ("%.3f s"):format(best_ours),
    ("%.3f s (ssh | wc -l)"):format(best_base), ("%.2fx"):format(r), "<= 2x", r <= 2)
  r = best_lines / best_base
  row("`seq 1 2000000` into a Lua for-loop over `conn:lines` strings (best of 5)", ("%.3f s"):format(best_lines),
    ("%.3f s (ssh | wc -l)"):format(best_base), ("%.2fx"):format(r), "<= 2x", r <= 2)

  -- 4. line latency: remote realtime stamp -> Lua loop body
  local lat = {}
  local cmd = "for i in $(seq 200); do date +%s.%N; sleep 0.005; done"
  for ev in conn:stream(cmd) do
    if ev.type == "stdout" then lat[#lat + 1] = (system.gettime() - tonumber(ev.data)) * 1000 end
  end
  table.sort(lat)
  local med = lat[#lat // 2]
  row("line latency, remote write -> Lua loop (median of 200)", ("%.2f ms"):format(med),
    ("p90 %.2f ms"):format(lat[math.floor(#lat * 0.9)]), "-", "< 5 ms", med < 5)

  -- 5. put of 100 MB vs scp
  local file = srv.dir .. "/big.bin"
  os.execute("head -c 104857600 /dev/urandom > " .. q(file))
  local t1 = system.monotime()
  assert(conn:put(file, srv.dir .. "/up.bin"))
  local put = system.monotime() - t1
  local scp = sh("scp -q -F " .. q(srv.ssh_config) .. " " .. q(file) .. " h1:" .. q(srv.dir .. "/scp.bin"))
  local tp = 100 / put
  local ts = 100 / scp
  row("put 100 MB (incl. remote sha256 check)", ("%.3f s = %.0f MB/s"):format(put, tp),
    ("%.3f s = %.0f MB/s (scp)"):format(scp, ts), ("%.2fx throughput"):format(tp / ts), ">= 0.5x", tp / ts >= 0.5)
  conn:close()
end

srv:stop()

if APPEND then
  local f = assert(io.open("bench/RESULTS.md", "a"))
  f:write("\n## Issue 3: SSH\n\n",
    "`make && make -C bench && lua5.4 bench/ssh_bench.lua --append` (", os.date("!%Y-%m-%d %H:%M UTC"),
    ", ", (io.popen("nproc"):read("l")), " cores, test sshd on 127.0.0.1; baselines run in the same invocation)\n\n",
    "| benchmark | luasible | baseline | ratio | target | |\n|---|---|---|---|---|---|\n",
    table.concat(rows, "\n"), "\n")
  f:close()
end
