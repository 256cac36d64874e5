-- inventory/export.lua (what `luasible inventory` prints), json.pretty and
-- util/pyrepr: the shapes ansible-inventory 2.14 prints (the #oracle
-- spec/integration/inventory_cli_spec.lua compares them with Ansible's).
local inventory = require "luasible.inventory"
local export = require "luasible.inventory.export"
local pattern = require "luasible.inventory.pattern"
local json = require "luasible.json"
local yaml = require "luasible.yaml"
local pyrepr = require "luasible.util.pyrepr"

describe("json.pretty: Python's json.dumps(sort_keys=True, indent=4, ensure_ascii=False)", function()
  it("indents by 4, sorts keys, keeps [] and {} apart", function()
    assert.equal('{\n    "a": [\n        1,\n        2.0,\n        []\n    ],\n    "b": {},\n    "c": {\n'
      .. '        "d": true\n    }\n}', json.pretty({ c = { d = true }, b = json.object(), a = { 1, 2.0, {} } }))
    assert.equal("[]", json.pretty({}))
    assert.equal('"x"', json.pretty("x"))
  end)

  it("floats as Python's repr, null for nil and the given null, strings as Python escapes them", function()
    assert.equal("[\n    1e+20,\n    0.5,\n    100.0,\n    NaN,\n    -Infinity\n]",
      json.pretty({ 1e20, 0.5, 100.0, 0 / 0, -math.huge }))
    assert.equal('{\n    "n": null\n}', json.pretty({ n = yaml.null }, yaml.null))
    assert.equal('"héllo \\"q\\" \\\\ \\n\\t\\u0001\127"', json.pretty("héllo \"q\" \\ \n\t\1\127"))
  end)
end)

describe("pyrepr", function()
  it("float as Python's repr", function()
    local cases = { [1.0] = "1.0", [0.1] = "0.1", [1e16] = "1e+16", [1.5e16] = "1.5e+16", [1e-5] = "1e-05",
      [0.0001] = "0.0001", [1e15] = "1000000000000000.0", [0.30000000000000004] = "0.30000000000000004",
      [-2.5] = "-2.5", [5e-324] = "5e-324" }
    for x, want in pairs(cases) do assert.equal(want, pyrepr.float(x)) end
    assert.equal("inf", pyrepr.float(math.huge))
    assert.equal("-0.0", pyrepr.float(-0.0))
  end)

  it("repr and str of values", function()
    assert.equal([=[['a', "it's", 'q"', 'x\ny', 1, 2.0, True, None, {'k': [1]}, {}]]=],
      pyrepr.repr({ "a", "it's", 'q"', "x\ny", 1, 2.0, true, yaml.null, { k = { 1 } }, json.object() },
        { null = yaml.null }))
    assert.equal("text", pyrepr.str("text"))
    assert.equal("False", pyrepr.str(false))
    assert.equal("[]", pyrepr.str({}))
  end)
end)

describe("inventory export", function()
  local inv
  before_each(function() inv = assert(inventory.load("spec/fixtures/patterns.ini")) end)

  it("--list: all's children are the top-level groups; each group its own hosts and children", function()
    local l = export.list(inv)
    assert.same({ "ungrouped", "backup", "stage", "dc_east", "empty" }, l.all.children)
    assert.is_nil(l.all.hosts)
    assert.same({ "web1", "web2", "web3", "web4" }, l.web.hosts)
    assert.is_nil(l.web.children)
    assert.same({ "web", "db" }, l.prod.children)
    assert.is_nil(l.prod.hosts)
    assert.same({ "prod" }, l.dc_east.children)
    assert.same({ "east-gw" }, l.dc_east.hosts)
    assert.is_nil(l.empty, "an empty group is left out")
    assert.same({ ansible_port = 2222 }, l._meta.hostvars["db.example.com"])
    assert.is_nil(l._meta.hostvars.web1, "a host without variables is left out")
  end)

  it("--list and --graph leave the implicit localhost out; --host shows it", function()
    assert.same({ "localhost" }, assert(pattern.select(inv, "localhost")))
    local l = export.list(inv)
    assert.is_nil(l._meta.hostvars.localhost)
    assert.same({ "lonely", "10.0.0.9" }, l.ungrouped.hosts)
    assert.is_nil(export.graph(inv):find("localhost", 1, true))
    assert.same({ ansible_connection = "local" }, export.host(inv, "localhost"))
  end)

  it("--host: the merged variables without the magic ones", function()
    local v = export.host(inv, "db.example.com")
    assert.same({ ansible_port = 2222 }, v)
    assert.is_true(json.is_object(export.host(inv, "web1")), "{} when empty")
    assert.is_nil(export.host(inv, "nope"))
  end)

  it("--graph: the tree, children before hosts; from a group; not a group is an error", function()
    assert.equal(table.concat({ "@prod:", "  |--@web:", "  |  |--web1", "  |  |--web2", "  |  |--web3", "  |  |--web4",
      "  |--@db:", "  |  |--db-a", "  |  |--db-b", "  |  |--db.example.com" }, "\n"), export.graph(inv, "prod"))
    assert.equal(table.concat({ "@db:", "  |--db-a", "  |--db-b", "  |--db.example.com",
      "  |  |--{ansible_port = 2222}" }, "\n"), export.graph(inv, "db", true))
    assert.same({ nil, "no group 'web1' in spec/fixtures/patterns.ini" }, { export.graph(inv, "web1") })
  end)

  it("--list-hosts: as ansible --list-hosts", function()
    assert.equal("  hosts (2):\n    web1\n    web2", export.list_hosts(assert(pattern.select(inv, "web[0:1]"))))
    assert.equal("  hosts (0):", export.list_hosts({}))
  end)

  it("without an inventory localhost is the only host, and in all", function()
    local none = assert(inventory.load(nil))
    assert.same({ "localhost" }, assert(pattern.select(none, "all")))
    assert.same({ "localhost" }, export.list(none).ungrouped.hosts)
  end)
end)
