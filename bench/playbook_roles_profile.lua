--- Where the CPU of bench/playbook_roles_bench.lua's in-process measure goes:
-- os.clock around the parts of loading and checking (inclusive, each
-- counted once when nested), the best of N cold rounds (the template
-- caches emptied first), and the Lua VM instructions of one round (a count
-- hook: deterministic, C time not in it). Run from the root of the tree to
-- measure (this one, or a build of main) on a kept tree:
--   KEEP=1 NO_ANSIBLE=1 lua5.4 bench/playbook_roles_bench.lua   (prints "tree kept in DIR")
--   lua5.4 bench/playbook_roles_profile.lua DIR [ROUNDS]
--   (cd /tmp/main && lua5.4 OTHER/bench/playbook_roles_profile.lua DIR)
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local dir = assert(arg[1], "usage: lua5.4 bench/playbook_roles_profile.lua TREE [ROUNDS]")
local N = tonumber(arg[2] or 6)
local clock = os.clock
local acc, inside = {}, {}
local function wrap(mod, fname, label)
  local f = mod[fname]
  if not f then return end
  mod[fname] = function(...)
    if inside[label] then return f(...) end
    inside[label] = true
    local c = clock()
    local r = table.pack(pcall(f, ...))
    acc[label] = (acc[label] or 0) + clock() - c
    inside[label] = nil
    if not r[1] then error(r[2], 0) end
    return table.unpack(r, 2, r.n)
  end
end
wrap(require "luasible.yaml", "load", "yaml.load")
local template = require "luasible.template"
wrap(template, "check", "template.check")
wrap(require "luasible.module", "validate", "modules.validate")
wrap(require "luasible.play.conditions", "compile", "conditions.compile")
wrap(require "luasible.util.schema", "check", "schema.check")
local playbook = require "luasible.play.playbook"
local prepare = require "luasible.play.prepare"
wrap(prepare, "prepare_task", "prepare_task")
local inventory = require "luasible.inventory"
local file = dir .. "/site.yml"
local inv = assert(inventory.load(dir .. "/inv.ini"))
local function run()
  template.clear_caches()
  local c0 = clock()
  local plays, sources = assert(playbook.load(file))
  local c1 = clock()
  assert(prepare.prepare(plays[1], { play_file = file, locate = sources[1].locate,
    play_index = sources[1].play_index, base_dir = dir }, inv))
  return c1 - c0, clock() - c1
end
run()
acc = {}
local best = { load = math.huge, prepare = math.huge, total = math.huge }
for _ = 1, N do
  collectgarbage()
  local l, p = run()
  best.load, best.prepare, best.total = math.min(best.load, l), math.min(best.prepare, p), math.min(best.total, l + p)
end
print(string.format("best of %d: playbook.load %.1f ms, prepare %.1f ms, both %.1f ms (CPU)", N, best.load * 1000,
  best.prepare * 1000, best.total * 1000))
local parts = {}
for k, v in pairs(acc) do parts[#parts + 1] = { k, v } end
table.sort(parts, function(a, b) return a[2] > b[2] end)
for _, a in ipairs(parts) do print(string.format("  %-20s %.1f ms a round (mean)", a[1], a[2] / N * 1000)) end
local n = 0
debug.sethook(function() n = n + 1 end, "", 1000)
run()
debug.sethook()
print(string.format("Lua VM instructions of a round: %.2f M", n / 1000))
