-- modprobe on real test hosts (issue 14). Loading or removing a module
-- would change the kernel this machine shares with them, so nothing here
-- loads or removes one: a built-in module (bridge, as /sys/module reads it)
-- is the unchanged case, `persistent` writes the test host's own overlay
-- /etc, a module in the host's own /lib/modules (depmod'ed there) is loaded
-- only under --check (modprobe -n), a bogus name fails with modprobe's
-- message; a host whose sshd runs without CAP_SYS_MODULE is refused before
-- modprobe runs.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"
local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/integration"
if HERE:sub(1, 1) ~= "/" then HERE = os.getenv("PWD") .. "/" .. HERE end

describe("#hosts modprobe", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, h
  lazy_setup(function()
    hosts = th.start { n = 1 }
    h = hosts[1]
    -- a module file of the host's own module tree (never loaded: only modprobe -n reads it)
    assert(select(2, h:exec("d=/lib/modules/$(uname -r); mkdir -p $d/kernel/misc && : > $d/kernel/misc/lsbt_dummy.ko"
      .. " && depmod >/dev/null 2>&1; modprobe -n lsbt_dummy")))
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)
  after_each(function() h:exec("rm -f /etc/modules-load.d/bridge.conf /etc/modprobe.d/*.conf") end)

  it("a built-in module is present: unchanged, one read; absent is refused (built in)", function()
    local res, status = hp.task(hosts, { modprobe = { name = "bridge" } })
    assert.are.equal("ok", status, res.msg)
    assert.are.same({ false, "bridge", "", "present" }, { res.changed, res.name, res.params, res.state })
    res = hp.task(hosts, { modprobe = { name = "bridge", state = "absent" } })
    assert.is_true(res.failed)
    assert.are.equal("Module bridge is builtin (it cannot be removed)", res.msg)
  end)

  it("persistent present writes modules-load.d and modprobe.d (old options commented out), then unchanged", function()
    h:write("/etc/modprobe.d/local.conf", "# mine\noptions bridge old=1\nblacklist floppy\n")
    local t = { modprobe = { name = "bridge", params = "a=1 b=2", persistent = "present" } }
    -- --check first: said (with the diff), nothing written
    local res = hp.task(hosts, t, { check = true, diff = true })
    assert.is_true(res.changed)
    assert.are.equal(3, #res.diff)
    assert.are.equal("/etc/modprobe.d/bridge.conf", res.diff[1].before_header)
    assert.are.equal("options bridge a=1\noptions bridge b=2\n", res.diff[1].after)
    assert.are.equal("# mine\n#options bridge old=1\nblacklist floppy\n", res.diff[2].after)
    assert.are.equal("bridge\n", res.diff[3].after)
    assert.is_nil(h:read("/etc/modules-load.d/bridge.conf"))
    assert.is_nil(h:read("/etc/modprobe.d/bridge.conf"))
    res = hp.task(hosts, t)
    assert.is_true(res.changed, res.msg)
    assert.are.equal("bridge\n", h:read("/etc/modules-load.d/bridge.conf"))
    assert.are.equal("options bridge a=1\noptions bridge b=2\n", h:read("/etc/modprobe.d/bridge.conf"))
    assert.are.equal("# mine\n#options bridge old=1\nblacklist floppy\n", h:read("/etc/modprobe.d/local.conf"))
    assert.are.equal("644\n", (h:exec("stat -c %a /etc/modprobe.d/bridge.conf")))
    assert.is_false(hp.task(hosts, t).changed)
    -- other params: only modprobe.d changes
    res = hp.task(hosts, { modprobe = { name = "bridge", params = "a=3", persistent = "present" } })
    assert.is_true(res.changed)
    assert.are.equal("options bridge a=3\n", h:read("/etc/modprobe.d/bridge.conf"))
    -- persistent absent: both commented out, then unchanged
    t = { modprobe = { name = "bridge", persistent = "absent" } }
    assert.is_true(hp.task(hosts, t).changed)
    assert.are.equal("#bridge\n", h:read("/etc/modules-load.d/bridge.conf"))
    assert.are.equal("#options bridge a=3\n", h:read("/etc/modprobe.d/bridge.conf"))
    assert.is_false(hp.task(hosts, t).changed)
  end)

  it("--check: a module modprobe -n finds would be loaded (changed); nothing is loaded", function()
    local res, status = hp.task(hosts, { modprobe = { name = "lsbt_dummy", params = "x=1" } }, { check = true })
    assert.are.equal("changed", status, res.msg)
    assert.are.equal("x=1", res.params)
  end)

  it("fails clearly: a bogus module (also under --check), bad arguments, a host without modprobe", function()
    for _, check in ipairs({ true, false }) do
      local res = hp.task(hosts, { modprobe = { name = "lsbt_no_such_module" } }, { check = check })
      assert.is_true(res.failed)
      assert.truthy(res.msg:find("Module lsbt_no_such_module not found", 1, true), res.msg)
    end
    local err = hp.prepare_error(hosts, { modprobe = { name = "a b" } })
    assert.truthy(err and err:find("'name' must be a kernel module name", 1, true), err)
    err = hp.prepare_error(hosts, { modprobe = { name = "bridge", persistent = "yes" } })
    assert.truthy(err and err:find("persistent", 1, true) and err:find("disabled, present, absent", 1, true), err)
    err = hp.prepare_error(hosts, { modprobe = { state = "present" } })
    assert.truthy(err and err:find("name", 1, true), err)
    assert(select(2, h:exec("mv /usr/sbin/modprobe /usr/sbin/modprobe.hidden")))
    local res = hp.task(hosts, { modprobe = { name = "bridge" } })
    h:exec("mv /usr/sbin/modprobe.hidden /usr/sbin/modprobe")
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("the host has no modprobe", 1, true), res.msg)
  end)

  it("a host without CAP_SYS_MODULE: loading is refused naming it, before modprobe runs", function()
    local wrapper = HERE .. "/../helpers/sshd_nocap.sh"
    local nocap = th.start { n = 1, sshd = wrapper }
    local ok2, res = pcall(function()
      assert(select(2, nocap[1]:exec("d=/lib/modules/$(uname -r); mkdir -p $d/kernel/misc"
        .. " && : > $d/kernel/misc/lsbt_dummy.ko && depmod >/dev/null 2>&1")))
      return (hp.task(nocap, { modprobe = { name = "lsbt_dummy" } }))
    end)
    nocap:stop()
    assert(ok2, res)
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("no CAP_SYS_MODULE", 1, true), res.msg)
  end)
end)
