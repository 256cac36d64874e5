local yaml = require "luasible.yaml"
local json = require "luasible.json"
local lyaml = require "lyaml"

describe("luasible.yaml", function()
  describe("decode", function()
    it("gives what lyaml.load gives where YAML 1.1 and lyaml agree: types, tags, anchors, merge keys", function()
      local texts = {
        "a: 1\nb: 1.5\nc: yes\nd: ~\ne: 'q'\nf: \"2\"\ng: 0x1f\nh: .inf\ni: hello world\nj: -7\n",
        "a: !!int '3'\nb: !!bool 'true'\nc: !!str 12\nd: !!float '1'\n",
        "- a\n- [1, 2]\n- {k: v}\n- x: [y]\n",
        "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\nm:\n  <<: [*b, {z: 9}]\ns: &s str\nt: *s\n",
        "---\nfirst: 1\n---\nsecond: 2\n",
        "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
      }
      for _, t in ipairs(texts) do assert.same(lyaml.load(t), yaml.decode(t), t) end
      local v = yaml.decode("a: !!int '3'\nb: !!str 12\nc: 0.5\nd: 1\n")
      assert.equal(3, v.a)
      assert.equal("integer", math.type(v.d))
      assert.equal("12", v.b)
      assert.equal(yaml.null, yaml.decode("x: ~\n").x)
      assert.is_true(yaml.is_null(yaml.decode("x:\n").x))
      assert.is_nil(yaml.decode(""))
      assert.is_nil(yaml.decode("# nothing\n"))
    end)

    it("keeps an empty mapping a mapping (json.object) and an empty list a list", function()
      local v = yaml.decode('{"h": {}, "l": [], "n": {"a": {}}, "full": {"k": 1}}')
      assert.is_true(json.is_object(v.h))
      assert.is_false(json.is_object(v.l))
      assert.is_true(json.is_object(v.n.a))
      assert.is_true(json.is_object(v.full)) -- every mapping is marked
      assert.equal('{"full":{"k":1},"h":{},"l":[],"n":{"a":{}}}', json.encode(v))
      local a = yaml.decode("e: &e {}\nsame: *e\nl: &l []\nsame_l: *l\n")
      assert.equal(a.e, a.same)
      assert.equal("{}", json.encode(a.same))
      assert.equal("[]", json.encode(a.same_l))
      assert.equal("{}", json.encode(yaml.decode("{}")))
      assert.equal("[]", json.encode(yaml.decode("[]")))
      -- merging an empty mapping adds nothing
      assert.same({ k = 1 }, yaml.decode("e: &e {}\nm:\n  <<: *e\n  k: 1\n").m)
    end)

    it("raises line:column: what on malformed text, at the line of the problem", function()
      local ok, err = pcall(yaml.decode, "a: 1\nb: [1,\nc: 2\n")
      assert.is_false(ok)
      assert.equal("4:1: did not find expected ',' or ']'", err)
      ok, err = pcall(yaml.decode, "a: 1\nb: *nope\n")
      assert.is_false(ok)
      assert.equal("2:4: invalid reference: nope", err)
    end)
  end)

  describe("load", function()
    it("gives the value, or nil, source:line: what", function()
      assert.same({ a = 1 }, yaml.load("a: 1\n", "f.yml"))
      local cases = {
        { "a: 1\nb: [1,\nc: 2\n", "f.yml:4: did not find expected ',' or ']'" },
        { '{"a": 1', "f.yml:2: did not find expected ',' or '}'" },
        { "a: 1\nkey: value: bad\n", "f.yml:2: mapping values are not allowed in this context" },
        { "a: 1\nb: *nope\n", "f.yml:2: invalid reference: nope" },
        { "x: 1\ny: !!int 'q'\n", "f.yml:2: invalid integer 'q'" },
        { "a: 1\nm:\n  <<: 5\n", "f.yml:3: invalid '<<' merge event: 5" },
      }
      for _, c in ipairs(cases) do
        local v, err = yaml.load(c[1], "f.yml")
        assert.is_nil(v)
        assert.equal(c[2], err)
      end
    end)
  end)

  it("changes no global of lyaml or yaml (their parser is not replaced, even for a while)", function()
    local real = require "yaml"
    local function copy(t) local c = {} for k, v in pairs(t) do c[k] = v end return c end
    local before, lbefore, parser = copy(real), copy(lyaml), real.parser
    -- a fresh luasible.yaml over a read-only view of the binding: any
    -- assignment to it (as a monkey-patch would do) raises
    local guard = setmetatable({}, { __index = real,
      __newindex = function(_, k) error("luasible.yaml assigned yaml." .. tostring(k), 2) end })
    local mine = package.loaded["luasible.yaml"]
    package.loaded.yaml, package.loaded["luasible.yaml"] = guard, nil
    local ok, err = pcall(function()
      local y = require "luasible.yaml"
      assert.is_true(json.is_object(y.decode("a: {}\n").a))
      assert.is_nil((y.load("a: [\n", "x.yml")))
    end)
    package.loaded.yaml, package.loaded["luasible.yaml"] = real, mine
    assert(ok, err)
    yaml.decode("a: {}\n")
    pcall(yaml.decode, "b: [\n")
    assert.equal(parser, require("yaml").parser)
    assert.same(before, copy(require("yaml")))
    assert.same(lbefore, copy(require("lyaml")))
    -- lyaml itself still gives its own plain tables
    assert.is_false(json.is_object(lyaml.load("a: {}\n").a))
  end)

  it("is needed only for YAML: without lyaml an INI inventory loads, a YAML one says what is missing", function()
    local script = [[package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
      package.preload.yaml = function() error("no yaml binding") end
      local inventory = require "luasible.inventory"
      print(#assert(inventory.load("spec/fixtures/inventory.ini")).host_order)
      print(select(2, inventory.load("spec/fixtures/inventory.yml")))]]
    local p = io.popen("lua5.4 -e '" .. script:gsub("'", "'\\''") .. "' 2>&1")
    local out = p:read("a")
    p:close()
    assert.equal("8\nspec/fixtures/inventory.yml: reading YAML needs lyaml (Debian's lua-yaml, or the lyaml rock)\n",
      out)
  end)

  it("finds the line of a key and orders keys as the text has them", function()
    local text = "zeta: 1\nalpha: 2\n'quoted': 3\n"
    assert.equal(2, yaml.key_line(text, "alpha"))
    assert.equal(3, yaml.key_line(text, "quoted"))
    assert.is_nil(yaml.key_line(text, "nope"))
    assert.same({ "zeta", "alpha", "quoted", "b", "c" },
      yaml.ordered_keys({ alpha = 1, zeta = 1, quoted = 1, c = 1, b = 1 }, text))
    assert.same({ "a", "b", "c" }, yaml.ordered_keys({ c = 1, a = 1, b = 1 }))
  end)

  it("resolves plain scalars as PyYAML (so Ansible) does: YAML 1.1", function()
    local N = yaml.null
    local cases = {
      { "yes", true }, { "Yes", true }, { "YES", true }, { "yEs", "yEs" }, { "no", false }, { "on", true },
      { "off", false }, { "y", "y" }, { "n", "n" }, { "True", true }, { "tRue", "tRue" }, { "~", N }, { "null", N },
      { "Null", N }, { "nUll", "nUll" }, { "", N }, { "0b101", 5 }, { "0b1_0", 2 }, { "0777", 511 }, { "0_7", 7 },
      { "09", "09" }, { "0x1f", 31 }, { "0x_1F", 31 }, { "1_000", 1000 }, { "190:20:30", 685230 },
      { "22:22", 1342 }, { "8086:8086", "8086:8086" }, { "1:60", "1:60" }, { "0o17", "0o17" }, { "1.5", 1.5 },
      { "1.", 1.0 }, { ".5", 0.5 }, { "-.5", "-.5" }, { "+.5", "+.5" }, { "1.5e+3", 1500.0 }, { "1.5e3", "1.5e3" },
      { "1e3", "1e3" }, { "1e+3", "1e+3" }, { "190:20:30.15", 685230.15 }, { ".inf", math.huge },
      { "-.inf", -math.huge }, { "2001-12-14", "2001-12-14" }, { "-0", 0 }, { "00", 0 },
      { "12345678901234567890", "12345678901234567890" }, { "1_", 1 }, { "_1", "_1" }, { "0.5.6", "0.5.6" },
      { "!!str 1", "1" }, { "!!int \"42\"", 42 }, { "!!float \"1\"", 1.0 }, { "!!bool \"yes\"", true },
      { "!!null x", N }, { "!unsafe 42", "42" },
    }
    for _, c in ipairs(cases) do
      local v = yaml.decode("a: " .. c[1]).a
      assert.same(c[2], v, c[1])
      if type(c[2]) == "number" then assert.equal(math.type(c[2]), math.type(v), c[1]) end
    end
    assert.is_true(yaml.decode("a: .nan").a ~= yaml.decode("a: .nan").a)
    for _, bad in ipairs({ "a: =", "a: !!int '09'", "a: !foo x" }) do
      assert.is_nil((yaml.load(bad, "f.yml")), bad)
    end
    assert.equal("f.yml:1: could not determine a constructor for the tag '!foo'",
      select(2, yaml.load("a: !foo x", "f.yml")))
  end)

  it("keeps the order of a mapping's keys (merged keys first, as PyYAML)", function()
    local t = yaml.decode("z: 1\na: 2\nm: 3\nb: &b {q: 1, p: 2}\nc:\n  x: 1\n  <<: *b\n  p: 3\n")
    assert.same({ "z", "a", "m", "b", "c" }, yaml.keys(t))
    assert.same({ "z", "a", "m", "b", "c" }, yaml.ordered_keys(t))
    assert.same({ "q", "p", "x" }, yaml.keys(t.c))
    assert.same({ q = 1, p = 3, x = 1 }, t.c)
    t.new = 1
    assert.same({ "z", "a", "m", "b", "c", "new" }, yaml.ordered_keys(t))
  end)

  it("marks !unsafe values on the key (or index) that holds them, and the tables above as holding one", function()
    local t = yaml.decode('a: !unsafe "{{ x }}"\nb: [1, !unsafe "{{ y }}"]\nc: {d: {e: !unsafe z}}\nf: plain\n'
      .. 'base: &b {u: !unsafe "{{ u }}"}\nm:\n  <<: *b\n')
    assert.equal("value", yaml.unsafe(t, "a"))
    assert.equal("nested", yaml.unsafe(t, "b"))
    assert.equal("value", yaml.unsafe(t.b, 2))
    assert.is_nil(yaml.unsafe(t.b, 1))
    assert.equal("nested", yaml.unsafe(t, "c"))
    assert.equal("value", yaml.unsafe(t.c.d, "e"))
    assert.is_nil(yaml.unsafe(t, "f"))
    assert.equal("value", yaml.unsafe(t.m, "u"))
    assert.is_true(yaml.holds_unsafe(t))
    assert.is_false(yaml.holds_unsafe(yaml.decode("a: 1\n")))
  end)

  describe("lines (load with { lines = true })", function()
    it("records the line of every key, every entry and every collection", function()
      local text = table.concat({
        "# a comment",              -- 1
        "- name: web",              -- 2
        "  hosts: all",             -- 3
        "  tasks:",                 -- 4
        "    - debug: msg=hi",      -- 5
        "    - copy:",              -- 6
        "        src: a",           -- 7
        "        dest: b",          -- 8
        "      notify: [x, y]",     -- 9
        "- {hosts: db, name: d}",   -- 10
        "", }, "\n")
      local v = assert(yaml.load(text, "f.yml", { lines = true }))
      assert.equal(2, yaml.line(v))
      assert.equal(2, yaml.line(v, 1))
      assert.equal(10, yaml.line(v, 2))
      assert.equal(2, yaml.line(v[1], "name"))
      assert.equal(3, yaml.line(v[1], "hosts"))
      assert.equal(4, yaml.line(v[1], "tasks"))
      assert.equal(5, yaml.line(v[1].tasks, 1))
      assert.equal(6, yaml.line(v[1].tasks, 2))
      assert.equal(6, yaml.line(v[1].tasks[2], "copy"))
      assert.equal(8, yaml.line(v[1].tasks[2].copy, "dest"))
      assert.equal(9, yaml.line(v[1].tasks[2], "notify"))
      assert.equal(9, yaml.line(v[1].tasks[2].notify, 2))
      assert.equal(10, yaml.line(v[2], "name"))
      assert.is_nil(yaml.line(v[1], "nope"))
      -- the values are those of a load without lines
      assert.same(yaml.load(text, "f.yml"), v)
    end)

    it("keeps nothing without the option, and nothing for tables it did not decode", function()
      local v = assert(yaml.load("a: {b: 1}\n", "f.yml"))
      assert.is_nil(yaml.line(v))
      assert.is_nil(yaml.line(v.a, "b"))
      assert.is_nil(yaml.line({}, 1))
    end)

    it("an alias has the lines of its anchor; a merged key the line of its source", function()
      local v = assert(yaml.load("base: &b\n  x: 1\n  y: 2\nuse:\n  <<: *b\n  z: 3\nsame: *b\n", "f.yml",
        { lines = true }))
      assert.equal(2, yaml.line(v.same, "x"))
      assert.equal(6, yaml.line(v.use, "z"))
      assert.equal(1, v.use.x)
    end)

    it("a syntax error says file:line:column with { column = true }", function()
      local _, err = yaml.load("a: [1\n  b: 2", "f.yml", { column = true })
      assert.equal("f.yml:2:4: did not find expected ',' or ']'", err)
      _, err = yaml.load("a: [1\n  b: 2", "f.yml")
      assert.equal("f.yml:2: did not find expected ',' or ']'", err)
    end)
  end)
end)
