--- #hosts package choosing the module by the host's facts, on a real test
-- host with both apt (a local file: repository of .debs) and dnf (a local
-- rpm repository): auto on a Debian host is apt, as Ansible's pkg_mgr fact
-- (dnf installed or not); ansible_pkg_mgr (a fact set, or gathered) dnf:
-- dnf's; use: forces one; an unknown manager is a clear failure.
local th = require "spec.helpers.testhosts"
local hosts_task = require "spec.helpers.hosts_task"
local rpmrepo = require "spec.helpers.rpmrepo"
local aptrepo = require "spec.helpers.aptrepo"
local json = require "luasible.json"

describe("#hosts package", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, task, h
  local _
  local function on(cmd) return (h:exec(cmd)) end
  lazy_setup(function()
    hosts = th.start { names = { "both" } }
    h = hosts[1]
    aptrepo.plain(h)
    aptrepo.must(h, "mkdir -p /srv/repo/b/DEBIAN && printf 'Package: lsb-both\\nVersion: 1.0\\nArchitecture: all\\n"
      .. "Maintainer: s <s@s>\\nDescription: d\\n' > /srv/repo/b/DEBIAN/control && dpkg-deb -b -Zgzip /srv/repo/b"
      .. " /srv/repo/lsb-both_1.0_all.deb >/dev/null && rm -rf /srv/repo/b && cd /srv/repo && dpkg-scanpackages -m ."
      .. " /dev/null 2>/dev/null > Packages && echo 'deb [trusted=yes] file:/srv/repo ./' > /etc/apt/sources.list"
      .. " && apt-get update -q >/dev/null")
    rpmrepo.package(h, "lsb-both", "2.0")
    rpmrepo.index(h)
    rpmrepo.repo_file(h, "spec", "file://" .. rpmrepo.DIR)
    task = hosts_task.runner(hosts)
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local function deb() return (on("dpkg-query -W -f='${db:Status-Abbrev}' lsb-both 2>/dev/null")) end
  local function rpm() return (on("rpm -q --quiet lsb-both && echo rpm")) end

  it("auto on a Debian host with dnf too: apt, as Ansible's pkg_mgr; --check first, then unchanged", function()
    local r, st = task({ package = { name = "lsb-both" } }, { check = true })
    assert.equal("changed", st, json.encode(r))
    assert.equal("", deb())
    r, st = task({ package = { name = "lsb-both", state = "present" } })
    assert.equal("changed", st, json.encode(r))
    assert.equal("ii ", deb())
    assert.equal("", rpm())
    _, st = task({ package = { name = "lsb-both" } })
    assert.equal("ok", st)
    _, st = task({ package = { name = "lsb-both", state = "absent" } })
    assert.equal("changed", st)
  end)

  it("the host's facts say dnf: dnf's module installs the rpm; use: forces one", function()
    local details = task.all({ { set_fact = { ansible_pkg_mgr = "dnf" } }, { package = { name = "lsb-both" } },
      { package = { name = "lsb-both" } } })
    local rs = details.hosts.both
    assert.equal("changed", rs[2].status, json.encode(rs[2].result))
    assert.same({ "Installed: lsb-both-2.0-1.noarch" }, rs[2].result.results)
    assert.equal("ok", rs[3].status)
    assert.equal("rpm\n", rpm())
    local r, st = task({ package = { name = "lsb-both", state = "absent", use = "dnf" } })
    assert.equal("changed", st, json.encode(r))
    assert.equal("", rpm())
  end)

  it("a package manager luasible does not drive is named", function()
    local r, st = task({ package = { name = "lsb-both", use = "pacman" } })
    assert.equal("failed", st)
    assert.matches("package manager is pacman", r.msg)
    local _, st2, err = task({ package = { name = "x", bogus = true } })
    assert.equal("refused", st2)
    assert.matches("bogus", tostring(err))
  end)
end)
