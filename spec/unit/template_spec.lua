local T = require "luasible.template"

describe("expressions", function()
  local vars = {
    app = { name = "shop", port = 8080, hosts = { "a", "b", "c" } },
    user = "deploy", zero = 0, empty = "", res = { changed = true, rc = 0, stdout = "ok\nyes" },
  }
  local cases = {
    { "app.port + 1", 8081 },
    { "app.port == 8080 and user == 'deploy'", true },
    { "app.port != 8080 or user ~= 'root'", true },
    { "not (app.port > 9000)", true },
    { "'b' in app.hosts", true },
    { "'z' not in app.hosts", true },
    { "'hop' in app.name", true },
    { "app.hosts[2]", "b" },
    { "app['name']", "shop" },
    { "missing is defined", false },
    { "missing.deep is undefined", true },
    { "missing | default('x')", "x" },
    { "missing | d(3) * 2", 6 },
    { "user | upper", "DEPLOY" },
    { "app.hosts | join(',')", "a,b,c" },
    { "app.hosts | length", 3 },
    { "res is changed", true },
    { "res is failed", false },
    { "res.stdout | lines | last", "yes" },
    { "'a' ~ user .. '!'", "adeploy!" },
    { "7 // 2 + 7 % 2", 4 },
    { "1.0096935209999 | round(2)", 1.01 },
    { "2.5 | round", 3 },
    { "(1.0096935209999 | round(2)) ~ 's'", "1.01s" },
    { "'big' if app.port > 1000 else 'small'", "big" },
    { "[1, 2, 3] | length", 3 },
    { "\"it's\" | quote", "'it'\\''s'" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local v, err = T.eval(c[1], vars)
      assert.is_nil(err)
      assert.same(c[2], v)
    end)
  end

  it("uses template truthiness for conditions", function()
    assert.is_false(T.test("zero", vars))
    assert.is_false(T.test("empty", vars))
    assert.is_true(T.test("app.hosts", vars))
    assert.is_false(T.test("[]", vars))
  end)

  it("reports undefined variables and syntax errors without raising", function()
    assert.same({ nil, "undefined variable 'nope'" }, { T.eval("nope + 1", vars) })
    assert.same({ nil, "undefined variable 'app.nope'" }, { T.eval("app.nope", vars) })
    local v, err = T.eval("1 +", vars)
    assert.is_nil(v)
    assert.truthy(err:find("unexpected 'end'", 1, true))
    assert.truthy(select(2, T.eval("x | nosuch", vars)):find("unknown filter 'nosuch'", 1, true))
  end)

  it("cannot call functions or reach globals", function()
    assert.is_nil((T.eval("os.execute('touch /tmp/luasible-pwned')", { })))
    assert.is_nil((T.eval("print", {})))
    local _, err = T.eval("f(1)", { f = print })
    assert.truthy(err)
  end)
end)

describe("templates", function()
  it("renders expressions, loops and conditions, dropping tag-only lines", function()
    local src = table.concat({
      "# {{ app }}",
      "{% for h in hosts %}",
      "server {{ h }}:{{ port }}{% if loop.last %};{% endif %}",
      "{% endfor %}",
      "{% if debug %}",
      "debug on",
      "{% elif level == 2 %}",
      "level two",
      "{% else %}",
      "quiet",
      "{% endif %}",
      "{# a comment #}",
      "{% for k, v in env %}{{ k }}={{ v }} {% endfor %}",
      "" }, "\n")
    local out = assert(T.render(src, { app = "shop", hosts = { "a", "b" }, port = 80, debug = false,
      level = 2, env = { B = 2, A = 1 } }))
    assert.equal("# shop\nserver a:80\nserver b:80;\nlevel two\nA=1 B=2 \n", out)
  end)

  it("trims whitespace with -", function()
    assert.equal("ab", assert(T.render("a  {{- '' -}}  \n b", {})))
  end)

  it("reports errors with name and line", function()
    assert.same({ nil, "app.conf:3: undefined variable 'nope'" }, { T.render("a\nb\n{{ nope }}\n", {}, "app.conf") })
    assert.same({ nil, "app.conf:1: 'for' without 'endfor'" }, { T.render("{% for x in y %}\n", {}, "app.conf") })
    assert.same({ nil, "app.conf:2: unexpected 'endif'" }, { T.render("x\n{% endif %}\n", {}, "app.conf") })
    assert.same({ nil, "app.conf:1: unclosed '{{'" }, { T.render("{{ x", {}, "app.conf") })
  end)

  it("renders task args, keeping native values for whole expressions", function()
    local v = assert(T.render_value({ list = "{{ items }}", s = "n={{ n }}", nested = { "{{ n + 1 }}" }, plain = 5 },
      { items = { 1, 2 }, n = 3 }))
    assert.same({ list = { 1, 2 }, s = "n=3", nested = { 4 }, plain = 5 }, v)
    assert.same({ nil, "undefined variable 'zz'" }, { T.render_value("a {{ zz }}", {}) })
  end)

  it("never renders an unsafe variable (host data) again, nor loop variables taken from one", function()
    local vars = { fact = "{{ secret }}", secret = "pw", root = "/srv", app = "{{ root }}/app",
      out = { stdout = "{{ secret }}\nx", stdout_lines = { "{{ secret }}", "{{ root }}" } } }
    T.mark_unsafe(vars, { "fact", "out" })
    assert.same({ "{{ secret }}" }, { T.eval("fact", vars) })
    assert.same({ "/srv/app" }, { T.eval("app", vars) }) -- a variable of the play still is
    assert.same({ "[{{ secret }}] /srv/app" }, { T.render("[{{ fact }}] {{ app }}", vars) })
    assert.same({ "{{ secret }}" }, { T.render_value("{{ fact }}", vars) })
    assert.same({ "{{ secret }};{{ root }};" },
      { T.render("{% for l in out.stdout_lines %}{{ l }};{% endfor %}", vars) })
    assert.same({ "{{ secret }};x;" }, { T.render("{% for l in out.stdout | lines %}{{ l }};{% endfor %}", vars) })
    assert.same({ "k={{ secret }};" }, { T.render("{% for l in [fact] %}k={{ l }};{% endfor %}", vars) })
    assert.same({ "stdout={{ secret }}\nx;" }, { T.render("{% for k, v in out %}{% if k == 'stdout' %}"
      .. "{{ k }}={{ v }};{% endif %}{% endfor %}", vars) })
    -- a safe list is still a template
    vars.dirs = { "{{ root }}/a" }
    assert.same({ "/srv/a;" }, { T.render("{% for d in dirs %}{{ d }};{% endfor %}", vars) })
    -- the scope that holds the name decides
    local inner = T.mark_unsafe(setmetatable({ item = "{{ secret }}" }, { __index = vars }), { "item" })
    assert.same({ "{{ secret }} pw" }, { T.render("{{ item }} {{ secret }}", inner) })
    local shadow = setmetatable({ fact = "{{ root }}" }, { __index = vars })
    assert.same({ "/srv" }, { T.render("{{ fact }}", shadow) })
  end)

  it("keeps the state of a render to that render: two interleaved in coroutines share nothing", function()
    -- a scope whose variable `slow` pauses the render reading it (a yield
    -- inside the lookup), so that another render runs in the middle of it
    local slow = setmetatable({ plain = "{{ 'rendered' }}" }, { __index = function(_, k)
      if k == "slow" then coroutine.yield() return { "{{ plain }}" } end
    end })
    local host = T.mark_unsafe({ fact = "{{ secret }}", secret = "pw" }, { "fact" })
    local a = coroutine.wrap(function() return T.tainted(T.render_value, "{{ slow }}", slow) end)
    a() -- paused in the middle of reading `slow`
    local tainted_b, vb = T.tainted(T.render_value, "{{ fact }}", host)
    assert.is_true(tainted_b)
    assert.equal("{{ secret }}", vb)
    local tainted_a, va = a()
    assert.is_false(tainted_a) -- B's read of an unsafe variable is not A's
    assert.same({ "{{ plain }}" }, va)
    -- a loop over a safe list: its variable stays safe (rendered when used)
    local c = coroutine.wrap(function() return T.render("{% for x in slow %}{{ x }};{% endfor %}", slow) end)
    c()
    assert.equal("{{ secret }}", select(2, T.tainted(T.render_value, "{{ fact }}", host)))
    assert.equal("rendered;", c())
  end)

  it("keeps the marks on the scope: a shared metatable is never changed", function()
    local mt = { __index = { root = "/srv" } }
    local a, b = setmetatable({ x = "{{ root }}" }, mt), setmetatable({ x = "{{ root }}" }, mt)
    T.mark_unsafe(a, { "x" })
    assert.same({ "{{ root }}" }, { T.render("{{ x }}", a) })
    assert.same({ "/srv" }, { T.render("{{ x }}", b) })
    assert.equal(mt, getmetatable(b))
    assert.equal(mt.__index, getmetatable(a).__index)
  end)
end)

