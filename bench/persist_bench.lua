--- Issue 13 benchmark, persistent connections: N sequential `luasible exec
-- h1 -m shell -a true` processes against one test sshd, without and with
-- ssh_persist (LUASIBLE_SSH_PERSIST: a holder keeps the connection between
-- the runs; its control sockets in a folder of the bench's own), alternating
-- rounds in one invocation; medians. Then bulk output: `seq 1 LINES` read
-- with `for ev in conn:stream(...)` in this process over a direct
-- connection and over a persistent one (binary frames through the holder
-- and a relay), alternating, ROUNDS each; medians and the ratio (target:
-- at most 1.5x).
--   make && lua5.4 bench/persist_bench.lua [RUNS] [ROUNDS] [LINES]
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"
local system = require "system"

local RUNS, ROUNDS, LINES = tonumber(arg[1] or 20), tonumber(arg[2] or 3), tonumber(arg[3] or 2000000)
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function median(t)
  local s = { table.unpack(t) }
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end
local function loadavg()
  return (files.read("/proc/loadavg") or "?"):match("^(%S+ %S+ %S+)")
end

local srv = sshd.start {}
local inv = srv.dir .. "/inv.ini"
files.write(inv, ("h1 ansible_host=127.0.0.1 ansible_port=%d ansible_user=%s ansible_ssh_private_key_file=%s "
  .. "luasible_known_hosts=%s luasible_ssh_config=false luasible_ssh_agent=false\n")
  :format(srv.port, srv.user, srv.key, srv.known_hosts))
local cp = srv.dir .. "/cp"

local function runs(persist)
  local env = persist and ("LUASIBLE_SSH_PERSIST=60 LUASIBLE_CONTROL_DIR=" .. q(cp) .. " ") or ""
  local cmd = env .. "bin/luasible exec h1 -i " .. q(inv) .. " -m shell -a true >/dev/null 2>&1"
  local t0 = system.monotime()
  for _ = 1, RUNS do assert(os.execute(cmd), "luasible exec failed: " .. cmd) end
  return system.monotime() - t0
end

print(("start %s UTC, load %s, %d rounds of %d runs"):format(os.date("!%H:%M:%S"), loadavg(), ROUNDS, RUNS))
local D, P, R = {}, {}, {}
for r = 1, ROUNDS do
  local d, p
  if r % 2 == 1 then d = runs(false); p = runs(true) else p = runs(true); d = runs(false) end
  D[r], P[r], R[r] = d, p, p / d
  print(("  round %d: direct %.3f s, persistent %.3f s (%.2fx), load %s"):format(r, d, p, p / d, loadavg()))
end

-- bulk output, in this process: direct, then persistent (alternating)
local luasible = require "luasible"
local function spec(persist)
  return { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key, known_hosts = srv.known_hosts,
    agent = false, ssh_config = false, persist = persist, control_dir = cp .. "-bulk" }
end
local direct = assert(luasible.connect(spec(0)))
local held = assert(luasible.connect(spec(60)))
local function bulk(conn)
  local n, t0 = 0, system.monotime()
  for ev in conn:stream("seq 1 " .. LINES) do
    if ev.type == "stdout" then n = n + 1 end
  end
  local dt = system.monotime() - t0
  assert(n == LINES, ("%d lines, expected %d"):format(n, LINES))
  return dt
end
bulk(held) -- the holder started, warm
local BD, BP, BR = {}, {}, {}
for r = 1, ROUNDS do
  local d, p
  if r % 2 == 1 then d = bulk(direct); p = bulk(held) else p = bulk(held); d = bulk(direct) end
  BD[r], BP[r], BR[r] = d, p, p / d
  print(("  bulk round %d: direct %.3f s, persistent %.3f s (%.2fx), load %s"):format(r, d, p, p / d, loadavg()))
end
direct:close()
held:close()
-- the holder ends after its idle time; stop it now with the server
srv:stop()
local ROW = "| %d sequential `luasible exec h1 -m shell -a true` | %.3f s (%.1f ms a run) | %.3f s"
  .. " (%.1f ms a run) | %.2fx |"
print(ROW:format(RUNS, median(D), median(D) / RUNS * 1000, median(P), median(P) / RUNS * 1000, median(R)))
local rs = {}
for i, x in ipairs(BR) do rs[i] = ("%.2f"):format(x) end
print(("| `for ev in conn:stream(\"seq 1 %d\")` | %.3f s | %.3f s | %.2fx (rounds %s; target <= 1.5x: %s) |")
  :format(LINES, median(BD), median(BP), median(BR), table.concat(rs, " "), median(BR) <= 1.5 and "met" or "NOT met"))
