--- #hosts apt completed, on a real test host: a local repository
-- (file:/srv/repo, its Packages made by dpkg-scanpackages) replaces the
-- host's sources (the hosts reach nothing outside); the .debs are built on
-- the host with dpkg-deb. update_cache with cache_valid_time, deb files,
-- upgrade, autoremove, --check, bad arguments.
local th = require "spec.helpers.testhosts"
local cjson = require "cjson"

describe("#hosts apt update_cache, deb, upgrade, autoremove", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, h
  local function must(cmd)
    local out, rok, code, err = h:exec(cmd)
    assert(rok, cmd .. ": " .. tostring(code) .. " " .. tostring(out) .. tostring(err))
    return out
  end
  -- a .deb named NAME VERSION (Depends: DEPENDS) into dir
  local function build(name, version, dir, depends)
    local root = "/srv/build/" .. name .. "-" .. version
    must("mkdir -p " .. root .. "/DEBIAN " .. root .. "/usr/share/" .. name .. " " .. dir .. " && printf '"
      .. "Package: " .. name .. "\\nVersion: " .. version .. "\\nArchitecture: all\\nMaintainer: spec <s@s>\\n"
      .. (depends and ("Depends: " .. depends .. "\\n") or "") .. "Description: a spec package\\n' > " .. root
      .. "/DEBIAN/control && echo " .. version .. " > " .. root .. "/usr/share/" .. name .. "/version"
      .. " && dpkg-deb -b -Zgzip " .. root .. " " .. dir .. "/" .. name .. "_" .. version .. "_all.deb >/dev/null")
  end
  local function index() must("cd /srv/repo && dpkg-scanpackages -m . /dev/null 2>/dev/null > Packages") end
  local function installed(name)
    return (h:exec("dpkg-query -W -f='${db:Status-Abbrev}${Version}' " .. name .. " 2>/dev/null"))
  end
  lazy_setup(function()
    hosts = th.start { names = { "deb" } }
    h = hosts[1]
    -- as a plain Debian host: this machine's container settings (docker-clean: no pkgcache.bin) gone
    must("rm -rf /etc/apt/sources.list.d/* /etc/apt/apt.conf.d/99artifact-registry /etc/apt/apt.conf.d/docker-*"
      .. " && echo"
      .. " 'deb [trusted=yes] file:/srv/repo ./' > /etc/apt/sources.list && rm -f /var/lib/apt/lists/*Packages*"
      .. " && mkdir -p /srv/repo")
    build("lsb-demo", "1.0", "/srv/repo")
    build("lsb-dep", "1.0", "/srv/repo")
    build("lsb-top", "1.0", "/srv/repo", "lsb-dep")
    build("lsb-local", "1.0", "/srv/debs")
    build("lsb-local", "2.0", "/srv/debs")
    index()
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local function play(tasks, o)
    o = o or {}
    local recap, details = require("luasible.play").play({ hosts = "deb", tasks = tasks },
      { inventory = hosts:inventory(), check = o.check, on_event = function() end })
    local out = {}
    for i, r in ipairs(details and details.hosts.deb or {}) do out[i] = r.result end
    return out, recap
  end

  it("update_cache with cache_valid_time: updated once, then fresh", function()
    local r = play({ { apt = { update_cache = true, cache_valid_time = 3600 } },
      { apt = { update_cache = true, cache_valid_time = 3600 } },
      { apt = { name = "lsb-demo" } } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_true(r[1].cache_updated)
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.is_false(r[2].cache_updated)
    assert.equal(r[1].cache_update_time, r[2].cache_update_time)
    assert.is_true(r[3].changed)
    assert.equal("ii 1.0", installed("lsb-demo"))
  end)

  it("deb: installed, then unchanged; another version replaces it; --check installs nothing", function()
    local c = play({ { apt = { deb = "/srv/debs/lsb-local_1.0_all.deb" } } }, { check = true })
    assert.is_true(c[1].changed)
    assert.equal("", installed("lsb-local"))
    local r = play({ { apt = { deb = "/srv/debs/lsb-local_1.0_all.deb" } },
      { apt = { deb = "/srv/debs/lsb-local_1.0_all.deb" } }, { apt = { deb = "/srv/debs/lsb-local_2.0_all.deb" } } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.is_true(r[3].changed)
    assert.equal("ii 2.0", installed("lsb-local"))
  end)

  it("upgrade=dist installs what the repository has newer; again unchanged", function()
    build("lsb-demo", "1.1", "/srv/repo")
    index()
    local c = play({ { apt = { update_cache = true, upgrade = "dist" } } }, { check = true })
    assert.is_true(c[1].changed)
    local r = play({ { apt = { update_cache = true, upgrade = "dist" } }, { apt = { upgrade = "dist" } },
      { apt = { upgrade = "safe" } } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.equal("ii 1.1", installed("lsb-demo"))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.is_false(r[3].changed)
  end)

  it("autoremove takes away the dependency nothing needs any more", function()
    local first = play({ { apt = { name = "lsb-top" } } })
    assert.is_true(first[1].changed)
    assert.equal("ii 1.0", installed("lsb-dep"))
    local r = play({ { apt = { name = "lsb-top" } }, { apt = { name = "lsb-top", state = "absent" } },
      { apt = { autoremove = true } }, { apt = { autoremove = true } } })
    assert.is_true(r[3].changed, cjson.encode(r[3]))
    assert.equal("", (installed("lsb-dep"):gsub("^un", "")))
    assert.is_false(r[4].changed)
  end)

  it("a missing deb file, a bad upgrade value: clear errors", function()
    local r = play({ { apt = { deb = "/srv/none.deb" } } })
    assert.matches("deb: no such file on the host: /srv/none.deb", r[1].msg)
    local res, err = require("luasible.play").play({ hosts = "deb", tasks = { { apt = { upgrade = "sideways" } } } },
      { inventory = hosts:inventory(), on_event = function() end })
    assert.is_nil(res)
    assert.matches("upgrade", tostring(err))
  end)
end)
