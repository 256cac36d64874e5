--- delegate_to on a fleet (issue 12, "delegation"): 20 hosts each delegating
-- one task to one lb host, against the same commands run directly.
-- Run from the repo root, as root (test hosts: network namespaces, an sshd
-- each):
--   lua5.4 bench/delegate_bench.lua [HOSTS=20] [ROUNDS=5]
-- Three ways, each round with new connections, forks = HOSTS:
--   delegated  a play on HOSTS web hosts, one task `delegate_to: lb`: every
--              command runs on lb, over the one pooled lb connection
--   direct     the same play without delegate_to: each host runs its
--              command itself (HOSTS connections)
--   raw        the floor of `delegated`: one luasible.connect to lb and the
--              HOSTS commands as concurrent conn:execute calls (no play)
-- Prints the medians and the ratios of the same invocation.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
local th = require "spec.helpers.testhosts"
local common = require "bench.common"

local HOSTS = tonumber(arg[1]) or 20
local ROUNDS = tonumber(arg[2]) or 5

common.need_test_hosts()

local median = common.median

local names = {}
for i = 1, HOSTS do names[i] = "web" .. i end
names[#names + 1] = "lb"
local hosts = th.start({ names = names, start_timeout = 60 })
local inv = hosts:inventory()
local web = {}
for i = 1, HOSTS do web["web" .. i] = {} end
inv.all.children.web = { hosts = web }

local CMD = "echo {{ inventory_hostname }} >> /tmp/members"
local function play(delegated)
  local task = { name = "join", shell = CMD }
  if delegated then task.delegate_to = "lb" end
  local t0 = luasible.now()
  common.play_ok({ hosts = "web", tasks = { task } }, inv, HOSTS)
  return luasible.now() - t0
end

local function raw()
  local t0 = luasible.now()
  local conn = assert(luasible.connect(hosts:get("lb"):connect_args()))
  luasible.run(function()
    local ts = {}
    for i = 1, HOSTS do
      ts[i] = luasible.spawn(function() return assert(conn:execute("echo web" .. i .. " >> /tmp/members")) end)
    end
    for _, t in ipairs(ts) do assert(t:wait().ok) end
  end)
  conn:close()
  return luasible.now() - t0
end

local times = { delegated = {}, direct = {}, raw = {} }
for r = 1, ROUNDS do
  -- alternate the order so that neither always runs on a warm machine
  local order = r % 2 == 1 and { "raw", "delegated", "direct" } or { "direct", "delegated", "raw" }
  for _, k in ipairs(order) do
    if k == "raw" then times.raw[r] = raw() else times[k][r] = play(k == "delegated") end
  end
end
local lines = 0
for _ in (hosts:get("lb"):read("/tmp/members") or ""):gmatch("\n") do lines = lines + 1 end
assert(lines == HOSTS * ROUNDS * 2, "lb has " .. lines .. " lines, want " .. HOSTS * ROUNDS * 2)
hosts:stop()
local d, di, rw = median(times.delegated), median(times.direct), median(times.raw)
print(("| %d hosts, one task delegated to lb (one pooled lb connection) | %.3f s |"):format(HOSTS, d))
print(("| the same commands direct, each host its own (%d connections) | %.3f s | delegated/direct %.2fx |")
  :format(HOSTS, di, d / di))
print(("| raw: one luasible.connect to lb, %d concurrent conn:execute | %.3f s | delegated/raw %.2fx |")
  :format(HOSTS, rw, d / rw))
