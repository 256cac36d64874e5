--- Inventory loading benchmark (issue 9). Run from the repo root:
--   lua5.4 bench/inventory_bench.lua [CORPUS]
-- CORPUS: ../shared/realworld/inventories by default (or $LUASIBLE_CORPUS).
--
-- 1. kubespray's inventories with their group_vars (inventory/local: one
--    host, the sample's group_vars; inventory/sample: its hosts commented
--    out), loaded and every host's merged variables computed (what
--    `ansible-inventory --list` prints), median of 20; against
--    `ansible-inventory -i INV --list` run side by side (median of 3).
--    Targets: < 50 ms, >= 10x faster. Then the corpus's two biggest by
--    variables (usegalaxy: 33 hosts, 3,080 host variables; mitogen's
--    folder: 729 hosts, 6,741), the same way, for the record.
-- 2. A generated INI inventory of 10,000 hosts in 500 groups (20 hosts
--    each, 50 parents of 10 groups each, vars on every group and on some
--    hosts): loaded, median of 5, and loaded plus every host's variables;
--    ansible-inventory --list on it once. Target: load < 1 s.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
local inventory = require "luasible.inventory"
local export = require "luasible.inventory.export"

local CORPUS = arg[1] or os.getenv("LUASIBLE_CORPUS") or "../shared/realworld/inventories"
local now = luasible.now

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local function time(f, n)
  local out = {}
  for i = 1, n do
    local t0 = now()
    f()
    out[i] = now() - t0
  end
  return median(out), out
end

-- load and compute every host's variables, as ansible-inventory --list does
local function list(path)
  local inv = assert(inventory.load(path))
  return export.list(inv), inv
end

local function ansible(path, n)
  if not os.execute("command -v ansible-inventory >/dev/null 2>&1") then return nil end
  local tmp = os.tmpname()
  os.remove(tmp)
  os.execute("mkdir -p " .. tmp .. " && : > " .. tmp .. "/ansible.cfg")
  local cmd = "cd " .. tmp .. " && ANSIBLE_CONFIG=" .. tmp .. "/ansible.cfg ANSIBLE_HOME=" .. tmp
    .. "/home ansible-inventory -i '" .. path .. "' --list >/dev/null 2>&1"
  local t = time(function() assert(os.execute(cmd), "ansible-inventory failed on " .. path) end, n)
  os.execute("rm -rf " .. tmp)
  return t
end

local function abs(p) return p:sub(1, 1) == "/" and p or (os.getenv("PWD") .. "/" .. p) end

print(string.format("inventory_bench (%s)", os.date("!%Y-%m-%d %H:%M UTC")))
for _, case in ipairs({ "kubernetes-sigs__kubespray__inventory__local/hosts.ini",
  "kubernetes-sigs__kubespray__inventory__sample/inventory.ini", "usegalaxy-eu__infrastructure-playbook/hosts",
  "mitogen-hq__mitogen__tests__ansible__hosts/" }) do
  local target = case:find("kubespray", 1, true) ~= nil
  local path = CORPUS .. "/" .. case
  if not io.open(path) then
    print("  " .. case .. ": not found (corpus " .. CORPUS .. ")")
  else
    list(path) -- warm up
    local doc, inv = list(path)
    local nvars = 0
    for _, v in pairs(doc._meta.hostvars) do for _ in pairs(v) do nvars = nvars + 1 end end
    local l = time(function() list(path) end, 20)
    local a = ansible(abs(path), 3)
    print(string.format("  %s: %d hosts, %d groups, %d host variables", case, #inv.host_order,
      #inv.group_order, nvars))
    print(string.format("    luasible load + every host's vars: %.1f ms (median of 20%s)", l * 1000,
      target and ("; target < 50 ms: " .. (l < 0.050 and "met" or "NOT met")) or ""))
    if a then
      print(string.format("    ansible-inventory --list:          %.1f ms (median of 3)  ->  %.1fx faster%s",
        a * 1000, a / l, target and (" (target >= 10x: " .. (a / l >= 10 and "met" or "NOT met") .. ")") or ""))
    end
  end
end

-- the generated inventory
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)
local big = dir .. "/big.ini"
local lines = {}
for g = 1, 500 do
  lines[#lines + 1] = string.format("[g%03d]", g)
  for h = 1, 20 do
    local n = (g - 1) * 20 + h
    lines[#lines + 1] = h % 5 == 0 and string.format("host%05d.example.com ansible_host=10.%d.%d.%d port=%d",
      n, n // 65536, n // 256 % 256, n % 256, 8000 + h) or string.format("host%05d.example.com", n)
  end
  lines[#lines + 1] = string.format("[g%03d:vars]\ngroup_id=%d\ntier=t%d\nlist=[1, 2, 3]", g, g, g % 7)
end
for p = 1, 50 do
  lines[#lines + 1] = string.format("[parent%02d:children]", p)
  for c = 1, 10 do lines[#lines + 1] = string.format("g%03d", (p - 1) * 10 + c) end
  lines[#lines + 1] = string.format("[parent%02d:vars]\nparent_id=%d", p, p)
end
lines[#lines + 1] = "[all:vars]\nansible_user=deploy\nntp='pool.ntp.org'"
local f = assert(io.open(big, "w"))
f:write(table.concat(lines, "\n"), "\n")
f:close()
local inv = assert(inventory.load(big))
assert(#inv.host_order == 10000, #inv.host_order)
local l = time(function() assert(inventory.load(big)) end, 5)
local lv = time(function() list(big) end, 3)
print(string.format("  generated INI: %d hosts, %d groups (%d lines)", #inv.host_order, #inv.group_order, #lines))
print(string.format("    luasible load:                     %.3f s (median of 5; target < 1 s) %s", l,
  l < 1 and "met" or "NOT met"))
print(string.format("    luasible load + every host's vars: %.3f s (median of 3)", lv))
local a = ansible(big, 1)
if a then
  print(string.format("    ansible-inventory --list:          %.3f s (one run)  ->  %.1fx faster", a, a / lv))
end
os.execute("rm -rf " .. dir)
