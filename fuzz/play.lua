#!/usr/bin/env lua5.4
--- The play-table fuzzer: COUNT random play files (fuzz/play_gen.lua) from
-- SEED, each run through luasible.play in this process and one in EVERY
-- through `bin/luasible run` (fuzz/play_check.lua judges them). Prints each
-- finding with its case, keeps its play file under OUT, and exits 1 when
-- there was one. Run from the tree's root (`make fuzz-play`):
--
--   lua5.4 fuzz/play.lua [--count N] [--seed S] [--every K] [--wrong P] [--out DIR]
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local gen = require "fuzz.play_gen"
local check = require "fuzz.play_check"

local opts = { count = 20000, seed = 8, every = 100, wrong = false, out = "fuzz/findings/play" }
local i = 1
while arg[i] do
  local k = arg[i]:match("^%-%-(%w+)$")
  if not k or opts[k] == nil or arg[i + 1] == nil then
    io.stderr:write("usage: lua5.4 fuzz/play.lua [--count N] [--seed S] [--every K] [--wrong P] [--out DIR]\n")
    os.exit(64)
  end
  opts[k] = k == "out" and arg[i + 1] or assert(tonumber(arg[i + 1]), "--" .. k .. " takes a number")
  i = i + 2
end

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp))
local inv = tmp .. "/inventory.lua"
do
  local f = assert(io.open(inv, "w"))
  f:write(check.INVENTORY_SOURCE)
  f:close()
end

local r = gen.rng(opts.seed)
local findings, causes, t0 = 0, {}, os.time()
local became = { refused = 0, ran = 0, failed = 0 }
for n = 1, opts.count do
  local case = gen.play(r, { id = tostring(n), wrong = opts.wrong or nil })
  local file = string.format("%s/play_%d.lua", tmp, n)
  local finding, what = check.in_process(case, file)
  if what then became[what] = became[what] + 1 end
  if not finding and n % opts.every == 0 then finding = check.cli(case, file, inv, ".") end
  if finding then
    findings = findings + 1
    -- a cause: the finding with its numbers and names blurred
    local cause = finding:gsub("'[^']*'", "'_'"):gsub("%d+", "N"):sub(1, 160)
    if not causes[cause] then
      causes[cause] = n
      assert(os.execute("mkdir -p " .. opts.out))
      local keep = string.format("%s/case_%d_%d.lua", opts.out, opts.seed, n)
      local f = assert(io.open(keep, "w"))
      f:write(case.source)
      f:close()
      io.stdout:write(string.format("case %d: %s\n  kept as %s\n", n, finding, keep))
    end
  end
  os.remove(file)
  if n % 1000 == 0 then
    io.stderr:write(string.format("%d cases, %d findings, %d s\n", n, findings, os.time() - t0))
  end
end
os.execute("rm -rf " .. tmp)
local ncauses = 0
for _ in pairs(causes) do ncauses = ncauses + 1 end
io.stdout:write(string.format("%d cases (seed %d): %d ran, %d ran with a task failing, %d refused; "
  .. "%d findings, %d distinct causes\n", opts.count, opts.seed, became.ran, became.failed, became.refused,
  findings, ncauses))
os.exit(findings == 0 and 0 or 1)
