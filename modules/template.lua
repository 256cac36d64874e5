-- template: render a local template file with the host's variables
-- ({{ expr }}, {% if %}, {% for %}: see docs/TASKS.md), then install it like copy.
-- The template also sees Ansible's template vars: ansible_managed ("Ansible
-- managed", Ansible's default), template_path (the src given),
-- template_fullpath (the file read), template_destpath (dest) and
-- template_host (this machine's name).
return {
  controller_paths = { src = true }, -- (`~` in src is this machine's: module/home.lua)
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
    local host = (ctx.read_file("/proc/sys/kernel/hostname") or ""):gsub("%s+$", "")
    local out, rerr = ctx:render(src, args.src, { ansible_managed = "Ansible managed",
      template_path = args.src, template_fullpath = path, template_destpath = args.dest,
      template_host = host })
    if not out then return { failed = true, msg = rerr } end
    return copy.install(ctx, out, { dest = args.dest, mode = args.mode, owner = args.owner,
      group = args.group, backup = args.backup, force = args.force, follow = args.follow,
      basename = ctx.path.basename(args.src), after_header = path })
  end,
}
