-- service: manage a service through systemd when it runs, otherwise through
-- the `service` command and /etc/init.d scripts. Fails clearly when neither exists.
local modules = require "luasible.modules"

return {
  params = {
    name = { type = "string", required = true },
    state = { type = "string", choices = { "started", "stopped", "restarted", "reloaded" } },
    enabled = { type = "boolean" },
  },
  check_mode = true,
  run = function(ctx, args)
    local systemd = assert(modules.load("systemd"))
    if systemd.running(ctx) then return systemd.run(ctx, args) end
    local q = ctx.quote
    if select(2, ctx:sh("test -x /etc/init.d/" .. q(args.name))) ~= 0 then
      return { failed = true, msg = "no service manager for '" .. args.name .. "' on " .. ctx.host
        .. ": systemd is not running and /etc/init.d/" .. args.name .. " does not exist" }
    end
    local running = select(2, ctx:sh("/etc/init.d/" .. q(args.name) .. " status >/dev/null 2>&1")) == 0
    local action
    if args.state == "started" and not running then action = "start"
    elseif args.state == "stopped" and running then action = "stop"
    elseif args.state == "restarted" then action = "restart"
    elseif args.state == "reloaded" then action = "reload" end
    if not action then return { changed = false, name = args.name } end
    if ctx.check_mode then return { changed = true, msg = "would " .. action .. " " .. args.name } end
    local res = ctx:run("/etc/init.d/" .. q(args.name) .. " " .. action, { stream = true })
    return { changed = res.ok, failed = not res.ok, rc = res.rc, stdout = res.stdout, stderr = res.stderr }
  end,
}
