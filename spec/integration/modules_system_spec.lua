-- cron, sysctl and mount on real test hosts: a job and a variable added once,
-- changed, removed; a cron_file; --check changing nothing; --diff showing the
-- crontab and the sysctl file before and after; bad arguments refused
-- naming them; a host without crontab or sysctl named as such. Sysctls: only
-- net.* can be written on a test host (its own network namespace). Mounts:
-- tmpfs in the host's own mount namespace, its own /etc/fstab.
local th = require "spec.helpers.testhosts"
local hosts_task = require "spec.helpers.hosts_task"
local json = require "luasible.json"

describe("#hosts modules cron, sysctl, mount", function()
  local ok, why = th.available()
  if not ok then
    pending("test hosts unavailable: " .. why)
    return
  end
  local hosts, task
  local _ -- the results a test does not look at
  lazy_setup(function()
    hosts = th.start { n = 2 }
    assert(hosts_task.install_cron(hosts[1]))
    task = hosts_task.runner(hosts)
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)
  local function on(cmd, i) return (hosts[i or 1]:exec(cmd)) end

  describe("cron", function()
    it("adds a job under its marker once, changes it in place, removes it", function()
      local r, st = task({ cron = { name = "backup", hour = 2, minute = 0, job = "/usr/bin/backup" } })
      assert.equal("changed", st, json.encode(r))
      assert.same({ "backup" }, r.jobs)
      assert.equal("#Ansible: backup\n0 2 * * * /usr/bin/backup\n", on("crontab -l"))
      _, st = task({ cron = { name = "backup", hour = 2, minute = 0, job = "/usr/bin/backup" } })
      assert.equal("ok", st)
      _, st = task({ cron = { name = "backup", special_time = "daily", job = "/usr/bin/backup" } })
      assert.equal("changed", st)
      assert.equal("#Ansible: backup\n@daily /usr/bin/backup\n", on("crontab -l"))
      _, st = task({ cron = { name = "backup", state = "absent" } })
      assert.equal("changed", st)
      assert.equal("", on("crontab -l"))
      _, st = task({ cron = { name = "backup", state = "absent" } })
      assert.equal("ok", st)
    end)

    it("a user's crontab, a variable first, a cron_file of its own", function()
      on("useradd -m app")
      local _, st = task({ cron = { name = "j", user = "app", job = "/bin/true" } })
      assert.equal("changed", st)
      _, st = task({ cron = { name = "SHELL", user = "app", env = true, job = "/bin/bash" } })
      assert.equal("changed", st)
      assert.equal('SHELL="/bin/bash"\n#Ansible: j\n* * * * * /bin/true\n', on("crontab -u app -l"))
      _, st = task({ cron = { name = "f", user = "app", cron_file = "lsb", minute = 5, job = "/bin/x" } })
      assert.equal("changed", st)
      assert.equal("#Ansible: f\n5 * * * * app /bin/x\n", on("cat /etc/cron.d/lsb"))
      assert.equal("644\n", on("stat -c %a /etc/cron.d/lsb"))
      _, st = task({ cron = { name = "f", cron_file = "lsb", state = "absent" } })
      assert.equal("changed", st)
      assert.equal("gone\n", on("test -e /etc/cron.d/lsb || echo gone"))
    end)

    it("--check writes nothing; --diff shows the crontab before and after", function()
      on("printf '#Ansible: keep\\n1 * * * * /bin/keep\\n' | crontab -")
      local r, st = task({ cron = { name = "new", job = "/bin/new" } }, { check = true, diff = true })
      assert.equal("changed", st)
      assert.equal("#Ansible: keep\n1 * * * * /bin/keep\n", on("crontab -l"))
      assert.same({ "#Ansible: keep\n1 * * * * /bin/keep\n",
        "#Ansible: keep\n1 * * * * /bin/keep\n#Ansible: new\n* * * * * /bin/new\n", "crontab" },
        { r.diff and r.diff.before, r.diff and r.diff.after, r.diff and r.diff.before_header })
    end)

    it("refuses bad arguments naming them; names a missing crontab", function()
      local _, st, err = task({ cron = { name = "x", special_time = "daily", hour = 3, job = "/bin/x" } })
      assert.equal("refused", st)
      assert.truthy(err:find("argument 'hour'", 1, true), err)
      _, st, err = task({ cron = { name = "x", cron_file = "x", job = "/bin/x" } })
      assert.equal("refused", st)
      assert.truthy(err:find("argument 'cron_file' needs 'user'", 1, true), err)
      _, st, err = task({ cron = { name = "x", job = "/bin/x", special_time = "often" } })
      assert.equal("refused", st)
      assert.truthy(err:find("argument 'special_time' must be one of", 1, true), err)
      local r
      r, st = task({ cron = { name = "x", job = "/bin/x" } }, { host = 2 })
      assert.equal("failed", st)
      assert.equal("crontab not found on the host (install cron)", r.msg)
    end)
  end)

  describe("sysctl", function()
    it("writes the file and reloads once; the running value follows; absent", function()
      local f = "/etc/sysctl.d/80-lsb.conf"
      local _, st = task({ sysctl = { name = "net.ipv4.ip_forward", value = 1, sysctl_file = f } })
      assert.equal("changed", st)
      assert.equal("net.ipv4.ip_forward=1\n", on("cat " .. f))
      assert.equal("1\n", on("sysctl -n net.ipv4.ip_forward"))
      _, st = task({ sysctl = { name = "net.ipv4.ip_forward", value = "1", sysctl_file = f } })
      assert.equal("ok", st)
      -- the running value differs from the file: reload makes it right (changed)
      on("sysctl -w net.ipv4.ip_forward=0")
      _, st = task({ sysctl = { name = "net.ipv4.ip_forward", value = "yes", sysctl_file = f } })
      assert.equal("changed", st)
      assert.equal("1\n", on("sysctl -n net.ipv4.ip_forward"))
      _, st = task({ sysctl = { name = "net.ipv4.ip_forward", state = "absent", sysctl_file = f } })
      assert.equal("changed", st)
      assert.equal("", on("cat " .. f))
    end)

    it("--check changes nothing; --diff shows the file", function()
      local f = "/etc/sysctl.d/81-lsb.conf"
      on("printf '# mine\\nnet.ipv4.ip_default_ttl = 64\\n' > " .. f .. "; sysctl -w net.ipv4.ip_default_ttl=64")
      local r, st = task({ sysctl = { name = "net.ipv4.ip_default_ttl", value = 99, sysctl_file = f } },
        { check = true, diff = true })
      assert.equal("changed", st)
      assert.equal("64\n", on("sysctl -n net.ipv4.ip_default_ttl"))
      assert.same({ "# mine\nnet.ipv4.ip_default_ttl = 64\n", "# mine\nnet.ipv4.ip_default_ttl=99\n" },
        { r.diff and r.diff.before, r.diff and r.diff.after })
    end)

    it("fails on a key the host cannot set; refuses a missing value; names a missing sysctl", function()
      local r, st = task({ sysctl = { name = "kernel.pid_max", value = 65536, sysctl_file = "/etc/sysctl.d/82.conf",
        sysctl_set = true } })
      assert.equal("failed", st)
      assert.truthy(r.msg:find("kernel.pid_max", 1, true), r.msg)
      local err
      _, st, err = task({ sysctl = { name = "net.ipv4.ip_forward" } })
      assert.equal("refused", st)
      assert.truthy(err:find("argument 'value'", 1, true), err)
      on("rm -f /usr/sbin/sysctl /sbin/sysctl", 2)
      r, st = task({ sysctl = { name = "net.ipv4.ip_forward", value = 1 } }, { host = 2 })
      assert.equal("failed", st)
      assert.truthy(r.msg:find("sysctl not found on the host", 1, true), r.msg)
    end)
  end)
  describe("mount", function()
    local T = { path = "/mnt/lsb", src = "tmpfs", fstype = "tmpfs", opts = "size=1m", state = "mounted" }
    local function mounted(p)
      return on("awk '$5 == \"" .. p .. "\" { print $5, $(NF-2), $NF }' /proc/self/mountinfo")
    end

    it("mounts a tmpfs and puts it in fstab once; new options remount it", function()
      local r, st = task({ mount = T })
      assert.equal("changed", st, json.encode(r))
      assert.equal("/mnt/lsb tmpfs rw,size=1024k\n", mounted("/mnt/lsb"))
      assert.truthy(on("cat /etc/fstab"):find("\ntmpfs /mnt/lsb tmpfs size=1m 0 0\n", 1, true))
      _, st = task({ mount = T })
      assert.equal("ok", st)
      local t2 = setmetatable({ opts = "size=2m" }, { __index = T })
      _, st = task({ mount = { path = t2.path, src = t2.src, fstype = t2.fstype, opts = t2.opts, state = "mounted" } })
      assert.equal("changed", st)
      assert.equal("/mnt/lsb tmpfs rw,size=2048k\n", mounted("/mnt/lsb"))
    end)

    it("--check and --diff: fstab shown, nothing mounted or written", function()
      local before = on("cat /etc/fstab")
      local r, st = task({ mount = { path = "/mnt/other", src = "tmpfs", fstype = "tmpfs", state = "mounted" } },
        { check = true, diff = true })
      assert.equal("changed", st)
      assert.equal("", mounted("/mnt/other"))
      assert.equal("no\n", on("test -e /mnt/other && echo yes || echo no"))
      assert.equal(before, on("cat /etc/fstab"))
      assert.same({ before, before .. "tmpfs /mnt/other tmpfs defaults 0 0\n" },
        { r.diff and r.diff.before, r.diff and r.diff.after })
    end)

    it("unmounted keeps fstab; present only fstab; absent removes both and the folder", function()
      local _, st = task({ mount = { path = "/mnt/lsb", state = "unmounted" } })
      assert.equal("changed", st)
      assert.equal("", mounted("/mnt/lsb"))
      assert.truthy(on("cat /etc/fstab"):find("/mnt/lsb", 1, true))
      _, st = task({ mount = { path = "/mnt/lsb", state = "unmounted" } })
      assert.equal("ok", st)
      _, st = task({ mount = { path = "/mnt/p", src = "tmpfs", fstype = "tmpfs", state = "present" } })
      assert.equal("changed", st)
      assert.equal("", mounted("/mnt/p"))
      _, st = task({ mount = { path = "/mnt/lsb", state = "mounted", src = "tmpfs", fstype = "tmpfs",
        opts = "size=2m" } })
      assert.equal("changed", st)
      _, st = task({ mount = { path = "/mnt/lsb", state = "absent" } })
      assert.equal("changed", st)
      assert.equal("", mounted("/mnt/lsb"))
      assert.falsy(on("cat /etc/fstab"):find("/mnt/lsb", 1, true))
      assert.equal("no\n", on("test -e /mnt/lsb && echo yes || echo no"))
    end)

    it("a mount that fails puts fstab back; bad arguments refused; a missing mount named", function()
      local before = on("cat /etc/fstab")
      local r, st = task({ mount = { path = "/mnt/bad", src = "/dev/nonexistent", fstype = "ext4",
        state = "mounted" } })
      assert.equal("failed", st)
      assert.truthy(r.msg:find("Error mounting /mnt/bad", 1, true), r.msg)
      assert.equal(before, on("cat /etc/fstab"))
      local err
      _, st, err = task({ mount = { path = "/mnt/x", state = "mounted", fstype = "tmpfs" } })
      assert.equal("refused", st)
      assert.truthy(err:find("needs arguments 'src' and 'fstype'", 1, true), err)
      _, st, err = task({ mount = { path = "/mnt/x", state = "up" } })
      assert.equal("refused", st)
      assert.truthy(err:find("argument 'state' must be one of", 1, true), err)
      on("rm -f /usr/bin/mount /bin/mount", 2)
      r, st = task({ mount = T }, { host = 2 })
      assert.equal("failed", st)
      assert.truthy(r.msg:find("mount not found on the host", 1, true), r.msg)
    end)
  end)
end)
