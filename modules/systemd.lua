-- systemd: start/stop/restart/reload units and enable/disable them. Fails
-- clearly on hosts where systemd is not running (containers, chroots).
local M = {
  params = {
    name = { type = "string", aliases = { "unit", "service" } },
    state = { type = "string", choices = { "started", "stopped", "restarted", "reloaded" } },
    enabled = { type = "boolean" },
    daemon_reload = { type = "boolean", default = false },
  },
  check_mode = true,
}

--- true when systemd is the running init on the host.
function M.running(ctx)
  return select(2, ctx:sh("test -d /run/systemd/system")) == 0
end

function M.run(ctx, args)
  if not M.running(ctx) then
    return { failed = true, msg = "systemd is not running on " .. ctx.host
      .. " (no /run/systemd/system): cannot manage " .. (args.name or "units") }
  end
  if not args.name and not args.daemon_reload then return { failed = true, msg = "systemd: name is required" } end
  local q, cmds, result = ctx.quote, {}, { changed = false, name = args.name }
  if args.daemon_reload then cmds[#cmds + 1] = "systemctl daemon-reload" end
  if args.name then
    local active = select(2, ctx:sh("systemctl is-active --quiet " .. q(args.name))) == 0
    local st = args.state
    if (st == "started" and not active) then cmds[#cmds + 1] = "systemctl start " .. q(args.name)
    elseif st == "stopped" and active then cmds[#cmds + 1] = "systemctl stop " .. q(args.name)
    elseif st == "restarted" then cmds[#cmds + 1] = "systemctl restart " .. q(args.name)
    elseif st == "reloaded" then cmds[#cmds + 1] = "systemctl reload-or-restart " .. q(args.name) end
    if args.enabled ~= nil then
      local en = select(2, ctx:sh("systemctl is-enabled --quiet " .. q(args.name))) == 0
      if en ~= args.enabled then
        cmds[#cmds + 1] = "systemctl " .. (args.enabled and "enable " or "disable ") .. q(args.name)
      end
    end
  end
  result.changed = #cmds > (args.daemon_reload and 1 or 0) or (args.daemon_reload and #cmds > 0)
  local done, res = ctx:apply(cmds, result)
  if not done then return { failed = true, rc = res.rc, msg = res.stderr, stdout = res.stdout } end
  return done
end

return M
