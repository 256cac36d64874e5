--- Play overhead benchmark (issue 4). Run from the repo root:
--   lua5.4 bench/play_bench.lua          local connections (always works)
--   lua5.4 bench/play_bench.lua ssh      20 host names on a loopback sshd
--                                        (needs luasible.ssh and spec/helpers/sshd)
-- A play of 20 `command: true` tasks on 20 hosts, against the raw connections
-- running the same 400 commands (20 hosts at once, 20 commands each in order).
-- Target: play time <= 1.5x raw time.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
local runner = require "luasible.runner"

local HOSTS, TASKS, ROUNDS = 20, 20, 5
local mode = arg[1] or "local"

local names, srv, inv = {}, nil, { all = { hosts = {} } }
for i = 1, HOSTS do names[i] = "h" .. i end

local connect_spec
if mode == "ssh" then
  srv = require("spec.helpers.sshd").start({ aliases = names })
  connect_spec = function()
    return { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
      known_hosts = srv.known_hosts, host_key_check = "accept-new" }
  end
else
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
  local recap = assert(runner.play(play, { inventory = inv, connect = function() return connect() end }))
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
if srv then srv:stop() end
