--- What default `forks` suits a fleet (issue 13; docs/CONFIG.md "forks").
-- Run from the repo root, as root (test hosts: network namespaces, an
-- sshd each):
--   lua5.4 bench/forks_bench.lua [HOSTS=60] [ROUNDS=3]
-- One play of one task on HOSTS real test hosts over SSH, for forks 5, 10,
-- 25, 50 and 100 (the hosts' sshd have raised MaxStartups), two tasks:
--   `true`       a run dominated by the SSH handshakes (key exchange, auth)
--   `sleep 1`    a command that takes a while, as real ones do
-- Wall time (median of ROUNDS) and the client's CPU time (user + sys of
-- this process, median) per setting; every round opens new connections.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
local th = require "spec.helpers.testhosts"
local common = require "bench.common"

local HOSTS = tonumber(arg[1]) or 60
local ROUNDS = tonumber(arg[2]) or 3
local FORKS = { 5, 10, 25, 50, 100 }

common.need_test_hosts()

local function cpu()
  local f = assert(io.open("/proc/self/stat"))
  local s = f:read("a")
  f:close()
  local fields = {}
  for x in s:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = x end
  -- utime, stime are fields 14 and 15 of stat: 12 and 13 after "(comm) "
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

local median = common.median

local hosts = th.start({ n = HOSTS, start_timeout = 60 })
local inv = hosts:inventory()
local rows = {}
for _, cmd in ipairs({ "true", "sleep 1" }) do
  for _, forks in ipairs(FORKS) do
    local walls, cpus = {}, {}
    for r = 1, ROUNDS do
      local c0, t0 = cpu(), luasible.now()
      common.play_ok({ hosts = "all", tasks = { { name = "t", shell = cmd } } }, inv, forks, " (round " .. r .. ")")
      walls[r], cpus[r] = luasible.now() - t0, cpu() - c0
    end
    rows[#rows + 1] = string.format("| `%s` | %d | %d | %.2f s | %.2f s |", cmd, HOSTS, forks, median(walls),
      median(cpus))
    io.stderr:write(rows[#rows], "\n")
  end
end
hosts:stop()
print("| command | hosts | forks | wall (median) | client CPU (median) |")
print("| --- | --- | --- | --- | --- |")
for _, r in ipairs(rows) do print(r) end
