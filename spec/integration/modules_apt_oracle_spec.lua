--- #hosts #oracle apt completed against Ansible's own module (python3-apt on
-- the hosts): the same playbook by ansible-playbook on "a-deb" and by
-- luasible on "l-deb", each host with the same local repository
-- (file:/srv/repo) and .debs built on it with dpkg-deb. The changed flags,
-- statuses, recaps and the packages left must agree, twice and under --check.
local twins = require "spec.helpers.twins"

describe("#hosts #oracle apt deb, update_cache, upgrade, autoremove", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t
  local function must(h, cmd)
    local out, rok, code, err = h:exec(cmd)
    assert(rok, cmd .. ": " .. tostring(code) .. " " .. tostring(out) .. tostring(err))
    return out
  end
  local function build(h, name, version, dir, depends)
    local root = "/srv/build/" .. name .. "-" .. version
    must(h, "mkdir -p " .. root .. "/DEBIAN " .. dir .. " && printf 'Package: " .. name .. "\\nVersion: " .. version
      .. "\\nArchitecture: all\\nMaintainer: spec <s@s>\\n" .. (depends and ("Depends: " .. depends .. "\\n") or "")
      .. "Description: a spec package\\n' > " .. root .. "/DEBIAN/control"
      .. " && dpkg-deb -b -Zgzip " .. root .. " " .. dir .. "/" .. name .. "_" .. version .. "_all.deb >/dev/null")
  end
  lazy_setup(function()
    t = twins.start { names = { "deb" } }
    for _, h in ipairs { t.ansible[1], t.luasible[1] } do
      must(h, "rm -rf /etc/apt/sources.list.d/* /etc/apt/apt.conf.d/99artifact-registry /etc/apt/apt.conf.d/docker-*"
        .. " && echo 'deb [trusted=yes] file:/srv/repo ./' > /etc/apt/sources.list"
        .. " && rm -f /var/lib/apt/lists/*Packages*")
      build(h, "lsb-demo", "1.0", "/srv/repo")
      build(h, "lsb-dep", "1.0", "/srv/repo")
      build(h, "lsb-top", "1.0", "/srv/repo", "lsb-dep")
      build(h, "lsb-local", "1.0", "/srv/debs")
      must(h, "cd /srv/repo && dpkg-scanpackages -m . /dev/null 2>/dev/null > Packages && apt-get update -q >/dev/null")
    end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  local PLAY = [[
- hosts: deb
  gather_facts: false
  tasks:
    - name: fresh enough
      apt: { update_cache: true, cache_valid_time: 3600 }
    - name: a deb file
      apt: { deb: /srv/debs/lsb-local_1.0_all.deb }
    - name: a package and its dependency
      apt: { name: lsb-top }
    - name: the package gone
      apt: { name: lsb-top, state: absent }
    - name: its dependency autoremoved
      apt: { autoremove: true }
    - name: upgrade
      apt: { upgrade: dist }
]]

  it("the same changes and packages, twice and under --check", function()
    t:agree(t:run(PLAY, { check = true }), "check on fresh hosts")
    local state = "dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' 'lsb-*' 2>/dev/null | sort"
    for round = 1, 2 do
      t:agree(t:run(PLAY), "round " .. round)
      local a, l = t:both(state)
      assert.are.equal(a, l)
      assert.matches("lsb%-local ii", l)
    end
    t:agree(t:run(PLAY, { check = true }), "check after the runs")
  end)
end)
