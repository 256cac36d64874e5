local T = require "luasible.template"

describe("expressions", function()
  local vars = {
    app = { name = "shop", port = 8080, hosts = { "a", "b", "c" } },
    user = "deploy", zero = 0, empty = "", res = { changed = true, rc = 0, stdout = "ok\nyes" },
  }
  local cases = {
    { "app.port + 1", 8081 },
    { "app.port == 8080 and user == 'deploy'", true },
    { "app.port != 8080 or user != 'root'", true },
    { "not (app.port > 9000)", true },
    { "'b' in app.hosts", true },
    { "'z' not in app.hosts", true },
    { "'hop' in app.name", true },
    { "app.hosts[1]", "b" },
    { "app.hosts[-1]", "c" },
    { "app.hosts[1:]", { "b", "c" } },
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
    { "res.stdout.splitlines() | last", "yes" },
    { "'a' ~ user ~ '!'", "adeploy!" },
    { "7 // 2 + 7 % 2", 4 },
    { "1.0096935209999 | round(2)", 1.01 },
    { "2.5 | round", 2.0 }, -- Python's round: half to even
    { "3.5 | round | int", 4 },
    { "(1.0096935209999 | round(2)) ~ 's'", "1.01s" },
    { "'big' if app.port > 1000 else 'small'", "big" },
    { "[1, 2, 3] | length", 3 },
    { "\"it's\" | quote", "'it'\"'\"'s'" },
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
    assert.same({ nil, "'nope' is undefined" }, { T.eval("nope + 1", vars) })
    assert.same({ nil, "'dict object' has no attribute 'nope'" }, { T.eval("app.nope", vars) })
    local v, err = T.eval("1 +", vars)
    assert.is_nil(v)
    assert.equal("expression:1:4: unexpected end of template, expected an expression", err)
    assert.equal("expression:1:5: no filter named 'nosuch'", select(2, T.eval("x | nosuch", vars)))
  end)

  it("cannot call functions or reach globals", function()
    assert.is_nil((T.eval("os.execute('touch /tmp/luasible-pwned')", { })))
    assert.is_nil((T.eval("print", {})))
    local _, err = T.eval("f(1)", { f = print })
    assert.truthy(err)
  end)
end)

describe("templates", function()
  it("renders expressions, loops and conditions, trim_blocks on", function()
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
      "{% for k, v in env | dictsort %}{{ k }}={{ v }} {% endfor %}",
      "" }, "\n")
    local out = assert(T.render(src, { app = "shop", hosts = { "a", "b" }, port = 80, debug = false,
      level = 2, env = { B = 2, A = 1 } }))
    -- trim_blocks (Ansible's default) eats the newline after each block tag,
    -- the one after {% endif %} too; the text's trailing newline is kept
    assert.equal("# shop\nserver a:80server b:80;level two\nA=1 B=2 \n", out)
  end)

  it("trims whitespace with -", function()
    assert.equal("ab", assert(T.render("a  {{- '' -}}  \n b", {})))
  end)

  it("reports errors with name and line", function()
    assert.same({ nil, "app.conf:3: 'nope' is undefined" }, { T.render("a\nb\n{{ nope }}\n", {}, "app.conf") })
    assert.same({ nil, "app.conf:1:4: unexpected end of template: the 'for' tag opened at line 1 needs "
      .. "'else' or 'endfor'" }, { T.render("{% for x in y %}\n", {}, "app.conf") })
    assert.same({ nil, "app.conf:2:4: unexpected 'endif': no open tag it closes" },
      { T.render("x\n{% endif %}\n", {}, "app.conf") })
    assert.same({ nil, "app.conf:1:5: unexpected end of template, expected '}}'" },
      { T.render("{{ x", {}, "app.conf") })
  end)

  it("renders task args, keeping native values for whole expressions", function()
    local v = assert(T.render_value({ list = "{{ items }}", s = "n={{ n }}", nested = { "{{ n + 1 }}" }, plain = 5 },
      { items = { 1, 2 }, n = 3 }))
    assert.same({ list = { 1, 2 }, s = "n=3", nested = { 4 }, plain = 5 }, v)
    assert.same({ nil, "'zz' is undefined" }, { T.render_value("a {{ zz }}", {}) })
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
    assert.same({ "{{ secret }};x;" }, { T.render("{% for l in out.stdout.splitlines() %}{{ l }};{% endfor %}", vars) })
    assert.same({ "k={{ secret }};" }, { T.render("{% for l in [fact] %}k={{ l }};{% endfor %}", vars) })
    assert.same({ "stdout={{ secret }}\nx;" }, { T.render("{% for k, v in out.items() %}{% if k == 'stdout' %}"
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
    assert.same({ "rendered" }, va) -- a variable's list is rendered when read, as in Ansible
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

