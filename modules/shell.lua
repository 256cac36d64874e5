-- shell: run a command through /bin/sh -c. Not run in check mode.
local modules = require "luasible.module"

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
    return modules.run_command(ctx, args.cmd, args)
  end,
}
