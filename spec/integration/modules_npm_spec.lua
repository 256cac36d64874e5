--- #hosts npm on real test hosts: packages from a registry ON the test host
-- "js" (spec/helpers/npm_registry.js, tarballs made by `npm pack` on it),
-- given to npm with registry=. "nonpm" has no npm.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"
local pkgservers = require "spec.helpers.pkgservers"
local cjson = require "cjson"

describe("#hosts npm", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, js, reg
  lazy_setup(function()
    hosts = th.start { names = { "js", "nonpm" } }
    js = hosts:get("js")
    reg = pkgservers.npm_registry(js, {
      { name = "left-lsb", version = "1.0.0" }, { name = "left-lsb", version = "1.1.0" },
      { name = "right-lsb", version = "0.5.0", dependencies = { ["left-lsb"] = "^1.0.0" } },
    })
    hosts:get("nonpm"):exec("rm -f /usr/bin/npm /usr/bin/node /usr/bin/nodejs")
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local function play(tasks, o) return hp.results(hosts, o and o.host or "js", tasks, o) end
  local function npm(t)
    t.registry = t.registry or reg.url
    return { npm = t }
  end
  local function version(dir, name)
    return (js:exec("node -p \"require('" .. dir .. "/node_modules/" .. name
      .. "/package.json').version\" 2>/dev/null"))
  end

  it("installs a version into a new folder: changed, then unchanged in one npm ls (no registry request)", function()
    local r, events = play({ npm { name = "left-lsb", version = "1.0.0", path = "/srv/app" } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.equal("1.0.0\n", version("/srv/app", "left-lsb"))
    local streamed = false
    for _, ev in ipairs(events) do if ev.type == "stdout" or ev.type == "stderr" then streamed = true end end
    assert.is_true(streamed, "npm's output streamed as events")
    reg:requests()
    r = play({ npm { name = "left-lsb", version = "1.0.0", path = "/srv/app" },
      npm { name = "left-lsb", path = "/srv/app" } })
    assert.is_false(r[1].changed, cjson.encode(r[1]))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.is_nil(r[1].cmd, "npm install did not run")
    assert.are.same({}, reg:requests())
  end)

  it("another version, latest, absent, and a dependency pulled in", function()
    local r = play({ npm { name = "left-lsb", version = "1.1.0", path = "/srv/app" },
      npm { name = "left-lsb", state = "latest", path = "/srv/app" },
      npm { name = "right-lsb", path = "/srv/app2" },
      npm { name = "left-lsb", state = "absent", path = "/srv/app" },
      npm { name = "left-lsb", state = "absent", path = "/srv/app" } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.is_true(r[3].changed, cjson.encode(r[3]))
    assert.equal("1.1.0\n", version("/srv/app2", "left-lsb"))
    assert.is_true(r[4].changed, cjson.encode(r[4]))
    assert.is_false(r[5].changed, cjson.encode(r[5]))
    assert.equal("", version("/srv/app", "left-lsb"))
  end)

  it("latest moves an old version up; a package.json folder without name installs its dependencies; ci", function()
    local r = play({ npm { name = "left-lsb", version = "1.0.0", path = "/srv/app3" },
      npm { name = "left-lsb", state = "latest", path = "/srv/app3" } })
    assert.is_true(r[2].changed, cjson.encode(r[2]))
    assert.equal("1.1.0\n", version("/srv/app3", "left-lsb"))
    js:exec("mkdir -p /srv/proj && rm -rf /srv/proj/node_modules")
    js:write("/srv/proj/package.json", '{"name":"proj","version":"1.0.0","dependencies":{"right-lsb":"0.5.0"}}')
    r = play({ npm { path = "/srv/proj" }, npm { path = "/srv/proj" }, npm { path = "/srv/proj", ci = true } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.is_true(r[3].changed, cjson.encode(r[3]))
    assert.equal("0.5.0\n", version("/srv/proj", "right-lsb"))
    assert.equal("1.1.0\n", version("/srv/proj", "left-lsb"))
    -- an installed dependency outside package.json's range: npm ls says invalid, npm install runs
    js:write("/srv/proj/package.json", '{"name":"proj","version":"1.0.0","dependencies":{"left-lsb":"~1.0.0"}}')
    r = play({ npm { path = "/srv/proj" }, npm { path = "/srv/proj" } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.equal("1.0.0\n", version("/srv/proj", "left-lsb"))
  end)

  it("the task's environment reaches npm (npm_config_registry instead of registry=), in a YAML playbook", function()
    local cli = require "spec.helpers.cli"
    local dir = hosts.dir .. "/envplay"
    os.execute("mkdir -p " .. dir)
    local f = assert(io.open(dir .. "/inv.ini", "w")); f:write(hosts:inventory_ini()); f:close()
    f = assert(io.open(dir .. "/site.yml", "w"))
    f:write("- hosts: js\n  gather_facts: false\n  tasks:\n    - npm: { name: left-lsb, path: /srv/envapp }\n"
      .. "      environment: { npm_config_registry: \"" .. reg.url .. "\" }\n")
    f:close()
    local out, code, err = cli.luasible("run " .. dir .. "/site.yml -i " .. dir .. "/inv.ini")
    assert.equal(0, code, out .. err)
    assert.equal(1, cli.recap_of(out, "js").changed, out)
    assert.equal("1.1.0\n", version("/srv/envapp", "left-lsb"))
  end)

  it("global installs", function()
    local r = play({ npm { name = "left-lsb", global = true }, npm { name = "left-lsb", global = true },
      npm { name = "left-lsb", global = true, state = "absent" } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.is_true(r[3].changed, cjson.encode(r[3]))
    -- another global prefix in ~/.npmrc: the one under node's default root does not count
    r = play({ npm { name = "left-lsb", global = true } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    local rc = js:read("/root/.npmrc")
    js:write("/root/.npmrc", rc .. "prefix=/srv/gprefix\n")
    r = play({ npm { name = "left-lsb", global = true }, npm { name = "left-lsb", global = true } })
    js:write("/root/.npmrc", rc)
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.equal("there\n", (js:exec("test -e /srv/gprefix/lib/node_modules/left-lsb && echo there")))
  end)

  it("changes nothing under --check; --diff shows the version", function()
    local r = play({ npm { name = "left-lsb", path = "/srv/chk" },
      npm { name = "left-lsb", path = "/srv/app2", version = "1.0.0" },
      npm { name = "right-lsb", path = "/srv/app2", state = "absent" } }, { check = true, diff = true })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_true(r[2].changed, cjson.encode(r[2]))
    assert.is_true(r[3].changed, cjson.encode(r[3]))
    assert.is_truthy(r[2].diff, cjson.encode(r[2]))
    assert.equal("absent\n", (js:exec("test -e /srv/chk && echo there || echo absent")))
    assert.equal("1.1.0\n", version("/srv/app2", "left-lsb"))
    assert.equal("0.5.0\n", version("/srv/app2", "right-lsb"))
  end)

  it("a missing npm, an unknown package, bad arguments: clear errors", function()
    local r = play({ npm { name = "left-lsb", path = "/srv/x" } }, { host = "nonpm" })
    assert.is_true(r[1].failed)
    assert.matches("npm: 'npm' is not on the host", r[1].msg)
    r = play({ npm { name = "no-such-lsb", path = "/srv/app" } })
    assert.is_true(r[1].failed)
    assert.matches("no%-such%-lsb", r[1].msg)
    local function refused(args) return hp.refused(hosts, "js", { npm = args }) end
    assert.matches("path", refused({ name = "a" }))
    assert.matches("name", refused({ path = "/srv/a", state = "absent" }))
    assert.matches("state", refused({ name = "a", path = "/srv/a", state = "gone" }))
    assert.matches("nme", refused({ nme = "a", path = "/srv/a" }))
  end)
end)
