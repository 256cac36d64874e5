--- #hosts gem on real test hosts: gems built on the host "rb" with `gem
-- build` (spec/helpers/pkgservers.lua), installed from the .gem file
-- (gem_source) or from a `gem generate_index` repository served by
-- httpd.py on the same host (repository=). "nogem" has no gem.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"
local pkgservers = require "spec.helpers.pkgservers"
local cjson = require "cjson"

describe("#hosts gem", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, rb, repo, file
  lazy_setup(function()
    hosts = th.start { names = { "rb", "nogem" } }
    rb = hosts:get("rb")
    repo = pkgservers.gem_repo(rb, { { "hello_lsb", "1.0.0" }, { "hello_lsb", "1.1.0" }, { "other_lsb", "0.5.0" } })
    file = pkgservers.gem_build(rb, "local_lsb", "2.0.0")
    hosts:get("nogem"):exec("rm -f /usr/bin/gem /usr/bin/gem3* /usr/bin/ruby")
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local function play(tasks, o) return hp.results(hosts, o and o.host or "rb", tasks, o) end
  local function gem(t)
    if not t.gem_source then t.repository = t.repository or repo.url end
    return { gem = t }
  end
  local function list(name, env)
    local s = rb:exec((env or "") .. "gem list --local --norc '^" .. name .. "$'")
    return (s:gsub("^%s*$", "")) -- (gem prints an empty line for none)
  end

  it("installs a version from the repository: changed, then unchanged without running gem install", function()
    local r, events = play({ gem { name = "hello_lsb", version = "1.0.0", user_install = false } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.equal("hello_lsb (1.0.0)\n", list("hello_lsb"))
    local streamed = false
    for _, ev in ipairs(events) do if ev.type == "stdout" and ev.data:find("installed") then streamed = true end end
    assert.is_true(streamed, "gem's output streamed as events")
    repo:requests()
    r = play({ gem { name = "hello_lsb", version = "1.0.0", user_install = false },
      gem { name = "hello_lsb", user_install = false } })
    assert.is_false(r[1].changed, cjson.encode(r[1]))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.is_nil(r[1].cmd)
    assert.are.same({}, repo:requests())
  end)

  it("latest, absent of one version and of all, a local .gem file, user_install, install_dir", function()
    local r = play({ gem { name = "hello_lsb", state = "latest", user_install = false },
      gem { name = "hello_lsb", state = "latest", user_install = false },
      gem { name = "hello_lsb", version = "1.0.0", state = "absent" },
      gem { name = "local_lsb", gem_source = file, user_install = false },
      gem { name = "local_lsb", gem_source = file, user_install = false },
      gem { name = "other_lsb" },
      gem { name = "other_lsb", user_install = false, install_dir = "/srv/gems" },
      gem { name = "other_lsb", user_install = false, install_dir = "/srv/gems" } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.equal("1.1.0", r[1].version)
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.is_true(r[3].changed, cjson.encode(r[3]))
    assert.equal("hello_lsb (1.1.0)\n", list("hello_lsb"))
    assert.is_true(r[4].changed, cjson.encode(r[4]))
    assert.is_false(r[5].changed, cjson.encode(r[5]))
    assert.equal("local_lsb (2.0.0)\n", list("local_lsb"))
    assert.is_true(r[6].changed, cjson.encode(r[6]))
    assert.matches("other_lsb%-0%.5%.0",
      (rb:exec("ls -d /root/.local/share/gem/ruby/*/gems/* /root/.gem/ruby/*/gems/* 2>/dev/null")))
    assert.is_false(r[7].changed, "installed for the user already: gem list sees it (as Ansible's)")
    r = play({ gem { name = "hello_lsb", state = "absent" }, gem { name = "hello_lsb", state = "absent" } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.equal("", list("hello_lsb"))
  end)

  it("changes nothing under --check; --diff shows the versions", function()
    local r = play({ gem { name = "hello_lsb", user_install = false },
      gem { name = "local_lsb", state = "absent" } }, { check = true, diff = true })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_true(r[2].changed, cjson.encode(r[2]))
    assert.is_truthy(r[2].diff)
    assert.equal("", list("hello_lsb"))
    assert.equal("local_lsb (2.0.0)\n", list("local_lsb"))
  end)

  it("a missing gem, an unknown gem, a missing file, bad arguments: clear errors", function()
    local r = play({ gem { name = "hello_lsb" } }, { host = "nogem" })
    assert.is_true(r[1].failed)
    assert.matches("gem: 'gem' is not on the host", r[1].msg)
    r = play({ gem { name = "no_such_lsb", user_install = false } })
    assert.is_true(r[1].failed)
    assert.matches("no_such_lsb", r[1].msg)
    r = play({ gem { name = "x_lsb", gem_source = "/srv/nope.gem" } })
    assert.matches("gem_source: no such file on the host: /srv/nope.gem", r[1].msg)
    local function refused(args) return hp.refused(hosts, "rb", { gem = args }) end
    assert.matches("version", refused({ name = "a", version = "1", state = "latest" }))
    assert.matches("name", refused({ state = "present" }))
    assert.matches("install_dir", refused({ name = "a", install_dir = "/x" }))
    assert.matches("gem_source", refused({ name = "a", gem_source = "/a.gem", repository = "http://x/" }))
    assert.matches("name", refused({ name = "--all" }))
  end)
end)
