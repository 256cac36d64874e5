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
  },
  required_one_of = { { "name", "update_cache" } },
  check_mode = true,
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
  local installed = status(ctx, names)
  local todo = {}
  for _, n in ipairs(names) do
    if (state == "absent") == (installed[n] ~= nil) or state == "latest" then todo[#todo + 1] = n end
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
  elseif state == "latest" then
    cmd = "apt-get install -y -q --only-upgrade " .. table.concat(q, " ")
  else
    cmd = "apt-get install -y -q --no-install-recommends " .. table.concat(q, " ")
  end
  if ctx.check_mode then
    if state == "latest" then cmd = cmd .. " -s" else
      return { changed = true, packages = todo, msg = "would run: " .. cmd }
    end
  end
  local res = ctx:run(cmd, { env = env, stream = true })
  if not res.ok then
    return { failed = true, rc = res.rc, stdout = res.stdout, stderr = res.stderr,
      msg = "apt-get failed: rc " .. res.rc }
  end
  local changed = true
  if state == "latest" then changed = not (res.stdout or ""):find("0 upgraded, 0 newly installed", 1, true) end
  return { changed = changed, packages = todo, stdout = res.stdout, stderr = res.stderr }
end

return M
