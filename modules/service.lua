-- service: manage a service through systemd when it runs, otherwise through
-- /etc/init.d scripts, with `enabled` through update-rc.d (Debian's SysV
-- links in /etc/rcN.d). Fails clearly when neither exists, and when `enabled`
-- is asked for and cannot be honoured: never silently ignored.

-- Is the SysV service started at boot: an S link in one of runlevels 2-5?
local function sysv_enabled(ctx, name)
  return select(2, ctx:sh("ls -d /etc/rc[2345].d/S[0-9][0-9]" .. ctx.quote(name) .. " >/dev/null 2>&1")) == 0
end

return {
  params = {
    name = { type = "string", required = true },
    state = { type = "string", choices = { "started", "stopped", "restarted", "reloaded" } },
    enabled = { type = "boolean" },
  },
  check_mode = true,
  run = function(ctx, args)
    local systemd = assert(ctx:module("systemd"))
    if systemd.running(ctx) then return systemd.run(ctx, args) end
    local q = ctx.quote
    local name = args.name
    if select(2, ctx:sh("test -x /etc/init.d/" .. q(name))) ~= 0 then
      return { failed = true, msg = "no service manager for '" .. name .. "' on " .. ctx.host
        .. ": systemd is not running and /etc/init.d/" .. name .. " does not exist" }
    end
    local cmds, did = {}, {}
    if args.enabled ~= nil then
      if select(2, ctx:sh("command -v update-rc.d >/dev/null")) ~= 0 then
        return { failed = true, msg = "cannot honour enabled=" .. tostring(args.enabled) .. " for '" .. name
          .. "' on " .. ctx.host .. ": systemd is not running and update-rc.d is not available" }
      end
      if sysv_enabled(ctx, name) ~= args.enabled then
        if args.enabled then
          cmds[#cmds + 1] = "update-rc.d " .. q(name) .. " defaults && update-rc.d " .. q(name) .. " enable"
          did[#did + 1] = "enable"
        else
          cmds[#cmds + 1] = "update-rc.d " .. q(name) .. " disable"
          did[#did + 1] = "disable"
        end
      end
    end
    local running = select(2, ctx:sh("/etc/init.d/" .. q(name) .. " status >/dev/null 2>&1")) == 0
    local action
    if args.state == "started" and not running then action = "start"
    elseif args.state == "stopped" and running then action = "stop"
    elseif args.state == "restarted" then action = "restart"
    elseif args.state == "reloaded" then action = "reload" end
    if action then
      cmds[#cmds + 1] = "/etc/init.d/" .. q(name) .. " " .. action
      did[#did + 1] = action
    end
    local result = { changed = #cmds > 0, name = name, enabled = args.enabled }
    if #cmds == 0 then return result end
    if ctx.check_mode then
      result.msg = "would " .. table.concat(did, " and ") .. " " .. name
      return result
    end
    local res = ctx:run(table.concat(cmds, " && "), { stream = true })
    if not res.ok then
      return { failed = true, changed = false, rc = res.rc, stdout = res.stdout, stderr = res.stderr,
        msg = table.concat(did, " and ") .. " " .. name .. " failed (rc " .. tostring(res.rc) .. ")" }
    end
    if args.enabled ~= nil and sysv_enabled(ctx, name) ~= args.enabled then
      return { failed = true, changed = true, rc = res.rc, stdout = res.stdout, stderr = res.stderr,
        msg = "update-rc.d ran but " .. name .. " is still " .. (args.enabled and "not " or "") .. "enabled" }
    end
    result.rc, result.stdout, result.stderr = res.rc, res.stdout, res.stderr
    return result
  end,
}
