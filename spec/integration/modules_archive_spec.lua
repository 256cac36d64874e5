-- archive on a real test host (issue 14): tar.gz of a folder, zip of a
-- glob with exclusions, a file compressed, changed then unchanged (and
-- changed again when a source changes), --check changing nothing, missing
-- paths, remove, a bad format, a host without the compressor.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"

describe("#hosts archive", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, h
  lazy_setup(function()
    hosts = th.start { n = 1 }
    h = hosts[1]
    assert(select(2, h:exec("mkdir -p /srv/a/app/sub && cd /srv/a && echo 1 > app/a.txt && echo 2 > app/sub/b.log"
      .. " && echo 3 > one.txt")))
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local function twice(task)
    local res = hp.task(hosts, task)
    assert.is_true(res.changed, res.msg)
    local again = hp.task(hosts, task)
    assert.is_false(again.changed, again.msg)
    return res
  end

  it("packs a folder as tar.gz, unchanged the second time, changed when a source changes", function()
    local task = { archive = { path = "/srv/a/app", dest = "/srv/a/app.tgz" } }
    local res = hp.task(hosts, task, { check = true })
    assert.is_true(res.changed)
    assert.is_nil(h:read("/srv/a/app.tgz"))
    res = twice(task)
    assert.are.equal("archive", res.dest_state)
    assert.are.equal("/srv/a/", res.arcroot)
    assert.are.equal("app/\napp/a.txt\napp/sub/\napp/sub/b.log\n", (h:exec("tar tzf /srv/a/app.tgz")))
    assert.is_false(hp.task(hosts, task, { check = true }).changed)
    h:write("/srv/a/app/a.txt", "changed\n")
    assert.is_true(hp.task(hosts, task).changed)
    assert.are.equal("changed\n", (h:exec("tar xzOf /srv/a/app.tgz app/a.txt")))
  end)

  it("zips a glob with exclusion_patterns, bz2 with exclude_path and a missing path, compresses one file", function()
    local res = twice({ archive = { path = "/srv/a/app/*", dest = "/srv/a/x.zip", format = "zip",
      exclusion_patterns = { "*.log" } } })
    assert.are.same({ "/srv/a/app/a.txt", "/srv/a/app/sub" }, res.expanded_paths)
    local listing = h:exec("unzip -Z1 /srv/a/x.zip")
    assert.are.equal("a.txt\nsub/\n", listing)
    res = twice({ archive = { path = { "/srv/a/app", "/srv/a/none" }, dest = "/srv/a/b.tar.bz2", format = "bz2",
      exclude_path = { "/srv/a/app/sub" } } })
    assert.are.equal("incomplete", res.dest_state)
    assert.are.same({ "/srv/a/none" }, res.missing)
    assert.are.equal("app/\napp/a.txt\n", (h:exec("tar tjf /srv/a/b.tar.bz2")))
    res = twice({ archive = { path = "/srv/a/one.txt", format = "xz" } })
    assert.are.equal("compress", res.dest_state)
    assert.are.equal("/srv/a/one.txt.xz", res.dest)
    assert.are.equal("3\n", (h:exec("xz -dc /srv/a/one.txt.xz")))
  end)

  it("removes the sources with remove, refuses a bad format, fails naming a missing compressor", function()
    h:exec("mkdir -p /srv/r && echo r > /srv/r/f")
    local res = hp.task(hosts, { archive = { path = "/srv/r", dest = "/srv/r.tar", format = "tar", remove = true } })
    assert.is_true(res.changed)
    assert.is_false(select(2, h:exec("test -e /srv/r")))
    assert.are.equal("r/\nr/f\n", (h:exec("tar tf /srv/r.tar")))
    local err = hp.prepare_error(hosts, { archive = { path = "/srv/a", format = "rar" } })
    assert.truthy(err and err:find("argument 'format' must be one of", 1, true), err)
    res = hp.task(hosts, { archive = { path = "/srv/nothing*", dest = "/srv/n.tgz" } })
    assert.is_true(res.failed)
    assert.are.equal("Error, no source paths were found", res.msg)
    assert(select(2, h:exec("mv /usr/bin/bzip2 /usr/bin/bzip2.hidden")))
    res = hp.task(hosts, { archive = { path = "/srv/a/app", dest = "/srv/a/c.tbz", format = "bz2" } })
    h:exec("mv /usr/bin/bzip2.hidden /usr/bin/bzip2")
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("the host has no 'bzip2' command", 1, true), res.msg)
  end)
end)
