-- pip: Python packages on the host, in its system Python or a virtualenv
-- (created when missing, with virtualenv_command). Arguments and result as
-- Ansible's. Better than Ansible's in one place: for state=present/absent
-- with names, the host's Python first tells what is installed and whether
-- it meets each requirement (its own `packaging`, or pip's copy of it):
-- nothing to do is one round trip and no `pip install` at all. latest,
-- forcereinstall and requirements files run pip, as Ansible's, and are
-- changed when pip says "Successfully installed" (requirements: when
-- `pip freeze` differs before and after).
local M = {
  params = {
    name = { type = "list" },
    version = { type = "string" },
    requirements = { type = "string" },
    virtualenv = { type = "path" },
    virtualenv_site_packages = { type = "boolean", default = false },
    virtualenv_command = { type = "string", default = "virtualenv" },
    virtualenv_python = { type = "string" },
    state = { type = "string", default = "present", choices = { "present", "absent", "latest", "forcereinstall" } },
    extra_args = { type = "string" },
    editable = { type = "boolean", default = false },
    chdir = { type = "path" },
    executable = { type = "path" },
    umask = { type = "string" },
  },
  required_one_of = { { "name", "requirements" } },
  mutually_exclusive = { { "name", "requirements" }, { "executable", "virtualenv" } },
  check_mode = true,
}

function M.check_args(args)
  if args.state == "latest" and args.version then return nil, "version: is incompatible with state=latest" end
  if args.version and #(args.name or {}) > 1 then
    return nil, "version: ambiguous when installing several packages (put a specifier next to each name)"
  end
  if args.version and (args.name or {})[1] and args.name[1]:find("[<>=!~]") then
    return nil, "version: conflicts with the version specifier in name '" .. args.name[1] .. "'"
  end
  for _, n in ipairs(args.name or {}) do
    if tostring(n):match("^%-") then return nil, "name: '" .. n .. "' looks like an option, not a package" end
  end
  if args.umask and not args.umask:match("^[0-7]+$") then return nil, "umask: must be an octal integer" end
  return true
end

-- what the host's Python says of each requirement: @have / @missing / @mismatch
local PY_CHECK = [[
import sys
from importlib import metadata
try:
    from packaging.requirements import Requirement
except ImportError:
    from pip._vendor.packaging.requirements import Requirement
for spec in sys.argv[1:]:
    try:
        r = Requirement(spec)
    except Exception as e:
        print("@bad " + spec); continue
    try:
        v = metadata.version(r.name)
    except metadata.PackageNotFoundError:
        print("@missing " + spec); continue
    ok = not r.specifier or r.specifier.contains(v, prereleases=True)
    print(("@have " if ok else "@mismatch ") + spec)
]]

local function specs(args)
  local out = {}
  for _, n in ipairs(args.name or {}) do
    n = tostring(n)
    if args.version then
      n = n .. (args.version:match("^%s*[<>=!~]") and args.version or ("==" .. args.version))
    end
    out[#out + 1] = n
  end
  return out
end

local function words(ctx, s, what)
  if not s or s == "" then return {} end
  local w, err = ctx.argv(s)
  if not w then return nil, what .. ": " .. tostring(err) end
  return w
end

function M.run(ctx, args)
  local q = ctx.quote
  local venv = args.virtualenv
  if venv and args.chdir and venv:sub(1, 1) ~= "/" then venv = args.chdir .. "/" .. venv end
  local vcmd, err = words(ctx, args.virtualenv_command, "virtualenv_command")
  if not vcmd then return { failed = true, msg = err } end
  local extra
  extra, err = words(ctx, args.extra_args, "extra_args")
  if not extra then return { failed = true, msg = err } end
  if args.editable and not args.extra_args then extra[#extra + 1] = "-e" end
  local want = specs(args)
  local qv = {}
  for i, w in ipairs(vcmd) do qv[i] = q(w) end
  if args.virtualenv_site_packages then qv[#qv + 1] = "--system-site-packages" end
  -- virtualenv takes -p; `python3 -m venv` has no such option (its python is the one running it)
  if args.virtualenv_python and vcmd[3] ~= "venv" then qv[#qv + 1] = "-p " .. q(args.virtualenv_python) end
  local qw = {}
  for i, w in ipairs(want) do qw[i] = q(w) end
  local lines = {
    "cd " .. q(args.chdir or "/tmp") .. " || exit 1",
    args.umask and ("umask " .. q(args.umask)) or ":",
    "V=" .. q(venv or ""), "EXE=" .. q(args.executable or ""), "CHECK=" .. (ctx.check_mode and 1 or 0),
    'if [ -n "$V" ] && [ ! -e "$V/bin/activate" ]; then',
    '  echo "@venvnew"; [ $CHECK = 1 ] && exit 0', -- (as Ansible's: --check asks no more)
    "  command -v " .. q(vcmd[1]) .. ' >/dev/null 2>&1 || { echo "@novenv"; exit 0; }',
    "  " .. table.concat(qv, " ") .. ' "$V" >&2 || { echo "@venvfailed"; exit 0; }',
    "fi",
    'if [ -n "$V" ]; then PY=$V/bin/python; PIP="$V/bin/pip"',
    'elif [ -n "$EXE" ]; then PY=; PIP=$EXE',
    "elif command -v pip3 >/dev/null 2>&1; then PY=python3; PIP=pip3",
    "elif command -v pip >/dev/null 2>&1; then PY=python3; PIP=pip",
    'elif command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then',
    '  PY=python3; PIP="python3 -m pip"',
    'else echo "@nopip"; exit 0; fi',
    'echo "@pip $PIP"',
  }
  if #want > 0 and (args.state == "present" or args.state == "absent") then
    lines[#lines + 1] = '[ -n "$PY" ] && "$PY" -c ' .. q(PY_CHECK) .. " " .. table.concat(qw, " ")
  end
  local res = ctx:run(table.concat(lines, "\n"))
  local out = res.stdout or ""
  local result = { changed = false, name = args.name, version = args.version, state = args.state,
    requirements = args.requirements, virtualenv = venv }
  local function has(marker) return out:find("@" .. marker, 1, true) ~= nil end
  if has("novenv") then
    return { failed = true, msg = "pip: virtualenv_command '" .. vcmd[1] .. "' is not on the host (needed to create "
      .. venv .. ")" }
  end
  if has("venvfailed") then return { failed = true, msg = "pip: cannot create the virtualenv " .. venv,
    stderr = ctx.chomp(res.stderr) } end
  local venv_new = has("venvnew")
  if ctx.check_mode and venv_new then result.changed = true return result end
  if has("nopip") then return { failed = true, msg = "pip: the host has no pip (pip3, pip or python3 -m pip)" } end
  local pip = out:match("@pip ([^\n]*)")
  local status, todo = {}, {}
  local KINDS = { have = true, missing = true, mismatch = true, bad = true }
  for kind, spec in out:gmatch("@(%a+) ([^\n]*)") do if KINDS[kind] then status[spec] = kind end end
  local checked = next(status) ~= nil
  for _, w in ipairs(want) do
    if status[w] == "bad" then
      return { failed = true, msg = "name: '" .. w .. "' is not a requirement pip understands" }
    end
    if args.state == "absent" then
      if status[w] ~= "missing" then todo[#todo + 1] = w end
    elseif status[w] ~= "have" then
      todo[#todo + 1] = w
    end
  end
  if checked and #todo == 0 then
    result.changed = venv_new
    return result
  end
  if ctx.check_mode then
    -- as Ansible's: extra_args, a requirements file or latest cannot be told: changed
    result.changed = #todo > 0 or not checked
    return result
  end
  local sub = ({ present = "install", absent = "uninstall -y", latest = "install -U",
    forcereinstall = "install -U --force-reinstall" })[args.state]
  local cmd = { pip:gsub("^(%S+)", q) .. " " .. sub }
  for _, w in ipairs(extra) do cmd[#cmd + 1] = q(w) end
  local pkgs = checked and todo or want
  if args.requirements then cmd[#cmd + 1] = "-r " .. q(args.requirements)
  else for _, w in ipairs(pkgs) do cmd[#cmd + 1] = q(w) end end
  local line = table.concat(cmd, " ")
  local freeze = pip:gsub("^(%S+)", q) .. " freeze --all 2>/dev/null"
  local script = line
  if args.requirements then
    script = "cd " .. q(args.chdir or "/tmp") .. " && b=$(" .. freeze .. ") && " .. line
      .. ' && a=$(' .. freeze .. ') && { [ "$a" = "$b" ] && echo "@@same" || echo "@@differs"; }'
  elseif args.chdir then
    script = "cd " .. q(args.chdir) .. " && " .. line
  end
  if venv then script = "PATH=" .. q(venv .. "/bin") .. ':"$PATH"; ' .. script end
  local r = ctx:run(script, { stream = true, env = { PIP_DISABLE_PIP_VERSION_CHECK = "1" } })
  result.cmd, result.stdout, result.stderr = line, ctx.chomp(r.stdout), ctx.chomp(r.stderr)
  local so = r.stdout or ""
  if not r.ok and not (args.state == "absent" and (so .. (r.stderr or "")):find("not installed", 1, true)) then
    result.failed = true
    result.msg = "stdout: " .. ctx.chomp(so) .. "\n\n:stderr: " .. ctx.chomp(r.stderr or "")
    return result
  end
  if args.state == "absent" then result.changed = so:find("Successfully uninstalled", 1, true) ~= nil
  elseif args.requirements then result.changed = so:find("@@differs", 1, true) ~= nil
  else result.changed = so:find("Successfully installed", 1, true) ~= nil end
  result.changed = result.changed or venv_new
  return result
end

return M
