--- #hosts dnf and yum on a real (Debian) test host: Debian's dnf and rpm,
-- a local repository (spec/helpers/rpmrepo.lua: rpmbuild, createrepo_c,
-- .repo files): present, absent, latest, dependencies and autoremove,
-- enablerepo/disablerepo, disable_gpg_check, conf_file, list, yum as the
-- same module, --check changing nothing, bad arguments, a host without
-- dnf; and what dnf cannot do on Debian (a package needing /bin/sh: rpm's
-- database knows nothing of dpkg's packages).
local th = require "spec.helpers.testhosts"
local hosts_task = require "spec.helpers.hosts_task"
local rpmrepo = require "spec.helpers.rpmrepo"
local json = require "luasible.json"

describe("#hosts dnf and yum", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, task, h
  local _
  local function on(cmd) return (h:exec(cmd)) end
  local function rpmq(n) return (on("rpm -q --quiet " .. n .. " && rpm -q " .. n):gsub("%s+$", "")) end
  lazy_setup(function()
    hosts = th.start { names = { "rpm" } }
    h = hosts[1]
    for _, p in ipairs { { "lsb-hello", "1.0" }, { "lsb-dep", "1.0" }, { "lsb-top", "1.0", "lsb-dep" },
      { "lsb-yum", "1.0" }, { "lsb-sh", "1.0", "/bin/sh" } } do
      rpmrepo.package(h, p[1], p[2], { requires = p[3] })
    end
    rpmrepo.index(h)
    rpmrepo.package(h, "lsb-extra", "1.0", { dir = "/srv/rpmextra" })
    rpmrepo.index(h, "/srv/rpmextra")
    rpmrepo.repo_file(h, "spec", "file://" .. rpmrepo.DIR)
    rpmrepo.repo_file(h, "extra", "file:///srv/rpmextra", { enabled = 0 })
    task = hosts_task.runner(hosts)
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  it("present: --check installs nothing; installed (streamed), then Nothing to do; absent twice", function()
    local r, st = task({ dnf = { name = "lsb-hello" } }, { check = true })
    assert.equal("changed", st, json.encode(r))
    assert.same({ "Installed: lsb-hello-1.0-1.noarch" }, r.results)
    assert.equal("", rpmq("lsb-hello"))
    local evs
    r, st, evs = task({ dnf = { name = "lsb-hello", state = "installed" } })
    assert.equal("changed", st, json.encode(r))
    assert.same({ "Installed: lsb-hello-1.0-1.noarch" }, r.results)
    assert.equal("lsb-hello-1.0-1.noarch", rpmq("lsb-hello"))
    assert.equal("1.0\n", on("cat /usr/share/lsb-hello/version"))
    local lines = 0
    for _, e in ipairs(evs) do if e.type == "stdout" then lines = lines + 1 end end
    assert.is_true(lines > 3, "dnf's lines streamed")
    r, st = task({ dnf = { name = "lsb-hello" } })
    assert.equal("ok", st, json.encode(r))
    assert.equal("Nothing to do", r.msg)
    r, st = task({ dnf = { name = "lsb-hello", state = "absent" } }, { check = true })
    assert.equal("changed", st)
    assert.same({ "Removed: lsb-hello-1.0-1.noarch" }, r.results)
    assert.equal("lsb-hello-1.0-1.noarch", rpmq("lsb-hello"))
    _, st = task({ dnf = { name = "lsb-hello", state = "removed" } })
    assert.equal("changed", st)
    assert.equal("", rpmq("lsb-hello"))
    _, st = task({ dnf = { name = "lsb-hello", state = "absent" } })
    assert.equal("ok", st)
  end)

  it("a dependency comes with its package and goes with it; autoremove takes a left one away", function()
    local r, st = task({ dnf = { name = { "lsb-top" } } })
    assert.equal("changed", st, json.encode(r))
    table.sort(r.results)
    assert.same({ "Installed: lsb-dep-1.0-1.noarch", "Installed: lsb-top-1.0-1.noarch" }, r.results)
    r, st = task({ dnf = { name = "lsb-top", state = "absent" } })
    assert.equal("changed", st)
    table.sort(r.results) -- dnf's clean_requirements_on_remove, as Ansible's
    assert.same({ "Removed: lsb-dep-1.0-1.noarch", "Removed: lsb-top-1.0-1.noarch" }, r.results)
    _, st = task({ dnf = { name = { "lsb-top" } } })
    assert.equal("changed", st)
    on("rpm -e --nodeps lsb-top") -- gone behind dnf's back: lsb-dep is left, needed by nothing
    assert.equal("lsb-dep-1.0-1.noarch", rpmq("lsb-dep"))
    r, st = task({ dnf = { autoremove = true } })
    assert.equal("changed", st, json.encode(r))
    assert.equal("", rpmq("lsb-dep"))
    _, st = task({ dnf = { autoremove = true } })
    assert.equal("ok", st)
  end)

  it("latest upgrades what the repository has newer (update_cache), then unchanged", function()
    _, _ = task({ dnf = { name = "lsb-hello" } })
    rpmrepo.package(h, "lsb-hello", "1.1")
    rpmrepo.index(h)
    local r, st = task({ dnf = { name = "lsb-hello", state = "latest", update_cache = true } }, { check = true })
    assert.equal("changed", st, json.encode(r))
    assert.equal("lsb-hello-1.0-1.noarch", rpmq("lsb-hello"))
    r, st = task({ dnf = { name = "lsb-hello", state = "latest", update_cache = true } })
    assert.equal("changed", st, json.encode(r))
    assert.equal("lsb-hello-1.1-1.noarch", rpmq("lsb-hello"))
    _, st = task({ dnf = { name = "lsb-hello", state = "latest" } })
    assert.equal("ok", st)
  end)

  it("enablerepo, disablerepo, disable_gpg_check, conf_file", function()
    local r, st = task({ dnf = { name = "lsb-extra" } })
    assert.equal("failed", st)
    assert.equal("Failed to install some of the specified packages", r.msg)
    assert.same({ "No package lsb-extra available." }, r.failures)
    _, st = task({ dnf = { name = "lsb-extra", enablerepo = "extra" } })
    assert.equal("changed", st)
    _, st = task({ dnf = { name = "lsb-yum", disablerepo = "spec" } })
    assert.equal("failed", st)
    -- a repository asking for signatures its packages do not have
    rpmrepo.repo_file(h, "extra", "file:///srv/rpmextra", { enabled = 1, gpgcheck = 1 })
    rpmrepo.package(h, "lsb-signed", "1.0", { dir = "/srv/rpmextra" })
    rpmrepo.index(h, "/srv/rpmextra")
    -- (update_cache: the index just remade may carry the same second as the one dnf has cached)
    r, st = task({ dnf = { name = "lsb-signed", disablerepo = "spec", update_cache = true } })
    assert.equal("failed", st, json.encode(r))
    assert.matches("GPG keys", r.failures[1])
    assert.matches("Problem repository: %[extra%]$", r.failures[1])
    r, st = task({ dnf = { name = "lsb-signed", disablerepo = "spec", disable_gpg_check = true, update_cache = true } })
    assert.equal("changed", st, json.encode(r))
    rpmrepo.repo_file(h, "extra", "file:///srv/rpmextra", { enabled = 0 })
    -- a dnf.conf of its own, whose reposdir holds the only repository
    on("mkdir -p /srv/repos.d && printf '[own]\\nname=own\\nbaseurl=file://" .. rpmrepo.DIR
      .. "\\ngpgcheck=0\\n' > /srv/repos.d/own.repo && printf '[main]\\nreposdir=/srv/repos.d\\n' > /srv/dnf.conf")
    r, st = task({ dnf = { name = "lsb-dep", conf_file = "/srv/dnf.conf" } })
    assert.equal("changed", st, json.encode(r))
    assert.matches("own", on("rpm -q --qf '%{NAME}' lsb-dep && dnf -q repoquery --installed --qf '%{from_repo}' lsb-dep"
      .. " -c /srv/dnf.conf 2>/dev/null"))
  end)

  it("list: installed, available, repos", function()
    local r, st = task({ dnf = { list = "installed" } })
    assert.equal("ok", st, json.encode(r))
    local found
    for _, p in ipairs(r.results) do if p.name == "lsb-hello" then found = p end end
    assert.is_table(found, json.encode(r.results))
    assert.equal("installed", found.yumstate)
    assert.equal("0:lsb-hello-1.1-1.noarch", found.envra)
    r = task({ dnf = { list = "lsb-yum" } })
    assert.equal(1, #r.results, json.encode(r.results))
    assert.equal("available", r.results[1].yumstate)
    assert.equal("spec", r.results[1].repo)
    r = task({ dnf = { list = "repos" } })
    local ids = {}
    for _, x in ipairs(r.results) do ids[#ids + 1] = x.repoid end
    table.sort(ids)
    assert.same({ "spec" }, ids) -- extra is disabled
  end)

  it("yum is the same module", function()
    local r, st = task({ yum = { name = "lsb-yum" } })
    assert.equal("changed", st, json.encode(r))
    assert.same({ "Installed: lsb-yum-1.0-1.noarch" }, r.results)
    _, st = task({ yum = { name = "lsb-yum" } })
    assert.equal("ok", st)
  end)

  it("on Debian rpm's database knows nothing of dpkg's packages: a Requires: /bin/sh cannot be met", function()
    local r, st = task({ dnf = { name = "lsb-sh" } })
    assert.equal("failed", st, json.encode(r))
    assert.matches("nothing provides /bin/sh", json.encode(r))
  end)

  it("bad arguments name themselves; a host without dnf says so", function()
    local r, st, err = task({ dnf = { name = "x", bogus = 1 } })
    assert.is_nil(r)
    assert.equal("refused", st)
    assert.matches("bogus", tostring(err))
    _, st, err = task({ yum = { name = "x", state = "gone" } })
    assert.equal("refused", st)
    assert.matches("state", tostring(err))
    _, st, err = task({ dnf = { name = "a b" } })
    assert.equal("refused", st)
    assert.matches("space separated", tostring(err))
    _, st, err = task({ dnf = { name = "x", list = "installed" } })
    assert.equal("refused", st)
    assert.matches("name", tostring(err))
    on("mv /usr/bin/dnf /usr/bin/dnf.off")
    r, st = task({ dnf = { name = "lsb-hello" } })
    on("mv /usr/bin/dnf.off /usr/bin/dnf")
    assert.equal("failed", st)
    assert.matches("dnf %(and rpm%) not found on the host", r.msg)
  end)
end)
