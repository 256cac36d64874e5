-- unarchive on a real test host (issue 14): from the controller and
-- remote_src, changed then unchanged, a changed file put back, creates,
-- check mode (skipped, as Ansible's tar handlers), the extraction streamed,
-- bad arguments, a missing dest, a damaged zip, a host without tar.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"
local files = require "spec.helpers.files"

describe("#hosts unarchive", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, h, tgz
  lazy_setup(function()
    hosts = th.start { n = 1 }
    h = hosts[1]
    local dir = files.tmpdir()
    assert(select(2, files.run("cd " .. dir .. " && mkdir -p s/d && echo a > s/a.txt && echo b > s/d/b.txt"
      .. " && touch -d 2020-01-01 s/a.txt s/d/b.txt s/d && tar czf a.tgz -C s a.txt d")))
    tgz = dir .. "/a.tgz"
    assert(select(2, h:exec("mkdir -p /srv/u /srv/w && cd /srv/w && echo x > x.txt && tar cJf w.txz x.txt"
      .. " && printf 'PK\\003\\004zip' > z.zip")))
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  it("extracts a controller tar.gz, unchanged the second time, puts a changed file back; streams its lines", function()
    local events = {}
    local task = { unarchive = { src = tgz, dest = "/srv/u", list_files = true } }
    local res = hp.task(hosts, task, { on_event = function(ev) events[#events + 1] = ev end })
    assert.is_true(res.changed, res.msg)
    assert.are.equal("TgzArchive", res.handler)
    assert.are.same({ "a.txt", "d/", "d/b.txt" }, res.files)
    assert.are.equal("a\n", h:read("/srv/u/a.txt"))
    assert.are.equal(0, res.extract_results.rc)
    local streamed, progress = {}, 0
    for _, ev in ipairs(events) do
      if ev.type == "stdout" then streamed[#streamed + 1] = ev.data end
      if ev.type == "progress" and ev.progress.stage == "extracting" then progress = progress + 1 end
    end
    assert.are.same({ "a.txt", "d/", "d/b.txt" }, streamed)
    assert.are.equal(3, progress)
    -- nothing left behind in the host's /tmp
    assert.are.equal("", (h:exec("ls -A /tmp | grep luasible-unarchive || true")))
    res = hp.task(hosts, task)
    assert.is_false(res.changed, res.msg)
    -- (as Ansible, only what tar --diff calls a mod time, mode, owner or missing difference counts)
    h:write("/srv/u/d/b.txt", "changed\n")
    assert.is_true(hp.task(hosts, task).changed)
    assert.are.equal("b\n", h:read("/srv/u/d/b.txt"))
  end)

  it("remote_src, creates, and --check (skipped, nothing extracted)", function()
    local task = { unarchive = { src = "/srv/w/w.txz", dest = "/srv/u", remote_src = true } }
    local _, status = hp.task(hosts, task, { check = true })
    assert.are.equal("skipped", status)
    assert.is_nil(h:read("/srv/u/x.txt"))
    local res = hp.task(hosts, task)
    assert.is_true(res.changed)
    assert.are.equal("TarArchive", res.handler) -- as Ansible: GNU tar reads xz without -J
    assert.are.equal("x\n", h:read("/srv/u/x.txt"))
    assert.is_false(hp.task(hosts, task).changed)
    res, status = hp.task(hosts, { unarchive = { src = "/srv/w/w.txz", dest = "/srv/u", remote_src = true,
      creates = "/srv/u/x.txt" } })
    assert.are.equal("skipped", status)
    assert.are.equal("skipped, since /srv/u/x.txt exists", res.msg)
  end)

  it("applies mode to every member; changed only when a mode changes", function()
    h:exec("mkdir -p /srv/m")
    local task = { unarchive = { src = "/srv/w/w.txz", dest = "/srv/m", remote_src = true, mode = "0600" } }
    assert.is_true(hp.task(hosts, task).changed)
    assert.are.equal("600\n", (h:exec("stat -c %a /srv/m/x.txt")))
    assert.is_false(hp.task(hosts, task).changed)
    h:exec("chmod 644 /srv/m/x.txt")
    local res = hp.task(hosts, task)
    assert.is_true(res.changed)
    assert.is_nil(res.extract_results) -- only the mode was put back
    assert.are.equal("600\n", (h:exec("stat -c %a /srv/m/x.txt")))
  end)

  it("fails clearly: a missing dest or src, a zip, a host without tar; refuses include with exclude", function()
    local res = hp.task(hosts, { unarchive = { src = "/srv/w/w.txz", dest = "/srv/none", remote_src = true } })
    assert.is_true(res.failed)
    assert.are.equal("Destination '/srv/none' is not a directory", res.msg)
    res = hp.task(hosts, { unarchive = { src = "/srv/w/none.tgz", dest = "/srv/u", remote_src = true } })
    assert.are.equal("Source '/srv/w/none.tgz' does not exist", res.msg)
    res = hp.task(hosts, { unarchive = { src = "/srv/w/z.zip", dest = "/srv/u", remote_src = true } })
    assert.truthy(res.failed and res.msg:find('Failed to find handler for "/srv/w/z.zip".', 1, true)
      and res.msg:find('Command "unzip" could not handle archive', 1, true), res.msg)
    local err = hp.prepare_error(hosts, { unarchive = { src = "a", dest = "/srv/u", include = { "x" },
      exclude = { "y" } } })
    assert.truthy(err and err:find("include", 1, true) and err:find("exclude", 1, true), err)
    assert(select(2, h:exec("mv /usr/bin/tar /usr/bin/tar.hidden")))
    res = hp.task(hosts, { unarchive = { src = "/srv/w/w.txz", dest = "/srv/u", remote_src = true } })
    h:exec("mv /usr/bin/tar.hidden /usr/bin/tar")
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("the host has no 'tar'", 1, true), res.msg)
  end)
end)
