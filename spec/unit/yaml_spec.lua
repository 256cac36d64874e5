local yaml = require "luasible.yaml"
local json = require "luasible.json"
local lyaml = require "lyaml"

describe("luasible.yaml", function()
  describe("decode", function()
    it("gives what lyaml.load gives: scalar types, tags, anchors, aliases, merge keys", function()
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
      assert.is_false(json.is_object(v.full))
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
        { "x: 1\ny: !!int 'q'\n", "f.yml:2: invalid 'tag:yaml.org,2002:int' value: 'q'" },
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
end)
