--- #hosts The round trips a module costs a host in the unchanged case
-- (issue 14: "gather what is needed in one remote command"), counted where
-- they land: the test host's sshd logs at DEBUG1 every exec and subsystem
-- request of a session; a play of the task twice minus the play of it once
-- is what one more run of the task costs (the connect and whatever a play
-- does once are in both). bench/modules30_bench.lua measures every module
-- of its play the same way; this spec keeps the ones made cheaper to it.
local th = require "spec.helpers.testhosts"
local hosts_task = require "spec.helpers.hosts_task"
local files = require "spec.helpers.files"

describe("#hosts round trips in the unchanged case", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, run, dir, host
  lazy_setup(function()
    hosts = th.start { names = { "rt" }, config = { "LogLevel DEBUG1" } }
    host = hosts[1]
    run = hosts_task.runner(hosts)
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir .. "/templates"))
    files.write(dir .. "/app.conf", "port = 8080\n")
    files.write(dir .. "/templates/motd.j2", "hello {{ inventory_hostname }}\n")
    host:exec("mkdir -p /srv/app")
  end)
  lazy_teardown(function()
    if hosts then hosts:stop() end
    if dir then os.execute("rm -rf " .. dir) end
  end)

  local function requests() return hosts_task.ssh_requests(host) end

  -- the requests one more unchanged run of `task` adds; asserts both plays
  -- succeeded and changed nothing (the task was converged before)
  local function cost(task)
    local function play(n)
      local tasks = {}
      for i = 1, n do tasks[i] = task end
      local before = requests()
      local details, err = run.all(tasks)
      assert(details, tostring(err))
      for _, r in ipairs(details.hosts.rt) do
        assert.are.equal("ok", r.status, require("cjson").encode(r.result))
      end
      return requests() - before
    end
    assert(run.all({ task }))  -- converge
    return play(2) - play(1)
  end

  it("copy of an unchanged file: 1 (the stat and the checksum in one command)", function()
    assert.are.equal(1, cost { copy = { src = dir .. "/app.conf", dest = "/srv/app/app.conf", mode = "0644" } })
  end)

  it("copy into a folder (dest/<basename>): 2 (the folder's stat, then the file's)", function()
    assert.are.equal(2, cost { copy = { src = dir .. "/app.conf", dest = "/srv/app/" } })
  end)

  it("template of an unchanged result: 1", function()
    assert.are.equal(1, cost { template = { src = dir .. "/templates/motd.j2", dest = "/srv/app/motd" } })
  end)

  it("apt with a .deb installed already: 1 (the probe and the deb's query in one command)", function()
    assert(select(2, host:exec("mkdir -p /srv/debroot/DEBIAN /srv/debs && printf 'Package: lsb-rt\\nVersion: 1.0\\n"
      .. "Architecture: all\\nMaintainer: t <t@t>\\nDescription: t\\n' > /srv/debroot/DEBIAN/control"
      .. " && dpkg-deb -b -Zgzip /srv/debroot /srv/debs/lsb-rt_1.0_all.deb >/dev/null")))
    assert.are.equal(1, cost { apt = { deb = "/srv/debs/lsb-rt_1.0_all.deb" } })
    assert.matches("ii%s+lsb%-rt%s+1%.0", (host:exec("dpkg -l lsb-rt")))
  end)

  it("apt and package with names installed already: 1", function()
    assert.are.equal(1, cost { apt = { name = { "coreutils", "lsb-rt" } } })
    assert.are.equal(2, cost { package = { name = "lsb-rt" } }) -- which manager, then apt's one
  end)

  it("apt on a host without apt-get still says so", function()
    local hide = "for d in /usr/bin /bin; do [ -L $d ] || [ ! -e $d/apt-get ] || mv $d/apt-get $d/apt-get.off; done"
    host:exec(hide)
    local r = run { apt = { deb = "/srv/debs/lsb-rt_1.0_all.deb" } }
    host:exec("for d in /usr/bin /bin; do [ ! -e $d/apt-get.off ] || mv $d/apt-get.off $d/apt-get; done")
    assert.is_true(r.failed, require("cjson").encode(r))
    assert.are.equal("apt: this host has no apt-get/dpkg (not Debian-like)", r.msg)
  end)

  it("copy still sees a changed file, and a dest that is a link to a file", function()
    host:exec("echo other > /srv/app/app.conf")
    local r = run { copy = { src = dir .. "/app.conf", dest = "/srv/app/app.conf" } }
    assert.is_true(r.changed)
    assert.are.equal("port = 8080\n", host:read("/srv/app/app.conf"))
    host:exec("cp /srv/app/app.conf /srv/app/real.conf && ln -sf /srv/app/real.conf /srv/app/link.conf")
    r = run { copy = { src = dir .. "/app.conf", dest = "/srv/app/link.conf", follow = true } }
    assert.is_false(r.changed)
    host:exec("echo other > /srv/app/real.conf")
    r = run { copy = { src = dir .. "/app.conf", dest = "/srv/app/link.conf", follow = true } }
    assert.is_true(r.changed)
    assert.are.equal("port = 8080\n", host:read("/srv/app/real.conf"))
    assert.are.equal("/srv/app/real.conf\n", (host:exec("readlink /srv/app/link.conf")))
  end)
end)
