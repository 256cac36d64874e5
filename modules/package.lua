-- package: install or remove packages with the host's package manager
-- (apt on Debian-like hosts, dnf/yum, apk).

local PM = {
  dnf = { test = "rpm -q %s", install = "dnf install -y %s", remove = "dnf remove -y %s" },
  yum = { test = "rpm -q %s", install = "yum install -y %s", remove = "yum remove -y %s" },
  apk = { test = "apk info -e %s", install = "apk add %s", remove = "apk del %s" },
}

return {
  params = {
    name = { type = "list", required = true, aliases = { "pkg" } },
    state = { type = "string", default = "present", choices = { "present", "absent", "installed", "removed" } },
    use = { type = "string", choices = { "auto", "apt", "dnf", "yum", "apk" }, default = "auto" },
  },
  check_mode = true,
  check_args = function(args, _, checks) return checks.package_names(args.name) end,
  run = function(ctx, args)
    local use = args.use
    if use == "auto" then
      use = ctx:sh("for m in apt-get dnf yum apk; do command -v $m >/dev/null && { echo $m; break; }; done")
      use = use == "apt-get" and "apt" or use
    end
    if use == "apt" then
      return assert(ctx:module("apt")).run(ctx, { name = args.name, state = args.state })
    end
    local pm = PM[use]
    if not pm then return { failed = true, msg = "package: no supported package manager found on this host" } end
    local absent = args.state == "absent" or args.state == "removed"
    local todo = {}
    for _, n in ipairs(args.name) do
      local present = select(2, ctx:sh(pm.test:format(ctx.quote(n)) .. " >/dev/null 2>&1")) == 0
      if present == absent then todo[#todo + 1] = ctx.quote(n) end
    end
    if #todo == 0 then return { changed = false } end
    local cmd = (absent and pm.remove or pm.install):format(table.concat(todo, " "))
    if ctx.check_mode then return { changed = true, msg = "would run: " .. cmd } end
    local res = ctx:run(cmd, { stream = true })
    return { changed = res.ok, failed = not res.ok, rc = res.rc, stdout = res.stdout, stderr = res.stderr }
  end,
}
