--- Issue 12 "--diff": the diff of two 10,000-line files (~3% of the lines
-- changed, inserted or deleted in 300 places, and many repeated lines: the
-- shape of a big config file) by luasible.util.diff against Python's difflib
-- (what ansible-playbook runs for the same diff), in the same invocation:
-- each side times itself in its own process (no start-up counted), best of
-- N rounds, and the two texts they print must be the same bytes.
--   make && lua5.4 bench/diff_bench.lua [--rounds N] [--lines N]
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local diff = require "luasible.util.diff"
local system = require "system"

local rounds, nlines = 5, 10000
for i = 1, #arg do
  if arg[i] == "--rounds" then rounds = tonumber(arg[i + 1]) end
  if arg[i] == "--lines" then nlines = tonumber(arg[i + 1]) end
end

-- deterministic texts
local seed = 42
local function rand(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n + 1 end
local a, b = {}, {}
for i = 1, nlines do
  local r = rand(10)
  a[i] = (r <= 2) and "}\n" or (r == 3) and "\n" or string.format("  option_%d = value %d;\n", i, rand(1000))
end
for i = 1, nlines do
  local r = rand(100)
  if r == 2 then b[#b + 1] = "  changed_" .. i .. " = yes;\n"
  elseif r == 3 then b[#b + 1] = a[i]; b[#b + 1] = "  added_" .. i .. " = 1;\n"
  elseif r ~= 1 then b[#b + 1] = a[i] end -- 1: deleted
end
local before, after = table.concat(a), table.concat(b)
local tmp = os.tmpname()
local fa, fb = io.open(tmp .. ".a", "wb"), io.open(tmp .. ".b", "wb")
fa:write(before); fa:close(); fb:write(after); fb:close()

local best, text = math.huge, nil
for _ = 1, rounds do
  local t0 = system.monotime()
  text = diff.render({ before = before, after = after, before_header = "a", after_header = "b" })
  local dt = system.monotime() - t0
  if dt < best then best = dt end
end

local py = [[
import difflib, sys, time
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from ansible.plugins.callback import CallbackBase
class CB(CallbackBase):
    def __init__(self): pass
    def get_option(self, k): raise KeyError(k)
a = open(sys.argv[1]).read(); b = open(sys.argv[2]).read()
best = 1e9
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    out = CB()._get_diff({"before": a, "after": b, "before_header": "a", "after_header": "b"})
    best = min(best, time.perf_counter() - t0)
sys.stdout.write("%.6f\n" % best)
sys.stdout.write(out)
]]
local pf = io.open(tmp .. ".py", "w"); pf:write(py); pf:close()
local p = io.popen("ANSIBLE_NOCOLOR=1 /usr/bin/python3 " .. tmp .. ".py " .. tmp .. ".a " .. tmp .. ".b " .. rounds)
local pbest = tonumber(p:read("l"))
local ptext = p:read("a")
p:close()
os.remove(tmp .. ".a"); os.remove(tmp .. ".b"); os.remove(tmp .. ".py"); os.remove(tmp)

local nhunks = select(2, text:gsub("\n@@ ", ""))
print(string.format("lines: %d -> %d, diff %d bytes, %d hunks; same text as difflib: %s",
  #a, #b, #text, nhunks, tostring(text == ptext)))
print(string.format("luasible.util.diff: %.1f ms (best of %d)", best * 1000, rounds))
print(string.format("python3 difflib (Ansible's _get_diff): %.1f ms (best of %d)", pbest * 1000, rounds))
print(string.format("ratio luasible / difflib: %.2fx (target <= 1.0x)", best / pbest))
