--- Play overhead benchmark (issue 4). Run from the repo root:
--   lua5.4 bench/play_bench.lua          local connections (always works)
--   lua5.4 bench/play_bench.lua ssh      20 host names on a loopback sshd
--                                        (needs luasible.ssh and spec/helpers/sshd)
-- A play of 20 `command: true` tasks on 20 hosts, against the raw connections
-- running the same 400 commands (20 hosts at once, 20 commands each in order).
-- Target: play time <= 1.5x raw time. Then the same play through the CLI as a
-- process, and CLI start-up (`bin/luasible --version`, 50 runs; target < 30 ms).
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
local runner = require "luasible.play"

local HOSTS, TASKS, ROUNDS = 20, 20, 5
local mode = arg[1] or "local"

local names, srv, inv = {}, nil, { all = { hosts = {} } }
for i = 1, HOSTS do names[i] = "h" .. i end

-- the play reaches its hosts the way a user's play does: through the
-- inventory's connection variables (no custom connect function)
local connect_spec
if mode == "ssh" then
  srv = require("spec.helpers.sshd").start({ aliases = names })
  inv.all.vars = { ansible_host = "127.0.0.1", ansible_port = srv.port, ansible_user = srv.user,
    ansible_ssh_private_key_file = srv.key, luasible_known_hosts = srv.known_hosts,
    luasible_ssh_config = "none", luasible_ssh_agent = false }
  connect_spec = function()
    return { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
      known_hosts = srv.known_hosts, ssh_config = false, agent = false }
  end
else
  inv.all.vars = { ansible_connection = "local" }
  connect_spec = function() return "local" end
end
for _, h in ipairs(names) do inv.all.hosts[h] = {} end

local function connect() return assert(luasible.connect(connect_spec())) end

local function raw_run()
  local t0 = luasible.now()
  luasible.run(function()
    local hs = {}
    for i = 1, HOSTS do
      hs[i] = luasible.spawn(function()
        local c = connect()
        for _ = 1, TASKS do assert(c:execute({ "true" }).ok) end
        c:close()
      end)
    end
    for _, h in ipairs(hs) do h:wait() end
  end)
  return luasible.now() - t0
end

local tasks = {}
for i = 1, TASKS do tasks[i] = { name = "t" .. i, command = "true" } end
local play = { hosts = "all", forks = HOSTS, tasks = tasks }

local function play_run()
  local t0 = luasible.now()
  local recap = assert(runner.play(play, { inventory = inv }))
  local elapsed = luasible.now() - t0
  for _, h in ipairs(names) do assert(recap[h].changed == TASKS, "task failed on " .. h) end
  return elapsed
end

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

raw_run(); play_run() -- warm up
local raw, pl = {}, {}
for i = 1, ROUNDS do raw[i] = raw_run(); pl[i] = play_run() end
local r, p = median(raw), median(pl)
print(string.format("play_bench (%s): %d hosts x %d tasks = %d commands, median of %d rounds",
  mode, HOSTS, TASKS, HOSTS * TASKS, ROUNDS))
print(string.format("  raw connections : %.3f s", r))
print(string.format("  luasible play   : %.3f s", p))
print(string.format("  ratio           : %.2fx (target <= 1.5x) %s", p / r, p / r <= 1.5 and "OK" or "OVER"))

-- The same play through the CLI as a process (inventory file, renderer,
-- start-up included), output to /dev/null.
local dir = srv and srv.dir or os.tmpname()
if not srv then os.remove(dir); os.execute("mkdir -p " .. dir) end
local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end
local ini = { "[all]" }
for _, h in ipairs(names) do ini[#ini + 1] = h end
ini[#ini + 1] = "[all:vars]"
local keys = {}
for k in pairs(inv.all.vars) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do ini[#ini + 1] = k .. "=" .. tostring(inv.all.vars[k]) end
write(dir .. "/bench.ini", table.concat(ini, "\n") .. "\n")
write(dir .. "/bench_play.lua", "return { hosts = 'all', forks = " .. HOSTS .. ", tasks = {"
  .. string.rep("{ command = 'true' },", TASKS) .. "} }")
local cli_cmd = "bin/luasible run " .. dir .. "/bench_play.lua -i " .. dir .. "/bench.ini >/dev/null"
local cli = {}
for i = 1, ROUNDS do
  local t0 = luasible.now()
  assert(os.execute(cli_cmd), "the CLI run failed: " .. cli_cmd)
  cli[i] = luasible.now() - t0
end
local c = median(cli)
print(string.format("  luasible run CLI: %.3f s (%.2fx raw; a process: start-up, inventory file, renderer)", c, c / r))

-- CLI start-up: `bin/luasible --version`, 50 times
local N = 50
local t0 = luasible.now()
assert(os.execute("for i in $(seq " .. N .. "); do bin/luasible --version; done >/dev/null"))
local v = (luasible.now() - t0) / N
print(string.format("  --version       : %.1f ms per run, mean of %d (target < 30 ms) %s", v * 1000, N,
  v < 0.030 and "OK" or "OVER"))
if srv then srv:stop() else os.execute("rm -rf " .. dir) end
