-- command: run a program directly (argv, no shell). cmd is split into words;
-- argv gives the words exactly. Not run in check mode.
local modules = require "luasible.modules"

return {
  free_form = "cmd",
  params = {
    cmd = { type = "string" },
    argv = { type = "list" },
    chdir = { type = "path" },
    creates = { type = "path" },
    removes = { type = "path" },
    stdin = { type = "string" },
    timeout = { type = "number" },
    env = { type = "dict" },
  },
  required_one_of = { { "cmd", "argv" } },
  mutually_exclusive = { { "cmd", "argv" } },
  run = function(ctx, args)
    local argv = args.argv
    if not argv then
      local err
      argv, err = modules.argv(args.cmd)
      if not argv then return { failed = true, msg = err } end
    end
    if #argv == 0 then return { failed = true, msg = "empty command" } end
    local q = ctx.quote
    if args.creates and select(2, ctx:sh("test -e " .. q(args.creates))) == 0 then
      return { changed = false, msg = args.creates .. " exists, not run" }
    end
    if args.removes and select(2, ctx:sh("test -e " .. q(args.removes))) ~= 0 then
      return { changed = false, msg = args.removes .. " does not exist, not run" }
    end
    local res = ctx:run(argv, { cwd = args.chdir, stdin = args.stdin, timeout = args.timeout,
      env = args.env, stream = true })
    return {
      changed = true, failed = not res.ok, rc = res.rc, signal = res.signal,
      stdout = res.stdout, stderr = res.stderr, duration = res.duration, timed_out = res.timed_out,
      msg = (res.timed_out and "timed out") or (not res.ok and ("non-zero return code " .. tostring(res.rc))) or nil,
    }
  end,
}
