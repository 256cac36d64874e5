-- unarchive: an archive extracted into dest on the host, as Ansible's
-- unarchive: src from the controller (copied to a temporary folder on the
-- host first), on the host (remote_src), or a URL the host downloads
-- (get_url's request: curl, wget or python3; progress streamed; remote_src
-- implied). Handlers in Ansible's order: ZipArchive (unzip + zipinfo),
-- ZipZArchive (unzip -Z), then GNU tar's (gz, plain, bz2, xz, zst).
--   tar: `changed` as Ansible decides it: `tar --diff` against dest, its
--   "differs"/"Cannot stat" lines (owner, group and mode lines only when not
--   given); nothing differs: nothing extracted. Skipped under --check.
--   zip: every member compared as Ansible's ZipArchive does (missing, type,
--   mtime, size, CRC-32, mode, owner, group) from one listing of the archive
--   and of dest; `unzip -o` when one differs; --check says what would
--   change, --diff shows Ansible's itemized lines.
-- The extraction streams its lines as output and progress.
-- Round trips: tar 1 (creates, list, diff and, when needed, extract in one script),
-- zip 1 unchanged / 2 changed; a controller src adds a temporary folder and
-- the transfer (and, for an unchanged zip, its removal); a URL adds none.

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
    validate_certs = { type = "boolean", default = true },
    io_buffer_size = { type = "integer", default = 65536 },
    env = { type = "dict" }, -- the task's `environment` (play/playbook_task.lua): the download's and tools' environment
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

-- mode/owner/group applied to every member ($list) and to the top folders, as
-- Ansible's set_fs_attributes_if_different: a line "\001A member" for each
-- member that changed.
local function attrs_script(ctx, args)
  if not (args.mode or args.owner or args.group) then return "" end
  local q = ctx.quote
  local cmds = {}
  if args.mode then cmds[#cmds + 1] = "chmod " .. q(args.mode) .. ' -- "$f"' end
  if args.owner or args.group then
    cmds[#cmds + 1] = "chown -h " .. q((args.owner or "") .. (args.group and (":" .. args.group) or "")) .. ' -- "$f"'
  end
  return [[{ printf '%s\n' "$list"; printf '%s\n' "$list" | sed -n 's|^/*\([^/]*\)/.*|\1|p' | sort -u; } |
while IFS= read -r m; do
  f="$dest/${m#/}"; [ -e "$f" ] || [ -L "$f" ] || continue
  b=$(stat -c '%a %u %g' -- "$f")
  ]] .. table.concat(cmds, " && ") .. [[ || { echo "cannot set the attributes of $f" >&2; exit 14; }
  [ "$b" = "$(stat -c '%a %u %g' -- "$f")" ] || printf '\001A %s\n' "$m"
done]]
end

local function is_url(s) return s:find("://", 1, true) ~= nil end

-- src downloaded by the host (a URL), then the checks of src and dest
local function prelude(ctx, args, src)
  local q = ctx.quote
  local s = { "A=$(printf '\\001'); src=" .. q(src) .. "; dest=" .. q(args.dest) .. "; TMPU=" }
  if args.creates then s[#s + 1] = "[ -e " .. q(args.creates) .. " ] && { printf '\\001K\\n'; exit 0; }" end
  if is_url(src) then
    local name = src:gsub("[?#].*$", ""):match("([^/]*)$")
    if name == "" then name = "download" end
    s[#s + 1] = table.concat({
      'cfgall=$(mktemp) && cat >"$cfgall" || exit 1',
      'TMPU=$(mktemp -d "${TMPDIR:-/tmp}/.luasible-unarchive.XXXXXXXX") && BODY="$TMPU"/' .. q(name)
        .. ' && HDR=$(mktemp) || exit 1',
      "out=$(", ctx:module("get_url").fetch_sh(q), ")", 'rm -f "$cfgall" "$HDR"',
      'case $out in *@notool*) rm -rf "$TMPU"; echo "Failure downloading $src: the host has none of curl, wget,'
        .. ' python3" >&2; exit 15;; esac',
      'st=$(printf "%s\\n" "$out" | sed -n "s/^@status //p" | tail -n 1); code=${st%% *}',
      'if [ "$code" != 200 ]; then rm -rf "$TMPU"; case $code in -1|0|"") why="cannot reach it";;'
        .. ' *) why="HTTP status $code";; esac; echo "Failure downloading $src, $why" >&2; exit 15; fi',
      'src=$BODY; printf "\\001P %s\\n" "$TMPU"',
    }, "\n")
  end
  s[#s + 1] = [[printf '\001F %s\n' "$src"
[ -e "$src" ] || { echo "Source '$src' does not exist" >&2; exit 10; }
[ -r "$src" ] || { echo "Source '$src' not readable" >&2; exit 10; }
[ -s "$src" ] || { echo "Invalid archive '$src', the file is 0 bytes" >&2; exit 10; }
[ -d "$dest" ] || { echo "Destination '$dest' is not a directory" >&2; exit 10; }]]
  return table.concat(s, "\n")
end

-- the CRC-32 of dest's regular files named in argv[1] (one a line), read argv[2] bytes at a time
local CRC_PY = [[
import sys,zlib,os
n=int(sys.argv[2]);o=sys.stdout.buffer
for p in open(sys.argv[1],"rb").read().split(b"\n"):
  if p and os.path.isfile(p) and not os.path.islink(p):
    c=0
    with open(p,"rb") as f:
      for b in iter(lambda:f.read(n),b""):c=zlib.crc32(b,c)
    o.write(b"\001C %08x|"%(c&0xffffffff)+p+b"\n")
]]

-- the zip handlers: which one, then the archive's listing and dest's members as found
local function zip_probe(ctx, args)
  local q = ctx.quote
  local ex, inc = {}, {}
  for _, e in ipairs(args.exclude) do ex[#ex + 1] = q(e) end
  for _, i in ipairs(args.include) do inc[#inc + 1] = q(i) end
  local filt = (#ex > 0 and ("-x " .. table.concat(ex, " ")) or "") .. " " .. table.concat(inc, " ")
  return [[zh=; zr=
if ! command -v unzip >/dev/null 2>&1; then
  zr="Unable to find required 'unzip' or 'zipinfo' binary in the path (the host has no 'unzip')"
elif ! unzip -l "$src" >/dev/null 2>&1; then zr="Command \"unzip\" could not handle archive"
elif command -v zipinfo >/dev/null 2>&1; then zh=ZipArchive; zi=zipinfo
elif unzip -Z 2>/dev/null | grep -qi zipinfo; then zh=ZipZArchive; zi="unzip -Z"
else zr="Unable to find required 'zipinfo' binary in the path"; fi
if [ -n "$zh" ]; then
  export LANG=C LC_ALL=C
  printf '\001H %s\n' "$zh"
  zo=$($zi -T -s "$src" ]] .. filt .. [[ 2>/dev/null); printf '\001Y %s\n' "$?"
  printf '%s\n' "$zo" | sed "s/^/${A}Z /"
  unzip -v "$src" | sed "s/^/${A}V /"
  printf '\001M %s|%s|%s|%s|%s\n' "$(umask)" "$(id -un)" "$(id -gn)" "$(id -u)" "$(id -g)"
  lst=$(mktemp) && $zi -1 "$src" >"$lst" && sed "s/^/${A}N /" "$lst"
  (cd -- "$dest" && tr '\n' '\0' <"$lst" |
    xargs -0 -r stat --printf '\001S %F|%a|%s|%y|%U|%G|%u|%g|%n\n' -- 2>/dev/null
  if command -v python3 >/dev/null 2>&1; then python3 -c ]] .. q(CRC_PY) .. [[ "$lst" ]] .. args.io_buffer_size .. [[;
  else while IFS= read -r n; do [ -f "$n" ] && [ ! -L "$n" ] && printf '\001C %s|%s\n' \
    "$(gzip -1 -c <"$n" | tail -c 8 | od -An -tx4 -N4 --endian=little | tr -d ' ')" "$n"; done <"$lst"; fi)
  rm -f "$lst"
  stat --printf '\001S. %u|%g|%U|%G|%a|%s\n' -- "$dest"
  exit 0
fi]]
end

-- The tar part: pick the handler, list, diff and (unless `check`) extract.
local function tar_script(ctx, args, check)
  local q = ctx.quote
  local common = {}
  for _, o in ipairs(args.extra_opts) do common[#common + 1] = q(o) end
  if #common > 0 then table.insert(common, 1, "--show-transformed-names") end
  local ex, inc, own = {}, {}, {}
  for _, e in ipairs(args.exclude) do ex[#ex + 1] = q("--exclude=" .. e:gsub("/+$", "")) end
  for _, i in ipairs(args.include) do inc[#inc + 1] = q(i) end
  if args.owner then own[#own + 1] = q("--owner=" .. args.owner) end
  if args.group then own[#own + 1] = q("--group=" .. args.group) end
  if args.keep_newer then own[#own + 1] = "--keep-newer-files" end
  local pats = {}
  for k, re in pairs(DIFF_LINE) do
    if type(k) == "number" or not args[k] then pats[#pats + 1] = re end
  end
  local OWN = table.concat(own, " ")
  local tail = table.concat(common, " ") .. " " .. table.concat(ex, " ") .. ' -f "$src" ' .. table.concat(inc, " ")
  local hs = {}
  for i, hd in ipairs(HANDLERS) do hs[i] = q(hd[1] .. ":" .. hd[2]) end
  return table.concat({ [[command -v tar >/dev/null 2>&1 ||
  { echo "Unable to find required 'gtar' or 'tar' binary in the path (the host has no 'tar')" >&2; exit 11; }
tar --version 2>/dev/null | head -n 1 | grep -q GNU ||
  { echo "GNU tar required (the host's tar is not GNU tar)" >&2; exit 11; }
]] .. (check and "printf '\\001T\\n'; exit 0\n" or "") .. [[
cd -- "$dest" || exit 10
h=
for z in ]] .. table.concat(hs, " ") .. [[; do
  flag=${z#*:}
  if list=$(tar --list -C "$dest" $flag ]] .. tail .. [[ 2>/dev/null) && [ -n "$list" ]; then
    h=${z%%:*}; break
  fi
done
[ -n "$h" ] || { echo "Failed to find handler for \"$src\"." \
  "Make sure the required command to extract the file is installed. $zr" >&2; exit 13; }
printf '\001H %s\n' "$h"
printf '%s\n' "$list" | while IFS= read -r l; do printf '\001L %s\n' "$l"; done
d=$(LANG=C LC_ALL=C tar --diff -C "$dest" $flag ]] .. OWN .. " " .. tail .. [[ 2>&1 |
  grep -v ': : Warning: Cannot stat: No such file or directory$' | grep -E ]] .. q(table.concat(pats, "|")) .. [[)
[ -n "$d" ] && printf '%s\n' "$d" | while IFS= read -r l; do printf '\001D %s\n' "$l"; done
stat --printf '\001S. %u|%g|%U|%G|%a|%s\n' -- "$dest"
if [ -n "$d" ]; then printf '\001X\n'; LANG=C LC_ALL=C tar --extract -v -C "$dest" $flag ]]
      .. OWN .. " " .. tail .. [[ 2>&1; rc=$?; printf '\001R %s\n' "$rc"; fi]],
    attrs_script(ctx, args),
    '[ -z "$TMPU" ] || rm -rf -- "$TMPU"',
  }, "\n")
end

-- run a script, its tagged lines collected; the extraction's lines and a download's progress streamed
local function run_tagged(ctx, script, stdin, url, env)
  local lines, total, done, extracting = {}, 0, 0, false
  local res = ctx:run(script, { stdin = stdin, env = env, on_output = function(line, is_stderr, ev)
    if is_stderr then
      local p = url and tonumber(line:match("(%d+%.?%d*)%%"))
      if p and p >= 0 and p <= 100 then
        ctx:progress({ stage = "downloading", percentage = p, message = url })
        if ev and ev.cr then return end
      end
      if url then ctx.emit({ type = "stderr", data = line }, ev) end
      return
    end
    local tag, rest = line:match("^\1(%u%.?) ?(.*)$")
    if tag == "L" or tag == "N" then total = total + 1
    elseif tag == "X" then extracting = true
    elseif not tag and extracting then
      done = done + 1
      ctx.emit({ type = "stdout", data = line })
      ctx:progress({ stage = "extracting", message = line, percentage = total > 0 and math.min(100,
        math.floor(done * 100 / total)) or nil })
    end
    lines[#lines + 1] = { tag = tag, rest = rest, line = line }
  end })
  return res, lines
end

local function dest_stat(result, rest)
  local uid, gid, owner, group, mode, size = rest:match("^(%d+)|(%d+)|([^|]*)|([^|]*)|(%d+)|(%d+)")
  result.uid, result.gid, result.owner, result.group = tonumber(uid), tonumber(gid), owner, group
  result.mode, result.state, result.size = mode and string.format("%04o", tonumber(mode, 8)), "directory",
    tonumber(size)
end

function M.run(ctx, args)
  local q = ctx.quote
  local url = is_url(args.src) and args.src or nil
  local remote = args.remote_src or args.copy == false or url ~= nil
  local skipped = { skipped = true, changed = false, msg = "skipped, since " .. tostring(args.creates) .. " exists" }
  -- (creates: checked first in the one script for a src on the host; before the transfer for a controller's)
  if args.creates and not remote and ctx:exists(args.creates) then return skipped end
  local src, tmp, stdin = args.src, nil, nil
  if url then
    local err
    stdin, err = ctx:module("get_url").fetch_stdin({ url = url, method = "GET", follow = true, timeout = 10,
      validate_certs = args.validate_certs })
    if not stdin then return { failed = true, msg = err } end
  elseif not remote then
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
  local script = table.concat({ prelude(ctx, args, src), tmp and ("TMPU=" .. q(tmp)) or "", zip_probe(ctx, args),
    tar_script(ctx, args, ctx.check_mode) }, "\n")
  local res, lines = run_tagged(ctx, script, stdin, url, args.env)
  local result = { dest = args.dest, src = src, changed = false }
  local zip = false
  for _, l in ipairs(lines) do
    if l.tag == "K" then return skipped
    elseif l.tag == "F" then result.src = l.rest
    elseif l.tag == "P" then tmp = l.rest
    elseif l.tag == "H" then result.handler = l.rest; zip = l.rest:find("^Zip") ~= nil
    elseif l.tag == "T" then
      -- Ansible's tar handlers do not run in check mode
      if tmp then ctx:run({ "rm", "-rf", "--", tmp }) end
      return { skipped = true, changed = false,
        msg = "remote module (unarchive) does not support check mode when using gtar" }
    end
  end
  if not result.handler then
    if tmp then ctx:run({ "rm", "-rf", "--", tmp }) end
    local err = {}
    for l in (res.stderr or ""):gmatch("[^\r\n]+") do -- (without a download's progress lines)
      if not l:match("^[#%s]*[%d.]+%%%s*$") and not l:match("^%s*$") then err[#err + 1] = l end
    end
    local fail, why
    for _, l in ipairs(err) do -- a download's failure: its line, and the tool's reason
      if l:find("^Failure downloading ") then fail = l end
      why = why or l:match("^curl: %(%d+%) (.*)$") or l:match("^python3: (.*)$") or l:match("^wget: (.*)$")
    end
    if fail then return { failed = true, msg = fail .. (why and (" (" .. why .. ")") or "") } end
    return { failed = true, msg = #err > 0 and table.concat(err, "\n") or "unarchive failed" }
  end
  if zip then return M.zip(ctx, args, result, lines, tmp) end
  local files, out, rc = {}, {}, nil
  local glob = ctx:module("find").glob_regex
  local excl = {}
  for i, e in ipairs(args.exclude) do excl[i] = assert(ctx.regex.compile(glob(e:gsub("/+$", "")))) end
  local extracting = false
  for _, l in ipairs(lines) do
    if l.tag == "L" then
      local name = l.rest:gsub("^/", "")
      local keep = true
      for _, r in ipairs(excl) do if r:fullmatch(name) then keep = false break end end
      if keep then files[#files + 1] = name end
    elseif l.tag == "S." then dest_stat(result, l.rest)
    elseif l.tag == "R" then rc = tonumber(l.rest)
    elseif l.tag == "A" then result.changed = true
    elseif l.tag == "X" then extracting = true
    elseif not l.tag and extracting then out[#out + 1] = l.line end
  end
  if rc then
    result.extract_results = { rc = rc, out = table.concat(out, "\n"), err = "", cmd = "tar --extract -v -C "
      .. args.dest .. " -f " .. result.src }
    if rc ~= 0 then
      result.failed, result.msg = true, "failed to unpack " .. result.src .. " to " .. args.dest
      return result
    end
    result.changed = true
  end
  if args.list_files then result.files = files end
  return result
end

-- a zip: the members compared as Ansible's ZipArchive.is_unarchived, then extracted when one differs
function M.zip(ctx, args, result, lines, tmp)
  local q = ctx.quote
  local info, crc, stats, names, zrc, me, crcs = {}, {}, {}, {}, 0, {}, {}
  for _, l in ipairs(lines) do
    if l.tag == "Z" then info[#info + 1] = l.rest
    elseif l.tag == "Y" then zrc = tonumber(l.rest)
    elseif l.tag == "V" then
      local c, name = l.rest:match("^%s*%d+%s+%S+%s+%d+%s+%S+%s+%S+%s+%S+%s+(%x%x%x%x%x%x%x%x)%s+(.*)$")
      if c then crc[name] = c:lower() end
    elseif l.tag == "M" then
      local um, un, gn, uid, gid = l.rest:match("^(%d+)|([^|]*)|([^|]*)|(%d+)|(%d+)$")
      me = { umask = tonumber(um or "22", 8), owner = un, group = gn, uid = uid, gid = gid }
    elseif l.tag == "N" then names[#names + 1] = l.rest
    elseif l.tag == "S" then
      local ty, mode, size, mt, owner, group, uid, gid, name = l.rest:match(
        "^([^|]*)|(%d+)|(%d+)|(%d+%-%d+%-%d+ %d+:%d+:%d+%.?%d*)[^|]*|([^|]*)|([^|]*)|(%d+)|(%d+)|(.*)$")
      if ty then
        stats[name] = { type = ty, mode = tonumber(mode, 8), size = tonumber(size), mtime = mt, owner = owner,
          group = group, uid = uid, gid = gid }
      end
    elseif l.tag == "C" then
      local c, name = l.rest:match("^(%x+)|(.*)$")
      if c then crcs[name] = c:lower() end
    elseif l.tag == "S." then dest_stat(result, l.rest) end
  end
  for name, c in pairs(crcs) do if stats[name] then stats[name].crc = c end end
  -- files_in_archive: the names, include/exclude as fnmatch globs
  local glob = ctx:module("find").glob_regex
  local function rx(list)
    local t = {}
    for i, g in ipairs(list) do t[i] = assert(ctx.regex.compile(glob(g))) end
    return t
  end
  local inc, exc = rx(args.include), rx(args.exclude)
  local files = {}
  for _, n in ipairs(names) do
    if #inc > 0 then
      for _, r in ipairs(inc) do if r:fullmatch(n) then files[#files + 1] = n end end
    else
      local keep = true
      for _, r in ipairs(exc) do if r:fullmatch(n) then keep = false break end end
      if keep then files[#files + 1] = n end
    end
  end
  local excluded = {}
  for _, e in ipairs(args.exclude) do excluded[e] = true end
  local newer, includes, diff = {}, {}, {}
  local function ts_of(mt) -- "2020-01-01 10:00:00.000000000" -> "20200101.100000", whole second?
    local y, mo, d, h, mi, s, frac = mt:match("^(%d+)%-(%d+)%-(%d+) (%d+):(%d+):(%d+)%.?(%d*)")
    return y .. mo .. d .. "." .. h .. mi .. s, (frac or ""):match("^0*$") ~= nil
  end
  for _, line in ipairs(info) do
    local perm, size, stamp, path = line:match("^(%S+)%s+%S+%s+%S+%s+(%d+)%s+%S+%s+%S+%s+(%S+)%s+(.*)$")
    if perm and (#perm == 7 or #perm == 10) and #stamp == 15 and perm:sub(1, 1):find("[dl%-?]")
      and not perm:sub(2):find("[^rwxstah%-]") and not excluded[path] then
      local ztype, permstr = perm:sub(1, 1), perm:sub(2)
      local ftype = path:sub(-1) == "/" and "d" or (ztype == "l" and "L" or "f")
      local umask = 0
      if #permstr == 6 then
        permstr = (path:sub(-1) == "/" or permstr == "rwx---") and "rwxrwxrwx" or "rw-rw-rw-"
        umask = me.umask
      end
      local st = stats[path]
      local function changed(tag) includes[#includes + 1] = path; diff[#diff + 1] = tag .. " " .. path end
      if not st then changed(">" .. ftype .. "++++++.??")
      elseif ftype == "d" and st.type ~= "directory" then changed("c" .. ftype .. "++++++.??")
      elseif ftype == "f" and not st.type:find("regular") then changed("c" .. ftype .. "++++++.??")
      elseif ftype == "L" and st.type ~= "symbolic link" then changed("c" .. ftype .. "++++++.??")
      else
        local it, change = { ".", ftype, ".", ".", ".", ".", ".", ".", ".", "?", "?" }, false
        local regular = st.type:find("regular") ~= nil
        local skip = false
        if regular then
          local have, whole = ts_of(st.mtime)
          if args.keep_newer then
            if stamp > have then change, it[5] = true, "t"
            elseif stamp < have then newer[#newer + 1] = path; skip = true end
          elseif stamp ~= have or not whole then change, it[5] = true, "t" end
          if not skip and tonumber(size) ~= st.size then change, it[4] = true, "s" end
          if not skip and crc[path] and st.crc ~= crc[path] then change, it[3] = true, "c" end
        end
        if not skip then
          if ftype ~= "L" then
            local want
            if args.mode then want = ctx.mode_bits(args.mode, st.mode & 4095, ftype == "d") or -1
            else
              want = 0
              local rev = permstr:reverse()
              for i = 1, 9 do if rev:sub(i, i):find("[rwxst]") then want = want | (1 << (i - 1)) end end
              want = want & ~umask
            end
            if want ~= (st.mode & 4095) then change, it[6] = true, "p" end
          end
          local fo, fg = args.owner or me.owner, args.group or me.group
          if not (st.owner == fo or st.uid == tostring(fo)) then change, it[7] = true, "o" end
          if not (st.group == fg or st.gid == tostring(fg)) then change, it[7] = true, "g" end
          if change then changed(table.concat(it)) end
        end
      end
    end
  end
  local unarchived = zrc == 0 and #includes == 0
  result.changed = not unarchived
  if #diff > 0 and ctx.diff then result.diff = { prepared = table.concat(diff, "\n") .. "\n" } end
  if args.list_files then result.files = files end
  local function cleanup() if tmp then ctx:run({ "rm", "-rf", "--", tmp }) end end
  if ctx.check_mode or unarchived then cleanup() return result end
  local cmd = { "unzip", "-o" }
  for _, o in ipairs(args.extra_opts) do cmd[#cmd + 1] = o end
  cmd[#cmd + 1] = result.src
  local x = {}
  for _, e in ipairs(args.exclude) do x[#x + 1] = e end
  for _, e in ipairs(newer) do x[#x + 1] = e end
  if #x > 0 then cmd[#cmd + 1] = "-x"; for _, e in ipairs(x) do cmd[#cmd + 1] = e end end
  for _, i in ipairs(args.include) do cmd[#cmd + 1] = i end
  cmd[#cmd + 1] = "-d"; cmd[#cmd + 1] = args.dest
  local qc = {}
  for i, w in ipairs(cmd) do qc[i] = q(w) end
  local script = table.concat({ "dest=" .. q(args.dest) .. "; list=" .. q(table.concat(files, "\n")),
    "printf '\\001X\\n'; LANG=C LC_ALL=C " .. table.concat(qc, " ") .. " 2>&1; printf '\\001R %s\\n' \"$?\"",
    attrs_script(ctx, args), tmp and ("rm -rf -- " .. q(tmp)) or "" }, "\n")
  local _, xl = run_tagged(ctx, script, nil, nil, args.env)
  local out, rc, extracting = {}, nil, false
  for _, l in ipairs(xl) do
    if l.tag == "R" then rc = tonumber(l.rest)
    elseif l.tag == "X" then extracting = true
    elseif not l.tag and extracting then out[#out + 1] = l.line end
  end
  result.extract_results = { cmd = table.concat(cmd, " "), rc = rc or -1, out = table.concat(out, "\n"), err = "" }
  if rc ~= 0 then result.failed, result.msg = true, "failed to unpack " .. result.src .. " to " .. args.dest end
  return result
end

return M
