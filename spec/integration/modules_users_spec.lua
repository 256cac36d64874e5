-- user, group, authorized_key, hostname on real test hosts (their own
-- /etc, over their own sshd): present, absent, changed once then not,
-- --check changing nothing, --diff showing the change, bad arguments
-- refused naming them, a missing tool named; a password hash never on a
-- command line (the sshd of these hosts logs every command it is asked to
-- run) nor in an event.
local th = require "spec.helpers.testhosts"
local json = require "luasible.json"

local HASH = "$6$abcdefgh$0A8aVPR1oNmxo7Ymo/4ysmAgSNQQSkFqnmGG5u0KTXOR9E7o7LRzB2tXP5Xc8AzMPAyOx6iJTx6QF6FQgMR6Q."
local K1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl one@x"
local K2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 two"

describe("#hosts modules user, group, authorized_key, hostname", function()
  local ok, why = th.available()
  if not ok then
    pending("test hosts unavailable: " .. why)
    return
  end
  local hosts, task
  local _ -- the results a test does not look at
  lazy_setup(function()
    -- every command sshd runs is logged on the host, then run as asked
    hosts = th.start { n = 2, config = {
      [[ForceCommand printf '%s\n--\n' "$SSH_ORIGINAL_COMMAND" >> /var/log/commands;]]
        .. [[ exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"]],
    } }
    task = require("spec.helpers.hosts_task").runner(hosts)
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)
  local function on(cmd, i) return (hosts[i or 1]:exec(cmd)) end
  local function groups_of(u) return on("id -Gn " .. u .. " | tr ' ' '\\n' | sort | paste -sd' '") end

  describe("user", function()
    it("creates an account once; the second run changes nothing", function()
      local t = { user = { name = "bob", uid = 1600, shell = "/bin/sh", comment = "Bob B",
        groups = { "users", "audio" } } }
      local r, st = task(t)
      assert.equal("changed", st, json.encode(r))
      assert.equal("bob:x:1600:1600:Bob B:/home/bob:/bin/sh\n", on("getent passwd bob"))
      assert.equal("audio bob users\n", groups_of("bob"))
      assert.equal("audio,users", r.groups)
      assert.same({ 1600, 1600, "/home/bob" }, { r.uid, r.group, r.home })
      assert.equal("directory\n", on("stat -c %F /home/bob"))
      r, st = task(t)
      assert.equal("ok", st, json.encode(r))
      assert.is_false(r.changed)
    end)

    it("under --check creates and changes nothing but says it would", function()
      local r, st = task({ user = { name = "zed" } }, { check = true })
      assert.equal("changed", st)
      assert.truthy(r.msg:find("would run: useradd", 1, true))
      assert.equal("", on("getent passwd zed"))
      _, st = task({ user = { name = "bob", shell = "/bin/bash" } }, { check = true })
      assert.equal("changed", st)
      assert.equal("bob:x:1600:1600:Bob B:/home/bob:/bin/sh\n", on("getent passwd bob"))
    end)

    it("modifies only what differs: shell, groups appended or replaced", function()
      local r, st = task({ user = { name = "bob", shell = "/bin/bash" } })
      assert.is_true(r.changed)
      assert.equal("changed", st)
      assert.truthy(on("getent passwd bob"):find(":/bin/bash\n$"))
      r, st = task({ user = { name = "bob", groups = "plugdev", append = true } })
      assert.equal("changed", st, json.encode(r))
      assert.equal("audio bob plugdev users\n", groups_of("bob"))
      _, st = task({ user = { name = "bob", groups = "audio", append = true } })
      assert.equal("ok", st)
      _, st = task({ user = { name = "bob", groups = "audio" } })
      assert.equal("changed", st)
      assert.equal("audio bob\n", groups_of("bob"))
    end)

    it("sets a password hash through stdin: never on a command line, never in an event", function()
      on("rm -f /var/log/commands")
      local r, st, events = task({ user = { name = "bob", password = HASH, password_lock = false } })
      assert.equal("changed", st, json.encode(r))
      assert.equal("bob:" .. HASH .. "\n", on("getent shadow bob | cut -d: -f1,2"))
      assert.equal("NOT_LOGGING_PASSWORD", r.password)
      local log = on("cat /var/log/commands")
      assert.truthy(log:find("chpasswd -e", 1, true), log)
      assert.falsy(log:find("abcdefgh", 1, true))
      assert.falsy(json.encode(events):find("abcdefgh", 1, true))
      _, st = task({ user = { name = "bob", password = HASH } })
      assert.equal("ok", st)
      -- locked, then the same hash: unchanged; unlocked again
      _, st = task({ user = { name = "bob", password_lock = true } })
      assert.equal("changed", st)
      assert.equal("bob:!" .. HASH .. "\n", on("getent shadow bob | cut -d: -f1,2"))
      _, st = task({ user = { name = "bob", password_lock = true } })
      assert.equal("ok", st)
    end)

    it("expires, home moved, an SSH key generated once", function()
      local _, st = task({ user = { name = "bob", expires = 1893456000 } })
      assert.equal("changed", st)
      assert.equal("21915\n", on("getent shadow bob | cut -d: -f8"))
      _, st = task({ user = { name = "bob", expires = 1893456000 } })
      assert.equal("ok", st)
      _, st = task({ user = { name = "bob", home = "/srv/bob", move_home = true } })
      assert.equal("changed", st)
      assert.equal("no\n", on("test -e /home/bob && echo yes || echo no"))
      assert.equal("bob\n", on("stat -c %U /srv/bob/.profile"))
      local r
      r, st = task({ user = { name = "bob", generate_ssh_key = true, ssh_key_type = "ed25519",
        ssh_key_comment = "c" } })
      assert.equal("changed", st, json.encode(r))
      assert.equal("/srv/bob/.ssh/id_ed25519", r.ssh_key_file)
      assert.truthy(r.ssh_public_key:match("^ssh%-ed25519 %S+ c$"))
      assert.equal(r.ssh_public_key .. "\n", on("cat /srv/bob/.ssh/id_ed25519.pub"))
      assert.equal("600 bob\n", on("stat -c '%a %U' /srv/bob/.ssh/id_ed25519"))
      local again
      again, st = task({ user = { name = "bob", generate_ssh_key = true, ssh_key_type = "ed25519" } })
      assert.equal("ok", st)
      assert.equal(r.ssh_fingerprint, again.ssh_fingerprint)
    end)

    it("--diff shows the account before and after", function()
      local r, st = task({ user = { name = "bob", shell = "/bin/dash" } }, { diff = true, check = true })
      assert.equal("changed", st)
      assert.truthy(r.diff, "no diff: " .. json.encode(r))
      assert.truthy(r.diff.before:find("shell: /bin/bash", 1, true))
      assert.truthy(r.diff.after:find("shell: /bin/dash", 1, true))
      assert.falsy(r.diff.after:find("abcdefgh", 1, true))
    end)

    it("removes an account and, with remove, its home", function()
      local _, st = task({ user = { name = "bob", state = "absent", remove = true } })
      assert.equal("changed", st)
      assert.equal("", on("getent passwd bob"))
      assert.equal("no\n", on("test -e /srv/bob && echo yes || echo no"))
      _, st = task({ user = { name = "bob", state = "absent" } })
      assert.equal("ok", st)
    end)

    it("refuses bad arguments naming them; an unknown group fails the task", function()
      local r, st, err = task({ user = { name = "a:b" } })
      assert.is_nil(r)
      assert.equal("refused", st)
      assert.truthy(err:find("argument 'name'", 1, true), err)
      _, _, err = task({ user = { name = "x", uid = "many" } })
      assert.truthy(err:find("argument 'uid' must be an integer", 1, true), err)
      r, st = task({ user = { name = "x", groups = "nosuch" } })
      assert.equal("failed", st)
      assert.equal("Group nosuch does not exist", r.msg)
      assert.equal("", on("getent passwd x"))
    end)

    it("fails naming the tool when useradd is missing on the host", function()
      on("rm -f /usr/sbin/useradd", 2)
      local r, st = task({ user = { name = "kim" } }, { host = 2 })
      assert.equal("failed", st)
      assert.truthy(r.msg:find("useradd not found on the host", 1, true), r.msg)
      -- what needs no useradd still works
      _, st = task({ user = { name = "root" } }, { host = 2 })
      assert.equal("ok", st)
    end)
  end)

  describe("group", function()
    it("creates, keeps, changes the gid, removes", function()
      local r, st = task({ group = { name = "devs", gid = 2345 } })
      assert.equal("changed", st)
      assert.equal(2345, r.gid)
      assert.equal("devs:x:2345:\n", on("getent group devs"))
      _, st = task({ group = { name = "devs", gid = 2345 } })
      assert.equal("ok", st)
      _, st = task({ group = { name = "devs", gid = 2346 } }, { check = true })
      assert.equal("changed", st)
      assert.equal("devs:x:2345:\n", on("getent group devs"))
      r, st = task({ group = { name = "devs", gid = 2346 } }, { diff = true })
      assert.equal("changed", st)
      assert.equal("devs:x:2346:\n", on("getent group devs"))
      assert.same({ "name: devs\ngid: 2345\n", "name: devs\ngid: 2346\n" },
        { r.diff and r.diff.before, r.diff and r.diff.after })
      _, st = task({ group = { name = "sys1", system = true } })
      assert.equal("changed", st)
      assert.truthy(tonumber(on("getent group sys1 | cut -d: -f3")) < 1000)
      _, st = task({ group = { name = "devs", state = "absent" } })
      assert.equal("changed", st)
      assert.equal("", on("getent group devs"))
      _, st = task({ group = { name = "devs", state = "absent" } })
      assert.equal("ok", st)
    end)

    it("refuses non_unique without gid; names a missing groupadd", function()
      local _, st, err = task({ group = { name = "g", non_unique = true } })
      assert.equal("refused", st)
      assert.truthy(err:find("'non_unique' needs 'gid'", 1, true), err)
      on("rm -f /usr/sbin/groupadd", 2)
      local r
      r, st = task({ group = { name = "g" } }, { host = 2 })
      assert.equal("failed", st)
      assert.truthy(r.msg:find("groupadd not found on the host", 1, true))
    end)
  end)

  describe("authorized_key", function()
    it("adds keys once, with options; exclusive; absent; the file 0600 in a 0700 folder", function()
      on("useradd -m ann")
      local r, st = task({ authorized_key = { user = "ann", key = K1 .. "\n" .. K2 } })
      assert.equal("changed", st, json.encode(r))
      assert.equal(K1 .. "\n" .. K2 .. "\n", on("cat /home/ann/.ssh/authorized_keys"))
      assert.equal("700 ann\n600 ann\n", on("stat -c '%a %U' /home/ann/.ssh /home/ann/.ssh/authorized_keys"))
      _, st = task({ authorized_key = { user = "ann", key = { K2, K1 } } })
      assert.equal("ok", st)
      r, st = task({ authorized_key = { user = "ann", key = K2, key_options = 'from="10.0.0.1,10.0.0.2",no-pty' } },
        { diff = true })
      assert.equal("changed", st)
      local want = K1 .. "\n" .. 'from="10.0.0.1,10.0.0.2",no-pty ' .. K2 .. "\n"
      assert.equal(want, on("cat /home/ann/.ssh/authorized_keys"))
      assert.same({ K1 .. "\n" .. K2 .. "\n", want, "/home/ann/.ssh/authorized_keys" },
        { r.diff and r.diff.before, r.diff and r.diff.after, r.diff and r.diff.before_header })
      _, st = task({ authorized_key = { user = "ann", key = K1, exclusive = true } }, { check = true })
      assert.equal("changed", st)
      assert.equal(want, on("cat /home/ann/.ssh/authorized_keys"))
      _, st = task({ authorized_key = { user = "ann", key = K1, exclusive = true } })
      assert.equal("changed", st)
      assert.equal(K1 .. "\n", on("cat /home/ann/.ssh/authorized_keys"))
      _, st = task({ authorized_key = { user = "ann", key = K1, state = "absent" } })
      assert.equal("changed", st)
      assert.equal("", on("cat /home/ann/.ssh/authorized_keys"))
      _, st = task({ authorized_key = { user = "ann", key = K1, state = "absent" } })
      assert.equal("ok", st)
    end)

    it("fails on an invalid key, an unknown user, refuses a URL", function()
      local r, st = task({ authorized_key = { user = "ann", key = "not-a-key AAAA" } })
      assert.equal("failed", st)
      assert.equal("invalid key specified: not-a-key AAAA", r.msg)
      r, st = task({ authorized_key = { user = "nobody-here", key = K1 } })
      assert.equal("failed", st)
      assert.truthy(r.msg:find("nobody-here", 1, true))
      local _, err
      _, st, err = task({ authorized_key = { user = "ann", key = "https://example.org/keys" } })
      assert.equal("refused", st)
      assert.truthy(err:find("argument 'key'", 1, true))
    end)
  end)

  describe("hostname", function()
    it("writes /etc/hostname once; --check and --diff", function()
      local r, st = task({ hostname = { name = "web01.example.org" } }, { check = true, diff = true })
      assert.equal("changed", st)
      assert.equal(hosts[1].name .. "\n", on("cat /etc/hostname"))
      assert.same({ "hostname = " .. hosts[1].name .. "\n", "hostname = web01.example.org\n" },
        { r.diff and r.diff.before, r.diff and r.diff.after })
      r, st = task({ hostname = { name = "web01.example.org" } })
      assert.equal("changed", st)
      assert.equal("web01", r.ansible_facts.ansible_hostname)
      assert.equal("web01.example.org\n", on("cat /etc/hostname"))
      _, st = task({ hostname = { name = "web01.example.org" } })
      assert.equal("ok", st)
    end)

    it("refuses a name that is no host name; names a missing hostnamectl", function()
      local _, st, err = task({ hostname = { name = "bad name" } })
      assert.equal("refused", st)
      assert.truthy(err:find("argument 'name'", 1, true))
      on("rm -f /usr/bin/hostnamectl", 2)
      local r
      r, st = task({ hostname = { name = "x1", use = "systemd" } }, { host = 2 })
      assert.equal("failed", st)
      assert.truthy(r.msg:find("hostnamectl not found", 1, true), r.msg)
    end)
  end)
end)
