-- command: run a program directly (argv, no shell). cmd is split into words;
-- argv gives the words exactly. Not run in check mode.
local modules = require "luasible.module"

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
    return modules.run_command(ctx, argv, args)
  end,
}
