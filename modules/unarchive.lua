-- unarchive: a tar archive (plain, gz, bz2, xz, zst) extracted into dest on
-- the host, as Ansible's unarchive with GNU tar: src from the controller
-- (copied to a temporary folder on the host first) or, with remote_src,
-- already on the host. `changed` as Ansible decides it: `tar --diff`
-- against dest, its "differs"/"Cannot stat" lines (owner, group and mode
-- lines only when not given); nothing differs: nothing extracted. The
-- extraction streams its lines (tar -v) as output and progress.
-- Round trips: remote_src: 1 (list, diff and, when needed, extract in one
-- script); from the controller: 1 (a temporary folder) + the transfer + 1.
-- Zip archives are refused (not supported yet).

local M = {
  params = {
    src = { type = "path", required = true },
    dest = { type = "path", required = true },
    remote_src = { type = "boolean", default = false },
    copy = { type = "boolean" },
    creates = { type = "path" },
    list_files = { type = "boolean", default = false },
    keep_newer = { type = "boolean", default = false },
    exclude = { type = "list", default = {} },
    include = { type = "list", default = {} },
    extra_opts = { type = "list", default = {} },
    decrypt = { type = "boolean", default = true },
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
  },
  mutually_exclusive = { { "include", "exclude" }, { "copy", "remote_src" } },
  check_mode = true,
}

-- Ansible tries the handlers in this order; GNU tar without a flag reads any compression
local HANDLERS = { { "TgzArchive", "-z" }, { "TarArchive", "" }, { "TarBzipArchive", "-j" },
  { "TarXzArchive", "-J" }, { "TarZstdArchive", "--use-compress-program=zstd" } }

local DIFF_LINE = {
  owner = ": Uid differs$", group = ": Gid differs$", mode = ": Mode differs$",
  ": Mod time differs$", ": Warning: Cannot stat: No such file or directory$", ": Invalid owner", ": Invalid group",
}

-- The one script: check src and dest, pick the handler, list, diff and (unless `check`) extract.
local function script(ctx, args, src, check)
  local q = ctx.quote
  local common = {}
  for _, o in ipairs(args.extra_opts) do common[#common + 1] = q(o) end
  if #common > 0 then table.insert(common, 1, "--show-transformed-names") end
  local ex = {}
  for _, e in ipairs(args.exclude) do ex[#ex + 1] = q("--exclude=" .. e:gsub("/+$", "")) end
  local inc = {}
  for _, i in ipairs(args.include) do inc[#inc + 1] = q(i) end
  local own = {}
  if args.owner then own[#own + 1] = q("--owner=" .. args.owner) end
  if args.group then own[#own + 1] = q("--group=" .. args.group) end
  if args.keep_newer then own[#own + 1] = "--keep-newer-files" end
  local pats = {}
  for k, re in pairs(DIFF_LINE) do
    if type(k) == "number" or not args[k] then pats[#pats + 1] = re end
  end
  local O, E, I, OWN = table.concat(common, " "), table.concat(ex, " "), table.concat(inc, " "), table.concat(own, " ")
  local tail = O .. " " .. E .. ' -f "$src" ' .. I
  return table.concat({
    "src=" .. q(src) .. "; dest=" .. q(args.dest),
    [[[ -e "$src" ] || { echo "Source '$src' does not exist" >&2; exit 10; }
[ -r "$src" ] || { echo "Source '$src' not readable" >&2; exit 10; }
[ -s "$src" ] || { echo "Invalid archive '$src', the file is 0 bytes" >&2; exit 10; }
[ -d "$dest" ] || { echo "Destination '$dest' is not a directory" >&2; exit 10; }
command -v tar >/dev/null 2>&1 ||
  { echo "Unable to find required 'gtar' or 'tar' binary in the path (the host has no 'tar')" >&2; exit 11; }
tar --version 2>/dev/null | head -n 1 | grep -q GNU ||
  { echo "GNU tar required (the host's tar is not GNU tar)" >&2; exit 11; }
if [ "$(head -c 2 -- "$src")" = PK ]; then
  echo "zip archives are not supported by unarchive yet (tar, gz, bz2, xz, zst are)" >&2; exit 12
fi
cd -- "$dest" || exit 10
h=
for z in ]] .. table.concat((function()
        local t = {}
        for i, hd in ipairs(HANDLERS) do t[i] = q(hd[1] .. ":" .. hd[2]) end
        return t
      end)(), " ") .. [[; do
  flag=${z#*:}
  if list=$(tar --list -C "$dest" $flag ]] .. tail .. [[ 2>/dev/null) && [ -n "$list" ]; then
    h=${z%%:*}; break
  fi
done
[ -n "$h" ] || { echo "Failed to find handler for \"$src\"." \
  "Make sure the required command to extract the file is installed." >&2; exit 13; }
printf '\001H %s\n' "$h"
printf '%s\n' "$list" | while IFS= read -r l; do printf '\001L %s\n' "$l"; done
d=$(LANG=C LC_ALL=C tar --diff -C "$dest" $flag ]] .. OWN .. " " .. tail .. [[ 2>&1 |
  grep -v ': : Warning: Cannot stat: No such file or directory$' | grep -E ]]
      .. q(table.concat(pats, "|")) .. [[)
[ -n "$d" ] && printf '%s\n' "$d" | while IFS= read -r l; do printf '\001D %s\n' "$l"; done
stat --printf '\001S %u|%g|%U|%G|%a|%s\n' -- "$dest"]],
    check and "exit 0" or ([[if [ -n "$d" ]; then printf '\001X\n'; LANG=C LC_ALL=C tar --extract -v -C "$dest" $flag ]]
      .. OWN .. " " .. tail .. [[ 2>&1; rc=$?; printf '\001R %s\n' "$rc"; fi]]),
  }, "\n")
end

function M.run(ctx, args)
  local q = ctx.quote
  local remote = args.remote_src or args.copy == false
  if args.creates and ctx:exists(args.creates) then
    return { skipped = true, changed = false, msg = "skipped, since " .. args.creates .. " exists" }
  end
  local src, tmp = args.src, nil
  if not remote then
    local path = ctx:find_local(args.src, "files")
    local content, err
    if args.decrypt == false then content, err = ctx.read_raw(path) else content, err = ctx.read_file(path) end
    if not content then
      return { failed = true, msg = "could not find or read src '" .. args.src .. "': " .. tostring(err) }
    end
    local out, rc = ctx:sh("mktemp -d \"${TMPDIR:-/tmp}/.luasible-unarchive.XXXXXXXX\"")
    if rc ~= 0 then return { failed = true, msg = "cannot make a temporary folder on the host: " .. out } end
    tmp = out
    src = tmp .. "/source"
    local ok, werr = ctx:write(content, src, "0600", function(p)
      p.stage = p.stage or "transferring"
      p.message = src
      ctx:progress(p)
    end)
    if not ok then
      ctx:run({ "rm", "-rf", "--", tmp })
      return { failed = true, msg = "Source '" .. args.src .. "' failed to transfer: " .. tostring(werr) }
    end
  end
  if ctx.check_mode then
    -- Ansible's tar handlers do not run in check mode
    if tmp then ctx:run({ "rm", "-rf", "--", tmp }) end
    return { skipped = true, changed = false,
      msg = "remote module (unarchive) does not support check mode when using gtar" }
  end
  local lines, files, total, done = {}, {}, 0, 0
  local extracting = false
  local res = ctx:run(script(ctx, args, src, false) .. (tmp and ("\nrm -rf -- " .. q(tmp)) or ""), {
    on_output = function(line, is_stderr)
      if is_stderr then return end
      local tag, rest = line:match("^\1(%u) ?(.*)$")
      if tag == "L" then total = total + 1
      elseif tag == "X" then extracting = true
      elseif not tag and extracting then
        done = done + 1
        ctx.emit({ type = "stdout", data = line })
        ctx:progress({ stage = "extracting", message = line, percentage = total > 0 and math.min(100,
          math.floor(done * 100 / total)) or nil })
      end
      lines[#lines + 1] = { tag = tag, rest = rest, line = line }
    end })
  if not res.ok and res.rc ~= 0 and #lines == 0 then
    return { failed = true, msg = ctx.chomp(res.stderr) ~= "" and ctx.chomp(res.stderr) or "unarchive failed" }
  end
  local result = { dest = args.dest, src = src, changed = false }
  local out, rc = {}, nil
  local glob = ctx:module("find").glob_regex
  local excl = {}
  for i, e in ipairs(args.exclude) do excl[i] = assert(ctx.regex.compile(glob(e:gsub("/+$", "")))) end
  for _, l in ipairs(lines) do
    if l.tag == "H" then result.handler = l.rest
    elseif l.tag == "L" then
      local name = l.rest:gsub("^/", "")
      local keep = true
      for _, r in ipairs(excl) do if r:fullmatch(name) then keep = false break end end
      if keep then files[#files + 1] = name end
    elseif l.tag == "S" then
      local uid, gid, owner, group, mode, size = l.rest:match("^(%d+)|(%d+)|([^|]*)|([^|]*)|(%d+)|(%d+)")
      result.uid, result.gid, result.owner, result.group = tonumber(uid), tonumber(gid), owner, group
      result.mode, result.state, result.size = mode and string.format("%04o", tonumber(mode, 8)), "directory",
        tonumber(size)
    elseif l.tag == "R" then rc = tonumber(l.rest)
    elseif not l.tag and extracting then out[#out + 1] = l.line end
  end
  if not result.handler then
    return { failed = true, msg = ctx.chomp(res.stderr) ~= "" and ctx.chomp(res.stderr) or "unarchive failed" }
  end
  if rc then
    result.extract_results = { rc = rc, out = table.concat(out, "\n"), err = "", cmd = "tar --extract -v -C "
      .. args.dest .. " -f " .. src }
    if rc ~= 0 then
      result.failed, result.msg = true, "failed to unpack " .. src .. " to " .. args.dest
      return result
    end
    result.changed = true
  end
  if args.list_files then result.files = files end
  return result
end

return M
