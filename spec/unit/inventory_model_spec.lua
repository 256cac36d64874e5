local inventory = require "luasible.inventory"
local export = require "luasible.inventory.export"
local json = require "luasible.json"
local files = require "spec.helpers.files"

-- the inventory as Ansible settles it (reconcile_inventory, sort_groups,
-- get_hosts) and reads its sources (formats in order, folders); each
-- expectation checked against ansible-inventory 2.14 when written
describe("inventory model", function()
  local function ini(text) return assert(inventory.parse_ini(text, "t.ini")) end

  it("puts hosts under all (INI [all], YAML all: hosts:) into ungrouped, takes hosts of a group out", function()
    local inv = ini("top\n[all]\ndirect\ntop\n[ungrouped]\nu1\nw1\n[web]\nw1\n")
    assert.same({ "top", "u1", "direct" }, inv.groups.ungrouped.host_list)
    assert.same({ "direct", "top" }, inv.groups.all.host_list)
    inv = assert(inventory.parse_yaml("all:\n  hosts:\n    a:\n  children:\n    web:\n      hosts:\n        b:\n",
      "t.yml"))
    assert.same({ "a" }, inv.groups.ungrouped.host_list)
  end)

  it("puts under all only the groups without a parent, in the order they were made", function()
    local inv = ini("[web]\nw1\n[db]\nd1\n[app:children]\nweb\n")
    assert.same({ "ungrouped", "db", "app" }, inv.groups.all.child_list)
    -- hosts of `all` in Ansible's order: level by level (app's web after db)
    assert.same({ "d1", "w1" }, inv:group_hosts("all"))
  end)

  it("links a child named before its section once the section comes, and refuses one defined nowhere", function()
    local inv = ini("[app:children]\nweb\nlater\n[later]\nl1\n[web]\nw1\n")
    assert.same({ "later", "web" }, inv.groups.app.child_list) -- in the order their sections came
    local _, err = inventory.parse_ini("[app:children]\nweb\nnope\n[web]\nw1\n", "t.ini")
    assert.equal("t.ini:3: section [app:children] includes group 'nope', which is defined nowhere"
      .. " (no [nope] or [nope:children] section)", err)
    _, err = inventory.parse_ini("[web]\nw1\n[ghost:vars]\nx=1\n", "t.ini")
    assert.truthy(err:find("^t.ini:3: section %[ghost:vars%] is for group 'ghost', which is defined nowhere"), err)
  end)

  it("takes a comment after a section header, not one after a ;", function()
    local inv = ini("[web]  # the web servers\nw1\n[web:vars]   # here too\nx = 1\n")
    assert.same({ "w1" }, inv.groups.web.host_list)
    assert.equal(1, inv:host_vars("w1").x)
    local _, err = inventory.parse_ini("[web] ; no\nw1\n", "t.ini")
    assert.truthy(err:find("^t.ini:1: "), err)
  end)

  it("orders groups of one depth by ansible_group_priority, which is no variable", function()
    local inv = ini("[a]\nh\n[b]\nh\n[a:vars]\nansible_group_priority=10\nwho=a\n"
      .. "[b:vars]\nansible_group_priority=5\nwho=b\n")
    local v = inv:host_vars("h")
    assert.equal("a", v.who)
    assert.is_nil(v.ansible_group_priority)
    assert.same({ "all", "b", "a" }, inv:host_groups("h"))
    local _, err = inventory.parse_ini("[a]\nh\n[a:vars]\nansible_group_priority=high\n", "t.ini")
    assert.truthy(err:find("ansible_group_priority must be an integer", 1, true), err)
  end)

  it("applies deeper groups later, group_names with ungrouped (as Ansible), short names of addresses whole", function()
    local inv = ini("lone\n10.0.0.1\n[deep:children]\napp\n[app:children]\nweb\n[web]\nw.example.com\n"
      .. "[web:vars]\nt=web\n[app:vars]\nt=app\n[deep:vars]\nt=deep\n")
    local v = inv:host_vars("w.example.com")
    assert.equal("web", v.t)
    assert.same({ "app", "deep", "web" }, v.group_names)
    assert.equal("w", v.inventory_hostname_short)
    assert.same({ "ungrouped" }, inv:host_vars("lone").group_names)
    assert.equal("10.0.0.1", inv:host_vars("10.0.0.1").inventory_hostname_short)
  end)

  it("keeps a host's first port, then its ansible_port", function()
    local inv = ini("[a]\nh:2201\nh:9999 x=1\n[b]\ng:22\ng ansible_port=2300\n")
    assert.equal(2201, inv:host_vars("h").ansible_port)
    assert.equal(2300, inv:host_vars("g").ansible_port)
  end)

  it("reads an inline list with ports", function()
    local inv = assert(inventory.load("a:2222,b,[2001:db8::1]:22,"))
    assert.same({ "a", "b", "2001:db8::1" }, inv:group_hosts("ungrouped"))
    assert.equal(2222, inv:host_vars("a").ansible_port)
  end)

  it("reads YAML's shorthands (a string for one entry, an empty host) and refuses unknown plugins", function()
    local inv = assert(inventory.parse_yaml("web:\n  hosts: w1\napp:\n  children: web\n  vars:\n    x: 1\n", "t.yml"))
    assert.same({ "w1" }, inv:group_hosts("app"))
    assert.equal(1, inv:host_vars("w1").x)
    local _, err = inventory.load("spec/fixtures/oracle/refused/plugin.yml")
    assert.truthy(err:find("plugin.yml:1: unknown inventory plugin 'aws_ec2' (searched ", 1, true), err)
  end)

  describe("sources", function()
    local dir = files.tmpdir()
    local function mk(rel, text)
      os.execute("mkdir -p '" .. (dir .. "/" .. rel):match("^(.*)/[^/]*$") .. "'")
      files.write(dir .. "/" .. rel, text)
    end

    it("tries a file's formats in Ansible's order: YAML (no ending, .yml, .yaml, .json), INI, TOML", function()
      mk("noext", "all:\n  hosts:\n    y1:\n")
      mk("ini_noext", "[web]\nw1\n")
      mk("json.json", '{"web": {"hosts": {"j1": {}}}}')
      assert.same({ "y1" }, assert(inventory.load(dir .. "/noext")):group_hosts("all"))
      assert.same({ "w1" }, assert(inventory.load(dir .. "/ini_noext")):group_hosts("web"))
      assert.same({ "j1" }, assert(inventory.load(dir .. "/json.json")):group_hosts("web"))
      -- a .toml file is tried as INI first: what INI read before failing stays, as in Ansible
      mk("t.toml", "[web.hosts]\nt1 = {}\n")
      local inv = assert(inventory.load(dir .. "/t.toml"))
      assert.same({ "t1" }, inv:group_hosts("web"))
      assert.truthy(inv.groups["web.hosts"])
    end)

    it("reads every file of a folder, sorted, sub-folders too, not hidden, vars folders, ignored endings", function()
      mk("inv/b", "[web]\nw2\n")
      mk("inv/a.yml", "web:\n  hosts:\n    w1:\n")
      mk("inv/sub/c", "[db]\nd1\n")
      mk("inv/skip.ini", "[skipped]\ns1\n")
      mk("inv/README.md", "not an inventory\n")
      mk("inv/.hidden", "[hidden]\nh1\n")
      mk("inv/group_vars/web.yml", "x: 1\n")
      local inv = assert(inventory.load(dir .. "/inv"))
      assert.same({ "w1", "w2" }, inv:group_hosts("web"))
      assert.same({ "d1" }, inv:group_hosts("db"))
      assert.is_nil(inv.groups.skipped)
      assert.is_nil(inv.groups.hidden)
      assert.equal(1, inv:host_vars("w2").x)
      -- deliberately: a file no format reads is refused (Ansible warns and skips it)
      mk("inv/zz", "this is = not an inventory\n")
      local _, err = inventory.load(dir .. "/inv")
      assert.truthy(err:find(dir .. "/inv/zz:1: ", 1, true), err)
    end)
  end)

  describe("export (ansible-inventory's shapes)", function()
    local inv = ini("top a=1\n[web]\nw1 b=[1]\nw2\n[app:children]\nweb\n[empty]\n")

    it("--list: groups with direct hosts and children, all without hosts, hostvars of hosts with vars", function()
      local l = export.list(inv)
      assert.same({ children = { "ungrouped", "app", "empty" } }, l.all)
      assert.same({ hosts = { "top" } }, l.ungrouped)
      assert.same({ children = { "web" } }, l.app)
      assert.same({ hosts = { "w1", "w2" } }, l.web)
      assert.is_nil(l.empty)
      assert.same({ a = 1 }, l._meta.hostvars.top)
      assert.is_nil(l._meta.hostvars.w2)
      assert.equal('{"b":[1]}', json.encode(export.host(inv, "w1")))
      assert.is_nil(export.host(inv, "nope"))
    end)

    it("--graph", function()
      assert.equal(table.concat({ "@all:", "  |--@ungrouped:", "  |  |--top", "  |--@app:", "  |  |--@web:",
        "  |  |  |--w1", "  |  |  |--w2", "  |--@empty:" }, "\n"), export.graph(inv))
      assert.equal("@web:\n  |--w1\n  |--w2", export.graph(inv, "web"))
      assert.is_nil(export.graph(inv, "nope"))
    end)
  end)
end)
