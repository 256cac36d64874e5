-- bench/template_filters_bench.lua: the cost of filter calls, luasible's
-- registry (each call bound once, as the compiler binds it, then called)
-- against Python's Jinja2 with Ansible's filters (Environment.call_filter
-- on ansible-core's Templar environment: what a compiled template does per
-- filter) on the same 22 calls with the same inputs, N times each, rounds
-- alternating. Run: make && lua5.4 bench/template_filters_bench.lua [N] [ROUNDS]
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local reg = require "luasible.template.registry"
local values = require "luasible.template.values"
local pyjson = require "luasible.template.filters.pyjson"
local uv = require "luv"

local N = tonumber(arg[1]) or 20000
local ROUNDS = tonumber(arg[2]) or 3

-- name, value (JSON; "UNDEF"), args (JSON list), kwargs (JSON list of pairs)
local MIX = {
  { "default", "UNDEF", '["x"]' }, { "upper", '"hello world"' }, { "lower", '"HELLO"' },
  { "replace", '"a-b-c-d"', '["-", "_"]' }, { "join", '["a", "b", "c", "d"]', '[","]' },
  { "length", '[1, 2, 3, 4, 5]' }, { "int", '"42"' }, { "bool", '"yes"' },
  { "to_json", '{"name": "web", "port": 8080, "tags": ["a", "b"]}' },
  { "combine", '{"a": 1, "b": {"c": 2}}', '[{"b": {"d": 3}}]', '[["recursive", true]]' },
  { "regex_replace", '"hello world"', '["o", "0"]' }, { "regex_search", '"listen port 8080"', '["\\\\d+"]' },
  { "unique", '[1, 2, 2, 3, 1, 4]' }, { "sort", '[5, 3, 9, 1, 7]' }, { "map", '["a", "b", "c"]', '["upper"]' },
  { "selectattr", '[{"a": 1}, {"b": 2}, {"a": 3}]', '["a", "defined"]' }, { "first", '[7, 8, 9]' },
  { "trim", '"  padded  "' }, { "split", '"a,b,c,d"', '[","]' }, { "dict2items", '{"x": 1, "y": 2}' },
  { "b64encode", '"hello world"' }, { "hash", '"hello"', '["sha1"]' },
}

local function lua_round()
  local calls = {}
  for i, c in ipairs(MIX) do
    local args, kw = pyjson.decode(c[3] or "[]"), pyjson.decode(c[4] or "[]")
    local names = {}
    local argv = { c[2] == "UNDEF" and values.undefined("v") or pyjson.decode(c[2]) }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    for _, p in ipairs(kw) do names[#names + 1] = p[1]; argv[#argv + 1] = p[2] end
    local e, b = reg.bind("filter", c[1], 1 + #args, names)
    calls[i] = { b.call, e.fn, argv }
  end
  local t0 = uv.hrtime()
  local ctx = {}
  for _ = 1, N do
    for i = 1, #calls do
      local c = calls[i]
      c[1](c[2], ctx, c[3])
    end
  end
  return (uv.hrtime() - t0) / 1e9
end

local PY = [[
import json, sys, time
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
mix, n = json.loads(sys.argv[1]), int(sys.argv[2])
env = Templar(loader=DataLoader(), variables={}).environment
ctx = env.from_string("").new_context({})
calls = []
for name, v, args, kw in mix:
    value = env.undefined(name='v') if v == 'UNDEF' else json.loads(v)
    calls.append((name, value, json.loads(args), dict(json.loads(kw))))
t0 = time.perf_counter()
for _ in range(n):
    for name, value, args, kw in calls:
        env.call_filter(name, value, args, kw, context=ctx)
print(time.perf_counter() - t0)
]]

local function py_round()
  local list = {}
  for i, c in ipairs(MIX) do
    list[i] = "[" .. pyjson.encode(c[1]) .. "," .. pyjson.encode(c[2]) .. "," .. pyjson.encode(c[3] or "[]") .. ","
      .. pyjson.encode(c[4] or "[]") .. "]"
  end
  local arg1 = "[" .. table.concat(list, ",") .. "]"
  local f = assert(io.open("/tmp/luasible_filters_bench.py", "w"))
  f:write(PY)
  f:close()
  local p = assert(io.popen(string.format(
    "/usr/bin/python3 /tmp/luasible_filters_bench.py '%s' %d 2>/tmp/luasible_filters_bench.err",
    arg1:gsub("'", "'\\''"), N)))
  local out = p:read("a")
  p:close()
  os.remove("/tmp/luasible_filters_bench.py")
  return assert(tonumber(out), "python: " .. out)
end

local lt, pt = {}, {}
for r = 1, ROUNDS do
  pt[r] = py_round()
  lt[r] = lua_round()
  print(string.format("round %d: luasible %.3f s, Jinja2+Ansible %.3f s, ratio %.2f", r, lt[r], pt[r], lt[r] / pt[r]))
end
table.sort(lt)
table.sort(pt)
local m = (ROUNDS + 1) // 2
print(string.format("%d calls (%d filters x %d): median luasible %.3f s (%.2f us a call), Python %.3f s (%.2f us), "
  .. "ratio %.2f", N * #MIX, #MIX, N, lt[m], lt[m] / (N * #MIX) * 1e6, pt[m], pt[m] / (N * #MIX) * 1e6, lt[m] / pt[m]))
