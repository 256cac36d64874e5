local toml = require "luasible.inventory.toml"

describe("inventory TOML reader", function()
  local function dec(text) return assert(toml.decode(text, "t.toml")) end

  it("reads keys, tables, arrays of tables and values of every kind", function()
    local t = dec(table.concat({
      "# a comment", "title = \"x\" # after a value", "bare-key_1 = 1", '"quoted key" = 2', "'lit key' = 3",
      "a.b.c = 4", "[tbl]", "int = [0x1F, 0o17, 0b101, 1_000, -7, +3]",
      "flt = [3.14, 1e3, -2E-2, 6.5e+1]", "special = [inf, -inf]", "bools = [true, false]",
      "str = \"tab\\tquote\\\" \\u00e9\"", "lit = 'C:\\path'", 'multi = """', "one", 'two"""',
      "mlit = '''", "raw \\n'''", "cont = \"\"\"a \\", "   b\"\"\"",
      "inline = { x = 1, y.z = 2 }", "nested = [[1, 2], [3]]", "multiline = [", "  1, # one", "  2,", "]",
      "date = 1979-05-27", "when = 1979-05-27T07:32:00Z", "[[items]]", "n = 1", "[[items]]", "n = 2",
      "[tbl.sub]", "deep = true",
    }, "\n") .. "\n")
    assert.equal("x", t.title)
    assert.equal(1, t["bare-key_1"])
    assert.equal(2, t["quoted key"])
    assert.equal(3, t["lit key"])
    assert.equal(4, t.a.b.c)
    assert.same({ 31, 15, 5, 1000, -7, 3 }, t.tbl.int)
    assert.same({ 3.14, 1000.0, -0.02, 65.0 }, t.tbl.flt)
    assert.equal("float", math.type(t.tbl.flt[2]))
    assert.same({ math.huge, -math.huge }, t.tbl.special)
    assert.same({ true, false }, t.tbl.bools)
    assert.equal('tab\tquote" é', t.tbl.str)
    assert.equal("C:\\path", t.tbl.lit)
    assert.equal("one\ntwo", t.tbl.multi)
    assert.equal("raw \\n", t.tbl.mlit)
    assert.equal("a b", t.tbl.cont)
    assert.same({ x = 1, y = { z = 2 } }, t.tbl.inline)
    assert.same({ { 1, 2 }, { 3 } }, t.tbl.nested)
    assert.same({ 1, 2 }, t.tbl.multiline)
    assert.equal("1979-05-27", t.tbl.date) -- a date stays its text
    assert.equal("1979-05-27T07:32:00Z", t.tbl.when)
    assert.same({ { n = 1 }, { n = 2 } }, t.items)
    assert.is_true(t.tbl.sub.deep)
    assert.same({ "title", "bare-key_1", "quoted key", "lit key", "a", "tbl", "items" }, toml.keys(t))
  end)

  it("refuses malformed TOML with file:line", function()
    local cases = {
      { "a = 1\na = 2\n", "t.toml:2: key 'a' defined twice" },
      { "[t]\nx = 1\n[t]\n", "t.toml:3: table [t] defined twice" },
      { "a = \"open\n", "t.toml:1: newline in a string" },
      { "a = 01\n", "t.toml:1: bad value '01'" },
      { "a = 1 b = 2\n", "t.toml:1: expected the end of the line" },
      { "a = [1 2]\n", "t.toml:1: expected ',' or ']' in an array" },
      { "= 1\n", "t.toml:1: expected a key" },
    }
    for _, c in ipairs(cases) do
      local v, err = toml.decode(c[1], "t.toml")
      assert.is_nil(v, c[1])
      assert.truthy(err:find(c[2], 1, true), err)
    end
  end)

  it("reads an inventory as Ansible's toml plugin", function()
    local inv = assert(toml.parse(table.concat({
      "[web]", 'children = ["apache"]', "vars = { http_port = 8080 }", "[web.hosts]", "host1 = {}",
      '"web[1:2]:2201" = { x = 1 }', "[apache.hosts]", "tomcat1 = { myvar = 34 }",
    }, "\n"), "t.toml"))
    assert.same({ "host1", "web1", "web2", "tomcat1" }, inv:group_hosts("web"))
    assert.equal(2201, inv:host_vars("web1").ansible_port)
    assert.equal(8080, inv:host_vars("tomcat1").http_port)
    local _, err = toml.parse("[web]\nhostz = 1\n", "t.toml")
    assert.equal("t.toml: unknown key 'hostz' in group 'web' (expected hosts, vars or children)", err)
    _, err = toml.parse("[web]\nchildren = 'x'\n", "t.toml")
    assert.equal("t.toml: children of group 'web' must be a list", err)
  end)
end)
