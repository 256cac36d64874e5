-- reboot: reboot a machine and wait for it to come back, as Ansible's
-- reboot action: the boot id (`cat /proc/sys/kernel/random/boot_id`, or
-- boot_time_command) is read, `shutdown -r +MIN "msg"` (or reboot_command)
-- run, then, after post_reboot_delay, the host is tried (reconnecting) until
-- its boot id has changed and test_command runs, within reboot_timeout.
-- For a real machine only: a host whose PID 1 is no init system (a
-- container, luasible's test hosts, where PID 1 is a shell and the kernel's
-- boot id is the controller's) cannot reboot, and the task fails before
-- anything is run, saying so. Under --check nothing is run: changed, with
-- what would be run.
local INITS = { systemd = true, init = true, ["openrc-init"] = true, runit = true, ["runit-init"] = true,
  ["s6-svscan"] = true, upstart = true, launchd = true, dinit = true, shepherd = true }

return {
  params = {
    pre_reboot_delay = { type = "integer", default = 0 },
    post_reboot_delay = { type = "integer", default = 0 },
    reboot_timeout = { type = "integer", default = 600 },
    connect_timeout = { type = "integer" },
    test_command = { type = "string", default = "whoami" },
    msg = { type = "string", default = "Reboot initiated by Ansible" },
    boot_time_command = { type = "string", default = "cat /proc/sys/kernel/random/boot_id" },
    reboot_command = { type = "string" },
    search_paths = { type = "list" },
  },
  check_args = function(args)
    for _, k in ipairs({ "pre_reboot_delay", "post_reboot_delay", "reboot_timeout", "connect_timeout" }) do
      if args[k] and args[k] < 0 then return nil, "argument '" .. k .. "' must not be negative" end
    end
    if args.msg and args.msg:find('["\n]') then return nil, "argument 'msg' must be one line without '\"'" end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q = ctx.quote
    local paths = table.concat(args.search_paths or { "/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin" },
      ":")
    local cmd = args.reboot_command or ("shutdown -r +" .. (args.pre_reboot_delay // 60) .. ' "' .. args.msg .. '"')
    local exe = cmd:match("^%S+")
    local out = ctx:sh("echo \"I:$(cat /proc/1/comm 2>/dev/null)\"; echo \"B:$(" .. args.boot_time_command .. ")\";"
      .. " PATH=" .. q(paths) .. ":$PATH command -v " .. q(exe) .. " >/dev/null 2>&1 || echo MISSING")
    local init = out:match("I:([^\n]*)") or ""
    local boot = out:match("B:([^\n]*)") or ""
    if not INITS[init] then
      return { failed = true, changed = false, rebooted = false,
        msg = "cannot reboot this host: its PID 1 is '" .. init .. "', not an init system (a container or a test host;"
          .. " reboot reaches real machines only)" }
    end
    if out:find("MISSING", 1, true) then
      return { failed = true, rebooted = false, msg = exe .. " not found on the host (in " .. paths .. ")" }
    end
    if boot == "" then
      return { failed = true, rebooted = false, msg = "cannot read the boot id: " .. args.boot_time_command }
    end
    if ctx.check_mode then return { changed = true, rebooted = false, msg = "would run: " .. cmd } end
    local t0 = ctx.now()
    if args.pre_reboot_delay % 60 > 0 and not args.reboot_command then ctx.sleep(args.pre_reboot_delay % 60) end
    local res = ctx:run("PATH=" .. q(paths) .. ":$PATH " .. cmd, { allow_error = true })
    if res and not res.ok then -- a connection closed by the shutdown is no failure
      return { failed = true, rebooted = false, msg = "Reboot command failed. Error was: '"
        .. ctx.chomp(res.stdout) .. ", " .. ctx.chomp(res.stderr) .. "'" }
    end
    if args.post_reboot_delay > 0 then ctx.sleep(args.post_reboot_delay) end
    local timeout = args.reboot_timeout
    while ctx.now() - t0 < timeout do
      local r = ctx:run(args.boot_time_command, { allow_error = true, timeout = args.connect_timeout or 10 })
      if r and r.ok and ctx.chomp(r.stdout) ~= boot then
        local tr = ctx:run(args.test_command, { allow_error = true, timeout = args.connect_timeout or 10 })
        if tr and tr.ok then return { changed = true, rebooted = true, elapsed = math.floor(ctx.now() - t0) } end
      end
      ctx.sleep(2)
    end
    return { failed = true, changed = true, rebooted = false, elapsed = math.floor(ctx.now() - t0),
      msg = "Timed out waiting for the host to come back (reboot_timeout=" .. timeout .. ")" }
  end,
}
