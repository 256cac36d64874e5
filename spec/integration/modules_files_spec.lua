-- blockinfile, replace and ini_file on a real test host (issue 14): present,
-- absent, changed then unchanged, check mode, diff, backups, bad arguments,
-- a missing tool on the host.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"

describe("#hosts file-editing modules", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, h
  lazy_setup(function() hosts = th.start { n = 1 }; h = hosts[1] end)
  lazy_teardown(function() if hosts then hosts:stop() end end)
  local F = "/etc/luasible-test.conf"

  local function twice(task, want_msg)
    local res = hp.task(hosts, task)
    assert.is_true(res.changed, res.msg)
    if want_msg then assert.are.equal(want_msg, res.msg) end
    local again = hp.task(hosts, task)
    assert.is_false(again.changed, again.msg)
    return res
  end

  describe("blockinfile", function()
    it("inserts a marked block after the last line a regex finds, updates it in place, removes it", function()
      h:write(F, "[a]\nx=1\n[b]\ny=2")
      twice({ blockinfile = { path = F, block = "k=v\nw=z", insertafter = [[^\[a]] } }, "Block inserted")
      assert.are.equal("[a]\n# BEGIN ANSIBLE MANAGED BLOCK\nk=v\nw=z\n# END ANSIBLE MANAGED BLOCK\nx=1\n[b]\ny=2",
        h:read(F))
      -- the block changes where it is, whatever insertafter says now
      twice({ blockinfile = { path = F, block = "k=2", insertbefore = "BOF" } }, "Block inserted")
      assert.are.equal("[a]\n# BEGIN ANSIBLE MANAGED BLOCK\nk=2\n# END ANSIBLE MANAGED BLOCK\nx=1\n[b]\ny=2",
        h:read(F))
      -- its own markers; the last line gets its newline before a block at EOF
      twice({ blockinfile = { path = F, block = "z", marker = "; {mark} app", marker_begin = "start",
        marker_end = "stop" } }, "Block inserted")
      assert.truthy(h:read(F):find("\ny=2\n; start app\nz\n; stop app\n$"), h:read(F))
      twice({ blockinfile = { path = F, state = "absent" } }, "Block removed")
      assert.are.equal("[a]\nx=1\n[b]\ny=2\n; start app\nz\n; stop app\n", h:read(F))
      local res = hp.task(hosts, { blockinfile = { path = "/etc/none.conf", state = "absent" } })
      assert.is_false(res.changed)
      res = hp.task(hosts, { blockinfile = { path = "/etc/none.conf", block = "x" } })
      assert.is_true(res.failed)
      assert.are.equal("Path /etc/none.conf does not exist !", res.msg)
      twice({ blockinfile = { path = "/srv/b/new.conf", block = "x", create = true, mode = "0640" } }, "File created")
      assert.are.equal("640\n", (h:exec("stat -c %a /srv/b/new.conf")))
    end)

    it("keeps a backup, changes nothing under --check, shows a diff", function()
      h:write(F, "a\n")
      local task = { blockinfile = { path = F, block = "b", backup = true } }
      local res = hp.task(hosts, task, { check = true })
      assert.is_true(res.changed)
      assert.are.equal("a\n", h:read(F))
      res = hp.task(hosts, task, { diff = true })
      assert.is_true(res.changed)
      assert.are.equal("a\n", h:read(res.backup_file))
      -- Ansible's blockinfile: the content and the file attributes
      assert.are.same({ { before = "a\n", after = "a\n# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\n",
        before_header = F .. " (content)", after_header = F .. " (content)" },
        { before_header = F .. " (file attributes)", after_header = F .. " (file attributes)" } }, res.diff)
    end)

    it("refuses a bad regex naming the argument, and a state it does not know", function()
      local err = hp.prepare_error(hosts, { blockinfile = { path = F, block = "b", insertafter = "(x" } })
      assert.truthy(err and err:find("blockinfile: argument 'insertafter' is not a valid regular expression", 1,
        true), err)
      err = hp.prepare_error(hosts, { blockinfile = { path = F, state = "gone" } })
      assert.truthy(err and err:find("argument 'state' must be one of", 1, true), err)
    end)
  end)

  describe("replace", function()
    it("replaces every match with backrefs, MULTILINE, only between after and before", function()
      h:write(F, "a=1\nb=2\n# keep\na=3\n# stop\na=4\n")
      twice({ replace = { path = F, regexp = [[^a=(\d)$]], replace = [[a=\1\1]], after = "# keep",
        before = "# stop" } }, "1 replacements made")
      assert.are.equal("a=1\nb=2\n# keep\na=33\n# stop\na=4\n", h:read(F))
      twice({ replace = { path = F, regexp = [[^(?P<k>\w)=]], replace = [[\g<k> = ]] } }, "4 replacements made")
      assert.are.equal("a = 1\nb = 2\n# keep\na = 33\n# stop\na = 4\n", h:read(F))
      -- an after that matches nothing: unchanged, with Ansible's message
      local res = hp.task(hosts, { replace = { path = F, regexp = "a", after = "nowhere" } })
      assert.is_false(res.changed)
      assert.are.equal("Pattern for before/after params did not match the given file: nowhere(?P<subsection>.*)",
        res.msg)
      res = hp.task(hosts, { replace = { path = "/etc/none", regexp = "a" } })
      assert.is_true(res.failed)
      assert.are.equal("Path /etc/none does not exist !", res.msg)
    end)

    it("keeps a backup, changes nothing under --check, shows a diff", function()
      h:write(F, "x y\n")
      local task = { replace = { path = F, regexp = "y", replace = "z", backup = true } }
      local res = hp.task(hosts, task, { check = true })
      assert.is_true(res.changed)
      assert.are.equal("x y\n", h:read(F))
      res = hp.task(hosts, task, { diff = true })
      assert.are.equal("x y\n", h:read(res.backup_file))
      assert.are.equal("x z\n", h:read(F))
      assert.are.same({ before = "x y\n", after = "x z\n", before_header = F, after_header = F }, res.diff)
    end)

    it("refuses a bad regex or template, and needs regexp", function()
      local err = hp.prepare_error(hosts, { replace = { path = F, regexp = "a)" } })
      assert.truthy(err and err:find("replace: argument 'regexp' is not a valid regular expression", 1, true), err)
      err = hp.prepare_error(hosts, { replace = { path = F } })
      assert.truthy(err and err:find("regexp", 1, true), err)
      h:write(F, "a\n")
      local res = hp.task(hosts, { replace = { path = F, regexp = "a", replace = [[\g<nope>]] } })
      assert.is_true(res.failed)
      assert.truthy(res.msg:find("nope", 1, true), res.msg)
    end)

    it("fails naming the tool when the host has no cat", function()
      h:write(F, "a\n")
      assert(select(2, h:exec("mv /usr/bin/cat /usr/bin/cat.hidden")))
      local res = hp.task(hosts, { replace = { path = F, regexp = "a", replace = "b" } })
      h:exec("mv /usr/bin/cat.hidden /usr/bin/cat")
      assert.is_true(res.failed)
      assert.truthy(res.msg:find("the host has no 'cat' command", 1, true), res.msg)
    end)
  end)
  describe("ini_file", function()
    local I = "/etc/luasible-test.ini"
    it("adds a section and options, changes a value, takes over a commented option, exclusive", function()
      h:exec("rm -f " .. I)
      local res = twice({ ini_file = { path = I, section = "db", option = "host", value = "a" } },
        "section and option added")
      assert.are.equal(I, res.path)
      twice({ ini_file = { path = I, section = "db", option = "port", value = "5432", no_extra_spaces = true } },
        "option added")
      twice({ ini_file = { path = I, section = "db", option = "host", value = "b" } }, "option changed")
      assert.are.equal("[db]\nhost = b\nport=5432\n", h:read(I))
      h:write(I, "top = 0\n[db]\n# user = old\nport = 1\n\n[web]\nport = 80\nport = 81")
      twice({ ini_file = { path = I, section = "db", option = "user", value = "me" } }, "option changed")
      twice({ ini_file = { path = I, section = "web", option = "port", value = "82" } }, "option changed")
      twice({ ini_file = { path = I, section = "web", option = "flag", allow_no_value = true } }, "option added")
      twice({ ini_file = { path = I, option = "top", value = "1" } }, "option changed")
      twice({ ini_file = { path = I, section = "web", option = "port", values = { "1", "2" } } }, "option added")
      assert.are.equal("top = 1\n[db]\nuser = me\nport = 1\n\n[web]\nport = 1\nflag\nport = 2\n", h:read(I))
    end)

    it("removes an option or a section, keeps a backup, changes nothing under --check, shows a diff", function()
      h:write(I, "[a]\nx = 1\ny = 2\n[b]\nz = 3\n")
      twice({ ini_file = { path = I, section = "a", option = "x", state = "absent" } }, "option changed")
      twice({ ini_file = { path = I, section = "b", state = "absent" } }, "section removed")
      assert.are.equal("[a]\ny = 2\n", h:read(I))
      local task = { ini_file = { path = I, section = "a", option = "y", value = "3", backup = true } }
      local res = hp.task(hosts, task, { check = true })
      assert.is_true(res.changed)
      assert.are.equal("[a]\ny = 2\n", h:read(I))
      res = hp.task(hosts, task, { diff = true })
      assert.are.equal("[a]\ny = 2\n", h:read(res.backup_file))
      assert.are.same({ before = "[a]\ny = 2\n", after = "[a]\ny = 3\n", before_header = I .. " (content)",
        after_header = I .. " (content)" }, res.diff)
    end)

    it("needs a value, refuses value with values, fails on a missing file with create=false", function()
      local res = hp.task(hosts, { ini_file = { path = I, section = "a", option = "q" } })
      assert.is_true(res.failed)
      assert.truthy(res.msg:find("Parameter 'value(s)' must be defined", 1, true), res.msg)
      local err = hp.prepare_error(hosts, { ini_file = { path = I, section = "a", option = "q", value = "1",
        values = { "2" } } })
      assert.truthy(err and err:find("value", 1, true) and err:find("values", 1, true), err)
      res = hp.task(hosts, { ini_file = { path = "/etc/none.ini", section = "a", option = "q", value = "1",
        create = false } })
      assert.is_true(res.failed)
      assert.are.equal("Destination /etc/none.ini does not exist!", res.msg)
    end)
  end)
end)
