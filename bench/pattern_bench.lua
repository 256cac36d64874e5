-- Host patterns on a generated inventory of 10,000 hosts in 500 groups (50
-- parent groups of 10 each), luasible against Ansible's InventoryManager
-- (ansible-core, the same patterns, run in the same invocation):
--   make && lua5.4 bench/pattern_bench.lua
-- Each side: the time to resolve every pattern once, on an inventory
-- already loaded, best of 10 (Ansible's pattern caches cleared each round).
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local inventory = require "luasible.inventory"
local pattern = require "luasible.inventory.pattern"
local luasible = require "luasible"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local src = dir .. "/hosts.ini"
local f = assert(io.open(src, "w"))
for g = 1, 500 do
  f:write(string.format("[g%03d]\n", g))
  for h = 1, 20 do f:write(string.format("h%05d\n", (g - 1) * 20 + h)) end
end
for p = 1, 50 do
  f:write(string.format("[p%02d:children]\n", p))
  for c = 1, 10 do f:write(string.format("g%03d\n", (p - 1) * 10 + c)) end
end
f:close()

local PATTERNS = { "all", "*", "g001", "p01", "p01[0]", "p01[-1]", "p02[10:19]", "p03:&g025",
  "p04:!g031", "all:!p01", "~h0000[0-9]", "h0*1", "g1*", "p01:p02:p03:&~h00[0-4].*:!g005",
  "h09999", "h00001:h00002", "!p10" }

local inv = assert(inventory.load(src))
local function luasible_round()
  local t0 = luasible.now()
  local n = 0
  for _, p in ipairs(PATTERNS) do n = n + #assert(pattern.select(inv, p)) end
  return luasible.now() - t0, n
end

local py = [==[
import sys, time, json
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
inv = InventoryManager(DataLoader(), sources=[sys.argv[1]])
pats = json.loads(sys.argv[2])
best = None
for _ in range(10):
    inv.clear_pattern_cache(); inv._hosts_patterns_cache = {}
    for g in inv.groups.values(): g.clear_hosts_cache()
    t0 = time.perf_counter()
    n = sum(len(inv.get_hosts(p)) for p in pats)
    dt = time.perf_counter() - t0
    best = dt if best is None or dt < best else best
print(best, n)
]==]
local pyfile = dir .. "/bench.py"
f = assert(io.open(pyfile, "w"))
f:write(py)
f:close()
local pats = "[" .. table.concat((function()
  local q = {}
  for i, p in ipairs(PATTERNS) do q[i] = '"' .. p:gsub("\\", "\\\\") .. '"' end
  return q
end)(), ",") .. "]"

local best_l, n_l = math.huge, 0
for _ = 1, 10 do
  local dt, n = luasible_round()
  if dt < best_l then best_l, n_l = dt, n end
end
local p = assert(io.popen("/usr/bin/python3 " .. pyfile .. " " .. src .. " '" .. pats .. "' 2>/dev/null"))
local out = p:read("a")
p:close()
local best_a, n_a = out:match("^(%S+) (%d+)")
best_a = tonumber(best_a)
os.execute("rm -rf " .. dir)

print(string.format("%d patterns on 10,000 hosts / 550 groups (%d hosts selected in all)", #PATTERNS, n_l))
print(string.format("luasible: %.1f ms   Ansible InventoryManager: %s   ratio %s",
  best_l * 1000, best_a and string.format("%.1f ms (%s hosts)", best_a * 1000, n_a) or "n/a",
  best_a and string.format("%.1fx faster", best_a / best_l) or "n/a"))
assert(not best_a or tonumber(n_a) == n_l, "luasible and Ansible selected different host counts")
