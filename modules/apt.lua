-- apt: install or remove Debian packages. Idempotent: dpkg-query tells what
-- is installed first; nothing runs when the host is already right.
local function status_cmd(ctx, names)
  local q = {}
  for i, n in ipairs(names) do q[i] = ctx.quote(n) end
  return "dpkg-query -W -f='${Package} ${db:Status-Abbrev} ${Version}\\n' " .. table.concat(q, " ") .. " 2>/dev/null"
end

-- installed packages among names: { name = version }; `pre`: the output of
-- status_cmd already run (with the probe, M.run)
local function status(ctx, names, pre)
  local res = pre or ctx:run(status_cmd(ctx, names))
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
    update_cache = { type = "boolean", default = false, aliases = { "update-cache" } },
    cache_valid_time = { type = "integer", default = 0 },
    deb = { type = "path" },
    autoremove = { type = "boolean", default = false },
    upgrade = { type = "string", default = "no", choices = { "dist", "full", "no", "safe", "yes" } },
    purge = { type = "boolean", default = false },
    -- unset: apt's own setting decides (as Ansible); true/false: forced either way
    install_recommends = { type = "boolean" },
  },
  required_one_of = { { "name", "update_cache", "deb", "upgrade", "autoremove", "cache_valid_time" } },
  check_mode = true,
  check_args = function(args, _, checks) return checks.package_names(args.name) end,
}
M.status = status

local CACHE_TIME = "stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null"
  .. " || stat -c %Y /var/cache/apt/pkgcache.bin 2>/dev/null || echo 0"

local function deb_file(args)
  return args.deb:sub(1, 1) ~= "/" and ("./" .. args.deb) or args.deb
end

-- what deb() asks of the host: the .deb's package and version, and the installed one
local function deb_cmd(ctx, args)
  return "f=" .. ctx.quote(deb_file(args)) .. '; [ -f "$f" ] || { echo "@missing"; exit 0; }; '
    .. 'p=$(dpkg-deb -f "$f" Package) && v=$(dpkg-deb -f "$f" Version) || exit 1; echo "@deb $p $v"; '
    .. 'echo "@deps $(dpkg-deb -f "$f" Depends Pre-Depends | tr -d "\\n")"; '
    .. "dpkg-query -W -f='${db:Status-Abbrev} ${Version}\\n' \"$p\" 2>/dev/null | sed 's/^/@have /'"
end

-- deb: a .deb file on the host, installed (with apt-get: its dependencies
-- too) unless that version is installed already; `pre`: the output of
-- deb_cmd already run (with the probe, M.run)
local function deb(ctx, args, env, pre)
  local q = ctx.quote
  local file = deb_file(args)
  local res = pre or ctx:run(deb_cmd(ctx, args))
  local out = res.stdout or ""
  if out:find("@missing", 1, true) then
    return { failed = true, msg = "deb: no such file on the host: " .. args.deb }
  end
  local pkg, ver = out:match("@deb (%S+) (%S+)")
  if not pkg then
    return { failed = true, msg = "deb: " .. args.deb .. " is not a Debian package: " .. ctx.chomp(res.stderr or "") }
  end
  local abbrev, have = out:match("@have (%S+)%s+(%S*)")
  if abbrev and abbrev:sub(2, 2) == "i" and have == ver then
    return { changed = false, msg = pkg .. " " .. ver .. " already installed" }
  end
  -- no dependencies: dpkg -i is all apt-get would do, without loading its
  -- cache (as Ansible's apt, which runs dpkg -i once its deps are met)
  local deps = out:match("@deps ([^\n]*)")
  local cmd = (deps and not deps:find("%S")) and ("dpkg --force-confdef --force-confold -i " .. q(file))
    or ("apt-get install -y -q --allow-downgrades " .. q(file))
  if ctx.check_mode then return { changed = true, msg = "would run: " .. cmd } end
  env.LC_ALL = "C"
  local r = ctx:run(cmd, { env = env, stream = true })
  if not r.ok then
    return { failed = true, rc = r.rc, stdout = r.stdout, stderr = r.stderr,
      msg = cmd:match("^%S+") .. " failed: " .. ((r.stderr or ""):match("E: ([^\n]*)")
        or (r.stderr or ""):match("dpkg: error[^\n]*") or ("rc " .. tostring(r.rc))) }
  end
  return { changed = true, stdout = r.stdout, stderr = r.stderr }
end

-- upgrade and autoremove: asked of `apt-get -s` first (its Inst/Remv
-- lines), run only when it would do something
local UPGRADE = { yes = "upgrade", safe = "upgrade --with-new-pkgs", dist = "dist-upgrade", full = "dist-upgrade" }
function M.finish(ctx, args, env, result)
  local steps = {}
  if (args.upgrade or "no") ~= "no" then
    steps[#steps + 1] = { "apt-get " .. UPGRADE[args.upgrade] .. " -y -q", "Inst" }
  end
  if args.autoremove then
    steps[#steps + 1] = { "apt-get autoremove -y -q" .. (args.purge and " --purge" or ""), "Remv" }
  end
  env.LC_ALL = "C"
  for _, st in ipairs(steps) do
    local sim = ctx:run(st[1] .. " -s", { env = env })
    if not sim.ok then
      return { failed = true, rc = sim.rc, stderr = sim.stderr,
        msg = "apt-get failed: " .. ((sim.stderr or ""):match("E: ([^\n]*)") or ("rc " .. tostring(sim.rc))) }
    end
    local would = {}
    for pkg in ("\n" .. (sim.stdout or "")):gmatch("\n" .. st[2] .. " (%S+)") do would[#would + 1] = pkg end
    if #would > 0 then
      result.changed = true
      if ctx.check_mode then
        result.msg = "would run: " .. st[1] .. " (" .. table.concat(would, ", ") .. ")"
      else
        local r = ctx:run(st[1], { env = env, stream = true })
        if not r.ok then
          return { failed = true, rc = r.rc, stdout = r.stdout, stderr = r.stderr,
            msg = st[1] .. " failed: rc " .. r.rc }
        end
        result.stdout, result.stderr = r.stdout, r.stderr
      end
    end
  end
  return result
end

function M.run(ctx, args)
  local state = ({ installed = "present", removed = "absent" })[args.state] or args.state
  local names = args.name or {}
  -- one probe: the tools, the host's clock and the cache's time (Ansible's:
  -- the update-success stamp, else pkgcache.bin). When the cache is not
  -- looked at, the first query (the deb's, or which names are installed)
  -- goes in the same command: the unchanged case is one round trip.
  local first
  if not (args.update_cache or (args.cache_valid_time or 0) > 0) then
    if args.deb then first = deb_cmd(ctx, args)
    elseif #names > 0 and state ~= "latest" then first = status_cmd(ctx, names) end
  end
  -- (CACHE_TIME in braces: its `||` would else take a missing apt-get for a found one)
  local probe = ctx:run("if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null && { "
    .. CACHE_TIME .. "; } && date +%s; then echo @probed" .. (first and ("; " .. first) or "") .. "; else exit 3; fi")
  local pstdout, pre = (probe.stdout or ""):match("^(.-)@probed\n(.*)$")
  if not pstdout then return { failed = true, msg = "apt: this host has no apt-get/dpkg (not Debian-like)" } end
  pre = first and { ok = probe.ok, rc = probe.rc, stdout = pre, stderr = probe.stderr } or nil
  probe.stdout = pstdout
  local env = { DEBIAN_FRONTEND = "noninteractive" }
  local result = { changed = false }
  local mtime, now = probe.stdout:match("^(%d+)%s+(%d+)")
  mtime, now = tonumber(mtime) or 0, tonumber(now) or 0
  local valid = args.cache_valid_time or 0 -- (package calls run with name and state only)
  if args.update_cache or valid > 0 then
    if mtime + valid < now or (args.update_cache and valid == 0) then
      local after = mtime
      if not ctx.check_mode then
        local res = ctx:run("apt-get update -q && " .. CACHE_TIME, { env = env, stream = true })
        if not res.ok then
          return { failed = true, msg = "Failed to update apt cache: " .. ctx.chomp(res.stderr or ""), rc = res.rc }
        end
        after = tonumber((res.stdout or ""):match("(%d+)%s*$")) or mtime
      end
      result.cache_updated = ctx.check_mode or after ~= mtime
      mtime = after
    else
      result.cache_updated = false
    end
    result.changed = result.cache_updated
    result.cache_update_time = mtime
  end
  if args.deb then
    local r = deb(ctx, args, env, pre)
    pre = nil -- it was the deb's
    if r.failed or (#names == 0 and (args.upgrade or "no") == "no" and not args.autoremove) then
      r.changed = r.changed or result.changed
      r.cache_updated, r.cache_update_time = result.cache_updated, result.cache_update_time
      return r
    end
    result.changed = result.changed or r.changed
  end
  if #names == 0 then return M.finish(ctx, args, env, result) end
  local r = (function()
    local todo = {}
    if state == "latest" then
      todo = names -- apt-get -s below tells what is to do
    else
      local installed = status(ctx, names, pre)
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
  end)()
  r.cache_updated, r.cache_update_time = result.cache_updated, result.cache_update_time
  r.changed = r.changed or result.changed
  if r.failed then return r end
  return M.finish(ctx, args, env, r)
end

return M
