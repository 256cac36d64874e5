-- command, shell, raw, script, wait_for_connection, reboot on real test
-- hosts: creates/removes (globs, relative to chdir), stdin, argv,
-- executable, --check; a script copied and run with its arguments;
-- wait_for_connection across a restart of the host's sshd (every sshd
-- process of the host killed: the connection is lost and made again);
-- reboot refused on a host whose PID 1 is no init.
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local json = require "luasible.json"

describe("#hosts modules command, shell, raw, script, wait_for_connection, reboot", function()
  local ok, why = th.available()
  if not ok then
    pending("test hosts unavailable: " .. why)
    return
  end
  local hosts, task, dir
  local _ -- the results a test does not look at
  lazy_setup(function()
    hosts = th.start { n = 1 }
    task = require("spec.helpers.hosts_task").runner(hosts)
    dir = files.tmpdir()
    files.write(dir .. "/setup.sh",
      "#!/bin/sh\necho \"args: $*\"\necho \"in $(pwd)\"\necho oops >&2\nexit ${CODE:-0}\n")
    files.write(dir .. "/which.sh", "echo \"bash ${BASH_VERSION:+yes}\"\n")
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)
  local function on(cmd) return (hosts[1]:exec(cmd)) end

  describe("command and shell", function()
    it("creates and removes are globs relative to chdir; check mode says what it would do", function()
      on("mkdir -p /srv/w && touch /srv/w/a.done")
      local r, st = task({ command = { cmd = "touch b.done", chdir = "/srv/w", creates = "*.done" } })
      assert.equal("ok", st)
      assert.equal("Did not run command since '*.done' exists", r.msg)
      assert.equal("skipped, since *.done exists", r.stdout)
      r, st = task({ command = { cmd = "touch b.done", chdir = "/srv/w", creates = "b.*" } })
      assert.equal("changed", st, json.encode(r))
      assert.same({ "touch", "b.done" }, r.cmd)
      assert.equal("yes\n", on("test -e /srv/w/b.done && echo yes"))
      r, st = task({ shell = { cmd = "rm c.txt", chdir = "/srv/w", removes = "c.txt" } })
      assert.equal("ok", st)
      assert.equal("Did not run command since 'c.txt' does not exist", r.msg)
      r, st = task({ command = { cmd = "touch c.done", chdir = "/srv/w", creates = "c.done" } }, { check = true })
      assert.equal("changed", st)
      assert.equal("Command would have run if not in check mode", r.msg)
      assert.equal("no\n", on("test -e /srv/w/c.done && echo yes || echo no"))
      _, st = task({ command = { cmd = "touch c.done", chdir = "/srv/w" } }, { check = true })
      assert.equal("skipped", st)
      assert.equal("no\n", on("test -e /srv/w/c.done && echo yes || echo no"))
    end)

    it("stdin (a newline added unless told), argv, executable, start/end/delta", function()
      local r = task({ command = { argv = { "od", "-c" }, stdin = "hi" } })
      assert.truthy(r.stdout:find("h   i  \\n", 1, true), r.stdout)
      r = task({ command = { argv = { "od", "-c" }, stdin = "hi", stdin_add_newline = false } })
      assert.falsy(r.stdout:find("\\n", 1, true), r.stdout)
      r = task({ shell = { cmd = "echo $0; echo '  '", executable = "/bin/bash", strip_empty_ends = false } })
      assert.equal("/bin/bash\n  \n", r.stdout)
      assert.truthy(r.start:match("^%d+%-%d+%-%d+ %d+:%d+:%d+%.%d+$"), r.start)
      assert.truthy(r.delta:match("^0:00:%d%d%.%d+$"), r.delta)
      local st
      r, st = task({ command = { cmd = "false" } })
      assert.equal("failed", st)
      assert.equal(1, r.rc)
    end)
  end)

  describe("raw", function()
    it("sends the text to the login shell as it is; skipped under --check", function()
      local r, st = task({ raw = "echo $((6*7)) | tr 4 X; echo done" })
      assert.equal("changed", st)
      assert.equal("X2\ndone\n", r.stdout)
      r, st = task({ raw = { cmd = "echo $0", executable = "/bin/bash" } })
      assert.equal("changed", st)
      assert.equal("/bin/bash\n", r.stdout)
      _, st = task({ raw = "touch /tmp/raw-ran" }, { check = true })
      assert.equal("skipped", st)
      assert.equal("no\n", on("test -e /tmp/raw-ran && echo yes || echo no"))
    end)
  end)

  describe("script", function()
    it("copies a local script and runs it with its arguments in chdir; creates skips; nothing is left", function()
      local r, st = task({ script = { cmd = dir .. "/setup.sh one 'two words'", chdir = "/srv" } })
      assert.equal("changed", st, json.encode(r))
      assert.equal("args: one two words\nin /srv\n", r.stdout)
      assert.equal("oops\n", r.stderr)
      assert.equal("", on("ls /tmp | grep -v '^raw' || true"))
      r, st = task({ script = { cmd = dir .. "/setup.sh", creates = "/srv/w" } })
      assert.equal("skipped", st)
      assert.equal("/srv/w exists, matching creates option", r.msg)
      _, st = task({ script = { cmd = dir .. "/setup.sh", removes = "/srv/w" } }, { check = true })
      assert.equal("changed", st)
      _, st = task({ script = { cmd = dir .. "/setup.sh" } }, { check = true })
      assert.equal("skipped", st)
      r = task({ script = { cmd = dir .. "/which.sh" } })
      assert.equal("bash \n", r.stdout)
      r = task({ script = { cmd = dir .. "/which.sh", executable = "/bin/bash" } })
      assert.equal("bash yes\n", r.stdout)
      r, st = task({ script = { cmd = dir .. "/nonexistent.sh" } })
      assert.equal("failed", st)
      assert.truthy(r.msg:find("could not find or read the script", 1, true), r.msg)
      local _, _, err = task({ script = { cmd = dir .. "/setup.sh", chdir = "relative" } })
      assert.truthy(err:find("must be an absolute path", 1, true), err)
    end)
  end)

  describe("wait_for_connection", function()
    it("reaches the host again after its sshd was restarted", function()
      -- every sshd of the host killed after 1 s, a new one started 3 s later (inside the host)
      local details = task.all({
        { name = "connected", command = "true" },
        { name = "restart", shell = "setsid sh -c 'sleep 1; kill $(pgrep -x sshd); sleep 3;"
          .. " /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config </dev/null >/dev/null 2>&1' </dev/null >/dev/null 2>&1 &" },
        { name = "wait", wait_for_connection = { delay = 2, sleep = 0.5, timeout = 30, connect_timeout = 2 } },
        { name = "after", command = "hostname" },
      })
      local d = details.hosts[hosts[1].name]
      assert.equal("ok", d[3].status, json.encode(d[3].result))
      assert.is_false(d[3].result.changed)
      assert.truthy(d[3].result.elapsed >= 3, json.encode(d[3].result))
      assert.equal("changed", d[4].status, json.encode(d[4].result))
      assert.equal(hosts[1].name, d[4].result.stdout)
    end)

    it("times out with a message when the host does not come back", function()
      local details = task.all({
        { name = "stop", shell = "setsid sh -c 'sleep 1; kill $(pgrep -x sshd)' </dev/null >/dev/null 2>&1 &" },
        { name = "wait", wait_for_connection = { delay = 2, sleep = 0.5, timeout = 3, connect_timeout = 1 } },
      })
      local d = details.hosts[hosts[1].name]
      assert.equal("failed", d[2].status)
      assert.truthy(d[2].result.msg:find("timed out waiting for connection after 3s", 1, true), d[2].result.msg)
      on("setsid /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config </dev/null >/dev/null 2>&1 &")
      -- back for the next tests: listening again
      for _ = 1, 50 do
        if on("ss -ltn 2>/dev/null | grep -c ':22 ' || true") ~= "0\n" then break end
        os.execute("sleep 0.1")
      end
    end)
  end)

  describe("reboot", function()
    it("refuses on a test host (its PID 1 is a shell), before running anything, also under --check", function()
      for _, check in ipairs({ false, true }) do
        local r, st = task({ reboot = { msg = "bye" } }, { check = check })
        assert.equal("failed", st)
        assert.truthy(r.msg:find("cannot reboot this host: its PID 1 is 'sh'", 1, true), r.msg)
        assert.is_false(r.rebooted)
      end
      assert.truthy(hosts[1]:running())
      local _, st, err = task({ reboot = { post_reboot_delay = -1 } })
      assert.equal("refused", st)
      assert.truthy(err:find("argument 'post_reboot_delay'", 1, true), err)
    end)
  end)
end)
