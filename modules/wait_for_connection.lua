-- wait_for_connection: wait until the host answers a command again, as
-- Ansible's wait_for_connection: after `delay` seconds, try `true` on the
-- host every `sleep` seconds (each try bounded by connect_timeout) until it
-- runs or `timeout` seconds have passed. A lost SSH connection reconnects on
-- the next command (docs/SSH.md), so a restarted sshd or a rebooted machine
-- is reached again. Never changed; `elapsed` in seconds. Skipped under
-- --check, as Ansible's. One round trip when the host answers at once.
return {
  params = {
    connect_timeout = { type = "number", default = 5 },
    delay = { type = "number", default = 0 },
    sleep = { type = "number", default = 1 },
    timeout = { type = "number", default = 600 },
  },
  check_args = function(args)
    for _, k in ipairs({ "connect_timeout", "delay", "sleep", "timeout" }) do
      if args[k] and args[k] < 0 then return nil, "argument '" .. k .. "' must not be negative" end
    end
    return true
  end,
  run = function(ctx, args)
    local t0 = ctx.now()
    if args.delay > 0 then ctx.sleep(args.delay) end
    local last
    while true do
      local left = args.timeout - (ctx.now() - t0)
      local res, err = ctx:run({ "true" }, { allow_error = true, timeout = math.max(0.1, math.min(args.connect_timeout,
        left > 0 and left or 0.1)) })
      if res and res.ok then
        return { changed = false, elapsed = math.floor(ctx.now() - t0) }
      end
      last = err or (res and (res.timed_out and "timed out" or ("rc " .. tostring(res.rc))))
      if ctx.now() - t0 + args.sleep >= args.timeout then
        return { failed = true, changed = false, elapsed = math.floor(ctx.now() - t0),
          msg = string.format("timed out waiting for connection after %gs: %s", args.timeout, tostring(last)) }
      end
      ctx.sleep(args.sleep)
    end
  end,
}
