-- gem: Ruby gems with the host's gem, from a repository or a local .gem
-- file (gem_source). Arguments and result as Ansible's community.general.gem.
-- One remote command finds gem and lists the installed versions (with
-- state=latest: the repository's newest too): nothing to do is one round
-- trip; an install or uninstall is a second one, its output streamed.
local M = {
  params = {
    name = { type = "string", required = true },
    executable = { type = "path" },
    gem_source = { type = "path" },
    include_dependencies = { type = "boolean", default = true },
    repository = { type = "string", aliases = { "source" } },
    state = { type = "string", default = "present", choices = { "present", "absent", "latest" } },
    user_install = { type = "boolean", default = true },
    install_dir = { type = "path" },
    bindir = { type = "path" },
    norc = { type = "boolean", default = true },
    pre_release = { type = "boolean", default = false },
    include_doc = { type = "boolean", default = false },
    env_shebang = { type = "boolean", default = false },
    version = { type = "string" },
    build_flags = { type = "string" },
    force = { type = "boolean", default = false },
    env = { type = "dict" }, -- more environment (a task's `environment:` reaches every command: module/context.lua)
  },
  mutually_exclusive = { { "gem_source", "repository" }, { "gem_source", "version" } },
  check_mode = true,
}

function M.check_args(args)
  if args.version and args.state == "latest" then return nil, "version: cannot be given with state=latest" end
  if args.gem_source and args.state == "latest" then
    return nil, "gem_source: cannot maintain state=latest when installing from local source"
  end
  if args.user_install and args.install_dir then return nil, "install_dir: requires user_install=false" end
  if args.name:match("^%-") or not args.name:match("^[%w._-]+$") then
    return nil, "name: '" .. args.name .. "' is not a gem name"
  end
  if args.version and args.version:match("^%-") then
    return nil, "version: '" .. args.version .. "' looks like an option"
  end
  return true
end

-- "name (1.0, 0.9 ruby)" / "name (default: 1.0)" -> { "1.0", "0.9" }, as Ansible's parser
local function versions(text, name)
  local out = {}
  for line in (text or ""):gmatch("[^\n]+") do
    local n, vs = line:match("^(%S+)%s+%((.+)%)")
    if n == name then
      vs = vs:gsub("^default: ", "")
      for v in (vs .. ", "):gmatch("(.-), ") do out[#out + 1] = v:match("^(%S+)") end
    end
  end
  return out
end

local RB_LIST = [[v = Gem::Specification.find_all_by_name(ARGV[0]).map(&:version).uniq.sort.reverse
puts ARGV[0] + " (" + v.map(&:to_s).join(", ") + ")" unless v.empty?]]

function M.run(ctx, args)
  local q = ctx.quote
  local exe, failed = ctx.executable(args.executable or "gem", "@nogem")
  if not exe then return failed end
  local GEM = exe.line
  local norc = args.norc and " --norc" or ""
  local env = {}
  for k, v in pairs(args.env or {}) do env[k] = v end
  local list_env = args.install_dir and ("GEM_HOME=" .. q(args.install_dir) .. " ") or ""
  local pattern = q("^" .. args.name:gsub("%.", "\\.") .. "$")
  local lines = {
    exe.probe,
    args.gem_source and ("[ -f " .. q(args.gem_source) .. ' ] || { echo "@nosrc"; exit 0; }') or ":",
    -- the installed versions from gem's own Ruby (its #! line) with rubygems
    -- loaded (~0.07 s of CPU) rather than `gem list` (~0.25 s); it reads no
    -- .gemrc, as --norc: without norc, or no #! line, `gem list` says
    "G=$(command -v " .. exe.words[1] .. "); R=$(sed -n '1s/^#![[:space:]]*//p' \"$G\" 2>/dev/null)",
    "echo @local",
    (args.norc and 'if [ -n "$R" ]; then ' .. list_env .. '$R -e ' .. q(RB_LIST) .. " " .. q(args.name)
      .. " || exit 1; else " or "")
      .. list_env .. GEM .. " list --local" .. norc .. " " .. pattern .. " || exit 1" .. (args.norc and "; fi" or ""),
    "echo @end",
  }
  if args.state == "latest" then
    lines[#lines + 1] = "echo @remote; " .. list_env .. GEM .. " list --remote" .. norc
      .. (args.repository and (" --source " .. q(args.repository)) or "")
      .. (args.pre_release and " --pre" or "") .. " " .. pattern .. " || exit 1; echo @end"
  end
  local res = ctx:run(table.concat(lines, "\n"), { env = env })
  local out = res.stdout or ""
  local missing = exe:missing(out, "gem", "install ruby/rubygems")
  if missing then return missing end
  if out:find("@nosrc", 1, true) then
    return { failed = true, msg = "gem_source: no such file on the host: " .. args.gem_source }
  end
  if not res.ok then
    return { failed = true, rc = res.rc, msg = "gem list failed: " .. ctx.chomp(res.stderr or "") }
  end
  local version = args.version
  if args.state == "latest" then
    version = versions(out:match("@remote\n(.-)@end"), args.name)[1]
    if not version then
      return { failed = true, msg = "gem: no gem '" .. args.name .. "' in the repository" }
    end
  end
  local have = versions(out:match("@local\n(.-)@end"), args.name)
  local exists = #have > 0
  if version then
    exists = false
    for _, v in ipairs(have) do if v == version then exists = true end end
  end
  local result = { changed = false, name = args.name, state = args.state, version = version }
  local todo = (args.state == "absent") == exists
  if not todo then return result end
  result.changed = true
  if ctx.diff then
    local after = {}
    if args.state == "absent" then
      for _, v in ipairs(have) do if version and v ~= version then after[#after + 1] = v end end
    else
      for _, v in ipairs(have) do after[#after + 1] = v end
      after[#after + 1] = version or args.gem_source or "(newest)"
    end
    result.diff = ctx:diff_result({ name = args.name, versions = have }, { name = args.name, versions = after })
  end
  local cmd = { GEM }
  if args.state == "absent" then
    cmd[#cmd + 1] = "uninstall" .. norc
    if args.install_dir then cmd[#cmd + 1] = "--install-dir " .. q(args.install_dir) end
    if args.bindir then cmd[#cmd + 1] = "--bindir " .. q(args.bindir) end
    cmd[#cmd + 1] = version and ("--version " .. q(version)) or "--all"
    cmd[#cmd + 1] = "--executable"
    if args.force then cmd[#cmd + 1] = "--force" end
    cmd[#cmd + 1] = q(args.name)
    if args.install_dir then env.GEM_HOME = args.install_dir end
  else
    cmd[#cmd + 1] = "install" .. norc
    if version then cmd[#cmd + 1] = "--version " .. q(version) end
    if args.repository then cmd[#cmd + 1] = "--source " .. q(args.repository) end
    if not args.include_dependencies then cmd[#cmd + 1] = "--ignore-dependencies" end
    cmd[#cmd + 1] = args.user_install and "--user-install" or "--no-user-install"
    if args.install_dir then cmd[#cmd + 1] = "--install-dir " .. q(args.install_dir) end
    if args.bindir then cmd[#cmd + 1] = "--bindir " .. q(args.bindir) end
    if args.pre_release then cmd[#cmd + 1] = "--pre" end
    if not args.include_doc then cmd[#cmd + 1] = "--no-document" end
    if args.env_shebang then cmd[#cmd + 1] = "--env-shebang" end
    cmd[#cmd + 1] = q(args.gem_source or args.name)
    if args.build_flags then cmd[#cmd + 1] = "-- " .. q(args.build_flags) end
    if args.force then cmd[#cmd + 1] = "--force" end
  end
  local line = table.concat(cmd, " ")
  result.cmd = line
  if ctx.check_mode then return result end
  local r = ctx:run(line, { stream = true, env = env })
  result.stdout, result.stderr = ctx.chomp(r.stdout), ctx.chomp(r.stderr)
  if not r.ok then
    result.failed, result.changed, result.rc = true, false, r.rc
    result.msg = "gem " .. (args.state == "absent" and "uninstall" or "install") .. " failed: "
      .. ctx.output_of(r)
  end
  return result
end

return M
