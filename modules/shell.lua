-- shell: run a command through /bin/sh -c (or `executable -c`), as
-- Ansible's shell module; everything else as command (its execute: creates,
-- removes, chdir, stdin, check mode, the result's cmd/rc/start/end/delta).
return {
  free_form = "cmd",
  async = true, -- its command may run as a remote job (`async:`, play/async.lua)
  params = {
    cmd = { type = "string", required = true },
    executable = { type = "string" },
    stdin_add_newline = { type = "boolean", default = true },
    strip_empty_ends = { type = "boolean", default = true },
  },
  param_groups = { "command" }, -- chdir, creates, removes, stdin, timeout, env
  check_mode = true,
  run = function(ctx, args)
    if not args.cmd:find("%S") then return { failed = true, rc = 256, msg = "no command given" } end
    return ctx:module("command").execute(ctx, args.cmd, args, true)
  end,
}
