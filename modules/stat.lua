-- stat: what is at a path, with Ansible's stat result (exists, isdir,
-- isreg, islnk, mode as "0644", uid/gid/pw_name/gr_name, size, times,
-- checksum, mimetype, attributes, lnk_source ...), in one round trip: one
-- shell script prints the stat(1) fields, the access bits, the link's
-- target, the checksum, file(1)'s mime answer and lsattr's flags.

local FILE_ATTRIBUTES = { A = "noatime", a = "append", c = "compressed", C = "nocow", d = "nodump",
  D = "dirsync", e = "extents", E = "encrypted", h = "blocksize", i = "immutable", I = "indexed",
  j = "journalled", N = "inline", s = "zero", S = "synchronous", t = "notail", T = "blockroot",
  u = "undelete", X = "compressedraw", Z = "compresseddirty" }

local M = {
  params = {
    path = { type = "path", required = true, aliases = { "dest", "name" } },
    follow = { type = "boolean", default = false },
    get_md5 = { type = "boolean", default = false },
    get_checksum = { type = "boolean", default = true },
    get_mime = { type = "boolean", default = true, aliases = { "mime", "mime_type", "mime-type" } },
    get_attributes = { type = "boolean", default = true, aliases = { "attr", "attributes" } },
    checksum_algorithm = { type = "string", default = "sha1", aliases = { "checksum", "checksum_algo" },
      choices = { "md5", "sha1", "sha224", "sha256", "sha384", "sha512" } },
  },
  check_mode = true,
}

M.FILE_ATTRIBUTES = FILE_ATTRIBUTES

--- The shell text that prints what M.parse reads, for path `q` (quoted).
--- opts: follow, checksum (an algorithm or nil), md5, mime, attributes.
function M.script(q, opts)
  local L = opts.follow and "-L " or ""
  local s = { "p=" .. q,
    [[command -v stat >/dev/null 2>&1 || { echo "the host has no 'stat' command (coreutils)" >&2; exit 127; }]],
    [[[ -e "$p" ] || [ -L "$p" ] || { echo ABSENT; exit 0; }]],
    "stat " .. L .. [[-c 'S|%f|%u|%g|%s|%i|%d|%h|%.9X|%.9Y|%.9Z|%b|%o|%t|%T|%U|%G' -- "$p" || exit 1]],
    [[a=; [ -r "$p" ] && a=r; [ -w "$p" ] && a=${a}w; [ -x "$p" ] && a=${a}x; echo "P|$a"]],
  }
  if not opts.follow then
    s[#s + 1] = [[if [ -L "$p" ]; then echo "L|$(readlink -f -- "$p")"; echo "T|$(readlink -- "$p")"; fi]]
  end
  local reg = opts.follow and [[[ -f "$p" ] && [ -r "$p" ] ]] or [[[ -f "$p" ] && [ ! -L "$p" ] && [ -r "$p" ] ]]
  local sums = {}
  if opts.checksum then sums[#sums + 1] = { "C", opts.checksum } end
  if opts.md5 then sums[#sums + 1] = { "5", "md5" } end
  for _, c in ipairs(sums) do
    s[#s + 1] = "if " .. reg .. "; then command -v " .. c[2] .. "sum >/dev/null 2>&1 || { echo \"the host has no '"
      .. c[2] .. "sum' command (coreutils)\" >&2; exit 127; }; echo \"" .. c[1] .. "|$(" .. c[2]
      .. "sum < \"$p\" | cut -d' ' -f1)\"; fi"
  end
  if opts.mime then
    s[#s + 1] = [[command -v file >/dev/null 2>&1 && echo "M|$(file --mime-type --mime-encoding -- "$p" 2>/dev/null)"]]
  end
  if opts.attributes then
    s[#s + 1] = [[command -v lsattr >/dev/null 2>&1 && echo "A|$(lsattr -vd -- "$p" 2>/dev/null)"]]
  end
  s[#s + 1] = "exit 0"
  return table.concat(s, "\n")
end

-- glibc's makedev
local function makedev(major, minor)
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12) | ((major & ~0xfff) << 32)
end

local function num(s)
  local n = tonumber(s)
  if n and math.type(n) == "float" and n == math.floor(n) and not s:find("%.") then n = math.tointeger(n) end
  return n
end

--- The stat table of Ansible's module from M.script's output (path: as given).
function M.parse(out, path, opts)
  if out:match("^ABSENT") then return { exists = false } end
  local f = {}
  for k, v in out:gmatch("([SPLTC5MA])|([^\n]*)") do f[k] = v end
  local S = {}
  for x in (f.S or ""):gmatch("[^|]*") do S[#S + 1] = x end
  local raw = tonumber(S[1] or "0", 16) or 0
  local ft = raw & 0xF000
  local m = raw & 0xFFF
  local st = {
    exists = true, path = path, mode = string.format("%04o", m),
    isdir = ft == 0x4000, ischr = ft == 0x2000, isblk = ft == 0x6000, isreg = ft == 0x8000,
    isfifo = ft == 0x1000, islnk = ft == 0xA000, issock = ft == 0xC000,
    uid = num(S[2]), gid = num(S[3]), size = num(S[4]), inode = num(S[5]), dev = num(S[6]), nlink = num(S[7]),
    atime = tonumber(S[8]), mtime = tonumber(S[9]), ctime = tonumber(S[10]),
    blocks = num(S[11]), block_size = num(S[12]),
    device_type = makedev(tonumber(S[13] or "0", 16) or 0, tonumber(S[14] or "0", 16) or 0),
    wusr = m & 128 ~= 0, rusr = m & 256 ~= 0, xusr = m & 64 ~= 0,
    wgrp = m & 16 ~= 0, rgrp = m & 32 ~= 0, xgrp = m & 8 ~= 0,
    woth = m & 2 ~= 0, roth = m & 4 ~= 0, xoth = m & 1 ~= 0,
    isuid = m & 2048 ~= 0, isgid = m & 1024 ~= 0,
  }
  if S[15] and S[15] ~= "UNKNOWN" then st.pw_name = S[15] end
  if S[16] and S[16] ~= "UNKNOWN" then st.gr_name = S[16] end
  local acc = f.P or ""
  st.readable, st.writeable, st.executable = acc:find("r", 1, true) ~= nil, acc:find("w", 1, true) ~= nil,
    acc:find("x", 1, true) ~= nil
  if f.L then st.lnk_source, st.lnk_target = f.L, f.T end
  if f.C then st.checksum = f.C end
  if f["5"] then st.md5 = f["5"] end
  if opts.mime then
    st.mimetype, st.charset = "unknown", "unknown"
    local mt, cs = (f.M or ""):match(":%s*([^;:]+);%s*charset=(%S+)%s*$")
    if mt then st.mimetype, st.charset = mt, cs end
  end
  if opts.attributes then
    st.version, st.attributes, st.attr_flags = nil, {}, ""
    local ver, flags = (f.A or ""):match("^%s*(%S+)%s+(%S+)")
    if ver then
      st.version, st.attr_flags = ver, flags:gsub("%-", "")
      for c in st.attr_flags:gmatch(".") do
        if FILE_ATTRIBUTES[c] then st.attributes[#st.attributes + 1] = FILE_ATTRIBUTES[c] end
      end
    end
  end
  return st
end

function M.run(ctx, args)
  local opts = { follow = args.follow, checksum = args.get_checksum and args.checksum_algorithm or nil,
    md5 = args.get_md5, mime = args.get_mime, attributes = args.get_attributes }
  local res = ctx:run(M.script(ctx.quote(args.path), opts))
  if not res.ok then return { failed = true, msg = ctx.chomp(res.stderr) ~= "" and ctx.chomp(res.stderr) or
    ("stat of " .. args.path .. " failed") } end
  return { changed = false, stat = ctx.object(M.parse(res.stdout, args.path, opts)) }
end

return M
