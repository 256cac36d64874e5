--- Issue 13 benchmark, "events": `seq 1 2000000` over SSH into
-- `for ev in conn:stream(...)` and into `for line in conn:lines(...)`,
-- against `ssh host seq 1 2000000 | wc -l` (OpenSSH), in alternating rounds
-- in one invocation; medians of the per-round ratios, and the client CPU of
-- each luasible loop (os.clock).
--   make && lua5.4 bench/events_bench.lua [ROUNDS] [LINES]
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"
local system = require "system"

local ROUNDS, N = tonumber(arg[1] or 7), tonumber(arg[2] or 2000000)

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
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

local srv = sshd.start { aliases = { "h1" } }
local conn = assert(luasible.connect { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
  known_hosts = srv.known_hosts, agent = false, ssh_config = false })
assert(conn:execute("true"))
local cmd = "seq 1 " .. N

local function stream()
  local c0, t0, n = os.clock(), system.monotime(), 0
  for ev in conn:stream(cmd) do
    if ev.type == "stdout" then n = n + 1 end
  end
  assert(n == N, "lines: " .. n)
  return system.monotime() - t0, os.clock() - c0
end
local function lines()
  local c0, t0, n = os.clock(), system.monotime(), 0
  for _ in conn:lines(cmd) do n = n + 1 end
  assert(n == N, "lines: " .. n)
  return system.monotime() - t0, os.clock() - c0
end
local function openssh()
  local t0 = system.monotime()
  local p = assert(io.popen("ssh -F " .. q(srv.ssh_config) .. " h1 " .. cmd .. " | wc -l"))
  local out = p:read("a")
  p:close()
  assert(tonumber(out) == N)
  return system.monotime() - t0
end

print(("start %s UTC, load %s, %d rounds of %d lines"):format(os.date("!%H:%M:%S"), loadavg(), ROUNDS, N))
local RS, RL, S, L, B, CS, CL = {}, {}, {}, {}, {}, {}, {}
for r = 1, ROUNDS do
  local s, cs, l, cl, b
  if r % 2 == 1 then
    b = openssh(); s, cs = stream(); l, cl = lines()
  else
    l, cl = lines(); s, cs = stream(); b = openssh()
  end
  S[r], L[r], B[r], CS[r], CL[r], RS[r], RL[r] = s, l, b, cs, cl, s / b, l / b
  print(("  round %d: stream %.3f s (cpu %.3f) %.2fx, lines %.3f s (cpu %.3f) %.2fx, ssh|wc -l %.3f s, load %s")
    :format(r, s, cs, s / b, l, cl, l / b, b, loadavg()))
end
conn:close()
srv:stop()
print(("end %s UTC, load %s"):format(os.date("!%H:%M:%S"), loadavg()))
print("| loop | wall (median) | client CPU (median) | ssh \\| wc -l (median) | ratio (median of rounds) | target |")
print("|---|---|---|---|---|---|")
print(("| `for ev in conn:stream` | %.3f s | %.3f s | %.3f s | %.2fx | <= 1.0x |"):format(median(S), median(CS),
  median(B), median(RS)))
print(("| `for line in conn:lines` | %.3f s | %.3f s | %.3f s | %.2fx | - |"):format(median(L), median(CL),
  median(B), median(RL)))
