--- #hosts pip on a real test host: packages from a local wheel folder
-- (wheels written on the host by its python3: nothing from an index, pip
-- runs with --no-index --find-links), into virtualenvs made with
-- `python3 -m venv` (Debian's system Python is externally managed).
-- "nopip" has no pip and no venv module.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"
local cjson = require "cjson"

local WHEELS = [[
import sys, zipfile, os
os.makedirs("/srv/wheels", exist_ok=True)
for name, ver in [("hello_lsb", "1.0"), ("hello_lsb", "2.0"), ("other_lsb", "0.5")]:
    di = "%s-%s.dist-info" % (name, ver)
    files = {
        name + "/__init__.py": "VERSION = %r\n" % ver,
        di + "/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name.replace("_", "-"), ver),
        di + "/WHEEL": "Wheel-Version: 1.0\nGenerator: spec\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[di + "/RECORD"] = "".join("%s,,\n" % f for f in files) + di + "/RECORD,,\n"
    with zipfile.ZipFile("/srv/wheels/%s-%s-py3-none-any.whl" % (name, ver), "w") as z:
        for f, c in files.items():
            z.writestr(f, c)
]]

describe("#hosts pip", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, py
  local FIND = "--no-index --find-links=/srv/wheels"
  lazy_setup(function()
    hosts = th.start { names = { "py", "nopip" } }
    py = hosts:get("py")
    py:write("/srv/mkwheels.py", WHEELS)
    assert(select(2, py:exec("/usr/bin/python3 /srv/mkwheels.py")))
    hosts:get("nopip"):exec("rm -rf /usr/lib/python3/dist-packages/pip /usr/bin/pip /usr/bin/pip3"
      .. " /usr/lib/python3.11/venv /usr/lib/python3.11/ensurepip")
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local function play(tasks, o)
    o = o or {}
    local recap, details = require("luasible.play").play({ hosts = o.host or "py", tasks = tasks },
      { inventory = hosts:inventory(), check = o.check, on_event = function() end })
    local out = {}
    for i, r in ipairs(details and details.hosts[o.host or "py"] or {}) do out[i] = r.result end
    return out, recap
  end
  local function version(venv, mod)
    return (py:exec(venv .. "/bin/python -c 'import " .. mod .. "; print(" .. mod .. ".VERSION)' 2>/dev/null"))
  end
  local VENV = { virtualenv = "/srv/venv", virtualenv_command = "python3 -m venv", extra_args = FIND }
  local function with(t)
    local o = {}
    for k, v in pairs(VENV) do o[k] = v end
    for k, v in pairs(t) do o[k] = v end
    return { pip = o }
  end

  it("creates the virtualenv and installs a version: changed, then unchanged without running pip", function()
    local r = play({ with { name = "hello-lsb", version = "1.0" } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.equal("1.0\n", version("/srv/venv", "hello_lsb"))
    py:exec("mv /srv/wheels /srv/wheels.off")
    local r2 = play({ with { name = "hello-lsb", version = "1.0" } })
    local r3 = play({ with { name = { "hello-lsb>=0.9,<2" } } })
    py:exec("mv /srv/wheels.off /srv/wheels")
    assert.is_false(r2[1].changed, cjson.encode(r2[1]))
    assert.is_nil(r2[1].cmd, "pip did not run (the wheels were gone)")
    assert.is_false(r3[1].changed, cjson.encode(r3[1]))
  end)

  it("a specifier the installed version misses upgrades; latest; absent; forcereinstall", function()
    local r = play({ with { name = { "hello-lsb>=2" } }, with { name = "other-lsb", state = "latest" },
      with { name = "other-lsb", state = "latest" },
      { pip = { name = "hello-lsb", state = "absent", virtualenv = "/srv/venv" } },
      { pip = { name = "hello-lsb", state = "absent", virtualenv = "/srv/venv" } },
      with { name = "other-lsb", state = "forcereinstall" } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_true(r[2].changed, cjson.encode(r[2]))
    assert.is_false(r[3].changed, cjson.encode(r[3]))
    assert.is_true(r[4].changed, cjson.encode(r[4]))
    assert.is_false(r[5].changed, cjson.encode(r[5]))
    assert.is_true(r[6].changed)
    assert.equal("", version("/srv/venv", "hello_lsb"))
    assert.equal("0.5\n", version("/srv/venv", "other_lsb"))
  end)

  it("a requirements file: changed when pip freeze changes", function()
    py:write("/srv/req.txt", "hello-lsb==1.0\n")
    local r = play({ with { requirements = "/srv/req.txt" }, with { requirements = "/srv/req.txt" } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
  end)

  it("changes nothing under --check", function()
    local r = play({ { pip = { name = "hello-lsb", virtualenv = "/srv/venv2",
      virtualenv_command = "python3 -m venv" } },
      { pip = { name = "other-lsb", state = "absent", virtualenv = "/srv/venv" } } }, { check = true })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_true(r[2].changed, cjson.encode(r[2]))
    assert.equal("absent\n", (py:exec("test -e /srv/venv2 && echo there || echo absent")))
    assert.equal("0.5\n", version("/srv/venv", "other_lsb"))
  end)

  it("a missing pip or venv, an unknown package, bad arguments: clear errors", function()
    local r = play({ { pip = { name = "hello-lsb" } } }, { host = "nopip" })
    assert.matches("the host has no pip", r[1].msg)
    r = play({ { pip = { name = "x", virtualenv = "/srv/v", virtualenv_command = "virtualenv-nope" } } })
    assert.matches("virtualenv_command 'virtualenv%-nope' is not on the host", r[1].msg)
    r = play({ with { name = "no-such-lsb" } })
    assert.is_true(r[1].failed)
    assert.matches("no%-such%-lsb", r[1].msg)
    local function refused(args) return hp.refused(hosts, "py", { pip = args }) end
    assert.matches("version", refused({ name = "a", version = "1", state = "latest" }))
    assert.matches("name", refused({ state = "present" }))
    assert.matches("state", refused({ name = "a", state = "gone" }))
    assert.matches("name", refused({ name = "--index-url=http://x" }))
  end)
end)
