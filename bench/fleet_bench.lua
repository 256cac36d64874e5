--- 1,000 hosts from one process (issue 13, "Speed and scale targets").
-- Run from the repo root, as root, after `make && make -C bench`:
--   lua5.4 bench/fleet_bench.lua [HOSTS=1000] [ROUNDS=3] [CMD='sleep 2; echo hi'] [--loopback]
-- The fleet of spec/helpers/fleet.lua: by default HOSTS distinct addresses
-- of HOSTS / 50 network namespaces (test hosts, each its own sshd: 20 for
-- 1,000); --loopback: HOSTS 127.1.x.y addresses answered by 4 sshd on this
-- machine's lo. Each round, alternating:
--   luasible  one `bin/luasible exec fleet -f HOSTS -m shell -a CMD` (every
--             host at once; connect, run, close), under /usr/bin/time
--   floor     HOSTS parallel bench/out/ssh_blocking processes (blocking
--             libssh2, one connection and one channel each: `xargs -P HOSTS`),
--             under /usr/bin/time
-- Wall time (median), client CPU (user + sys, median; the floor's is the sum
-- over its processes) per host, and luasible's RSS per open connection:
-- (max RSS of the HOSTS run - max RSS of a 1-host run) / (HOSTS - 1).
-- Every host must print "hi" in both (counted), or the round is reported.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
local fleet = require "spec.helpers.fleet"
local files = require "spec.helpers.files"

local args, KIND = {}, "netns"
for _, a in ipairs(arg) do
  if a == "--loopback" then KIND = "loopback" else args[#args + 1] = a end
end
local HOSTS = tonumber(args[1]) or 1000
local ROUNDS = tonumber(args[2]) or 3
local CMD = args[3] or "sleep 2; echo hi"
local BLOCKING = "bench/out/ssh_blocking"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function median(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c[(#c + 1) // 2]
end

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp))
local f = fleet.start { hosts = HOSTS, servers = 4, kind = KIND }
io.stderr:write(("fleet: %d hosts, %d sshd (%s)\n"):format(#f.hosts, #f.servers, KIND))
local inv = f:inventory(tmp .. "/inv.ini")
local lines = {}
for _, h in ipairs(f.hosts) do
  lines[#lines + 1] = table.concat({ h.address, h.port, h.server.user, h.server.key, 1, q(CMD) }, " ")
end
files.write(tmp .. "/floor.args", table.concat(lines, "\n") .. "\n")

-- run sh command line under /usr/bin/time: wall, cpu, maxrss (KiB), stdout
local function timed(line)
  local tf = tmp .. "/time"
  local out = tmp .. "/out"
  os.execute("/usr/bin/time -o " .. tf .. " -f '%e %U %S %M' sh -c " .. q(line)
    .. " >" .. out .. " 2>" .. tmp .. "/err")
  local e, u, s, m = (files.read(tf) or ""):match("([%d.]+) ([%d.]+) ([%d.]+) (%d+)%s*$")
  return tonumber(e), tonumber(u) + tonumber(s), tonumber(m), files.read(out) or ""
end

local function count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

local function luasible_run(limit)
  local wall, cpu, rss, out = timed(("bin/luasible exec fleet -i %s -f %d -m shell -a %s --json %s")
    :format(inv, HOSTS, q(CMD), limit and ("-l " .. limit) or ""))
  return wall, cpu, rss, count(out, '"stdout":"hi"')
end

local function floor_run()
  local wall, cpu, _, out = timed(("xargs -P %d -L 1 %s < %s/floor.args"):format(HOSTS, BLOCKING, tmp))
  return wall, cpu, count(out, "hi\n")
end

local _, _, rss1 = luasible_run("f0001")
local lw, lc, lr, fw, fc = {}, {}, {}, {}, {}
for r = 1, ROUNDS do
  local w, c, m, ok = luasible_run()
  lw[r], lc[r], lr[r] = w, c, m
  local w2, c2, ok2 = floor_run()
  fw[r], fc[r] = w2, c2
  io.stderr:write(("round %d: luasible %.2f s cpu %.2f s rss %d KiB (%d/%d hi); floor %.2f s cpu %.2f s (%d/%d hi)\n")
    :format(r, w, c, m, ok, HOSTS, w2, c2, ok2, HOSTS))
end
f:stop()
os.execute("rm -rf " .. tmp)

local ratio = median(lw) / median(fw)
local cpu_host = median(lc) / HOSTS * 1000
local rss_conn = (median(lr) - rss1) / (HOSTS - 1)
print(("| what | luasible | floor | ratio / value | target | |"))
print("|---|---|---|---|---|---|")
print(("| wall, %d hosts, `%s` | %.2f s | %.2f s | %.2fx | <= 1.2x | %s |"):format(HOSTS, CMD, median(lw), median(fw),
  ratio, ratio <= 1.2 and "met" or "NOT met"))
print(("| client CPU per host | %.2f ms | %.2f ms | | < 5 ms | %s |"):format(cpu_host, median(fc) / HOSTS * 1000,
  cpu_host < 5 and "met" or "NOT met"))
print(("| RSS per open connection | %.0f KiB (max RSS %d KiB, 1 host %d KiB) | | | < 200 KiB | %s |"):format(
  rss_conn, median(lr), rss1, rss_conn < 200 and "met" or "NOT met"))
