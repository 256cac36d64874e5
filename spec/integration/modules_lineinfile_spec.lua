-- lineinfile on a real test host: Python regular expressions (search, last
-- match wins unless firstmatch, backrefs), insertafter/insertbefore, absent,
-- check mode, diff, bad arguments, a missing tool on the host.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"

describe("#hosts lineinfile", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, h
  lazy_setup(function() hosts = th.start { n = 1 }; h = hosts[1] end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local SSHD = "# PermitRootLogin yes\nPort 22\n  PermitRootLogin yes\nX11Forwarding yes\n"
  local F = "/etc/ssh/sshd_test_config"

  it("takes Python regexes: search anywhere, the last match replaced, unchanged the second time", function()
    h:write(F, SSHD)
    local task = { lineinfile = { path = F, regexp = [[^\s*PermitRootLogin\b]], line = "PermitRootLogin no" } }
    local res = hp.task(hosts, task)
    assert.is_true(res.changed, res.msg)
    assert.are.equal("line replaced", res.msg)
    assert.are.equal("# PermitRootLogin yes\nPort 22\nPermitRootLogin no\nX11Forwarding yes\n", h:read(F))
    res = hp.task(hosts, task)
    assert.is_false(res.changed, res.msg)
    -- search, not match: a pattern without ^ matches inside a line
    res = hp.task(hosts, { lineinfile = { path = F, regexp = "Forwarding (yes|no)", line = "X11Forwarding no" } })
    assert.is_true(res.changed)
    assert.truthy(h:read(F):find("\nX11Forwarding no\n$"))
  end)

  it("firstmatch replaces the first matching line, backrefs expand \\1 and \\g<name>", function()
    h:write(F, "a=1\na=2\nport=22\n")
    local res = hp.task(hosts, { lineinfile = { path = F, regexp = "^a=", line = "a=first", firstmatch = true } })
    assert.is_true(res.changed)
    assert.are.equal("a=first\na=2\nport=22\n", h:read(F))
    res = hp.task(hosts, { lineinfile = { path = F, regexp = [[^port=(?P<n>\d+)$]], line = [[port=\g<n>0 # was \1]],
      backrefs = true } })
    assert.is_true(res.changed)
    assert.are.equal("a=first\na=2\nport=220 # was 22\n", h:read(F))
    -- backrefs and no match: the file is left alone (no line added)
    res = hp.task(hosts, { lineinfile = { path = F, regexp = "^nothing=(.*)", line = [[x=\1]], backrefs = true } })
    assert.is_false(res.changed)
    assert.are.equal("a=first\na=2\nport=220 # was 22\n", h:read(F))
  end)

  it("inserts after or before the last line a regex finds, or at BOF; the line there is not added twice", function()
    h:write(F, "[main]\nx=1\n[other]\ny=2")
    local res = hp.task(hosts, { lineinfile = { path = F, line = "z=3", insertafter = [=[^\[main\]]=] } })
    assert.is_true(res.changed)
    assert.are.equal("[main]\nz=3\nx=1\n[other]\ny=2", h:read(F))
    assert.is_false(hp.task(hosts, { lineinfile = { path = F, line = "z=3", insertafter = [=[^\[main\]]=] } }).changed)
    res = hp.task(hosts, { lineinfile = { path = F, line = "# top", insertbefore = "BOF" } })
    assert.is_true(res.changed)
    res = hp.task(hosts, { lineinfile = { path = F, line = "w=0", insertbefore = [=[^\[other]=] } })
    assert.is_true(res.changed)
    -- at EOF, the last line without a newline gets one
    assert.is_true(hp.task(hosts, { lineinfile = { path = F, line = "end" } }).changed)
    assert.are.equal("# top\n[main]\nz=3\nx=1\nw=0\n[other]\ny=2\nend\n", h:read(F))
  end)

  it("removes every matching line (found), and creates a file with its folders", function()
    h:write(F, "keep\ndrop 1\ndrop 2\n")
    local res = hp.task(hosts, { lineinfile = { path = F, regexp = [[^drop \d]], state = "absent" } })
    assert.is_true(res.changed)
    assert.are.equal(2, res.found)
    assert.are.equal("2 line(s) removed", res.msg)
    assert.are.equal("keep\n", h:read(F))
    res = hp.task(hosts, { lineinfile = { path = F, regexp = [[^drop \d]], state = "absent" } })
    assert.is_false(res.changed)
    assert.are.equal(0, res.found)
    res = hp.task(hosts, { lineinfile = { path = "/srv/new/dir/f.conf", line = "a", create = true, mode = "0600" } })
    assert.is_true(res.changed, res.msg)
    assert.are.equal("a\n", h:read("/srv/new/dir/f.conf"))
    assert.are.equal("600\n", (h:exec("stat -c %a /srv/new/dir/f.conf")))
    res = hp.task(hosts, { lineinfile = { path = "/srv/none", line = "a" } })
    assert.is_true(res.failed)
    assert.are.equal("Destination /srv/none does not exist !", res.msg)
  end)

  it("changes nothing under --check but says what would change, and shows the change under --diff", function()
    h:write(F, "a=1\n")
    local task = { lineinfile = { path = F, regexp = "^a=", line = "a=2" } }
    local res = hp.task(hosts, task, { check = true, diff = true })
    assert.is_true(res.changed)
    assert.are.equal("would be: line replaced", res.msg)
    assert.are.equal("a=1\n", h:read(F))
    res = hp.task(hosts, task, { diff = true })
    assert.is_true(res.changed)
    -- Ansible's lineinfile: the content and the file attributes
    assert.are.same({ { before = "a=1\n", after = "a=2\n", before_header = F .. " (content)",
      after_header = F .. " (content)" },
      { before_header = F .. " (file attributes)", after_header = F .. " (file attributes)" } }, res.diff)
  end)

  it("refuses a bad regex naming the argument, before anything runs", function()
    local err = hp.prepare_error(hosts, { lineinfile = { path = F, regexp = "^(a", line = "x" } })
    assert.truthy(err and err:find("lineinfile: argument 'regexp' is not a valid regular expression", 1, true), err)
    err = hp.prepare_error(hosts, { lineinfile = { path = F, insertbefore = "[a", line = "x" } })
    assert.truthy(err and err:find("argument 'insertbefore' is not a valid regular expression", 1, true), err)
  end)

  it("fails clearly, naming the tool, when the host has no stat", function()
    h:write(F, "a\n")
    assert(select(2, h:exec("mv /usr/bin/stat /usr/bin/stat.hidden")))
    local res = hp.task(hosts, { lineinfile = { path = F, line = "b" } })
    h:exec("mv /usr/bin/stat.hidden /usr/bin/stat")
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("the host has no 'stat' command", 1, true), res.msg)
    assert.are.equal("a\n", h:read(F))
  end)
end)
