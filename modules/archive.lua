-- archive: files and folders of the host (paths or globs) packed into one
-- archive on the host (tar, gz, bz2, xz, zip), or a single file compressed
-- (gz, bz2, xz), as community.general's archive. Idempotent: the archive is
-- built reproducibly (tar --sort=name, gzip -n, zip -X) into a temporary
-- file beside dest and replaces dest only when its sha256 differs; under
-- --check it is built into sha256sum only. Two round trips (the paths
-- expanded; the archive built and compared).

local M = {
  params = {
    path = { type = "list", required = true },
    dest = { type = "path" },
    format = { type = "string", default = "gz", choices = { "bz2", "gz", "tar", "xz", "zip" } },
    exclude_path = { type = "list", default = {} },
    exclusion_patterns = { type = "list", default = {} },
    force_archive = { type = "boolean", default = false },
    remove = { type = "boolean", default = false },
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
  },
  check_mode = true,
}

local TOOL = { gz = "gzip", bz2 = "bzip2", xz = "xz" }
local EXT = { gz = ".gz", bz2 = ".bz2", xz = ".xz", tar = ".tar", zip = ".zip" }

local function has_glob(p) return p:find("[%*%?%[]") ~= nil end

-- Expand globs and list what exists on the host: one line "TAG|d|path" (d: a folder, else f)
-- or "M||path" each.
local EACH = [[ if [ -d "$f" ]; then echo "TAG|d|$f"; elif [ -e "$f" ] || [ -L "$f" ]; then echo "TAG|f|$f";]]
  .. [[ else echo "M||$f"; fi]]
local function expand_script(q, paths, tag)
  local s = {}
  for _, p in ipairs(paths) do
    if has_glob(p) then
      s[#s + 1] = "g=" .. q(p) .. "; for f in $g; do" .. EACH:gsub("TAG", tag) .. "; done"
    else
      s[#s + 1] = "f=" .. q(p) .. ";" .. EACH:gsub("TAG", tag)
    end
  end
  return table.concat(s, "\n")
end

local function common_dir(list)
  local parts
  for _, p in ipairs(list) do
    local t = {}
    for c in p:gmatch("[^/]+") do t[#t + 1] = c end
    if not parts then parts = t
    else
      local n = 0
      while n < #parts and n < #t and parts[n + 1] == t[n + 1] do n = n + 1 end
      for i = #parts, n + 1, -1 do parts[i] = nil end
    end
  end
  return "/" .. table.concat(parts or {}, "/")
end

function M.run(ctx, args)
  local q = ctx.quote
  -- round trip 1 of 2: the paths expanded (the member names are needed to build the archive's command)
  local list = ctx:run("IFS=''\n" .. expand_script(q, args.path, "E") .. "\n"
    .. expand_script(q, args.exclude_path, "X"))
  if not list.ok then return { failed = true, msg = ctx.chomp(list.stderr) } end
  local expanded, missing, excluded, kind = {}, {}, {}, {}
  for tag, k, p in list.stdout:gmatch("(%u)|(%a?)|([^\n]*)") do
    kind[p] = k
    if tag == "E" then expanded[#expanded + 1] = p
    elseif tag == "M" then missing[#missing + 1] = p
    else excluded[p] = true end
  end
  local paths = {}
  for _, p in ipairs(expanded) do if not excluded[p] then paths[#paths + 1] = p end end
  local fmt = args.format
  local single = #args.path == 1 and not has_glob(args.path[1]) and #paths == 1
  local result = { missing = missing, expanded_paths = expanded, expanded_exclude_paths = {}, archived = {} }
  for p in pairs(excluded) do table.insert(result.expanded_exclude_paths, p) end
  table.sort(result.expanded_exclude_paths)
  if #paths == 0 then
    result.failed, result.msg = true, "Error, no source paths were found"
    return result
  end
  local compress_only = single and kind[paths[1]] == "f" and TOOL[fmt] and not args.force_archive
  local dest = args.dest
  if not dest then
    if not single then
      return { failed = true, msg = "argument 'dest' is required when archiving more than one path" }
    end
    dest = paths[1]:gsub("/+$", "") .. (compress_only and EXT[fmt] or ((fmt == "zip" or fmt == "tar") and EXT[fmt]
      or (".tar" .. EXT[fmt])))
  end
  result.dest = dest
  local root = common_dir(paths)
  if single or #paths == 1 then root = ctx.path.py_dirname(paths[1]:gsub("/+$", "")) end
  if root == "" then root = "/" end
  result.arcroot = root:gsub("/?$", "/")
  local members = {}
  for _, p in ipairs(paths) do
    local rel = p:gsub("/+$", ""):sub(#root + 1):gsub("^/", "")
    members[#members + 1] = q(rel ~= "" and rel or ".")
  end
  local ex = {}
  for p in pairs(excluded) do ex[#ex + 1] = q("--exclude=" .. p:sub(#root + 1):gsub("^/", "")) end
  for _, p in ipairs(args.exclusion_patterns) do ex[#ex + 1] = q("--exclude=" .. p) end
  local build, tool
  if compress_only then
    tool = TOOL[fmt]
    build = tool .. (fmt == "gz" and " -n" or "") .. " -c < " .. q(paths[1])
  elseif fmt == "zip" then
    tool = "zip"
    local zx = {}
    for p in pairs(excluded) do zx[#zx + 1] = q(p:sub(#root + 1):gsub("^/", "")) end
    for _, p in ipairs(args.exclusion_patterns) do zx[#zx + 1] = q(p) end
    build = "cd " .. q(root) .. " && zip -X -q -r - " .. table.concat(members, " ")
      .. (#zx > 0 and (" -x " .. table.concat(zx, " ")) or "")
  else
    tool = "tar"
    build = "tar --sort=name -C " .. q(root) .. " " .. table.concat(ex, " ")
      .. (TOOL[fmt] and (" --use-compress-program=" .. q(TOOL[fmt] .. (fmt == "gz" and " -n" or ""))) or "")
      .. " -cf - " .. table.concat(members, " ")
  end
  local tools = { tool, "sha256sum", "mktemp" }
  if TOOL[fmt] then tools[#tools + 1] = TOOL[fmt] end
  local checks = {}
  for _, t in ipairs(tools) do
    checks[#checks + 1] = "command -v " .. t .. " >/dev/null 2>&1 || { echo \"the host has no '" .. t
      .. "' command\" >&2; exit 127; }"
  end
  local d = q(dest)
  local script = table.concat(checks, "\n") .. "\nold=$(sha256sum < " .. d
    .. " 2>/dev/null | cut -d' ' -f1)\n"
  if ctx.check_mode then
    script = script .. "new=$( (" .. build .. ") | sha256sum | cut -d' ' -f1) || exit 1\n"
      .. [[[ "$old" = "$new" ] && echo SAME || echo DIFF]]
  else
    script = script .. "t=$(mktemp " .. q(dest .. ".XXXXXX") .. ") || exit 1\n(" .. build .. ") > \"$t\" || "
      .. "{ rm -f \"$t\"; exit 1; }\n"
      .. [[new=$(sha256sum < "$t" | cut -d' ' -f1)
if [ "$old" = "$new" ]; then rm -f "$t"; echo SAME; else chmod 0644 "$t" && mv -f "$t" ]] .. d .. [[ && echo DIFF; fi]]
  end
  local res = ctx:run(script)
  if not res.ok then
    return { failed = true, msg = "archive of " .. table.concat(paths, ", ") .. " failed: " .. ctx.chomp(res.stderr) }
  end
  local changed = res.stdout:find("DIFF", 1, true) ~= nil
  for _, p in ipairs(paths) do result.archived[#result.archived + 1] = p end
  result.dest_state = #missing > 0 and "incomplete" or (compress_only and "compress" or "archive")
  result.state = result.dest_state
  if args.remove and not ctx.check_mode then
    local rm = { "rm", "-rf", "--" }
    for _, p in ipairs(paths) do if p ~= dest then rm[#rm + 1] = p end end
    local r = ctx:run(rm)
    if not r.ok then return { failed = true, msg = "cannot remove the sources: " .. ctx.chomp(r.stderr) } end
    changed = true
  end
  if args.mode or args.owner or args.group then
    local fres = ctx:module("file").run(ctx, { path = dest, state = "file", mode = args.mode,
      owner = args.owner, group = args.group, recurse = false, force = false })
    if fres.failed and not ctx.check_mode then return fres end
    changed = changed or fres.changed
  end
  result.changed = changed
  return result
end

return M
