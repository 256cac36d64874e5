-- wait_for: wait until a TCP port accepts connections (or stops), or a path
-- exists (or is gone), checking from the host itself. Fails after timeout.
-- With neither port nor path it just waits `timeout` seconds (Ansible's
-- plain sleep): ok, not changed, with `elapsed`.
return {
  params = {
    port = { type = "integer" },
    host = { type = "string" }, -- default 127.0.0.1
    path = { type = "path" },
    state = { type = "string", choices = { "started", "stopped", "present", "absent" } }, -- default started
    timeout = { type = "number", default = 300 },
    delay = { type = "number", default = 0 },
    sleep = { type = "number", default = 0.25 },
    search_regex = { type = "string" },
  },
  check_mode = true,
  -- only a bare timeout (and delay) is a plain sleep: host, search_regex or
  -- state without anything to watch would silently sleep and say ok
  check_args = function(_, args) -- every argument given, templated or not
    if args.port == nil and args.path == nil
      and (args.host ~= nil or args.search_regex ~= nil or args.state ~= nil) then
      return nil, "host/search_regex/state need port or path"
    end
    return true
  end,
  run = function(ctx, args)
    args.host, args.state = args.host or "127.0.0.1", args.state or "started"
    if not args.port and not args.path then
      local t0 = ctx.now()
      ctx.sleep(args.delay + args.timeout)
      local elapsed = ctx.now() - t0
      return { changed = false, elapsed = elapsed, msg = string.format("waited %gs", args.delay + args.timeout) }
    end
    local q = ctx.quote
    local probe
    if args.port then
      -- host and port reach bash as arguments, never as code
      local hp = q(args.host) .. " " .. q(args.port)
      probe = "if command -v bash >/dev/null; then bash -c " .. q('exec 3<>"/dev/tcp/$1/$2"') .. " _ " .. hp
        .. " 2>/dev/null; else nc -z " .. hp .. " 2>/dev/null; fi"
    else
      probe = "test -e " .. q(args.path)
      if args.search_regex then probe = probe .. " && grep -q -- " .. q(args.search_regex) .. " " .. q(args.path) end
    end
    local want_up = args.state == "started" or args.state == "present"
    if args.delay > 0 then ctx.sleep(args.delay) end
    local t0 = ctx.now()
    while true do
      local up = select(2, ctx:sh(probe)) == 0
      if up == want_up then return { changed = false, elapsed = ctx.now() - t0 } end
      if ctx.now() - t0 >= args.timeout then
        local what = args.port and (args.host .. ":" .. args.port) or args.path
        return { failed = true, elapsed = ctx.now() - t0,
          msg = string.format("timeout after %gs waiting for %s to be %s", args.timeout, what, args.state) }
      end
      ctx.sleep(args.sleep)
    end
  end,
}
