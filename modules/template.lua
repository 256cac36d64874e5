-- template: render a local template file with the host's variables
-- ({{ expr }}, {% if %}, {% for %}: see docs/TASKS.md), then install it like copy.
return {
  params = {
    src = { type = "path", required = true },
  },
  param_groups = { "install" }, -- dest, backup, force, follow; mode, owner, group
  check_mode = true,
  run = function(ctx, args)
    local copy = assert(ctx:module("copy"))
    local path = ctx:find_local(args.src, "templates")
    local src, err = ctx.read_file(path)
    if not src then return { failed = true, msg = "cannot read template: " .. tostring(err) } end
    local out, rerr = ctx:render(src, args.src)
    if not out then return { failed = true, msg = rerr } end
    return copy.install(ctx, out, { dest = args.dest, mode = args.mode, owner = args.owner,
      group = args.group, backup = args.backup, force = args.force, follow = args.follow,
      basename = ctx.path.basename(args.src), after_header = path })
  end,
}
