--- Issue 13 benchmark, "one round trip per command": 50 sequential `true` on
-- one connection at a real round-trip time, against the libssh2 floor
-- (bench/c/ssh_blocking: blocking libssh2, a channel opened per command, so
-- two round trips each) in the same invocation. The RTT is made by
-- bench/c/delay_proxy (this kernel has no netem) in front of a test sshd.
--   make && make -C bench && lua5.4 bench/rtt_bench.lua [RTT_MS...] [--rounds N] [--main DIR]
-- Defaults: 20 and 100 ms, 5 rounds, medians; each round runs the floor and
-- luasible (and, with --main DIR, luasible with DIR/luasible/core.so, e.g. a
-- build of main: the "before"), in an order that alternates between rounds.
-- Both sides are separate processes that connect through the proxy; the
-- command phase is measured on each side without the connect: luasible
-- times it in the process, the floor as T(N=50) - T(N=0) of its whole
-- process (both with the connect), so the floor's command time carries the
-- noise of two process runs.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path

local system = require "system"

if arg[1] == "--client" then
  -- lua5.4 bench/rtt_bench.lua --client CPATH PORT USER KEY N
  package.cpath = arg[2] .. "/?.so;" .. package.cpath
  local luasible = require "luasible"
  local t0 = system.monotime()
  local conn = assert(luasible.connect { host = "127.0.0.1", port = tonumber(arg[3]), user = arg[4],
    identity = arg[5], agent = false, ssh_config = false, host_key_check = "off" })
  assert(conn:execute("true")) -- the connect is done by the first use: not counted
  local t1 = system.monotime()
  for _ = 1, tonumber(arg[6]) do assert(conn:execute("true").rc == 0) end
  local t2 = system.monotime()
  conn:close()
  io.write(("%.6f %.6f\n"):format(t1 - t0, t2 - t1))
  os.exit(0)
end

local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"

local ROUNDS, RTTS, MAIN, N = 5, {}, nil, 50
do
  local i = 1
  while i <= #arg do
    if arg[i] == "--rounds" then ROUNDS = tonumber(arg[i + 1]); i = i + 1
    elseif arg[i] == "--main" then MAIN = arg[i + 1]; i = i + 1
    else RTTS[#RTTS + 1] = tonumber(arg[i]) end
    i = i + 1
  end
  if #RTTS == 0 then RTTS = { 20, 100 } end
end

local PROXY, BLOCKING = "bench/out/delay_proxy", "bench/out/ssh_blocking"
assert(io.open(PROXY), PROXY .. " is not built: make -C bench")
assert(io.open(BLOCKING), BLOCKING .. " is not built: make -C bench")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local t0 = system.monotime()
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  assert(p:close(), "failed: " .. cmd)
  return system.monotime() - t0, out
end

local function delay(port, one_way_ms)
  local out = os.tmpname()
  local p = assert(io.popen("exec " .. PROXY .. " " .. port .. " " .. one_way_ms .. " > " .. out, "w"))
  local t0 = system.monotime()
  local got
  repeat
    system.sleep(0.01)
    got = (files.read(out) or ""):match("port (%d+)")
  until got or system.monotime() - t0 > 5
  assert(got, "delay_proxy did not start")
  return tonumber(got), function()
    p:close()
    os.remove(out)
  end
end

local function median(t)
  local s = { table.unpack(t) }
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end

local function loadavg()
  local f = io.open("/proc/loadavg")
  local s = f and f:read("l") or "?"
  if f then f:close() end
  return s:match("^(%S+ %S+ %S+)") or s
end

local srv = sshd.start {}
local rows = {}
local function row(...)
  rows[#rows + 1] = "| " .. table.concat({ ... }, " | ") .. " |"
  print(rows[#rows])
end

print(("start %s UTC, load %s, %d rounds"):format(os.date("!%H:%M"), loadavg(), ROUNDS))
row("RTT", "floor: 50 cmds (T50-T0)", "luasible: 50 cmds", "ratio (median of rounds)",
  MAIN and "main build: 50 cmds" or "-", "floor whole process (N=50)", "target", "")
rows[#rows + 1] = "|---|---|---|---|---|---|---|---|"
for _, rtt in ipairs(RTTS) do
  local port, stop = delay(srv.port, rtt / 2)
  local floor_cmd = table.concat({ BLOCKING, "127.0.0.1", port, q(srv.user), q(srv.key) }, " ")
  local function floor(n) return (sh(floor_cmd .. " " .. n .. " true")) end
  local function ours(cpath)
    local _, out = sh(table.concat({ "lua5.4 bench/rtt_bench.lua --client", q(cpath), port, q(srv.user),
      q(srv.key), N }, " "))
    local _, cmds = out:match("^(%S+) (%S+)")
    return tonumber(cmds)
  end
  local F, F50, L, M, R = {}, {}, {}, {}, {}
  for r = 1, ROUNDS do
    local f, l, m
    local function run_floor()
      local t50 = floor(N)
      local t0 = floor(0)
      F50[#F50 + 1] = t50
      f = t50 - t0
    end
    if r % 2 == 1 then
      run_floor(); l = ours("."); if MAIN then m = ours(MAIN) end
    else
      if MAIN then m = ours(MAIN) end; l = ours("."); run_floor()
    end
    F[#F + 1], L[#L + 1], R[#R + 1] = f, l, l / f
    if m then M[#M + 1] = m end
    print(("  rtt %d ms round %d: floor %.3f s, luasible %.3f s (%.2fx)%s, load %s"):format(rtt, r, f, l, l / f,
      m and (", main %.3f s (%.2fx)"):format(m, m / f) or "", loadavg()))
  end
  stop()
  local ratio = median(R)
  row(rtt .. " ms", ("%.3f s"):format(median(F)), ("%.3f s"):format(median(L)), ("%.2fx"):format(ratio),
    MAIN and ("%.3f s (%.2fx)"):format(median(M), median(M) / median(F)) or "-",
    ("%.3f s"):format(median(F50)), "<= 0.6x", ratio <= 0.6 and "met" or "NOT met")
end
print(("end %s UTC, load %s"):format(os.date("!%H:%M"), loadavg()))
srv:stop()
print(table.concat(rows, "\n"))
