--- Connection plugins (issue 13, "Connections as plugins"): what the
-- plugin layer costs over the container CLI itself. Needs root, podman and
-- a running container (its name: the first argument, default fc1; a busybox
-- one as spec/integration/connection_plugins_spec.lua makes). Rounds
-- alternate the baseline and luasible; medians.
--   lua5.4 bench/connection_plugins_bench.lua [CONTAINER] [LINES] [ROUNDS]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
local core = require "luasible.core"

local name = arg[1] or "fc1"
local lines = tonumber(arg[2]) or 500000
local rounds = tonumber(arg[3]) or 5

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local function baseline()
  local t0 = core.now()
  local p = assert(io.popen(("podman exec -i %s seq %d | wc -l"):format(name, lines)))
  local n = tonumber(p:read("a"))
  p:close()
  assert(n == lines, "baseline counted " .. tostring(n))
  return core.now() - t0
end

local function stream(conn)
  local t0, n = core.now(), 0
  for ev in conn:stream(("seq %d"):format(lines)) do
    if ev.type == "stdout" then n = n + 1 end
  end
  assert(n == lines, "stream counted " .. n)
  return core.now() - t0
end

local function plain(conn)
  local t0, n = core.now(), 0
  for _ in conn:lines(("seq %d"):format(lines)) do n = n + 1 end
  assert(n == lines, "lines counted " .. n)
  return core.now() - t0
end

local function execs(conn, k)
  local t0 = core.now()
  for _ = 1, k do assert(conn:execute("true").ok) end
  return (core.now() - t0) / k
end

local function execs_cli(k)
  local t0 = core.now()
  for _ = 1, k do assert(os.execute("podman exec -i " .. name .. " true")) end
  return (core.now() - t0) / k
end

local MB = tonumber(os.getenv("BENCH_MB")) or 16
local src = os.tmpname()
do
  local f = assert(io.open(src, "wb"))
  local chunk = string.rep("0123456789abcdef", 65536) -- 1 MiB
  for _ = 1, MB do f:write(chunk) end
  f:close()
end

local function put_cli()
  local t0 = core.now()
  assert(os.execute(("podman exec -i %s sh -c 'cat > /tmp/bench-cli.bin' < %s"):format(name, src)))
  return core.now() - t0
end

local function get_cli()
  local t0 = core.now()
  assert(os.execute(("podman exec -i %s cat /tmp/bench-cli.bin > %s.cli"):format(name, src)))
  return core.now() - t0
end

local function put_get(conn)
  local t0 = core.now()
  assert(conn:put(src, "/tmp/bench-put.bin", { on_progress = function() end }))
  local t1 = core.now()
  assert(conn:get("/tmp/bench-put.bin", src .. ".got", { on_progress = function() end }))
  return t1 - t0, core.now() - t1
end

local pc, gc, pl, gl = {}, {}, {}, {}
local b, s, l, e, ec = {}, {}, {}, {}, {}
luasible.run(function()
  local conn <close> = assert(luasible.connect({ connection = "podman", host = name }))
  for _ = 1, rounds do
    b[#b + 1] = baseline()
    s[#s + 1] = stream(conn)
    l[#l + 1] = plain(conn)
    ec[#ec + 1] = execs_cli(10)
    e[#e + 1] = execs(conn, 10)
    pc[#pc + 1] = put_cli()
    gc[#gc + 1] = get_cli()
    pl[#pl + 1], gl[#gl + 1] = put_get(conn)
  end
end)
print(("%d lines: podman exec | wc -l median %.3f s; for ev in conn:stream median %.3f s; ratio %.2fx")
  :format(lines, median(b), median(s), median(s) / median(b)))
print(("%d lines: for line in conn:lines median %.3f s; ratio %.2fx"):format(lines, median(l), median(l) / median(b)))
print(("round trip of `true`: podman exec %.1f ms; conn:execute %.1f ms; ratio %.2fx")
  :format(median(ec) * 1000, median(e) * 1000, median(e) / median(ec)))
print(("%d MiB put (8 MiB chunks, atomic, sha256 checked): cat | podman exec %.3f s; conn:put %.3f s; ratio %.2fx")
  :format(MB, median(pc), median(pl), median(pl) / median(pc)))
print(("%d MiB get (8 MiB dd chunks, sha256 checked): podman exec cat > file %.3f s; conn:get %.3f s; ratio %.2fx")
  :format(MB, median(gc), median(gl), median(gl) / median(gc)))
os.remove(src); os.remove(src .. ".cli"); os.remove(src .. ".got")
print("rounds (baseline, stream): " .. table.concat(b, " ") .. " | " .. table.concat(s, " "))
