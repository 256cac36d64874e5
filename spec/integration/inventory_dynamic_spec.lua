--- Dynamic inventories with real processes: inventory scripts the spec
-- writes (--list with _meta, --host per host, ones that hang, print bad
-- JSON, exit non-zero, die), folders of mixed sources, -i repeated, Lua
-- inventory plugins (options, ctx.run, the search path), constructed's
-- errors; and the CLI on them. What Ansible gives for the same sources is
-- compared in inventory_oracle_spec.lua (#oracle).
local inventory = require "luasible.inventory"
local files = require "spec.helpers.files"

local dir = files.tmpdir()

local function write(rel, text, exec)
  local p = dir .. "/" .. rel
  files.sh("mkdir -p '" .. p:match("^(.*)/") .. "'")
  files.write(p, text)
  if exec then files.sh("chmod +x '" .. p .. "'") end
  return p
end

local function luasible(args)
  return files.run("bin/luasible " .. args .. " 2>&1")
end

describe("inventory scripts", function()
  it("reads --list with _meta.hostvars and never calls --host", function()
    local log = dir .. "/calls.log"
    local p = write("s1.sh", "#!/bin/sh\necho \"$@\" >> '" .. log .. "'\n"
      .. [[echo '{"web": {"hosts": ["w1", "w2"], "vars": {"port": 80}}, "db": ["d1"],
  "_meta": {"hostvars": {"w1": {"ansible_host": "10.0.0.1"}}}}']] .. "\n", true)
    local inv = assert(inventory.load(p))
    assert.same({ "w1", "w2" }, inv:group_hosts("web"))
    assert.same({ "d1" }, inv:group_hosts("db"))
    assert.equal("10.0.0.1", inv:host_vars("w1").ansible_host)
    assert.equal(80, inv:host_vars("w2").port)
    assert.equal("--list\n", files.read(log))
  end)

  it("asks --host for each host when there is no _meta, several at once, and reads their vars", function()
    local p = write("s2.sh", [[#!/bin/sh
case "$1" in
--list) echo '{"g": ["h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9", "h10"]}' ;;
--host) sleep 0.3; echo "{\"me\": \"$2\"}" ;;
esac
]], true)
    local t0 = os.time()
    local clock = require("luasible.core").now
    local c0 = clock()
    local inv = assert(inventory.load(p))
    local took = clock() - c0
    for i = 1, 10 do assert.equal("h" .. i, inv:host_vars("h" .. i).me) end
    -- 10 runs of 0.3 s, 8 at a time: about 0.6 s, not 3 s
    assert.is_true(took < 2.5, "took " .. took .. " s")
    assert(os.time() - t0 < 10)
  end)

  it("kills a script that hangs after the timeout and says so, with its stderr", function()
    local p = write("hang.sh", "#!/bin/sh\necho 'asking the CMDB...' >&2\nsleep 30\n", true)
    local c0 = require("luasible.core").now()
    local inv, err = inventory.load(p, { timeout = 0.5 })
    assert.is_nil(inv)
    assert.is_true(require("luasible.core").now() - c0 < 5)
    assert.equal("inventory script " .. p .. " --list: timed out after 0.5 s (killed); its stderr:\n"
      .. "asking the CMDB...", err)
  end)

  it("Ctrl-C while a script runs: the script is killed, luasible exits 99 (as ansible-inventory)", function()
    local pidfile = dir .. "/hang2.pid"
    local p = write("hang2.sh", "#!/bin/sh\necho $$ > '" .. pidfile .. "'\nexec sleep 30\n", true)
    local out = files.sh("bin/luasible inventory -i " .. p .. " --list 2>&1 & l=$!; "
      .. "for i in $(seq 50); do [ -s '" .. pidfile .. "' ] && break; sleep 0.1; done; "
      .. "kill -INT $l; wait $l; echo \"rc $?\"")
    assert.equal("interrupted (SIGINT)\nrc 99", out)
    local pid = assert(files.read(pidfile)):match("%d+")
    -- gone, or a zombie nobody reaps here (its parent exited): never still sleeping
    local state = files.sh("ps -o stat= -p " .. pid .. " 2>/dev/null")
    assert.truthy(state == "" or state:match("^Z"), "the script is still running: " .. state)
  end)

  it("refuses a non-zero exit, naming the script and showing its stderr", function()
    local p = write("fail.sh", "#!/bin/sh\necho '{}'\necho 'cannot reach cmdb.example.com:443' >&2\nexit 3\n", true)
    local _, err = inventory.load(p)
    assert.equal("inventory script " .. p .. " --list: exited with status 3; its stderr:\n"
      .. "cannot reach cmdb.example.com:443", err)
  end)

  it("refuses bad JSON, naming the script and the line", function()
    local p = write("bad.sh", "#!/bin/sh\necho '{\"web\": {'\necho '  \"hosts\": [\"w1\",}}'\necho warn >&2\n", true)
    local _, err = inventory.load(p)
    assert.truthy(err:find("^inventory script " .. p:gsub("%p", "%%%0") .. " %-%-list: output:2: "), err)
    assert.truthy(err:find("; its stderr:\nwarn$"), err)
  end)

  it("refuses output that is no object of groups, and groups of a bad shape", function()
    local cases = {
      { '["w1"]', "must be a JSON object of groups, got" },
      { '', "must be a JSON object of groups, got" },
      { '{"web": {"hosts": "w1"}}', "group 'web': hosts must be a list, got" },
      { '{"web": {"hosts": [1]}}',
        "group 'web': a host name must be a string without control characters, got a number (1)" },
      { '{"web": {"hosts": ["a\\nb"]}}', "a host name must be a string without control characters, got a string" },
      { '{"web": {"vars": [1]}}', "group 'web': vars must be a mapping, got" },
      { '{"web": {"children": "x"}}', "group 'web': children must be a list, got" },
      { '{"a": {"children": ["b"]}, "b": {"children": ["a"]}}', "makes a cycle" },
      { '{"web": ["w1"], "_meta": {"hostvars": {"w1": [1]}}}', "the vars of host 'w1' must be a mapping" },
    }
    for i, c in ipairs(cases) do
      local p = write("shape" .. i .. ".sh", "#!/bin/sh\ncat <<'E'\n" .. c[1] .. "\nE\n", true)
      local inv, err = inventory.load(p)
      assert.is_nil(inv, c[1])
      assert.truthy(err:find("inventory script " .. p .. " --list: ", 1, true), err)
      assert.truthy(err:find(c[2], 1, true), c[1] .. " -> " .. err)
    end
  end)

  it("refuses a --host run that fails, and one killed by a signal", function()
    local p = write("hostfail.sh", [[#!/bin/sh
case "$1" in
--list) echo '{"g": ["ok", "bad"]}' ;;
--host) [ "$2" = bad ] && { echo "no record for $2" >&2; exit 4; }; echo '{}' ;;
esac
]], true)
    local _, err = inventory.load(p)
    assert.equal("inventory script " .. p .. " --host bad: exited with status 4; its stderr:\nno record for bad", err)
    local k = write("killed.sh", "#!/bin/sh\nkill -9 $$\n", true)
    local _, kerr = inventory.load(k)
    assert.equal("inventory script " .. k .. " --list: killed by SIGKILL", kerr)
  end)

  it("runs an executable with #! only; refuses a #! file that is not executable", function()
    local p = write("noexec.sh", "#!/bin/sh\necho '{}'\n")
    local _, err = inventory.load(p)
    assert.equal(p .. ": an inventory script (#!) that is not executable (chmod +x it)", err)
    -- an executable INI file (no #!) is read as INI, not run
    local ini = write("exec.ini", "[web]\nw1\n", true)
    assert.same({ "w1" }, assert(inventory.load(ini)):group_hosts("web"))
  end)
end)

describe("inventory folders and -i repeated", function()
  it("merges a script, INI, YAML and constructed in sorted order, leaving out Ansible's ignored names", function()
    write("f/10-cloud.sh", [[#!/bin/sh
echo '{"cloud": ["vm1", "vm2"], "_meta": {"hostvars": {"vm1": {"cpus": 8}, "vm2": {"cpus": 2}}}}'
]], true)
    write("f/20-static", "[cloud]\nvm3 cpus=4\n")
    write("f/30-groups.yml", "plugin: constructed\ngroups:\n  big: cpus >= 4\n")
    write("f/hosts.ini", "[never]\nn1\n")
    write("f/old~", "[never]\nn2\n")
    write("f/x.orig", "[never]\nn3\n")
    write("f/README.md", "[never]\nn4\n")
    write("f/.hidden", "[never]\nn5\n")
    write("f/group_vars/cloud.yml", "site: hq\n")
    local inv = assert(inventory.load(dir .. "/f"))
    assert.same({ "vm1", "vm2", "vm3" }, inv:group_hosts("cloud"))
    assert.same({ "vm1", "vm3" }, inv:group_hosts("big"))
    assert.is_nil(inv.groups.never)
    assert.equal("hq", inv:host_vars("vm2").site)
  end)

  it("leaves out the endings and patterns the configuration says, instead of Ansible's endings", function()
    write("ig/hosts.ini", "[from_ini]\ni1\n")
    write("ig/old-hosts", "[old]\no1\n")
    write("ig/keep.yml", "keep:\n  hosts:\n    k1:\n")
    write("ig/skip.yml.disabled", "[disabled]\nd1\n")
    local inv = assert(inventory.load(dir .. "/ig", { ignore_extensions = { ".disabled" },
      ignore_patterns = { "^old-" } }))
    assert.same({ "i1" }, inv:group_hosts("from_ini"))  -- .ini is no longer left out
    assert.same({ "k1" }, inv:group_hosts("keep"))
    assert.is_nil(inv.groups.old)
    assert.is_nil(inv.groups.disabled)
    local _, err = inventory.load(dir .. "/ig", { ignore_patterns = { "(" } })
    assert.truthy(err:find("^inventory ignore pattern: bad regex '%('"), err)
    -- through the CLI, from the environment
    local out, ok = files.run("ANSIBLE_INVENTORY_IGNORE_REGEX='^old-,^keep' bin/luasible inventory -i " .. dir
      .. "/ig --list-hosts all 2>&1")
    assert.is_true(ok, out)
    assert.equal("  hosts (1):\n    d1\n", out)  -- Ansible's endings again: hosts.ini left out, .disabled read
  end)

  it("merges -i sources in order, each with its own group_vars/", function()
    local a = write("m1/a.ini", "[web]\nw1 x=1\n")
    write("m1/group_vars/web.yml", "from_a: 1\n")
    local b = write("m2/b.yml", "web:\n  hosts:\n    w1: { x: 2 }\n    w2:\n")
    write("m2/group_vars/web.yml", "from_b: 2\n")
    local inv = assert(inventory.load({ a, b }))
    assert.same({ "w1", "w2" }, inv:group_hosts("web"))
    local v = inv:host_vars("w1")
    assert.equal(2, v.x)
    assert.equal(1, v.from_a)
    assert.equal(2, v.from_b)
    local inv2 = assert(inventory.load({ b, a }))
    assert.equal(1, inv2:host_vars("w1").x)
    -- an error in a later source names it
    local bad = write("m3/bad.yml", "web: [\n")
    local _, err = inventory.load({ a, bad })
    assert.truthy(err:find(bad, 1, true), err)
  end)

  it("the CLI takes -i repeated and an inventory script", function()
    local s = write("cli.sh", [[#!/bin/sh
echo '{"web": ["w1"], "_meta": {"hostvars": {"w1": {"port": 8080}}}}'
]], true)
    local ini = write("cli.ini", "[db]\nd1\n")
    local out, ok = luasible("inventory -i " .. s .. " -i " .. ini .. " --list-hosts all")
    assert.is_true(ok, out)
    assert.equal("  hosts (2):\n    w1\n    d1\n", out)
    local out2 = luasible("inventory -i " .. s .. " --host w1")
    assert.equal('{\n    "port": 8080\n}\n', out2)
  end)
end)

describe("Lua inventory plugins", function()
  local plugin_dir = dir .. "/plugins"
  write("plugins/fleet.lua", [[
return {
  options = { count = { type = "integer", required = true }, prefix = { type = "string", default = "node" },
              cmd = { type = "list" } },
  load = function(opts, ctx)
    local out = { fleet = { hosts = {} }, _meta = { hostvars = {} } }
    local extra = ""
    if opts.cmd then
      local text, err = ctx.run(opts.cmd, { timeout = 2 })
      if not text then return nil, err end
      extra = text:gsub("\n$", "")
    end
    for i = 1, opts.count do
      local name = opts.prefix .. i
      out.fleet.hosts[i] = name
      out._meta.hostvars[name] = { index = i, extra = extra, source = ctx.source }
    end
    return out
  end,
}
]])

  it("loads a plugin named by a YAML source, through the plugin path, with checked options", function()
    local src = write("p/fleet.yml", "plugin: fleet\ncount: 3\nprefix: vm\ncmd: [echo, from-a-command]\n")
    local inv = assert(inventory.load(src, { plugin_path = { plugin_dir } }))
    assert.same({ "vm1", "vm2", "vm3" }, inv:group_hosts("fleet"))
    assert.equal(2, inv:host_vars("vm2").index)
    assert.equal("from-a-command", inv:host_vars("vm2").extra)
    assert.equal(src, inv:host_vars("vm1").source)
  end)

  it("finds it in inventory_plugins/ beside the source and in LUASIBLE_INVENTORY_PLUGINS (the CLI)", function()
    write("q/inventory_plugins/fleet.lua", files.read(plugin_dir .. "/fleet.lua"))
    local src = write("q/fleet.yml", "plugin: fleet\ncount: 2\n")
    assert.same({ "node1", "node2" }, assert(inventory.load(src)):group_hosts("fleet"))
    local src2 = write("r/fleet.yml", "plugin: fleet\ncount: 1\n")
    local out, ok = files.run("LUASIBLE_INVENTORY_PLUGINS='" .. plugin_dir .. "' bin/luasible inventory -i "
      .. src2 .. " --list-hosts all 2>&1")
    assert.is_true(ok, out)
    assert.equal("  hosts (1):\n    node1\n", out)
  end)

  it("refuses bad options, an unknown plugin, a failing command, and what a plugin raises", function()
    local bad = write("p/bad_opt.yml", "plugin: fleet\ncount: many\n")
    local _, err = inventory.load(bad, { plugin_path = { plugin_dir } })
    assert.truthy(err:find(bad .. ": inventory plugin ", 1, true), err)
    assert.truthy(err:find("argument 'count' must be", 1, true), err)
    local unknown = write("p/unknown.yml", "# a comment\nplugin: nosuch\n")
    local _, uerr = inventory.load(unknown, { plugin_path = { plugin_dir } })
    assert.equal(unknown .. ":2: unknown inventory plugin 'nosuch' (searched " .. plugin_dir .. ", " .. dir
      .. "/p/inventory_plugins; built in: constructed)", uerr)
    local cmd = write("p/cmd.yml", "plugin: fleet\ncount: 1\ncmd: [sh, -c, 'echo boom >&2; exit 7']\n")
    local _, cerr = inventory.load(cmd, { plugin_path = { plugin_dir } })
    assert.equal("inventory plugin " .. plugin_dir .. "/fleet.lua: command sh -c echo boom >&2; exit 7: exited with"
      .. " status 7; its stderr:\nboom", cerr)
    write("plugins/raises.lua", "return { load = function() error('the API said 503') end }\n")
    local r = write("p/raises.yml", "plugin: raises\n")
    local _, rerr = inventory.load(r, { plugin_path = { plugin_dir } })
    assert.truthy(rerr:find("inventory plugin " .. plugin_dir .. "/raises.lua: ", 1, true), rerr)
    assert.truthy(rerr:find("the API said 503", 1, true), rerr)
  end)

  it("a .lua source that returns a plugin is run itself (its option defaults)", function()
    local p = write("direct.lua", [[
return { options = { n = { type = "integer", default = 2 } },
  load = function(opts) local h = {} for i = 1, opts.n do h[i] = "d" .. i end return { direct = { hosts = h } } end }
]])
    assert.same({ "d1", "d2" }, assert(inventory.load(p)):group_hosts("direct"))
  end)

  it("the example plugin reads the JSON export of cloud instances (examples/cloud)", function()
    local out, ok = files.run("cd examples/cloud && ../../bin/luasible inventory --list-hosts role_web 2>&1")
    assert.is_true(ok, out)
    assert.equal("  hosts (3):\n    web-1\n    web-2\n    web-stage-1\n", out)
    local host = files.run("cd examples/cloud && ../../bin/luasible inventory --host db-1 2>&1")
    local v = require("cjson").decode(host)
    assert.equal("10.0.1.20", v.ansible_host)
    assert.is_nil(v.cloud_public_ip)
    assert.equal("admin", v.ansible_user)
    -- the stopped instance is left out
    local all = files.run("cd examples/cloud && ../../bin/luasible inventory --list-hosts all 2>&1")
    assert.is_nil(all:find("batch-1", 1, true))
  end)
end)

describe("constructed", function()
  it("refuses unknown options and bad shapes naming file:line, and strict errors", function()
    local base = write("c/hosts.yml", "all:\n  hosts:\n    h1: { n: 1 }\n")
    local cases = {
      { "plugin: constructed\ncompos:\n  x: 1\n", ":2: unknown option 'compos' of the constructed plugin" },
      { "plugin: constructed\ngroups: [a]\n", ":2: groups must be a mapping of names to expressions" },
      { "plugin: constructed\nkeyed_groups:\n  - prefix: x\n", ":2: keyed_groups entry 1 has no key" },
      { "plugin: constructed\nkeyed_groups:\n  - key: n\n    default_value: a\n    trailing_separator: false\n",
        "default_value and trailing_separator are mutually exclusive" },
      { "plugin: constructed\nstrict: true\ncompose:\n  y: nope + 1\n",
        "failed to parse " .. dir .. "/c/x.yml: Could not set y for host h1: " },
      { "plugin: constructed\nkeyed_groups:\n  - key: n\n",
        "Invalid group name format, expected a string or a list of them or dictionary, got: number" },
    }
    for _, c in ipairs(cases) do
      local src = write("c/x.yml", c[1])
      local inv, err = inventory.load({ base, src })
      assert.is_nil(inv, c[1])
      assert.truthy(err:find(c[2], 1, true), c[1] .. " -> " .. tostring(err))
    end
  end)

  it("skips what fails when not strict, and sees -e with use_extra_vars", function()
    local base = write("c2/hosts.yml", "all:\n  hosts:\n    h1: { n: 1 }\n    h2: {}\n")
    local src = write("c2/c.yml", "plugin: constructed\nuse_extra_vars: true\ncompose:\n  m: n + 1\n  e: ev\n"
      .. "groups:\n  has_n: n == 1\n")
    local inv = assert(inventory.load({ base, src }, { extra_vars = { ev = "from -e" } }))
    assert.equal("2", inv:host_vars("h1").m)
    assert.is_nil(inv:host_vars("h2").m)
    assert.equal("from -e", inv:host_vars("h2").e)
    assert.same({ "h1" }, inv:group_hosts("has_n"))
  end)
end)
