-- dnf (and yum, modules/yum.lua): install, upgrade or remove rpm packages
-- with the host's dnf CLI (Ansible's module drives dnf's Python API: the
-- same transactions). One round trip: `rpm -q` says which names are
-- installed, and only when something is to do dnf runs in the same script
-- (present/absent: `dnf -y`, streamed; latest, autoremove, specs rpm -q
-- cannot answer and --check: `dnf --assumeno` resolves the transaction
-- first, its table telling what would be installed, upgraded, removed,
-- and the run follows only then and not under --check).
local M = {
  params = {
    name = { type = "list", aliases = { "pkg" } },
    state = { type = "string", choices = { "absent", "installed", "latest", "present", "removed" } },
    list = { type = "string" },
    enablerepo = { type = "list" },
    disablerepo = { type = "list" },
    conf_file = { type = "string" },
    disable_gpg_check = { type = "boolean", default = false },
    update_cache = { type = "boolean", default = false, aliases = { "expire-cache" } },
    installroot = { type = "string", default = "/" },
    releasever = { type = "string" },
    autoremove = { type = "boolean", default = false },
    exclude = { type = "list" },
    disable_excludes = { type = "string" },
    allowerasing = { type = "boolean", default = false },
    nobest = { type = "boolean", default = false },
    skip_broken = { type = "boolean", default = false },
    install_weak_deps = { type = "boolean", default = true },
    validate_certs = { type = "boolean", default = true },
    sslverify = { type = "boolean", default = true },
    cacheonly = { type = "boolean", default = false },
    download_only = { type = "boolean", default = false },
    download_dir = { type = "string" },
    security = { type = "boolean", default = false },
    bugfix = { type = "boolean", default = false },
    update_only = { type = "boolean", default = false },
    allow_downgrade = { type = "boolean", default = false },
    disable_plugin = { type = "list" },
    enable_plugin = { type = "list" },
    env = { type = "dict" }, -- the task's `environment:` (a proxy for dnf)
    lock_timeout = { type = "integer", default = 30 },  -- dnf waits for its own lock
    install_repoquery = { type = "boolean", default = true }, -- (yum's; nothing to install: dnf has repoquery)
    use_backend = { type = "string", default = "auto", choices = { "auto", "yum", "yum4", "dnf", "dnf4" } },
  },
  required_one_of = { { "name", "list", "update_cache" } },
  mutually_exclusive = { { "name", "list" } },
  check_mode = true,
  check_args = function(args, _, checks)
    for _, n in ipairs(args.name or {}) do
      if n:find(" ", 1, true) and not n:find("[@><=]") then
        return nil, "name: it appears that a space separated string of packages was passed in as an argument ("
          .. n .. "): give a list or a comma separated string"
      end
    end
    if args.autoremove and args.state and args.state ~= "absent" and args.state ~= "removed" then
      return nil, "Autoremove should be used alone or with state=absent"
    end
    return checks.package_names(args.name)
  end,
}

-- dnf's options of the task
local function options(q, args)
  local o = { "-y" }
  local function add(s) o[#o + 1] = s end
  if args.conf_file then add("-c " .. q(args.conf_file)) end
  if args.installroot ~= "/" then add("--installroot=" .. q(args.installroot)) end
  if args.releasever then add("--releasever=" .. q(args.releasever)) end
  if args.disable_gpg_check then add("--nogpgcheck") end
  for _, r in ipairs(args.disablerepo or {}) do add("--disablerepo=" .. q(r)) end
  for _, r in ipairs(args.enablerepo or {}) do add("--enablerepo=" .. q(r)) end
  for _, x in ipairs(args.exclude or {}) do add("--exclude=" .. q(x)) end
  if args.disable_excludes then add("--disableexcludes=" .. q(args.disable_excludes)) end
  for _, p in ipairs(args.disable_plugin or {}) do add("--disableplugin=" .. q(p)) end
  for _, p in ipairs(args.enable_plugin or {}) do add("--enableplugin=" .. q(p)) end
  if args.allowerasing then add("--allowerasing") end
  if args.nobest then add("--nobest") end
  if args.skip_broken then add("--skip-broken") end
  if not args.install_weak_deps then add("--setopt=install_weak_deps=False") end
  if not (args.validate_certs and args.sslverify) then add("--setopt=sslverify=False") end
  if args.cacheonly then add("-C") end
  if args.update_cache then add("--refresh") end
  if args.download_only then add("--downloadonly") end
  if args.download_dir then add("--downloaddir=" .. q(args.download_dir)) end
  if args.security then add("--security") end
  if args.bugfix then add("--bugfix") end
  return table.concat(o, " ")
end

-- a plain name (or name-version, name.arch) that `rpm -q` can answer for
local function simple(n) return n:match("^[%w][%w._+:~-]*$") ~= nil end

-- the rows of dnf's transaction table: "Installed: n-v-r.a" / "Removed: ..."
local SECTIONS = { Installing = "Installed", Upgrading = "Installed", Reinstalling = "Installed",
  Downgrading = "Installed", ["Installing dependencies"] = "Installed", ["Installing weak dependencies"] = "Installed",
  Removing = "Removed", ["Removing dependent packages"] = "Removed", ["Removing unused dependencies"] = "Removed" }
local function transaction(text, download_only)
  local out, action = {}, nil
  for line in (text or ""):gmatch("[^\n]*") do
    local head = line:match("^(%u[%a ]-):$")
    if head then action = SECTIONS[head]
    elseif line:match("^%S") or line == "" then
      if not line:match("^ ") and line ~= "" then action = nil end
    elseif action then
      local n, arch, ver = line:match("^ (%S+)%s+(%S+)%s+(%S+)%s+%S+")
      if n then
        local a = action == "Installed" and download_only and "Downloaded" or action
        out[#out + 1] = a .. ": " .. n .. "-" .. ver .. "." .. arch
      end
    end
  end
  return out
end
M.transaction = transaction

local function listing(ctx, args, o)
  local q = ctx.quote
  local what = args.list
  if what == "repos" or what == "repositories" then
    local r = ctx:run("LC_ALL=C dnf " .. o .. " -q repolist --enabled", { env = args.env })
    if not r.ok then return { failed = true, rc = r.rc, msg = ctx.chomp(r.stdout or "") } end
    local res = {}
    for l in (r.stdout or ""):gmatch("[^\n]+") do
      local id = l:match("^(%S+)")
      if id and id ~= "repo" and not l:find("^Unable to detect") then
        res[#res + 1] = { repoid = id, state = "enabled" }
      end
    end
    return { changed = false, msg = "", results = res }
  end
  local sel = ({ installed = "--installed", updates = "--upgrades", upgrades = "--upgrades", available = "" })[what]
  local rq = "LC_ALL=C dnf " .. o .. " -q repoquery --qf "
    .. q("%{name}|%{epoch}|%{version}|%{release}|%{arch}|%{repoid}|%{installtime}") .. " "
  -- a package spec: what is installed and what the repositories have (Ansible's best query)
  local cmd = sel and (rq .. sel) or (rq .. "--installed -- " .. q(what) .. " && " .. rq .. "-- " .. q(what))
  local r = ctx:run(cmd, { env = args.env })
  if not r.ok then return { failed = true, rc = r.rc, msg = ctx.chomp((r.stderr or "") .. (r.stdout or "")) } end
  local res = {}
  for l in (r.stdout or ""):gmatch("[^\n]+") do
    local name, epoch, version, release, arch, repo, itime =
      l:match("^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$")
    if name then
      local envra = epoch .. ":" .. name .. "-" .. version .. "-" .. release .. "." .. arch
      res[#res + 1] = { name = name, epoch = epoch, version = version, release = release, arch = arch, repo = repo,
        envra = envra, nevra = envra, yumstate = itime == "" and "available" or "installed" }
    end
  end
  return { changed = false, msg = "", results = res }
end

function M.run(ctx, args)
  local q = ctx.quote
  local has = ctx:run("command -v dnf >/dev/null 2>&1 && command -v rpm >/dev/null 2>&1 && echo yes || echo no")
  if not (has.stdout or ""):find("yes", 1, true) then
    return { failed = true, results = {}, msg = "dnf: dnf (and rpm) not found on the host: it is not an rpm host"
      .. " (on Debian: apt-get install dnf rpm)" }
  end
  local o = options(q, args)
  if args.list then return listing(ctx, args, o) end
  local state = ({ installed = "present", removed = "absent" })[args.state]
    or args.state or (args.autoremove and "absent" or "present")
  local names = args.name or {}
  if #names == 0 then
    if args.autoremove then
      names = nil
    else -- update_cache alone
      if not ctx.check_mode then
        local r = ctx:run("LC_ALL=C dnf " .. o .. " makecache 2>&1", { stream = true, env = args.env })
        if not r.ok then return { failed = true, rc = r.rc, results = {}, msg = ctx.chomp(r.stdout or "") } end
      end
      return { changed = false, msg = "Cache updated", results = {}, rc = 0 }
    end
  end
  -- the probe: which names are there (rpm -q), then dnf's transaction
  -- (--assumeno) for the rest, all in one script
  local root = args.installroot ~= "/" and (" --root " .. q(args.installroot)) or ""
  local s = { "export LC_ALL=C", "have= miss= other=" }
  for _, n in ipairs(names or {}) do
    if simple(n) then
      s[#s + 1] = "if rpm -q --quiet" .. root .. " -- " .. q(n) .. "; then have=\"$have \"" .. q(q(n))
        .. "; else miss=\"$miss \"" .. q(q(n)) .. "; fi"
    else
      s[#s + 1] = "other=\"$other \"" .. q(q(n))
    end
  end
  -- present/absent of names, not under --check: the probe runs dnf itself
  -- (-y) for what rpm -q found to do, one round trip in all
  local direct = not ctx.check_mode and names ~= nil and (state == "present" or state == "absent")
  local D = "dnf " .. (direct and o or o:gsub("^%-y", "--assumeno")) .. " "
  if names == nil then
    s[#s + 1] = "echo @@SIM; " .. D .. "autoremove 2>&1; echo \"@@RC $?\""
  elseif state == "absent" then
    s[#s + 1] = "set -- $have $other; [ $# -gt 0 ] || exit 0"
    s[#s + 1] = "echo @@SIM; eval \"" .. D .. "remove -- $*\" 2>&1; echo \"@@RC $?\""
  elseif state == "latest" then
    s[#s + 1] = "if [ -n \"$miss$other\" ]; then echo @@SIM; eval \"" .. D .. "install -- $miss $other\" 2>&1;"
      .. " echo \"@@RC $?\"; fi"
    s[#s + 1] = "if [ -n \"$have\" ]; then echo @@SIM; eval \"" .. D .. "upgrade -- $have\" 2>&1; echo \"@@RC $?\"; fi"
  else
    s[#s + 1] = "set -- $miss $other; [ $# -gt 0 ] || exit 0"
    s[#s + 1] = "echo @@SIM; eval \"" .. D .. "install -- $*\" 2>&1; echo \"@@RC $?\""
  end
  local probe = ctx:run(table.concat(s, "\n"), { env = args.env, stream = direct })
  local out = probe.stdout or ""
  local results, failures = {}, {}
  -- a simulation: rc 0 nothing to do, rc 1 and "Operation aborted." a
  -- transaction (its table), anything else an error (its words)
  for sim, rc in out:gmatch("@@SIM\n(.-)@@RC (%d+)") do
    for _, r in ipairs(transaction(sim, args.download_only)) do results[#results + 1] = r end
    local missing = false
    for n in sim:gmatch("No match for argument: ([^\n]+)") do
      failures[#failures + 1], missing = "No package " .. n .. " available.", true
    end
    if rc ~= "0" and (direct or not sim:find("Operation aborted.", 1, true)) and not missing then
      local e = ("\n" .. sim):match("\nError:%s*(.-)%s*$")
      if not e then -- no Error: line (a GPG key missing): the last lines that are not dnf's release warning
        e = sim:gsub("Unable to detect release version[^\n]*\n", ""):gsub("(Problem repository: %S+).*$", "%1")
          :gsub("^%s+", ""):gsub("%s+$", "")
      end
      failures[#failures + 1] = e
    end
  end
  if #failures > 0 and (state ~= "absent" or direct and not failures[1]:find("^No package ")) then
    return { failed = true, changed = false, msg = "Failed to install some of the specified packages",
      failures = failures, results = {}, rc = 1 }
  end
  if #results == 0 then return { changed = false, msg = "Nothing to do", results = {}, rc = 0 } end
  local result = { changed = true, msg = "", results = results, rc = 0 }
  if direct then return result end
  if ctx.check_mode then
    result.msg = "Check mode: No changes made, but would have if not in check mode"
    return result
  end
  local cmd
  if names == nil then cmd = "dnf " .. o .. " autoremove"
  else
    local qn = {}
    for i, n in ipairs(names) do qn[i] = q(n) end
    local verb = state == "absent" and "remove" or "install"
    if state == "latest" then
      -- the installed ones upgraded, the others installed, in one script
      cmd = "set -e; " .. table.concat(s, "\n", 1, #names + 2) .. "\n"
        .. "if [ -n \"$miss$other\" ]; then eval \"dnf " .. o .. " install -- $miss $other\"; fi\n"
        .. "if [ -n \"$have\" ]; then eval \"dnf " .. o .. " upgrade -- $have\"; fi"
    else
      cmd = "dnf " .. o .. " " .. verb .. " -- " .. table.concat(qn, " ")
    end
  end
  local r = ctx:run("export LC_ALL=C\n" .. cmd, { stream = true, env = args.env })
  if not r.ok then
    return { failed = true, rc = r.rc, results = results, stdout = r.stdout, stderr = r.stderr,
      msg = "dnf failed: " .. ctx.chomp(((r.stdout or "") .. "\n" .. (r.stderr or "")):match("Error: ([^\n]*)")
        or ("rc " .. tostring(r.rc))) }
  end
  return result
end

return M
