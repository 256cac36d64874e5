-- The template engine's face (issue 11): includes and imports through a
-- loader, depth limits, the #jinja2: header, Ansible's native values and
-- omit, errors with name:line:column, lookups, compile once.
local T = require "luasible.template"
local values = require "luasible.template.values"

local FILES = {
  ["inc.j2"] = "included {{ who }}{% if extra is defined %} {{ extra }}{% endif %}",
  ["macros.j2"] = "{% macro hello(n) %}hello {{ n }}{% endmacro %}{% set version = 3 %}"
    .. "{% macro _private() %}x{% endmacro %}",
  ["self.j2"] = "{% include 'self.j2' %}",
  ["loop_a.j2"] = "a{% include 'loop_b.j2' %}",
  ["loop_b.j2"] = "b{% include 'loop_a.j2' %}",
  ["bad.j2"] = "line one\n{{ 1 + }}\n",
  ["undef.j2"] = "one\ntwo {{ nope }}\n",
}
local function loader(name)
  local text = FILES[name]
  if not text then return nil, "template not found: " .. name end
  return text, name
end
local OPTS = { loader = loader }

local function render(src, vars, opts) return T.render(src, vars or {}, "main.j2", nil, opts or OPTS) end

describe("template engine", function()
  it("includes other templates with the context, or not at all when missing and told so", function()
    assert.same({ "[included ann]" }, { render("[{% include 'inc.j2' %}]", { who = "ann" }) })
    assert.same({ "[included bob 7]" },
      { render("{% for who in ['bob'] %}{% set extra = 7 %}[{% include 'inc.j2' %}]{% endfor %}", {}) })
    assert.same({ "[]" }, { render("[{% include 'nope.j2' ignore missing %}]") })
    assert.same({ "[included x]" }, { render("[{% include ['nope.j2', 'inc.j2'] %}]", { who = "x" }) })
    local _, err = render("{% include 'nope.j2' %}")
    assert.equal("main.j2:1: template not found: nope.j2", err)
    _, err = render("{% include 'inc.j2' without context %}", { who = "z" })
    assert.equal("inc.j2:1: 'who' is undefined", err)
  end)

  it("imports macros and top-level variables, not names starting with _", function()
    assert.same({ "hello 1 3" }, { render("{% import 'macros.j2' as m %}{{ m.hello(1) }} {{ m.version }}") })
    assert.same({ "hello 2" }, { render("{% from 'macros.j2' import hello as h %}{{ h(2) }}") })
    local _, err = render("{% from 'macros.j2' import _private %}{{ _private() }}")
    assert.truthy(err:find("does not export the requested name '_private'", 1, true), err)
  end)

  it("stops recursion: includes, imports and macros have a depth limit with a clear error", function()
    local _, err = render("{% include 'self.j2' %}")
    assert.truthy(err:find("includes and imports nested more than 50 deep", 1, true), err)
    _, err = render("{% include 'loop_a.j2' %}")
    assert.truthy(err:find("nested more than 50 deep", 1, true), err)
    _, err = render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
    assert.equal("main.j2:1: macro 'f': macros nested more than 100 calls deep (a recursion without end?)", err)
    -- a bounded recursion is fine
    assert.same({ "54321" }, { render("{% macro c(n) %}{{ n }}{% if n > 1 %}{{ c(n - 1) }}{% endif %}{% endmacro %}"
      .. "{{ c(5) }}") })
  end)

  it("says where: syntax errors name:line:column and what was expected, run-time errors name:line", function()
    local _, err = render("{% include 'bad.j2' %}")
    assert.equal("bad.j2:2:8: unexpected end of print statement, expected an expression", err)
    _, err = render("{% include 'undef.j2' %}")
    assert.equal("undef.j2:2: 'nope' is undefined", err)
    _, err = render("a\n{% for x in l %}\n{{ x.y }}\n{% endfor %}", { l = { { z = 1 } } })
    assert.equal("main.j2:3: 'dict object' has no attribute 'y'", err)
    _, err = render("{% if x %}\n{% else %}\n{% elif y %}{% endif %}")
    assert.equal("main.j2:3:4: unexpected 'elif': no open tag it closes", err)
    _, err = render("{{ x | nosuch }}")
    assert.equal("main.j2:1:8: no filter named 'nosuch'", err)
    _, err = render("{{ 'a' | replace('a') }}")
    assert.equal("main.j2:1:10: filter 'replace' missing required argument 'new'", err)
    _, err = render("{% frobnicate %}")
    assert.equal("main.j2:1:4: unknown tag 'frobnicate'", err)
    _, err = render("{% do x %}")
    assert.truthy(err:find("unknown tag 'do'", 1, true), err)
    assert.same({ "1" }, { render("{% set l = [] %}{% do l.append(1) %}{{ l | length }}", {},
      { extensions = { "jinja2.ext.do" } }) })
  end)

  it("reads a #jinja2: first line: trim_blocks, lstrip_blocks, delimiters", function()
    assert.same({ "\na\n" }, { render("#jinja2: trim_blocks: False\n{% if true %}\na\n{% endif %}") })
    assert.same({ "a\n" }, { render("{% if true %}\na\n{% endif %}") })
    assert.same({ "x\n" }, { render("#jinja2: lstrip_blocks: True\n  {% if true %}\nx\n  {% endif %}\n") })
    assert.same({ "5 {{ n }}" }, { render("#jinja2: variable_start_string: '[[', variable_end_string: ']]'\n"
      .. "[[ n ]] {{ n }}", { n = 5 }) })
    local _, err = render("#jinja2: trim_blocks = False\nx")
    assert.truthy(err:find("bad #jinja2: override", 1, true), err)
  end)

  it("keeps the type of a lone {{ expr }} in values, and Python literals of rendered text", function()
    local v = assert(T.render_value({ a = "{{ l }}", b = "{{ n }}{{ n }}", c = "  {{ n }}", d = "{{ '0755' }}",
      e = "{{ n | string }}", f = "{{ 'True' }}", g = "x{{ n }}", h = "{{ d }}" }, { l = { 1, 2 }, n = 5,
      d = { k = "v" } }))
    assert.same({ 1, 2 }, v.a)
    assert.equal(55, v.b)
    assert.equal("  5", v.c)
    assert.equal("0755", v.d)
    assert.equal("5", v.e)
    assert.is_true(v.f)
    assert.equal("x5", v.g)
    assert.same({ k = "v" }, v.h)
    assert.equal(values.none, (T.render_value("{{ nothing }}", { nothing = values.none })))
    assert.equal("", (T.render_value("{{ nothing | default('d') }}", { nothing = values.none })))
  end)

  it("drops arguments that are {{ omit }}", function()
    local v = assert(T.render_value({ a = "{{ omit }}", b = "{{ x | default(omit) }}", c = 1,
      l = { "{{ omit }}", 2 } }, {}))
    assert.same({ c = 1, l = { 2 } }, v)
  end)

  it("checks syntax without rendering", function()
    assert.is_true(T.check("{{ x.y | default(1) }} {% for a in b %}{% endfor %}"))
    assert.same({ nil, "column 8: unexpected end of print statement, expected an expression" },
      { T.check("{{ 1 + }}") })
    assert.same({ nil, "line 2: no filter named 'nope'" }, { T.check("a\n{{ x | nope }}") })
    assert.is_true(T.check("no template here"))
  end)

  it("compiles an expression once and evaluates it many times", function()
    local f = T.compile_expr("x * 2 + y")
    for i = 1, 100 do assert.equal(i * 2 + 1, f({ x = i, y = 1 })) end
    assert.error(function() f({ x = 1 }) end)
  end)

  it("calls lookups through luasible.lookup", function()
    local v = assert(T.eval("lookup('env', 'HOME')", {}))
    assert.equal(os.getenv("HOME"), v)
    assert.same({ os.getenv("HOME") }, (T.eval("query('env', 'HOME')", {})))
    local _, err = T.eval("lookup('no_such_lookup', 'x')", {})
    assert.truthy(err and err:find("no_such_lookup", 1, true), err)
  end)

  it("orders mappings as written, and keeps Python's text of values", function()
    assert.same({ "z=1 a=2 " },
      { render("{% for k, v in {'z': 1, 'a': 2}.items() %}{{ k }}={{ v }} {% endfor %}") })
    assert.same({ "{'z': 1, 'a': [True, None, 2.0]} ('x',)" },
      { render("{{ {'z': 1, 'a': [true, none, 2.0]} }} {{ ('x',) }}") })
  end)
end)

describe("template engine, Ansible's rules", function()
  it("renders conditions holding {{ }} first; an empty one holds", function()
    assert.is_true(T.test("{{ n > 2 }}", { n = 3 }))
    assert.is_true(T.test("n > 2 and '{{ base }}' == '/opt'", { n = 3, base = "/opt" }))
    assert.is_true(T.test("", {}))
    assert.is_false(T.test("n > 5", { n = 3 }))
  end)

  it("makes a variable whose template names an undefined one undefined, lazily", function()
    local vars = { ref = "{{ nowhere }}", base = "/opt", dir = "{{ base }}/app" }
    assert.same({ "d" }, { T.eval("ref | default('d')", vars) })
    assert.is_false(T.eval("ref is defined", vars))
    assert.same({ nil, "'nowhere' is undefined" }, { T.eval("ref", vars) })
    assert.equal("/opt/app", T.eval("dir", vars))
  end)

  it("keeps backslashes of string literals in play strings, not in template files", function()
    assert.equal("a\\nb", T.render_value("{{ 'a\\nb' }}", {}))
    assert.equal("a\nb", T.render("{{ 'a\\nb' }}", {}))
  end)

  it("prints an inline if without else as nothing, and macros as Jinja2 does", function()
    assert.same({ "a,b" }, { T.render("{% for x in l %}{{ x }}{{ ',' if not loop.last }}{% endfor %}",
      { l = { "a", "b" } }) })
    assert.same({ "<Macro 'm'> m ('x', 'y')" },
      { T.render("{% macro m(x, y) %}{% endmacro %}{{ m }} {{ m.name }} {{ m.arguments }}", {}) })
    assert.same({ "15 5" }, { T.render("{{ 0o17 }} {{ 0b101 }}", {}) })
  end)
end)
