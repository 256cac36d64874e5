-- shell: run a command through /bin/sh -c. Not run in check mode.
return {
  free_form = "cmd",
  async = true, -- its command may run as a remote job (`async:`, play/async.lua)
  params = { cmd = { type = "string", required = true } },
  param_groups = { "command" }, -- chdir, creates, removes, stdin, timeout, env
  run = function(ctx, args)
    return ctx:run_command(args.cmd, args)
  end,
}
