-- bench/template_bench.lua: the template engine (issue 11) against Python's
-- Jinja2 doing the same work in the same invocation (bench/template_bench.py):
--   1. a 2,000-line template with loops, conditions and 20 filters:
--      compiled once, rendered RENDERS times;
--   2. a corpus of 10,000 short expressions (distinct texts): each compiled
--      once, then each evaluated EVALS times.
-- Both sides: trim_blocks on, strict undefined; the rendered texts must be
-- the same bytes (checked), and the expressions' true-counts too.
-- Rounds alternate Python and luasible; medians are reported. Times are
-- CPU times of the process (os.clock, time.process_time): the machine is
-- shared, and CPU time is the work each engine does.
-- Run: make && lua5.4 bench/template_bench.lua [ROUNDS] [RENDERS] [EVALS]
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local T = require "luasible.template"
local pyjson = require "luasible.template.filters.pyjson"

local ROUNDS = tonumber(arg[1]) or 3
local RENDERS = tonumber(arg[2]) or 20
local EVALS = tonumber(arg[3]) or 5

-- ---------------------------------------------------------------- data
local hosts = {}
for i = 1, 40 do
  hosts[i] = { name = "web" .. i, ip = "10.0." .. (i // 10) .. "." .. i, port = tostring(8000 + i),
    enabled = i % 3 ~= 0, weight = i * 1.5, tags = { "t" .. (i % 4), "app", "t" .. (i % 7) },
    role = ({ "db", "web", "cache" })[i % 3 + 1] }
end
local vars = { hosts = hosts, title = "the cluster", users = { "ann", "bob", "cid", "dan", "eve" },
  limits = { 3, -7, 12, 5, 9 }, env = { STAGE = "prod", REGION = "eu" }, debug = false, level = 2,
  missing_ok = "present" }

-- ---------------------------------------------------------------- template
-- 20 filters: upper lower default int length join replace trim title
-- capitalize first last sort unique reverse string round abs sum map
local BLOCK = [[
# section {{ s }}: {{ title | title }} ({{ hosts | length }} hosts)
{% for h in hosts %}
{% if h.enabled %}
server {{ h.name | upper }} {{ h.ip }}:{{ h.port | int + s }} weight={{ h.weight | round(1) }}
  tags: {{ h.tags | unique | sort | join(',') }} first={{ h.tags | first }} last={{ h.tags | last }}
{% elif h.role == 'db' %}
db {{ h.name | replace('web', 'db') | capitalize }} {{ loop.index }}/{{ loop.length }}
{% else %}
off {{ h.name | lower }} {{ h.nope | default('none') }}
{% endif %}
{% endfor %}
users: {{ users | reverse | map('upper') | join(' ') }} {{ users | map('capitalize') | list | length }}
limits: {{ limits | sum }} {{ limits | map('abs') | sort | first }} {{ (limits | last) | string }}
{% for k in env | sort %}
env {{ k }}={{ env[k] | lower | trim }}
{% endfor %}
{% if debug %}debug{% elif level > 1 %}level {{ level }}{% else %}quiet{% endif %}
]]
-- one block renders to about 40 lines; 50 of them: ~2,000 lines of output
-- from a template of 16 x 50 = 800 lines of text
local parts = {}
for s = 1, 125 do parts[#parts + 1] = "{% set s = " .. s .. " %}\n" .. BLOCK end
local TEMPLATE = table.concat(parts)
local template_lines = select(2, TEMPLATE:gsub("\n", ""))

-- ---------------------------------------------------------------- expressions
-- h: a host index (0..39), u: a user or limit index (0..4), k: a small number
local SHAPES = {
  function(h, _, k) return string.format("hosts[%d].port | int > %d", h, 8000 + k) end,
  function(h, _, k) return string.format("'t%d' in hosts[%d].tags", k % 7, h) end,
  function(h, _, k) return string.format("hosts[%d].name ~ '-%d'", h, k) end,
  function(_, u, k) return string.format("(limits[%d] * %d) // 3", u, k) end,
  function(_, u, k) return string.format("users[%d] | upper == 'ANN' or %d > 50", u, k) end,
  function(h, _, k) return string.format("hosts[%d].enabled and hosts[%d].weight > %d", h, (h + 1) % 40, k) end,
  function(_, _, k) return string.format("level + %d if debug else level - %d", k, k) end,
  function(_, u, k) return string.format("[%d, %d, 3] | max", u, k) end,
  function(_, u, k) return string.format("env.STAGE == 'prod' and %d < %d", u, k) end,
  function(h, _, k) return string.format("hosts[%d].ip.split('.')[%d]", h, k % 4) end,
}
local EXPRS = {}
for i = 1, 10000 do
  EXPRS[i] = SHAPES[(i - 1) % #SHAPES + 1]((i // 10) % 40, (i // 10) % 5, i // 10)
end

-- ---------------------------------------------------------------- rounds
local function lua_round()
  T.clear_caches() -- compile again, as Python does in each round
  local t0 = os.clock()
  local text = assert(T.render(TEMPLATE, vars, "bench.j2", nil, { jinja = true, trim_blocks = true }))
  local t1 = os.clock()
  for _ = 2, RENDERS do
    text = assert(T.render(TEMPLATE, vars, "bench.j2", nil, { jinja = true, trim_blocks = true }))
  end
  local t2 = os.clock()
  local fns = {}
  for i, e in ipairs(EXPRS) do fns[i] = T.compile_expr(e) end
  local t3 = os.clock()
  local checksum = 0
  for _ = 1, EVALS do
    for i = 1, #fns do
      if fns[i](vars) == true then checksum = checksum + 1 end
    end
  end
  local t4 = os.clock()
  -- the first render holds the compile; the others are renders only
  local render_one = (t2 - t1) / math.max(RENDERS - 1, 1)
  return { compile_t = t1 - t0 - render_one, render = render_one * RENDERS,
    compile_e = t3 - t2, eval = t4 - t3, text = text, checksum = checksum }
end

local JOB = "/tmp/luasible_template_bench.json"
do
  local f = assert(io.open(JOB, "w"))
  f:write(pyjson.encode({ template = TEMPLATE, exprs = EXPRS, vars = vars, renders = RENDERS, evals = EVALS }))
  f:close()
end

local function py_round()
  local p = assert(io.popen("/usr/bin/python3 bench/template_bench.py " .. JOB .. " 2>&1"))
  local out = p:read("a")
  p:close()
  local ok, r = pcall(pyjson.decode, out)
  assert(ok and type(r) == "table", "python: " .. out)
  return r
end

-- the texts must agree (Python's trailing newline rule: keep_trailing_newline on both)
local first = lua_round()
local py = py_round()
assert(#first.text == py.text_len, string.format("rendered texts differ: %d bytes against Python's %d",
  #first.text, py.text_len))
assert(first.checksum == py.checksum, string.format("expressions differ: %d true against Python's %d",
  first.checksum, py.checksum))
local out_lines = select(2, first.text:gsub("\n", ""))

local L, P = {}, {}
for r = 1, ROUNDS do
  P[r] = py_round()
  L[r] = lua_round()
  print(string.format("round %d: template luasible %.3f s (compile %.3f) Python %.3f s (compile %.3f); "
    .. "expressions luasible %.3f s (compile %.3f) Python %.3f s (compile %.3f)", r,
    L[r].compile_t + L[r].render, L[r].compile_t, P[r].compile_t + P[r].render, P[r].compile_t,
    L[r].compile_e + L[r].eval, L[r].compile_e, P[r].compile_e + P[r].eval, P[r].compile_e))
end
local function median(list, f)
  local xs = {}
  for i, x in ipairs(list) do xs[i] = f(x) end
  table.sort(xs)
  return xs[(#xs + 1) // 2]
end
local lt = median(L, function(x) return x.compile_t + x.render end)
local pt = median(P, function(x) return x.compile_t + x.render end)
local le = median(L, function(x) return x.compile_e + x.eval end)
local pe = median(P, function(x) return x.compile_e + x.eval end)
print(string.format("template: %d lines, %d lines of output, compiled once + %d renders: median luasible %.3f s, "
  .. "Python Jinja2 %.3f s, ratio %.2f (target <= 2)", template_lines, out_lines, RENDERS, lt, pt, lt / pt))
print(string.format("expressions: %d, compiled once + %d evaluations each: median luasible %.3f s, "
  .. "Python Jinja2 %.3f s, ratio %.2f (target <= 2)", #EXPRS, EVALS, le, pe, le / pe))
print(string.format("both: luasible %.3f s, Python %.3f s, ratio %.2f", lt + le, pt + pe, (lt + le) / (pt + pe)))
os.remove(JOB)
