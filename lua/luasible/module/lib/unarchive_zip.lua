--- luasible.module.lib.unarchive_zip: unarchive's zip handlers
-- (ZipArchive: unzip + zipinfo, ZipZArchive: unzip -Z): the script's zip
-- part (which handler, one listing of the archive and of dest's members:
-- types, modes, sizes, mtimes, owners, CRC-32s), every member compared as
-- Ansible's ZipArchive.is_unarchived does (--diff: its itemized lines),
-- and `unzip -o` when one differs.
local shared = require "luasible.module.lib.unarchive_common"

local M = {}

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
function M.probe(ctx, args)
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

-- a zip: the members compared as Ansible's ZipArchive.is_unarchived, then extracted when one differs
function M.unarchive(ctx, args, result, lines, tmp)
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
    elseif l.tag == "S." then shared.dest_stat(result, l.rest) end
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
    shared.attrs_script(ctx, args), tmp and ("rm -rf -- " .. q(tmp)) or "" }, "\n")
  local _, xl = shared.run_tagged(ctx, script, nil, nil, args.env)
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
