local inventory = require "luasible.inventory"

local FIX = "spec/fixtures/"

describe("inventory", function()
  describe("INI", function()
    local inv
    setup(function() inv = assert(inventory.load(FIX .. "inventory.ini")) end)

    it("expands numeric ranges keeping zero padding", function()
      assert.same({ "web01.example.com", "web02.example.com", "web03.example.com", "web-extra.example.com" },
        inv:group_hosts("web"))
    end)

    it("expands alphabetic ranges", function()
      assert.same({ "db-a", "db-b" }, inv:group_hosts("db"))
    end)

    it("puts hosts before any section into ungrouped and all", function()
      assert.same({ "bastion" }, inv:group_hosts("ungrouped"))
      assert.equal(8, #inv:group_hosts("all"))
    end)

    it("reads host vars with types and quotes", function()
      local v = inv:host_vars("web-extra.example.com")
      assert.equal("hello world", v.motd)
      assert.equal("true", v.enabled) -- Python's literals: True, not true
      assert.equal(2222, v.ansible_port)
      assert.equal(8080, inv:host_vars("web01.example.com").http_port)
      assert.equal("s3cret pass", inv:host_vars("db-a").ansible_become_password)
    end)

    it("reads values as Python literals, as Ansible does (ast.literal_eval)", function()
      local i2 = assert(inventory.parse_ini(table.concat({
        "h1 a=042 b=1.2.3 c=0x1g d=42 e=-7 f=0 g=1.5 h=0.25 i=00.5 j=True k=false l='042' m=1e3 n=007x"
          .. " o=0x1f p=None q=\"[1, 'x']\" r=\"{'k': 1}\" s=\"5\"",
        "[all:vars]",
        "zip=01234",
        "port=22",
        "t=False",
        "u='bar' # a comment after a quoted value is left out",
        "w=foo # an unquoted value keeps it",
        "x=[1, 2]",
      }, "\n"), "inline.ini"))
      local v = i2:host_vars("h1")
      assert.equal("042", v.a)
      assert.equal("1.2.3", v.b)
      assert.equal("0x1g", v.c)
      assert.equal(42, v.d)
      assert.equal(-7, v.e)
      assert.equal(0, v.f)
      assert.equal(1.5, v.g)
      assert.equal(0.25, v.h)
      assert.equal(0.5, v.i)
      assert.equal(true, v.j)
      assert.equal("false", v.k)
      assert.equal("042", v.l)
      assert.equal(1000.0, v.m)
      assert.equal("float", math.type(v.m))
      assert.equal("007x", v.n)
      assert.equal(31, v.o)
      assert.equal(require("luasible.yaml").null, v.p)
      assert.same({ 1, "x" }, v.q)
      assert.same({ k = 1 }, v.r)
      assert.equal(5, v.s)
      assert.equal("01234", v.zip)
      assert.equal(22, v.port)
      assert.equal(false, v.t)
      assert.equal("bar", v.u)
      assert.equal("foo # an unquoted value keeps it", v.w)
      assert.same({ 1, 2 }, v.x)
      assert.equal("integer", math.type(v.d))
    end)

    it("applies group vars: parents first, children override, host vars last", function()
      local v = inv:host_vars("web02.example.com")
      assert.equal("frontend", v.tier)        -- web:vars beats app:vars (web is deeper)
      assert.equal("/srv/app", v.deploy_dir)  -- inherited from app
      assert.equal(4, v.workers)
      assert.equal("production", inv:host_vars("db-b").tier)
      assert.same({ "app", "web" }, v.group_names)
      assert.equal("web02.example.com", v.inventory_hostname)
      assert.equal("web02", v.inventory_hostname_short)
    end)

    it("nests children", function()
      assert.equal(6, #inv:group_hosts("app"))
    end)

    it("maps connection vars", function()
      assert.equal("local", inventory.connect_args("localhost", inv:host_vars("localhost")))
      local a = inventory.connect_args("bastion", inv:host_vars("bastion"))
      assert.same({ host = "10.0.0.1", user = "admin" }, a)
      local b = inventory.become(inv:host_vars("db-a"))
      assert.same({ become = true, user = "root", method = "sudo", password = "s3cret pass" }, b)
    end)
  end)

  describe("malformed INI is refused with file:line: what", function()
    local cases = {
      { "bad_header.ini", ":1: bad section header or host '[web' (a section is [name], [name:children]"
        .. " or [name:vars])" },
      { "bad_quote.ini", ":3: error parsing host definition 'host2 color=\"blue': unterminated quote" },
      { "bad_hostvar.ini", ":2: expected key=value after the host name, got 'novalue'" },
      { "bad_vars.ini", ":2: expected key=value in [web:vars]" },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local inv, err = inventory.load(FIX .. c[1])
        assert.is_nil(inv)
        assert.truthy(err:find(FIX .. c[1] .. c[2], 1, true), err)
      end)
    end

    it("rejects unknown section kinds and bad ranges", function()
      local _, err = inventory.parse_ini("[a:foo]\n", "x.ini")
      assert.equal("x.ini:1: section [a:foo] has unknown type 'foo' (use :children or :vars)", err)
      _, err = inventory.parse_ini("\n[a]\nweb[3:1]\n", "x.ini")
      assert.equal("x.ini:3: range start after end in host name 'web[3:1]'", err)
      _, err = inventory.parse_ini("[a:children]\nb\n[b:children]\na\n", "x.ini")
      assert.equal("x.ini:4: adding group 'a' as a child of 'b' makes a cycle", err)
    end)

    it("reports a missing file", function()
      local _, err = inventory.load("spec/fixtures/nope.ini")
      assert.equal("cannot read inventory spec/fixtures/nope.ini: "
        .. "ENOENT: spec/fixtures/nope.ini: No such file or directory", err)
    end)
  end)

  describe("YAML", function()
    local inv
    setup(function() inv = assert(inventory.load(FIX .. "inventory.yml")) end)

    it("reads hosts, children and vars", function()
      assert.same({ "web1", "web2", "web3" }, inv:group_hosts("web"))
      assert.same({ "db1", "db2" }, inv:group_hosts("db"))
      assert.equal(5, #inv:group_hosts("app"))
      assert.equal("frontend", inv:host_vars("web2").tier)
      assert.equal("production", inv:host_vars("db1").tier)
      assert.equal("pool.ntp.org", inv:host_vars("db1").ntp)
      assert.equal(2200, inv:host_vars("db2").ansible_port)
      assert.equal("10.0.0.1", inv:host_vars("bastion").ansible_host)
    end)

    it("reports syntax errors with the line", function()
      local _, err = inventory.load(FIX .. "bad_syntax.yml")
      assert.truthy(err:match("^spec/fixtures/bad_syntax%.yml:%d+: "), err)
    end)

    it("reports a wrong shape with the line", function()
      local _, err = inventory.load(FIX .. "bad_shape.yml")
      assert.equal("spec/fixtures/bad_shape.yml:3: hosts of group 'web' must be a mapping", err)
    end)
  end)

  describe("Lua tables", function()
    it("loads a .lua file and a table", function()
      local inv = assert(inventory.load(FIX .. "inventory.lua"))
      assert.same({ "web1", "web2" }, inv:group_hosts("web"))
      assert.same({ "db1", "db2" }, inv:group_hosts("db"))
      assert.equal("eu", inv:host_vars("db2").region)
      inv = assert(inventory.load({ web = { hosts = { a = { x = 1 } } } }))
      assert.equal(1, inv:host_vars("a").x)
    end)

    it("refuses a wrong shape", function()
      local _, err = inventory.load({ web = { hostz = {} } })
      assert.truthy(err:find("unknown key 'hostz' in group 'web'", 1, true))
    end)
  end)

  it("names the first unknown group key in source order (by name for a table), whatever the table order", function()
    local _, err = inventory.parse_yaml("all:\n  children:\n    web:\n      zvars: 1\n      ahosts: 2\n", "u.yml")
    assert.equal("u.yml:3: unknown key 'zvars' in group 'web' (expected hosts, vars or children)", err)
    _, err = inventory.parse_yaml("web:\n  vars: {}\n  k9: 1\n  k1: 2\n  k5: 3\n  k3: 4\n", "u.yml")
    assert.equal("u.yml:1: unknown key 'k9' in group 'web' (expected hosts, vars or children)", err)
    for n = 2, 12 do
      local g = { hosts = {} }
      for i = n, 1, -1 do g["key" .. i] = i end
      _, err = inventory.load({ web = g })
      assert.equal("<inventory table>: unknown key 'key1' in group 'web' (expected hosts, vars or children)", err)
    end
  end)

  it("has an implicit localhost on the local connection without a source", function()
    local inv = inventory.load(nil)
    assert.same({ "localhost" }, inv:group_hosts("all"))
    assert.equal("local", inventory.connect_args("localhost", inv:host_vars("localhost")))
  end)

  describe("SSH connection variables", function()
    local ca = inventory.connect_args

    it("maps Ansible's and luasible's variables to connect arguments", function()
      assert.same({ host = "10.0.0.5", port = 2222, user = "deploy", identity = "~/.ssh/k", password = "pw",
        known_hosts = "/kh", host_key_check = "accept-new", ssh_config = false, agent = false,
        connect_timeout = 3, host_key = "SHA256:abc" }, ca("web1", {
        ansible_host = "10.0.0.5", ansible_port = "2222", ansible_user = "deploy", ansible_password = "pw",
        ansible_ssh_private_key_file = "~/.ssh/k", luasible_known_hosts = "/kh", ansible_ssh_timeout = 3,
        luasible_host_key_check = "accept-new", luasible_ssh_config = "none", luasible_ssh_agent = "no",
        luasible_host_key = "SHA256:abc" }))
      assert.equal("off", ca("h", { ansible_host_key_checking = false }).host_key_check)
      assert.equal("strict", ca("h", { ansible_ssh_host_key_checking = "yes" }).host_key_check)
      assert.equal("h", ca("h", {}).host)
    end)

    it("understands the usual ssh options of ansible_ssh_common_args / _extra_args", function()
      local a = assert(ca("h", { ansible_ssh_common_args = "-o StrictHostKeyChecking=no "
        .. "-o UserKnownHostsFile=/dev/null -F /cfg -o ConnectTimeout=4", ansible_ssh_extra_args = "-p 2200 -l bob" }))
      assert.same({ host = "h", host_key_check = "off", known_hosts = "/dev/null", ssh_config = "/cfg",
        connect_timeout = 4, port = 2200, user = "bob" }, a)
      -- explicit variables win over the ssh arguments
      assert.equal(22, ca("h", { ansible_ssh_extra_args = "-p 2200", ansible_port = 22 }).port)
      assert.equal("accept-new", ca("h", { ansible_ssh_common_args = "-o StrictHostKeyChecking=accept-new" })
        .host_key_check)
    end)

    it("maps OpenSSH's keepalive options: ServerAliveInterval, ServerAliveCountMax", function()
      local a = assert(ca("h", { ansible_ssh_common_args = "-o ServerAliveInterval=5 -o ServerAliveCountMax=2" }))
      assert.same({ host = "h", keepalive = 5, keepalive_count_max = 2 }, a)
      -- luasible's own variables win
      a = assert(ca("h", { ansible_ssh_common_args = "-o ServerAliveCountMax=2", luasible_keepalive_count_max = 6,
        luasible_keepalive = 3 }))
      assert.equal(6, a.keepalive_count_max)
      assert.equal(3, a.keepalive)
      local _, err = ca("h", { ansible_ssh_common_args = "-o ServerAliveCountMax=0" })
      assert.truthy(err:find("bad ssh option -o ServerAliveCountMax=0 (a whole number >= 1)", 1, true))
      _, err = ca("h", { luasible_keepalive_count_max = 1.5 })
      assert.truthy(err:find("luasible_keepalive_count_max must be a whole number >= 1, got '1.5'", 1, true))
    end)

    it("splits ssh arguments as a shell does (the one splitter): quotes group words", function()
      local a = assert(ca("h", { ansible_ssh_common_args = [[-i "/keys/my key" -o 'StrictHostKeyChecking no' ]]
        .. [[-o "ConnectTimeout=7" -o Port=2201 -l 'bob']] }))
      assert.same({ host = "h", identity = "/keys/my key", host_key_check = "off", connect_timeout = 7,
        port = 2201, user = "bob" }, a)
      local _, err = ca("h", { ansible_ssh_extra_args = "-o 'Port=22" })
      assert.equal("host h: ansible_ssh_extra_args: bad ssh arguments: unterminated quote", err)
    end)

    it("refuses what it cannot honour instead of ignoring it", function()
      local _, err = ca("h", { ansible_ssh_common_args = "-o LocalForward=8080:db:80" })
      assert.truthy(err:find("host h: ansible_ssh_common_args: unsupported ssh option -o LocalForward=8080:db:80", 1,
        true), err)
      _, err = ca("h", { ansible_ssh_extra_args = "-L 8080:db:80" })
      assert.truthy(err:find("unsupported ssh option -L", 1, true), err)
      _, err = ca("h", { ansible_ssh_extra_args = "-o ForwardAgent=yes" })
      assert.truthy(err:find("ForwardAgent=yes (agent forwarding is not supported", 1, true), err)
      -- what issue 13 added: jump hosts, ProxyCommand, IdentitiesOnly, IdentityAgent, HashKnownHosts
      local a = assert(ca("h", { ansible_ssh_common_args = "-J ops@bastion:2222 -o IdentitiesOnly=yes"
        .. " -o IdentityAgent=none -o HashKnownHosts=yes", ansible_ssh_extra_args = "-o ProxyCommand='nc %h %p'" }))
      assert.equal("ops@bastion:2222", a.jump)
      assert.equal("nc %h %p", a.proxy_command)
      assert.is_true(a.identities_only)
      assert.is_false(a.agent)
      assert.is_true(a.hash_known_hosts)
      _, err = ca("h", { ansible_port = "twenty" })
      assert.truthy(err:find("ansible_port must be a number", 1, true))
      _, err = ca("h", { luasible_host_key_check = "maybe" })
      assert.truthy(err:find("luasible_host_key_check must be strict, accept-new or off", 1, true))
      _, err = ca("h", { ansible_connection = "winrm" })
      assert.truthy(err:find("unsupported ansible_connection 'winrm'", 1, true))
    end)
  end)

  it("accepts an inline comma list", function()
    local inv = assert(inventory.load("a,b,"))
    assert.same({ "a", "b" }, inv:group_hosts("all"))
  end)

  describe("huge ranges", function()
    it("refuses a range that would give too many hosts, at once, with file and line", function()
      local t0 = os.clock()
      local _, err = inventory.parse_ini("[web]\nweb[1:100000000]\n", "big.ini")
      assert.equal("big.ini:2: host range 'web[1:100000000]' gives 100000000 hosts, more than the 100000 "
        .. "one pattern may give", err)
      _, err = inventory.parse_ini("[web]\nweb[1:1000][1:1000].example.com\n", "big.ini")
      assert.truthy(err:find("^big.ini:2: host range .* gives 1000000 hosts"), err)
      _, err = inventory.parse_ini("x[0:99999999999999999999999]\n", "big.ini")
      assert.truthy(err:find("^big.ini:1: host range"), err)
      _, err = inventory.parse_yaml("all:\n  children:\n    web:\n      hosts:\n        web[1:100000000]:\n", "big.yml")
      assert.truthy(err:find("^big.yml:5: host range 'web%[1:100000000%]' gives 100000000 hosts"), err)
      _, err = inventory.from_table({ all = { hosts = { ["db[a:z][0:999999]"] = {} } } }, "big.lua")
      assert.truthy(err:find("^big.lua: host range"), err)
      assert.is_true(os.clock() - t0 < 1)
      assert.equal(100000, #assert(inventory.parse_ini("[web]\nweb[1:100000]\n", "ok.ini")).host_order)
    end)

    it("caps the hosts of a whole inventory", function()
      local model = require "luasible.inventory.model"
      local saved = model.MAX_HOSTS
      model.MAX_HOSTS = 50
      local _, err = inventory.parse_ini("[a]\na[1:30]\n[b]\nb[1:30]\n", "many.ini")
      local _, err2 = inventory.parse_yaml("all:\n  hosts:\n    a[1:30]:\n    b[1:30]:\n", "many.yml")
      model.MAX_HOSTS = saved
      assert.equal("many.ini:4: more than 50 hosts in one inventory", err)
      assert.truthy(err2:find("^many.yml:%d: more than 50 hosts in one inventory"), err2)
    end)
  end)
end)
