-- npm: node.js packages in a project folder (`path`) or globally, with the
-- host's npm. Arguments as Ansible's community.general.npm. What is there
-- is read from `npm ls --json` (with latest: `npm outdated --json` too) in
-- the same remote command that finds npm and the folder: nothing to do is
-- one round trip. `ci` runs `npm ci` (always a change, as Ansible's).
-- Deliberate differences (docs/modules/npm.md): --check creates no folder;
-- latest installs NAME@latest (Ansible's `npm update` keeps package.json's
-- range) and is changed only when the version moves; a version range is
-- changed only when the installed version moves.
local M = {
  params = {
    name = { type = "string" },
    path = { type = "path" },
    version = { type = "string" },
    global = { type = "boolean", default = false },
    production = { type = "boolean", default = false },
    executable = { type = "path" },
    registry = { type = "string" },
    state = { type = "string", default = "present", choices = { "present", "absent", "latest" } },
    ignore_scripts = { type = "boolean", default = false },
    unsafe_perm = { type = "boolean", default = false },
    ci = { type = "boolean", default = false },
    no_optional = { type = "boolean", default = false },
    no_bin_links = { type = "boolean", default = false },
    env = { type = "dict" }, -- more environment (a task's `environment:` reaches every command: module/context.lua)
  },
  check_mode = true,
}

function M.check_args(args)
  if not args.path and not args.global then return nil, "path: must be specified when not using global" end
  if args.state == "absent" and not args.name then
    return nil, "name: uninstalling a package is only available for named packages"
  end
  if args.name and args.name:match("^%-") then return nil, "name: '" .. args.name .. "' looks like an option" end
  if args.version and args.version:match("^%-") then
    return nil, "version: '" .. args.version .. "' looks like an option"
  end
  if args.registry and not args.registry:match("^%a[%w+.-]*://") then
    return nil, "registry: '" .. args.registry .. "' is not a URL"
  end
  return true
end

local PJ_CHECK = [[
const fs = require("fs"), path = require("path");
const npmdir = path.join(path.dirname(fs.realpathSync(process.argv[1])), "..");
const semver = require(require.resolve("semver", { paths: [npmdir] }));
const pj = JSON.parse(fs.readFileSync("package.json", "utf8"));
const deps = Object.assign({}, process.argv[2] === "1" ? {} : pj.devDependencies, pj.dependencies);
for (const [n, range] of Object.entries(deps)) {
  if (!semver.validRange(range)) process.exit(1);
  const v = JSON.parse(fs.readFileSync(path.join("node_modules", n, "package.json"), "utf8")).version;
  if (!semver.satisfies(v, range)) process.exit(1);
}]]

local GLOBAL_CHECK = [[
const fs = require("fs"), path = require("path"), os = require("os");
for (const k of Object.keys(process.env)) if (/^npm_config_(prefix|userconfig|globalconfig)$/i.test(k)) process.exit(1);
const P = path.dirname(path.dirname(process.execPath));
const npmdir = path.join(path.dirname(fs.realpathSync(process.argv[1])), "..");
for (const f of [path.join(os.homedir(), ".npmrc"), path.join(P, "etc", "npmrc"), path.join(npmdir, "npmrc")]) {
  let t = "";
  try { t = fs.readFileSync(f, "utf8"); } catch (e) { continue; }
  if (/^\s*prefix\s*=/m.test(t)) process.exit(1);
}
const pj = path.join(P, "lib", "node_modules", process.argv[2], "package.json");
process.stdout.write(String(JSON.parse(fs.readFileSync(pj, "utf8")).version));]]

local function exact(v) return v and v:match("^v?%d+%.%d+%.%d+[%w.+-]*$") ~= nil end

local function decode(ctx, text)
  if not text or not text:find("%S") then return {} end
  local v = ctx.eval({ vars = { npm_json = text } }, "npm_json | from_json")
  return type(v) == "table" and v or {}
end

function M.run(ctx, args)
  local q = ctx.quote
  local exe, failed = ctx.executable(args.executable or "npm", "@nonpm")
  if not exe then return failed end
  local NPM = exe.line
  -- Ansible's flags, in its order
  local function flags(sub, pkg)
    local f = { NPM, sub }
    if args.global then f[#f + 1] = "--global" end
    if args.production and (sub == "install" or sub == "update" or sub == "ci") then f[#f + 1] = "--production" end
    if args.ignore_scripts then f[#f + 1] = "--ignore-scripts" end
    if args.unsafe_perm then f[#f + 1] = "--unsafe-perm" end
    if pkg then f[#f + 1] = q(pkg) end
    if args.registry then f[#f + 1] = "--registry " .. q(args.registry) end
    if args.no_optional then f[#f + 1] = "--no-optional" end
    if args.no_bin_links then f[#f + 1] = "--no-bin-links" end
    return table.concat(f, " ")
  end
  local name, state = args.name, args.state
  local result = { changed = false, name = name, version = args.version, path = args.path, state = state }
  local ls = flags("ls --json --depth=0")
  local lines = {
    exe.probe,
    "P=" .. q(args.path or ""),
    'if [ -n "$P" ]; then',
    '  if [ ! -e "$P" ]; then ' .. (ctx.check_mode and 'echo "@nopath"; exit 0' or 'mkdir -p "$P" || exit 1') .. "; fi",
    '  [ -d "$P" ] || { echo "@notdir"; exit 0; }',
    '  cd "$P" || exit 1',
    "fi",
  }
  -- the fast path (a named package in a folder, present/absent, an exact or no
  -- version, the default npm): its node_modules/NAME/package.json read by node
  -- (~0.08 s of CPU) settles it without `npm ls` (~0.5 s); else npm ls decides
  local fast = name and args.path and not args.global and not args.executable and state ~= "latest"
  if fast and not args.ci and (not args.version or exact(args.version)) then
    local want_v = args.version and args.version:gsub("^v", "") or ""
    local js = "try{process.stdout.write(String(require(process.argv[1]).version))}catch(e){}"
    lines[#lines + 1] = "F=$(node -e " .. q(js) .. " " .. q("./node_modules/" .. name .. "/package.json")
      .. " 2>/dev/null)"
    if state == "absent" then
      lines[#lines + 1] = "[ -e " .. q("node_modules/" .. name) .. ' ] || { echo "@settled"; exit 0; }'
    else
      lines[#lines + 1] = 'W=' .. q(want_v) .. '; [ -n "$F" ] && { [ -z "$W" ] || [ "$F" = "$W" ]; } && '
        .. '{ echo "@settled $F"; exit 0; }'
    end
  end
  -- global, present: the package.json under npm's default global root
  -- (PREFIX/lib/node_modules, PREFIX = node's ../..) when nothing sets
  -- another prefix (npm_config_prefix, a prefix= in ~/.npmrc, PREFIX/etc/npmrc
  -- or npm's builtin npmrc); else npm ls -g
  if name and args.global and not args.executable and state == "present" and not args.ci
    and (not args.version or exact(args.version)) then
    local want_v = args.version and args.version:gsub("^v", "") or ""
    lines[#lines + 1] = "F=$(node -e " .. q(GLOBAL_CHECK) .. ' "$(command -v npm)" ' .. q(name) .. " 2>/dev/null)"
      .. '; W=' .. q(want_v) .. '; [ -n "$F" ] && { [ -z "$W" ] || [ "$F" = "$W" ]; } && '
      .. '{ echo "@settled $F"; exit 0; }'
  end
  -- a package.json folder (present, no name): settled when every dependency
  -- (devDependencies too unless production) is in node_modules at a version
  -- its range allows, by npm's own semver; anything else (a git or file:
  -- spec, no semver) is left to npm ls
  if not name and args.path and not args.global and not args.executable and state == "present" and not args.ci then
    lines[#lines + 1] = "node -e " .. q(PJ_CHECK) .. ' "$(command -v npm)" ' .. (args.production and "1" or "0")
      .. ' 2>/dev/null && { echo "@settled"; exit 0; }'
  end
  lines[#lines + 1] = "echo @ls; " .. ls .. " 2>/dev/null; echo; echo @end"
  if state == "latest" and not args.ci then
    lines[#lines + 1] = "echo @outdated; " .. flags("outdated --json", name) .. " 2>/dev/null; echo; echo @end"
  end
  if args.ci then lines = { table.unpack(lines, 1, 7) } end
  local res = ctx:run(table.concat(lines, "\n"), { env = args.env })
  local out = res.stdout or ""
  local missing = exe:missing(out, "npm", "install node.js and npm")
  if missing then return missing end
  if out:find("@notdir", 1, true) then return { failed = true, msg = "path " .. args.path .. " is not a directory" } end
  if not res.ok then return { failed = true, msg = "npm: " .. ctx.chomp(res.stderr or ""), rc = res.rc } end
  if out:find("@settled", 1, true) then return result end -- already as asked: unchanged
  local nopath = out:find("@nopath", 1, true) ~= nil
  local cd = args.path and ("cd " .. q(args.path) .. " && ") or ""
  local function run(cmd)
    result.cmd = cmd
    if ctx.check_mode then return true end
    local r = ctx:run(cd .. cmd, { stream = true, env = args.env })
    result.stdout, result.stderr = ctx.chomp(r.stdout), ctx.chomp(r.stderr)
    if not r.ok then
      result.failed, result.rc = true, r.rc
      result.msg = "npm failed: " .. ctx.output_of(r)
      return false
    end
    return true
  end
  if args.ci then
    result.changed = true
    run(flags("ci"))
    return result
  end
  local deps = (decode(ctx, out:match("@ls\n(.-)\n@end")).dependencies) or {}
  local have = {}
  local broken = false
  for dep, p in pairs(deps) do
    if type(p) == "table" then
      if p.missing or p.invalid then broken = true else have[dep] = p.version or "" end
    end
  end
  local before = name and have[name]
  local function after_version()
    local r = ctx:run(cd .. ls .. " 2>/dev/null", { env = args.env })
    local d = (decode(ctx, r.stdout).dependencies or {})[name]
    return type(d) == "table" and not d.missing and not d.invalid and d.version or nil
  end
  local function diff(now)
    if ctx.diff and name then
      result.diff = ctx:diff_result({ name = name, version = before or "(absent)" },
        { name = name, version = now or "(absent)" })
    end
  end
  if state == "absent" then
    if before then
      result.changed = true
      diff(nil)
      run(flags("uninstall", name))
    end
    return result
  end
  local want = name and (args.version and (name .. "@" .. args.version) or name)
  if state == "latest" and name then
    local od = decode(ctx, out:match("@outdated\n(.-)\n@end"))[name]
    if not before or (type(od) == "table" and od.latest and od.current ~= od.latest) then
      result.changed = true
      local latest = type(od) == "table" and od.latest
      diff(latest or "(latest)")
      if run(flags("install", name .. "@latest")) and not ctx.check_mode then
        local now = after_version()
        result.changed = now ~= before
        diff(now)
      end
    end
    return result
  elseif state == "latest" then
    local od = decode(ctx, out:match("@outdated\n(.-)\n@end"))
    local moves = broken or nopath
    for _, v in pairs(od) do if type(v) == "table" and v.current ~= v.wanted then moves = true end end
    if moves then
      result.changed = true
      run(flags(broken and "install" or "update"))
    end
    return result
  end
  -- present
  if not name then
    if broken or nopath then
      result.changed = true
      run(flags("install"))
    end
    return result
  end
  local ok_now = before and (not args.version or before == args.version:gsub("^v", ""))
  if ok_now then return result end
  if before and args.version and not exact(args.version) then
    -- a range: npm decides; changed when the version moves
    if ctx.check_mode then result.changed = true return result end
    if run(flags("install", want)) then
      local now = after_version()
      result.changed = now ~= before
      diff(now)
    end
    return result
  end
  result.changed = true
  diff(args.version or "(latest)")
  if run(flags("install", want)) and not ctx.check_mode and ctx.diff then diff(after_version()) end
  return result
end

return M
