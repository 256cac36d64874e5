--- fuzz.play_gen: random play files from a grammar of right and wrong
-- shapes, for fuzz/play.lua and spec/integration/fuzz_play_spec.lua.
--
-- A case is Lua source text (what a user writes in a play file) and the set
-- of labels of what was made wrong in it ("loop", "tags", "task 2",
-- "handler 1", "hosts", ...). Every field of a play and of a task starts
-- from a right value (one luasible must accept: the play runs, or a task
-- fails at run time with a message); with probability `wrong` a field is
-- given a value from the pool of wrong shapes instead (NaN, inf, huge and
-- negative numbers, empty and nested and self-referencing tables,
-- functions, userdata, strings with template syntax, booleans where
-- strings go, ...), or a field is added that no play has. A message that
-- refuses the play must name one of those labels.
--
-- The random numbers are our own (splitmix64), so a seed gives the same
-- cases on every machine and every run, whatever else uses math.random.
local M = {}

--- A generator of random numbers from `seed`: r(n) -> 1..n, r() -> [0, 1).
function M.rng(seed)
  local s = math.tointeger(seed) or 1
  local function next64()
    s = s + 0x9E3779B97F4A7C15
    local z = s
    z = (z ~ (z >> 30)) * -4658895280553007687 -- 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * -7723592293110705685 -- 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  return function(n)
    local x = (next64() >> 11) / 9007199254740992.0 -- 53 bits -> [0, 1)
    if n then return math.floor(x * n) + 1 end
    return x
  end
end

local function pick(r, list) return list[r(#list)] end

-- Template expressions: random ones from the engine's grammar, right and
-- wrong (unknown filters and tests, bad syntax, wrong operand types).
local FILTERS = { "default(1)", "d", "upper", "lower", "trim", "length", "count", "int", "float",
  "string", "bool", "join(',')", "join", "first", "last", "replace('a', 'b')", "replace(1, 2)", "quote",
  "to_json", "list", "dict2items", "round", "round(2)", "round('x')", "basename", "dirname", "nofilter",
  "join(1)", "default()", "int(5)", "replace" }
local TESTS = { "defined", "undefined", "none", "string", "number", "mapping", "sequence", "changed",
  "failed", "skipped", "succeeded", "success", "failure", "notatest" }
local ATOMS = { "1", "0", "-1", "1.5", "2", "99999999999999999999", "'str'", "''", "\"a b\"", "true",
  "false", "none", "[1, 2]", "[]", "[[1], [2, 3]]", "x", "s", "l", "m", "undefined_var", "inventory_hostname",
  "groups", "hostvars", "item", "r1", "play_hosts", "group_names" }
local BINOPS = { "+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "in", "not in",
  "~", "**" }

-- An expression of the engine's grammar; one naming a filter or a test
-- that does not exist marks c.labels.msg (it is refused at load time).
local function expr(c, depth)
  local r = c.r
  local k = depth > 3 and 1 or r(10)
  if k <= 4 then return pick(r, ATOMS)
  elseif k == 5 then
    local f = pick(r, FILTERS)
    if f == "nofilter" or f == "replace" then c.labels.msg = true end -- unknown; too few arguments
    return expr(c, depth + 1) .. " | " .. f
  elseif k == 6 then
    local t = pick(r, TESTS)
    if t == "notatest" then c.labels.msg = true end
    return "(" .. expr(c, depth + 1) .. " is " .. (r(3) == 1 and "not " or "") .. t .. ")"
  elseif k == 7 then return expr(c, depth + 1) .. " " .. pick(r, BINOPS) .. " " .. expr(c, depth + 1)
  elseif k == 8 then
    return "(" .. expr(c, depth + 1) .. ")" .. pick(r, { ".a", "[1]", "[0]", "['k']", ".b", "[-1]" })
  elseif k == 9 then return "[" .. expr(c, depth + 1) .. ", " .. expr(c, depth + 1) .. "]"
  end
  return pick(r, { "not ", "-" }) .. "(" .. expr(c, depth + 1) .. ")"
end

-- A template for a debug message: right syntax, but for the broken ones
-- of the last kind (which mark c.labels.msg).
local function template(c)
  local r = c.r
  local e = expr(c, 0)
  local k = r(12)
  if k == 1 then return "{{ " .. e .. " }}"
  elseif k == 2 then return "at {{ " .. e .. " }} and {{ x }}"
  elseif k == 3 then return "{% if " .. e .. " %}yes{% else %}no{% endif %}"
  elseif k == 4 then return "{% for i in " .. e .. " %}{{ i }},{% endfor %}"
  elseif k == 5 then
    c.labels.msg = true
    return pick(r, { "{{", "{{ }}", "{% if %}", "{{ x }", "{% for %}", "{# c", "{{ 1 +", "{{ x | }}" })
  end
  return "{{ " .. e .. " }}"
end

local function lua_string(s) return string.format("%q", s) end

-- The pool of wrong shapes: Lua expressions.
local DEEP = string.rep("{", 40) .. string.rep("}", 40)
local WRONG = {
  "0/0", "1/0", "-1/0", "math.huge", "-math.huge", "math.maxinteger", "math.mininteger", "-1", "0", "1",
  "2^53", "1e308", "-0.0", "1.5", "-7", "4294967296",
  "true", "false",
  '""', '" "', '"x"', '"{{"', '"}}"', '"{{ x }}"', '"{{ 1 // 0 }}"', '"{{ [1, 2] | last | last }}"',
  '"{% if x %}"', '"{{ x | nofilter }}"', '"a,b"', '"all"', '"h1"', '"!h1"', '"web[0"', '"h[1:"', '"~["',
  '"\\n"', '"line1\\nline2"', lua_string(string.rep("x", 5000)), '"\\0"', '"\\xff\\xfe"', '"-1"', '"NaN"',
  '"yes"', '"{{ 0/0 }}"', '"%s %d"', '"%"',
  "function() end", "function() return true end", "function() error('boom') end",
  "function() error({}) end", "function() error() end", "function() return {} end",
  "function() return 0/0 end", "tostring",
  "{}", "{{}}", "{1, 2, 3}", '{"a", "b"}', "{a = 1}", "{[1.5] = 1}", "{[true] = 1}", "{[{}] = 1}",
  "{1, nil, 3}", DEEP, "(function() local t = {} t[1] = t t.t = t return t end)()", "{name = {}}",
  "{0/0}", '{"a", 5}', "{1/0}", "{[-1] = 'x'}", "{[0] = 'x'}", "{{1, 2}, {3}}", '{"{{"}',
  "io.stdout", "coroutine.create(print)",
}

-- Values that have the right type for a field and would make a case slow
-- (a huge delay or retry count): not used as that field's wrong values.
local SLOW = { delay = true, retries = true }
-- A wrong value for `field` (noted in c.labels when c is given); with
-- `sandboxed`, one that needs no global (an inventory file sees none).
local function wrong_value(r, field, c, sandboxed)
  if c then c.labels[field] = true end
  while true do
    local v = pick(r, WRONG)
    local n = tonumber(load("return " .. v, "=w", "t", { math = math })) -- a number expression?
    if not (SLOW[field] and n and n == n and n > 0.5)
      and not (sandboxed and v:find("%f[%w_]%a+%.")) and not (sandboxed and v:find("^%a+$") and v ~= "true"
        and v ~= "false") then
      return v
    end
  end
end

local HOSTS = { '"all"', '"h1"', '"h1:h2"', '"localhost"', '{"h1", "h2"}', '"h*"', '"all:!h2"', '"web"' }
local TAGS = { '"a"', '{"a", "b"}', '"a,b"', '{"always"}', '"never"' }
local CONDS = { '"true"', '"x == 1"', '"x is defined"', "function() return true end", "true", "false",
  '{"true", "1 == 1"}', '"{{ x == 1 }}"', '{}', '"r1 is defined"', '"x is none"' }
local UNTIL = { '"true"', "true", "function() return true end", '"1 == 1"' }
local VARS = { '{ x = 1 }', '{ x = 1, s = "{{ x }}", l = {1, 2} }', '{ y = "{{ undefined_var }}" }',
  '{ m = { a = { b = 1 } } }', '{}' }
local LOOPS = { "{1, 2}", '"{{ [1, 2] }}"', 'function() return {"a"} end', "{}", '{"a", "{{ x }}"}',
  '"{{ l }}"', '"{{ groups.all }}"' }

-- A field as "name = value": right with probability 1 - wrong, else a
-- wrong value (and its label noted).
-- fields that hold a module's arguments: a message about them names the argument
local ARGS = { debug = true, args = true, command = true }

local function field(c, name, right, label)
  if c.r() < c.wrong then
    c.labels[label or name] = true
    if ARGS[name] then c.labels.argument = true end
    return name .. " = " .. wrong_value(c.r, name)
  end
  return name .. " = " .. right
end

-- An optional field: present with probability p.
local function opt(c, out, p, name, right, label)
  if c.r() < p then out[#out + 1] = field(c, name, right, label) end
end

local MODULE_FORMS = {
  function(c) return { field(c, "debug", "{ msg = " .. lua_string(template(c)) .. " }") } end,
  function(c) return { field(c, "debug", lua_string(template(c))) } end,
  function(c) return { field(c, "module", '"debug"'), field(c, "args", "{ msg = \"hi {{ x }}\" }") } end,
  function(c) return { "debug = { " .. field(c, "var", pick(c.r, { '"x"', '"l"', '"nope"', '"m.a.b"' })) .. " }" } end,
  function(c)
    return { "debug = { msg = " .. pick(c.r, { '"x"', '{ a = 1 }', '{ 1, 2 }' }) .. ", "
      .. field(c, "verbosity", pick(c.r, { "0", "1" })) .. " }" }
  end,
  function(c) return { field(c, "command", '"true"') } end,
}

local function task(c, i, kind, handler_names)
  local out = {}
  local label = kind .. " " .. i
  if c.r() < c.wrong / 4 then
    c.labels[label] = true
    return wrong_value(c.r, kind)
  end
  if kind == "handler" or c.r() < 0.8 then
    local name = kind == "handler" and handler_names[i] or (kind .. " " .. i .. " of " .. c.id)
    out[#out + 1] = field(c, "name", lua_string(name))
  end
  -- the module (a process now and then: command = "true")
  local forms = #MODULE_FORMS - (c.r() < 0.03 and 0 or 1)
  for _, f in ipairs(MODULE_FORMS[c.r(forms)](c)) do out[#out + 1] = f end
  local has_loop = c.r() < 0.25
  if has_loop then
    out[#out + 1] = field(c, "loop", pick(c.r, LOOPS))
    opt(c, out, 0.3, "loop_var", '"it"')
  end
  opt(c, out, 0.2, "register", '"r' .. i .. '"')
  opt(c, out, 0.2, "when", pick(c.r, CONDS))
  opt(c, out, 0.15, "ignore_errors", pick(c.r, { "true", "false" }))
  opt(c, out, 0.1, "become", pick(c.r, { "true", "false" }))
  opt(c, out, 0.1, "become_user", '"root"')
  if #c.handlers > 0 and kind == "task" then
    opt(c, out, 0.3, "notify", c.r(2) == 1 and lua_string(pick(c.r, c.handlers))
      or ("{ " .. lua_string(pick(c.r, c.handlers)) .. " }"))
  end
  opt(c, out, 0.15, "tags", pick(c.r, TAGS))
  opt(c, out, 0.15, "changed_when", pick(c.r, CONDS))
  opt(c, out, 0.15, "failed_when", pick(c.r, CONDS))
  if c.r() < 0.1 then
    out[#out + 1] = field(c, '["until"]', pick(c.r, UNTIL), "until")
    opt(c, out, 0.7, "retries", pick(c.r, { "0", "1", "2" }))
    out[#out + 1] = field(c, "delay", "0")
  end
  opt(c, out, 0.1, "run_once", pick(c.r, { "true", "false" }))
  opt(c, out, 0.15, "vars", pick(c.r, VARS))
  opt(c, out, 0.1, "no_log", pick(c.r, { "true", "false" }))
  opt(c, out, 0.1, "check_mode", pick(c.r, { "true", "false" }))
  if kind == "handler" then opt(c, out, 0.3, "listen", '"topic"') end
  if c.r() < c.wrong / 4 then
    local k = pick(c.r, { "colour", "nmae", "loops", "[1]", "[true]", "when_", "handlers" })
    c.labels[k:gsub("^%[(.*)%]$", "%1")] = true
    out[#out + 1] = k .. " = " .. pick(c.r, { "1", '"x"', "{}" })
  end
  -- fields in a random order: the message must not depend on it
  for j = #out, 2, -1 do
    local k = c.r(j)
    out[j], out[k] = out[k], out[j]
  end
  return "{ " .. table.concat(out, ", ") .. " }"
end

-- A list of n entries: a Lua list, or now and then a wrong shape of list
-- (a hole, a mapping, an entry at 0): its label is `name`.
local function list_of(c, name, items)
  if #items > 0 and c.r() < c.wrong / 3 then
    c.labels[name] = true
    local k = c.r(3)
    if k == 1 then items[#items + 1] = "nil"; items[#items + 1] = items[1]
    elseif k == 2 then return "{ a = " .. items[1] .. " }"
    else return "{ [0] = " .. items[1] .. " }" end
  end
  return "{\n    " .. table.concat(items, ",\n    ") .. "\n  }"
end

-- The inventory of a case (Lua source): three local hosts h1, h2, h3 and
-- group web = h1, h2, with now and then a wrong shape (labels as above).
local CONN_VARS = { "ansible_port", "ansible_host", "ansible_user", "ansible_become", "ansible_ssh_timeout",
  "ansible_password", "luasible_keepalive", "ansible_ssh_private_key_file", "ansible_become_user" }
local function inventory(c)
  local r, p = c.r, c.wrong / 3
  local function host(n)
    local vars = { 'ansible_connection = "local"' }
    if r() < p then
      local k = pick(r, CONN_VARS)
      c.labels[k] = true
      vars[#vars + 1] = k .. " = " .. wrong_value(r, k, nil, true)
    end
    if r() < p then
      c.labels["h" .. n] = true
      vars[#vars + 1] = pick(r, { "x", "[1]", "[true]", "m" }) .. " = " .. wrong_value(r, "var", nil, true)
    end
    if r() < p / 2 then
      c.labels["h" .. n] = true
      return "h" .. n .. " = " .. wrong_value(r, "host", nil, true)
    end
    return "h" .. n .. " = { " .. table.concat(vars, ", ") .. " }"
  end
  local web = "{ h1 = {}, h2 = {} }"
  if r() < p then
    c.labels.hosts = true
    web = pick(r, { wrong_value(r, "hosts", nil, true), '{ "h1", h2 = {} }', '{ "h1", 5 }',
      "{ [1] = 'h1', [3] = 'h2' }" })
  end
  local groups = { "web = { hosts = " .. web .. " }" }
  if r() < p then
    c.labels.vars = true
    groups[#groups + 1] = "db = { vars = " .. wrong_value(r, "vars", nil, true) .. " }"
  end
  if r() < p then
    local k = pick(r, { "colour", "host", "child" })
    c.labels[k] = true
    groups[#groups + 1] = "db2 = { " .. k .. " = {} }"
  end
  if r() < p then
    c.labels.group = true
    groups[#groups + 1] = pick(r, { '["bad name"] = {}', '[5] = {}', '["a\\nb"] = {}' })
  end
  return "return {\n  all = { hosts = { " .. host(1) .. ", " .. host(2) .. ", " .. host(3) .. " } },\n  "
    .. table.concat(groups, ",\n  ") .. ",\n}\n"
end

--- One play file: `source` (Lua text returning a play, or a list of them),
--- `inventory` (nil, or the Lua text of its own inventory) and `labels`, the
--- set of labels of what was made wrong in them.
--- opts: id (names the tasks), wrong (0..1, how often a field is wrong;
--- by default one of 0, 0.01, 0.03, 0.08 and 0.2, drawn for each case).
local RATES = { 0, 0.01, 0.03, 0.08, 0.2 }
function M.play(r, opts)
  opts = opts or {}
  local c = { r = r, wrong = opts.wrong or pick(r, RATES), labels = {}, id = opts.id or "case", handlers = {} }
  local out = {}
  if r() < 0.6 then out[#out + 1] = field(c, "name", lua_string("play " .. c.id)) end
  out[#out + 1] = field(c, "hosts", pick(r, HOSTS))
  local nh = r() < 0.4 and r(3) or 0
  for i = 1, nh do c.handlers[i] = "handler " .. i .. " of " .. c.id end
  local tasks = {}
  for i = 1, r(4) do tasks[i] = task(c, i, "task", c.handlers) end
  out[#out + 1] = "tasks = " .. (r() < c.wrong / 4 and wrong_value(r, "tasks", c) or list_of(c, "tasks", tasks))
  if nh > 0 then
    local hs = {}
    for i = 1, nh do hs[i] = task(c, i, "handler", c.handlers) end
    out[#out + 1] = "handlers = "
      .. (r() < c.wrong / 4 and wrong_value(r, "handlers", c) or list_of(c, "handlers", hs))
  end
  opt(c, out, 0.4, "vars", pick(r, VARS))
  opt(c, out, 0.2, "forks", tostring(r(5)))
  opt(c, out, 0.1, "gather_facts", "false")
  opt(c, out, 0.1, "become", pick(r, { "true", "false" }))
  opt(c, out, 0.1, "become_user", '"root"')
  opt(c, out, 0.05, "module_path", pick(r, { '"/nonexistent"', '{ "/nonexistent" }' }))
  opt(c, out, 0.15, "tags", pick(r, TAGS))
  -- rolling deploys (play/rolling.lua)
  opt(c, out, 0.1, "serial", pick(r, { "1", '"50%"', '{ 1, "50%" }', "0", "{}" }))
  opt(c, out, 0.05, "strategy", pick(r, { '"linear"', '"free"' }))
  opt(c, out, 0.05, "order", pick(r, { '"sorted"', '"reverse_inventory"', '"shuffle"' }))
  opt(c, out, 0.05, "max_fail_percentage", pick(r, { "0", "50", '"30%"' }))
  opt(c, out, 0.05, "any_errors_fatal", pick(r, { "true", "false" }))
  opt(c, out, 0.05, "throttle", pick(r, { "0", "1", "2" }))
  if r() < c.wrong / 4 then
    local k = pick(r, { "colour", "host", "task", "[1]", "[false]" })
    c.labels[k:gsub("^%[(.*)%]$", "%1")] = true
    out[#out + 1] = k .. " = " .. pick(r, { "1", '"x"', "{}" })
  end
  local play = "{\n  " .. table.concat(out, ",\n  ") .. "\n}"
  local src
  local k = r(20)
  if k == 1 then src = "return { " .. play .. ", " .. play:gsub('"play ', '"second play ') .. " }"
  elseif k == 2 and r() < c.wrong * 2 then
    c.labels.play = true
    src = "return " .. pick(r, { "5", "nil", '"x"', "{ " .. play .. ", 5 }", "function() end" })
  else src = "return " .. play end
  local inv = r() < 0.3 and inventory(c) or nil
  return { source = src .. "\n", labels = c.labels, inventory = inv }
end

return M
