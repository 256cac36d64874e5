-- shell: run a command through /bin/sh -c. Not run in check mode.
return {
  free_form = "cmd",
  params = {
    cmd = { type = "string", required = true },
    chdir = { type = "path" },
    creates = { type = "path" },
    removes = { type = "path" },
    stdin = { type = "string" },
    timeout = { type = "number" },
    env = { type = "dict" },
  },
  run = function(ctx, args)
    local q = ctx.quote
    if args.creates and select(2, ctx:sh("test -e " .. q(args.creates))) == 0 then
      return { changed = false, msg = args.creates .. " exists, not run" }
    end
    if args.removes and select(2, ctx:sh("test -e " .. q(args.removes))) ~= 0 then
      return { changed = false, msg = args.removes .. " does not exist, not run" }
    end
    local res = ctx:run(args.cmd, { cwd = args.chdir, stdin = args.stdin, timeout = args.timeout,
      env = args.env, stream = true })
    return {
      changed = true, failed = not res.ok, rc = res.rc, signal = res.signal,
      stdout = res.stdout, stderr = res.stderr, duration = res.duration, timed_out = res.timed_out,
      msg = (res.timed_out and "timed out") or (not res.ok and ("non-zero return code " .. tostring(res.rc))) or nil,
    }
  end,
}
