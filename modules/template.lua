-- template: render a local template file with the host's variables
-- ({{ expr }}, {% if %}, {% for %}: see docs/TASKS.md), then install it like copy.
local tmpl = require "luasible.template"
local modules = require "luasible.module"

local copy = assert(modules.load("copy"))

return {
  params = {
    src = { type = "path", required = true },
    dest = { type = "path", required = true },
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
    backup = { type = "boolean", default = false },
    force = { type = "boolean", default = true },
    follow = { type = "boolean", default = false },
  },
  check_mode = true,
  run = function(ctx, args)
    local path = copy.find_local(ctx, args.src, "templates")
    local src, err = modules.read_file(path)
    if not src then return { failed = true, msg = "cannot read template: " .. tostring(err) } end
    local out, rerr = tmpl.render(src, ctx.vars, args.src)
    if not out then return { failed = true, msg = rerr } end
    return copy.install(ctx, out, { dest = args.dest, mode = args.mode, owner = args.owner,
      group = args.group, backup = args.backup, force = args.force, follow = args.follow,
      basename = args.src:match("([^/]+)/*$") })
  end,
}
