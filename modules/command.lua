-- command: run a program directly (argv, no shell). cmd is split into words;
-- argv gives the words exactly. Not run in check mode.
return {
  free_form = "cmd",
  async = true, -- its command may run as a remote job (`async:`, play/async.lua)
  params = {
    cmd = { type = "string" },
    argv = { type = "list" },
  },
  param_groups = { "command" }, -- chdir, creates, removes, stdin, timeout, env
  required_one_of = { { "cmd", "argv" } },
  mutually_exclusive = { { "cmd", "argv" } },
  run = function(ctx, args)
    local argv = args.argv
    if not argv then
      local err
      argv, err = ctx.argv(args.cmd)
      if not argv then return { failed = true, msg = err } end
    end
    if #argv == 0 then return { failed = true, msg = "empty command" } end
    return ctx:run_command(argv, args)
  end,
}
