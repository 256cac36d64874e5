-- ping: check that the host runs commands. Never changes anything.
return {
  params = { data = { type = "string", default = "pong" } },
  check_mode = true,
  run = function(ctx, args)
    local out, rc = ctx:sh("printf '%s\\n' " .. ctx.quote(args.data))
    if rc ~= 0 then return { failed = true, msg = "ping failed: rc " .. tostring(rc) } end
    return { changed = false, ping = out }
  end,
}
