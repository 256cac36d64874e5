--- Inventory load speed for a dynamic inventory (issue 13): an inventory
-- script giving 1,000 hosts (with _meta.hostvars), with `constructed` on
-- top (compose 2 vars, 2 groups by condition, 3 keyed groups), loaded by
-- `luasible inventory --list` and by `ansible-inventory --list`, the same
-- sources, in one invocation (rounds alternate). Run from the repo root:
--   lua5.4 bench/inventory_script_bench.lua [HOSTS=1000] [ROUNDS=5] [host]
-- With `host`: the script gives no _meta, so each host's variables come
-- from `SCRIPT --host HOST` (luasible runs 8 at once, Ansible one by one).
-- Also checks that both give the same groups and host variables, and
-- times luasible.inventory.load in this process (no process start).
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local core = require "luasible.core"
local inventory = require "luasible.inventory"
local json = require "luasible.json"

local HOSTS = tonumber(arg[1]) or 1000
local ROUNDS = tonumber(arg[2]) or 5

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local function write(name, text, mode)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  f:write(text)
  f:close()
  if mode then assert(os.execute("chmod " .. mode .. " " .. dir .. "/" .. name)) end
  return dir .. "/" .. name
end

-- the data: HOSTS instances over 3 regions, 4 roles, with tags
local regions, roles = { "eu-west-1", "us-east-1", "ap-south-1" }, { "web", "db", "cache", "batch" }
local data = { _meta = { hostvars = json.object({}) } }
for _, r in ipairs(roles) do data[r] = { hosts = {} } end
data.all = { vars = { cloud = "acme" } }
for i = 1, HOSTS do
  local name = string.format("i-%05d.example.internal", i)
  local role = roles[(i - 1) % #roles + 1]
  table.insert(data[role].hosts, name)
  data._meta.hostvars[name] = { private_ip = string.format("10.%d.%d.%d", i // 65536, (i // 256) % 256, i % 256),
    region = regions[(i - 1) % #regions + 1], cpus = 2 ^ (i % 4) // 1, state = i % 10 == 0 and "stopped" or "running",
    tags = { Role = role, Env = i % 3 == 0 and "stage" or "prod", Owner = "team" .. (i % 7) } }
end
local out = write("inventory.json", json.encode(data))
local script
if arg[3] == "host" then
  -- the same data without _meta: one file of vars per host, cat by --host
  assert(os.execute("mkdir -p " .. dir .. "/hv"))
  for name, hv in pairs(data._meta.hostvars) do write("hv/" .. name, json.encode(hv)) end
  data._meta = nil
  write("inventory.json", json.encode(data))
  script = write("inventory.sh", "#!/bin/sh\n[ \"$1\" = --list ] && exec cat '" .. out .. "'\n"
    .. "exec cat '" .. dir .. "/hv/'\"$2\"\n", "+x")
else
  script = write("inventory.sh", "#!/bin/sh\n[ \"$1\" = --list ] && exec cat '" .. out .. "'\necho '{}'\n", "+x")
end
local cons = write("groups.yml", [[
plugin: constructed
strict: false
compose:
  ansible_host: private_ip
  big: cpus >= 4
groups:
  running: state == 'running'
  prod_web: tags.Env == 'prod' and tags.Role == 'web'
keyed_groups:
  - key: region
    prefix: region
  - key: tags.Env
    prefix: env
  - key: tags
    prefix: tag
]])
local cfg = write("ansible.cfg", "")

local function sh(cmd)
  local t0 = core.now()
  local ok = os.execute(cmd)
  assert(ok, cmd)
  return core.now() - t0
end

local ours = "bin/luasible inventory -i " .. script .. " -i " .. cons .. " --list"
local theirs = "cd " .. dir .. " && env ANSIBLE_CONFIG=" .. cfg .. " ANSIBLE_HOME=" .. dir .. "/home "
  .. "ansible-inventory -i " .. script .. " -i " .. cons .. " --list"
-- the same answer (JSON compared by Python, keys sorted)
sh(ours .. " > " .. dir .. "/ours.json")
sh(theirs .. " > " .. dir .. "/theirs.json 2>/dev/null")
local same = os.execute("python3 -c \"import json,sys; a=json.load(open('" .. dir .. "/ours.json')); "
  .. "b=json.load(open('" .. dir .. "/theirs.json')); sys.exit(0 if a == b else 1)\"")

local median = require("bench.common").median
local lt, at, it = {}, {}, {}
for r = 1, ROUNDS do
  lt[r] = sh(ours .. " > /dev/null")
  at[r] = sh(theirs .. " > /dev/null 2>&1")
  local t0 = core.now()
  assert(inventory.load({ script, cons }))
  it[r] = core.now() - t0
end
local l, a, i = median(lt), median(at), median(it)
print(string.format("hosts %d, rounds %d, %s, same answer: %s", HOSTS, ROUNDS,
  arg[3] == "host" and "--host per host" or "_meta.hostvars", same and "yes" or "NO"))
print(string.format("| luasible inventory --list (process) | %.3f s |", l))
print(string.format("| luasible.inventory.load (in process) | %.3f s |", i))
print(string.format("| ansible-inventory --list | %.3f s |", a))
print(string.format("| ratio luasible / ansible-inventory | %.2f |", l / a))
os.execute("rm -rf " .. dir)
