--- #hosts #oracle dnf and yum against Ansible's own dnf module (python3-dnf
-- on the hosts): the same play by ansible-playbook on "a-rpm" and by
-- luasible on "l-rpm", each host with the same local rpm repository
-- (spec/helpers/rpmrepo.lua). The changed flags, statuses, recaps and the
-- rpm database left must agree, twice and under --check.
local twins = require "spec.helpers.twins"
local rpmrepo = require "spec.helpers.rpmrepo"

describe("#hosts #oracle dnf and yum", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t
  lazy_setup(function()
    t = twins.start { names = { "rpm" } }
    for _, h in ipairs { t.ansible[1], t.luasible[1] } do
      for _, p in ipairs { { "lsb-hello", "1.0" }, { "lsb-dep", "1.0" }, { "lsb-top", "1.0", "lsb-dep" },
        { "lsb-yum", "1.0" }, { "lsb-gone", "1.0" } } do
        rpmrepo.package(h, p[1], p[2], { requires = p[3] })
      end
      rpmrepo.index(h)
      rpmrepo.package(h, "lsb-extra", "1.0", { dir = "/srv/rpmextra" })
      rpmrepo.index(h, "/srv/rpmextra")
      rpmrepo.repo_file(h, "spec", "file://" .. rpmrepo.DIR)
      rpmrepo.repo_file(h, "extra", "file:///srv/rpmextra", { enabled = 0 })
    end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  local PLAY = [[
- hosts: rpm
  gather_facts: false
  tasks:
    - name: a package
      dnf: { name: lsb-hello }
    - name: with its dependency
      dnf: { name: [lsb-top, lsb-gone] }
    - name: one gone again
      dnf: { name: lsb-gone, state: absent }
    - name: latest
      dnf: { name: lsb-hello, state: latest }
    - name: yum's name
      yum: { name: lsb-yum, state: installed, use_backend: dnf }  # (Ansible: pkg_mgr is apt on Debian)
    - name: from a disabled repository
      dnf: { name: lsb-extra, enablerepo: extra }
    - name: not there, absent
      dnf: { name: lsb-none, state: removed }
]]

  it("the same changes and rpm database, twice and under --check", function()
    t:agree(t:run(PLAY, { check = true }), "check on fresh hosts")
    local state = "rpm -qa --qf '%{NAME}-%{VERSION}\\n' | sort"
    for round = 1, 2 do
      t:agree(t:run(PLAY), "round " .. round)
      local a, l = t:both(state)
      assert.are.equal(a, l)
      assert.matches("lsb%-extra%-1%.0", l)
      assert.is_nil(l:find("lsb-gone", 1, true))
    end
    t:agree(t:run(PLAY, { check = true }), "check after the runs")
  end)
end)
