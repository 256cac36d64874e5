--- Benchmarks of the local connection (issue 2). Run from the repo root:
--   lua5.4 bench/local_bench.lua            all of them, results printed
-- Each measurement that needs its own peak RSS runs in a fresh process.
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

local function peak_rss_mib()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")) / 1024
end

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) // 2] or (t[n // 2] + t[n // 2 + 1]) / 2
end

local function build(name)
  local out = "bench/out/" .. name
  os.execute("mkdir -p bench/out")
  assert(os.execute(("cc -O2 -o %s bench/c/%s.c"):format(out, name)), "cannot build " .. name)
  return out
end

local modes = {}

-- execute("true") N times vs a C loop of posix_spawn + waitpid of /bin/sh -c true
function modes.spawn(n)
  n = tonumber(n) or 1000
  local baseline = build("spawn_baseline")
  local conn = luasible.connect()
  local rounds = {}
  for round = 1, 3 do
    local c = tonumber(sh(baseline .. " " .. n))
    local t0 = luasible.now()
    for _ = 1, n do assert(conn:execute("true")) end
    local l = luasible.now() - t0
    rounds[round] = { c = c, l = l }
  end
  local best_c, best_l = math.huge, math.huge
  for _, r in ipairs(rounds) do
    best_c = math.min(best_c, r.c)
    best_l = math.min(best_l, r.l)
    print(("  round: C %.3fs  luasible %.3fs  ratio %.2f"):format(r.c, r.l, r.l / r.c))
  end
  print(("spawn: %d x execute('true'): luasible %.3fs (%.0f us each), C posix_spawn+waitpid %.3fs;"
    .. " ratio %.2fx (target <= 1.3x, best of 3)"):format(n, best_l, best_l / n * 1e6, best_c, best_l / best_c))
end

-- stream("seq 1 1000000") into the loop body: lines/s and peak RSS
function modes.seq(slow)
  local conn = luasible.connect()
  local n = 0
  local t0, c0 = luasible.now(), os.clock()
  for ev in conn:stream("seq 1 1000000") do
    if ev.type == "stdout" then
      n = n + 1
      if slow == "slow" and n % 1000 == 0 then luasible.sleep(0.001) end
    end
  end
  local dt, cpu = luasible.now() - t0, os.clock() - c0
  assert(n == 1000000, "lost lines: " .. n)
  print(("seq%s: %d lines in %.3fs = %.0f lines/s (CPU %.3fs: %.0f lines per CPU second); peak RSS %.1f MiB")
    :format(slow == "slow" and " (slow consumer: sleep 1 ms every 1,000 lines)" or "",
      n, dt, n / dt, cpu, n / cpu, peak_rss_mib()))
end

-- latency from the child's write to the loop body
function modes.latency()
  local ticker = build("ticker")
  local conn = luasible.connect()
  local lat = {}
  for ev in conn:stream({ ticker, "100", "20" }) do
    if ev.type == "stdout" then lat[#lat + 1] = (luasible.now() - tonumber(ev.data)) * 1000 end
  end
  local sorted = { table.unpack(lat) }
  local med = median(sorted)
  print(("latency: median %.3f ms, max %.3f ms over %d lines written 20 ms apart (target median <= 2 ms)")
    :format(med, sorted[#sorted], #lat))
end

local mode = arg[1]
if mode then
  modes[mode](arg[2])
else
  local me = "lua5.4 bench/local_bench.lua "
  io.write(sh(me .. "spawn"))
  io.write(sh(me .. "seq"))
  io.write(sh(me .. "seq slow"))
  io.write(sh(me .. "latency"))
end
