-- package: install or remove packages with the host's package manager, as
-- Ansible's package: `use: auto` takes the host's facts (ansible_facts.pkg_mgr
-- or ansible_pkg_mgr, when gathered or set), else finds it on the host as
-- Ansible's pkg_mgr fact does (the last of yum, dnf, apt-get, zypper,
-- pacman, apk there; a Debian-like host is apt whatever else it has, a
-- RedHat-like one dnf when it has it); then the task is that module's (apt,
-- dnf, yum: luasible's own) with the module's defaults; apk is run here.

local APK = { test = "apk info -e %s", install = "apk add %s", remove = "apk del %s" }

-- Ansible's pkg_mgr fact, in one command
local DETECT = [[
m=unknown
for p in yum:/usr/bin/yum dnf:/usr/bin/dnf apt:/usr/bin/apt-get zypper:/usr/bin/zypper \
    pacman:/usr/bin/pacman apk:/sbin/apk; do
  [ -e "${p#*:}" ] && m=${p%%:*}
done
ID= ID_LIKE=; [ -r /etc/os-release ] && . /etc/os-release
case " $ID $ID_LIKE " in
  *" debian "*|*" ubuntu "*) m=apt ;;
  *" rhel "*|*" fedora "*|*" centos "*) [ -e /usr/bin/dnf ] && m=dnf ;;
esac
echo "$m"
]]

local function fact(vars)
  local f = type(vars) == "table" and vars.ansible_facts
  local v = type(f) == "table" and f.pkg_mgr or (type(vars) == "table" and vars.ansible_pkg_mgr)
  if type(v) == "string" and v ~= "" and v ~= "unknown" then return v end
end

local function apk(ctx, args)
  local absent = args.state == "absent" or args.state == "removed"
  local todo = {}
  for _, n in ipairs(args.name) do
    local present = select(2, ctx:sh(APK.test:format(ctx.quote(n)) .. " >/dev/null 2>&1")) == 0
    if present == absent then todo[#todo + 1] = ctx.quote(n) end
  end
  if #todo == 0 then return { changed = false } end
  local cmd = (absent and APK.remove or APK.install):format(table.concat(todo, " "))
  if ctx.check_mode then return { changed = true, msg = "would run: " .. cmd } end
  local res = ctx:run(cmd, { stream = true })
  return { changed = res.ok, failed = not res.ok, rc = res.rc, stdout = res.stdout, stderr = res.stderr }
end

return {
  params = {
    name = { type = "list", required = true, aliases = { "pkg" } },
    state = { type = "string", default = "present",
      choices = { "present", "absent", "installed", "removed", "latest" } },
    use = { type = "string", default = "auto" },
  },
  check_mode = true,
  check_args = function(args, _, checks) return checks.package_names(args.name) end,
  run = function(ctx, args)
    local use = args.use
    if use == "auto" then use = fact(ctx.vars) or ctx:sh(DETECT) end
    if use == "apk" then return apk(ctx, args) end
    if use ~= "apt" and use ~= "dnf" and use ~= "yum" then
      return { failed = true, msg = "package: the host's package manager is " .. tostring(use)
        .. ": luasible's package runs apt, dnf, yum or apk (give `use:`)" }
    end
    local mod, err = ctx:module(use)
    if not mod then return { failed = true, msg = "package: " .. tostring(err) } end
    local a = {}
    for k, p in pairs(mod.params) do if p.default ~= nil then a[k] = p.default end end
    a.name, a.state = args.name, args.state
    return mod.run(ctx, a)
  end,
}
