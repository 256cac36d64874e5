-- stat, slurp, find and tempfile on a real test host (issue 14): their
-- results, never changed (tempfile: always), check mode, bad arguments, a
-- missing tool on the host.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"

describe("#hosts file-reading modules", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, h
  lazy_setup(function()
    hosts = th.start { n = 1 }
    h = hosts[1]
    assert(select(2, h:exec([[mkdir -p /srv/t/a/b /srv/t/.h && cd /srv/t && printf 'hello\n' > x.txt &&
      printf 'bye\n' > y.log && printf 'k=1\nother\n' > a/z.txt && echo q > a/b/deep.txt && echo s > .h/in.txt &&
      echo t > .hid.txt && ln -s a lnk && ln -s x.txt xl && chmod 4750 y.log && touch -d '3 days ago' y.log]])))
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local function paths(res)
    local out = {}
    for _, f in ipairs(res.files) do out[#out + 1] = f.path end
    table.sort(out)
    return out
  end

  it("stat: Ansible's fields for a file, a link (followed or not) and a missing path", function()
    local res = hp.task(hosts, { stat = { path = "/srv/t/y.log", checksum_algorithm = "sha256" } })
    assert.is_false(res.changed)
    local s = res.stat
    assert.is_true(s.exists and s.isreg and s.isuid)
    assert.is_false(s.isdir or s.islnk)
    assert.are.equal("4750", s.mode)
    assert.are.equal(4, s.size)
    assert.are.equal("root", s.pw_name)
    assert.are.equal(0, s.gid)
    assert.are.equal((h:exec("sha256sum < /srv/t/y.log | cut -d' ' -f1")):gsub("\n", ""), s.checksum)
    assert.is_true(s.rusr and s.xgrp and not s.roth)
    assert.are.equal("text/plain", s.mimetype)
    assert.is_true(math.abs(s.mtime - (os.time() - 3 * 86400)) < 120, tostring(s.mtime))
    res = hp.task(hosts, { stat = { path = "/srv/t/xl" } })
    assert.is_true(res.stat.islnk)
    assert.are.equal("/srv/t/x.txt", res.stat.lnk_source)
    assert.are.equal("x.txt", res.stat.lnk_target)
    assert.is_nil(res.stat.checksum)
    res = hp.task(hosts, { stat = { path = "/srv/t/xl", follow = true, get_mime = false } })
    assert.is_true(res.stat.isreg)
    assert.are.equal("f572d396fae9206628714fb2ce00f72e94f2258f", res.stat.checksum) -- sha1 of hello\n
    assert.is_nil(res.stat.mimetype)
    res = hp.task(hosts, { stat = { path = "/srv/none" } }, { check = true })
    assert.are.same({ exists = false }, res.stat)
    local err = hp.prepare_error(hosts, { stat = { path = "/x", checksum_algorithm = "crc" } })
    assert.truthy(err and err:find("argument 'checksum_algorithm' must be one of", 1, true), err)
  end)

  it("slurp: the content base64-encoded; a folder and a missing file fail as Ansible's", function()
    local res = hp.task(hosts, { slurp = { src = "/srv/t/a/z.txt" } })
    assert.is_false(res.changed)
    assert.are.equal("az0xCm90aGVyCg==", res.content)
    assert.are.equal("base64", res.encoding)
    assert.are.equal("/srv/t/a/z.txt", res.source)
    res = hp.task(hosts, { slurp = { path = "/srv/t" } })
    assert.is_true(res.failed)
    assert.are.equal("source is a directory and must be a file: /srv/t", res.msg)
    res = hp.task(hosts, { slurp = { src = "/srv/none" } })
    assert.are.equal("file not found: /srv/none", res.msg)
  end)

  it("find: globs, regexes, excludes, hidden, recurse with depth, types, age, size, contains, checksums", function()
    local res = hp.task(hosts, { find = { paths = "/srv/t" } })
    assert.is_false(res.changed)
    assert.are.same({ "/srv/t/x.txt", "/srv/t/y.log" }, paths(res))
    assert.are.equal(2, res.matched)
    assert.are.equal(7, res.examined)
    assert.are.equal("4750", res.files[1].path == "/srv/t/y.log" and res.files[1].mode or res.files[2].mode)
    res = hp.task(hosts, { find = { paths = "/srv/t", recurse = true, patterns = "*.txt", excludes = "deep*",
      hidden = true } })
    assert.are.same({ "/srv/t/.h/in.txt", "/srv/t/.hid.txt", "/srv/t/a/z.txt", "/srv/t/x.txt" }, paths(res))
    res = hp.task(hosts, { find = { paths = "/srv/t", recurse = true, depth = 2, file_type = "directory" } })
    assert.are.same({ "/srv/t/a", "/srv/t/a/b" }, paths(res))
    res = hp.task(hosts, { find = { paths = "/srv/t", use_regex = true, patterns = [[^[xy]\.]], get_checksum = true,
      age = "2d" } })
    assert.are.same({ "/srv/t/y.log" }, paths(res))
    assert.are.equal("ee9e51458f4642f48efe956962058245ee7127b1", res.files[1].checksum) -- sha1 of bye\n
    res = hp.task(hosts, { find = { paths = { "/srv/t", "/srv/none" }, recurse = true, contains = "k=\\d" } })
    assert.are.same({ "/srv/t/a/z.txt" }, paths(res))
    assert.are.equal("Not all paths examined, check warnings for details", res.msg)
    assert.are.equal("'/srv/none' is not a directory", res.skipped_paths["/srv/none"])
    res = hp.task(hosts, { find = { paths = "/srv/t", file_type = "link" } })
    assert.are.same({ "/srv/t/lnk", "/srv/t/xl" }, paths(res))
    res = hp.task(hosts, { find = { paths = "/srv/t", size = "-4" } })
    assert.are.same({ "/srv/t/y.log" }, paths(res))
    local err = hp.prepare_error(hosts, { find = { paths = "/srv/t", age = "3x" } })
    assert.truthy(err and err:find("argument 'age'", 1, true), err)
    err = hp.prepare_error(hosts, { find = { paths = "/srv/t", use_regex = true, patterns = "(" } })
    assert.truthy(err and err:find("argument 'patterns' is not a valid regular expression", 1, true), err)
  end)

  it("find: fails naming the tool when the host has no find", function()
    assert(select(2, h:exec("mv /usr/bin/find /usr/bin/find.hidden")))
    local res = hp.task(hosts, { find = { paths = "/srv/t" } })
    h:exec("mv /usr/bin/find.hidden /usr/bin/find")
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("the host has no 'find' command", 1, true), res.msg)
  end)

  it("tempfile: a new file (0600) or folder (0700) each time, skipped under --check", function()
    local res = hp.task(hosts, { tempfile = { suffix = ".conf" } })
    assert.is_true(res.changed)
    assert.truthy(res.path:match("^/tmp/ansible%.[%w]+%.conf$"), res.path)
    assert.are.equal("600\n", (h:exec("stat -c %a " .. res.path)))
    assert.are.equal("0600", res.mode)
    local res2 = hp.task(hosts, { tempfile = { suffix = ".conf" } })
    assert.are_not.equal(res.path, res2.path)
    res = hp.task(hosts, { tempfile = { state = "directory", path = "/srv", prefix = "build-" } })
    assert.truthy(res.path:match("^/srv/build%-"), res.path)
    assert.are.equal("700 directory\n", (h:exec("stat -c '%a %F' " .. res.path)))
    local before = h:exec("ls /tmp | wc -l")
    local _, status = hp.task(hosts, { tempfile = {} }, { check = true })
    assert.are.equal("skipped", status)
    assert.are.equal(before, h:exec("ls /tmp | wc -l"))
    local err = hp.prepare_error(hosts, { tempfile = { state = "fifo" } })
    assert.truthy(err and err:find("argument 'state' must be one of", 1, true), err)
  end)
end)
