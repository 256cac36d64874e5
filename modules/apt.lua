-- apt: install or remove Debian packages. Idempotent: dpkg-query tells what
-- is installed first; nothing runs when the host is already right.
local function status(ctx, names)
  local q = {}
  for i, n in ipairs(names) do q[i] = ctx.quote(n) end
  local res = ctx:run("dpkg-query -W -f='${Package} ${db:Status-Abbrev} ${Version}\\n' "
    .. table.concat(q, " ") .. " 2>/dev/null")
  local installed = {}
  for pkg, abbrev, version in (res.stdout or ""):gmatch("([^%s:]+)[^%s]* (%S+)%s+([^\n]*)") do
    if abbrev:sub(2, 2) == "i" then installed[pkg] = version end
  end
  return installed
end

local M = {
  params = {
    name = { type = "list", aliases = { "pkg", "package" } },
    state = { type = "string", default = "present",
      choices = { "present", "absent", "latest", "installed", "removed" } },
    update_cache = { type = "boolean", default = false },
    purge = { type = "boolean", default = false },
    -- unset: apt's own setting decides (as Ansible); true/false: forced either way
    install_recommends = { type = "boolean" },
  },
  required_one_of = { { "name", "update_cache" } },
  check_mode = true,
  check_args = function(args, _, checks) return checks.package_names(args.name) end,
}
M.status = status

function M.run(ctx, args)
  local state = ({ installed = "present", removed = "absent" })[args.state] or args.state
  local names = args.name or {}
  local probe = ctx:run("command -v dpkg-query >/dev/null && command -v apt-get >/dev/null")
  if not probe.ok then return { failed = true, msg = "apt: this host has no apt-get/dpkg (not Debian-like)" } end
  local env = { DEBIAN_FRONTEND = "noninteractive" }
  local result = { changed = false }
  if args.update_cache then
    result.changed = true
    if not ctx.check_mode then
      local res = ctx:run("apt-get update -q", { env = env, stream = true })
      if not res.ok then return { failed = true, msg = "apt-get update failed", stderr = res.stderr, rc = res.rc } end
    end
  end
  if #names == 0 then return result end
  local todo = {}
  if state == "latest" then
    todo = names -- apt-get -s below tells what is to do
  else
    local installed = status(ctx, names)
    for _, n in ipairs(names) do
      if (state == "absent") == (installed[n] ~= nil) then todo[#todo + 1] = n end
    end
  end
  if #todo == 0 then
    result.msg = "all packages already " .. (state == "absent" and "absent" or "installed")
    return result
  end
  local q = {}
  for i, n in ipairs(todo) do q[i] = ctx.quote(n) end
  local cmd
  if state == "absent" then
    cmd = "apt-get " .. (args.purge and "purge" or "remove") .. " -y -q " .. table.concat(q, " ")
  else
    local rec = ""
    if args.install_recommends ~= nil then
      rec = "-o APT::Install-Recommends=" .. (args.install_recommends and "yes" or "no") .. " "
    end
    cmd = "apt-get install -y -q " .. rec .. table.concat(q, " ")
  end
  env.LC_ALL = "C"
  if state == "latest" then
    -- install or upgrade: what would happen is told by the simulation's
    -- "Inst " lines (not by translated summary text)
    local sim = ctx:run(cmd .. " -s", { env = env })
    if not sim.ok then
      return { failed = true, rc = sim.rc, stdout = sim.stdout, stderr = sim.stderr,
        msg = "apt-get failed: " .. ((sim.stderr or ""):match("E: ([^\n]*)") or ("rc " .. tostring(sim.rc))) }
    end
    local would = {}
    for pkg in ("\n" .. (sim.stdout or "")):gmatch("\nInst (%S+)") do would[#would + 1] = pkg end
    if #would == 0 then
      result.msg = "all packages already at their latest version"
      return result
    end
    if ctx.check_mode then
      return { changed = true, packages = todo, would_install = would,
        msg = "would install or upgrade: " .. table.concat(would, ", ") }
    end
  elseif ctx.check_mode then
    return { changed = true, packages = todo, msg = "would run: " .. cmd }
  end
  local res = ctx:run(cmd, { env = env, stream = true })
  if not res.ok then
    return { failed = true, rc = res.rc, stdout = res.stdout, stderr = res.stderr,
      msg = "apt-get failed: rc " .. res.rc }
  end
  -- latest: it ran only because the simulation listed what it installs or
  -- upgrades (the named packages or their dependencies)
  return { changed = true, packages = todo, stdout = res.stdout, stderr = res.stderr }
end

return M
