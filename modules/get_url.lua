-- get_url: download a URL to a file on the host, with the host's own
-- curl, else wget, else python3 (the host does the request: what it can
-- reach counts, not what the controller can). Idempotent as Ansible's:
--   - a `checksum` (algo:hex, or algo:URL of a checksum file) that the
--     file at dest already has: no request at all (file attributes applied);
--   - else the request carries If-Modified-Since (dest's mtime) unless
--     `force`: a 304 changes nothing; a 200 is compared by SHA-1 with dest
--     and replaces it only when it differs.
-- One remote command does the probe, the request and the comparison (the
-- unchanged case is one round trip); a second one installs the file.
-- Credentials and headers travel on stdin into a 0600 temporary file (curl's
-- --config, a wgetrc, a JSON for python3), never on a command line.
-- The request is module/lib/http_request.lua's (ctx.lib("http_request")):
-- its fetch_stdin / fetch_sh / markers / parse_headers are get_url's too
-- (`lib` below), the request part uri and unarchive build on. The checksum
-- argument is read by module/lib/get_url_checksum.lua.
local M = {
  params = {
    url = { type = "string", required = true },
    dest = { type = "path", required = true },
    checksum = { type = "string", default = "" },
    force = { type = "boolean", default = false },
    backup = { type = "boolean", default = false },
    timeout = { type = "integer", default = 10 },
    headers = { type = "dict" },
    url_username = { type = "string", aliases = { "username" } },
    url_password = { type = "string", aliases = { "password" } },
    force_basic_auth = { type = "boolean", default = false },
    validate_certs = { type = "boolean", default = true },
    tmp_dest = { type = "path" },
    http_agent = { type = "string", default = "ansible-httpget" },
    use_proxy = { type = "boolean", default = true },
  },
  param_groups = { "file" },
  check_mode = true,
  lib = "http_request",
}

local ALGOS = { md5 = true, sha1 = true, sha224 = true, sha256 = true, sha384 = true, sha512 = true }

function M.check_args(args)
  local c = args.checksum
  if c == nil or c == "" then return true end
  local algo = c:match("^([^:]+):.+$")
  if not algo then return nil, "checksum: the checksum parameter has to be in format <algorithm>:<checksum>" end
  if not ALGOS[algo:lower()] then return nil, "checksum: unsupported algorithm '" .. algo .. "'" end
  return true
end

local STAT = "stat -L -c '%a|%U|%G|%s|%u|%g' -- "

local function parse_st(s)
  if not s or s == "" then return nil end
  local mode, owner, group, size, uid, gid = s:match("^(%d+)|([^|]*)|([^|]*)|(%d+)|(%d+)|(%d+)$")
  if not mode then return nil end
  return { mode = mode, owner = owner, group = group, size = tonumber(size), uid = tonumber(uid), gid = tonumber(gid) }
end

local function mode_ok(ctx, want, st)
  if not want then return true end
  local have = tonumber(st.mode, 8)
  return have ~= nil and ctx.mode_bits(want, have) == have
end

-- the script of the one round trip: dest, the request, the comparison
local function main_sh(ctx, http, args, algo, sum)
  local q = ctx.quote
  return table.concat({
    "set -u", "URL=" .. q(args.url), "DEST=" .. q(args.dest), "ALGO=" .. q(algo or ""), "SUM=" .. q(sum or ""),
    "FORCE=" .. (args.force and 1 or 0), "CHECK=" .. (ctx.check_mode and 1 or 0), "TMPD=" .. q(args.tmp_dest or ""),
    'cfgall=$(mktemp) && cat >"$cfgall" || exit 1',
    'IMS=; isdir=0; [ -d "$DEST" ] && { isdir=1; echo "@destdir"; }',
    'if [ $isdir = 0 ] && [ -e "$DEST" ]; then',
    '  echo "@dest $(' .. STAT .. '"$DEST")"',
    '  if [ -n "$SUM" ]; then have=$(${ALGO}sum <"$DEST" | cut -d" " -f1); echo "@destsum $have"',
    '    if [ $FORCE = 0 ] && [ "$have" = "$SUM" ]; then echo "@exists"; rm -f "$cfgall"; exit 0; fi',
    '    [ "$have" = "$SUM" ] || FORCE=1',
    "  fi",
    "  [ $FORCE = 0 ] && IMS=$(LC_ALL=C date -u -r \"$DEST\" '+%a, %d %b %Y %H:%M:%S GMT')",
    "fi",
    'if [ -n "$TMPD" ]; then [ -d "$TMPD" ] || { echo "@tmpdest"; rm -f "$cfgall"; exit 0; }',
    'else TMPD=${TMPDIR:-/tmp}; fi',
    'BODY=$(mktemp "$TMPD/.get_url.XXXXXX") && HDR=$(mktemp) || exit 1',
    "out=$(", http.fetch_sh(q), ")", 'echo "$out"', 'rm -f "$cfgall"',
    'case $out in *@notool*) rm -f "$BODY" "$HDR"; exit 0;; esac',
    'st=$(echo "$out" | sed -n "s/^@status //p" | tail -n 1); code=${st%% *}; EFF=${st#* }',
    'sed "s/^/@h /" "$HDR"',
    'if [ "$code" != 200 ]; then rm -f "$BODY" "$HDR"; exit 0; fi',
    'FINAL=$DEST',
    "if [ $isdir = 1 ]; then",
    "  fn=$(tr -d '\\r' <\"$HDR\""
      .. " | sed -n 's/^[Cc]ontent-[Dd]isposition: *attachment; *filename=\"\\{0,1\\}\\([^\"]*\\).*/\\1/p'"
      .. " | tail -n 1)",
    '  fn=${fn##*/}',
    '  if [ -z "$fn" ]; then p=${EFF%%[?#]*}; p=${p#*://}; case $p in */*) p=${p#*/}; fn=${p##*/};; *) fn=;; esac; fi',
    '  [ -n "$fn" ] || fn=index.html',
    '  FINAL=${DEST%/}/$fn',
    "fi",
    'rm -f "$HDR"',
    'echo "@final $FINAL"',
    'echo "@srcsha1 $(sha1sum <"$BODY" | cut -d" " -f1)"; echo "@srcmd5 $(md5sum <"$BODY" | cut -d" " -f1)"',
    '[ -n "$SUM" ] && echo "@srcsum $(${ALGO}sum <"$BODY" | cut -d" " -f1)"',
    'echo "@size $(wc -c <"$BODY")"',
    'fs=; if [ -e "$FINAL" ]; then echo "@finalst $(' .. STAT .. '"$FINAL")"; fs=$(sha1sum <"$FINAL" | cut -d" " -f1);'
      .. ' echo "@finalsha1 $fs"; elif [ ! -d "$(dirname -- "$FINAL")" ]; then echo "@nodir"; fi',
    'if [ $CHECK = 1 ] || [ "$fs" = "$(sha1sum <"$BODY" | cut -d" " -f1)" ]; then rm -f "$BODY"',
    'else echo "@tmp $BODY"; fi',
  }, "\n")
end

local function set_attrs(result, st)
  if st then
    result.mode, result.owner, result.group, result.uid, result.gid = "0" .. st.mode, st.owner, st.group, st.uid, st.gid
  end
end

local function fail(result, msg, extra)
  result.failed, result.msg = true, msg
  for k, v in pairs(extra or {}) do result[k] = v end
  return result
end

-- move the downloaded file into place (backup, mode kept or given, owner):
-- the second round trip
local function install(ctx, args, result, tmp, final, st, need_write)
  local q = ctx.quote
  local cmds = {}
  if need_write then
    if args.backup and st then
      result.backup_file = final .. "." .. os.date("%Y%m%d%H%M%S") .. "~"
      cmds[#cmds + 1] = "cp -p -- " .. q(final) .. " " .. q(result.backup_file)
    end
    -- a new file gets 0666 less the umask (as Ansible's atomic move), a replaced one keeps its mode
    cmds[#cmds + 1] = "chmod " .. (st and st.mode or "$(printf %o $((0666 & ~$(umask))))") .. " -- " .. q(tmp)
    if st then cmds[#cmds + 1] = "chown " .. st.uid .. ":" .. st.gid .. " -- " .. q(tmp) end
    cmds[#cmds + 1] = "mv -f -- " .. q(tmp) .. " " .. q(final)
  end
  if args.mode then cmds[#cmds + 1] = "chmod " .. q(args.mode) .. " -- " .. q(final) end
  if args.owner or args.group then
    local who = (args.owner or "") .. (args.group and (":" .. args.group) or "")
    cmds[#cmds + 1] = "chown " .. q(who) .. " -- " .. q(final)
  end
  cmds[#cmds + 1] = STAT .. q(final)
  local res = ctx:run(table.concat(cmds, " && "))
  if not res.ok then
    if need_write then ctx:run("rm -f -- " .. q(tmp)) end
    return fail(result, "failed to install " .. final .. ": " .. ctx.chomp(res.stderr or ""))
  end
  local nst = parse_st(ctx.chomp(res.stdout):match("([^\n]*)$"))
  set_attrs(result, nst)
  return result
end

local function attrs_differ(ctx, args, st)
  return not (mode_ok(ctx, args.mode, st) and ctx.owner_is(st, args.owner) and ctx.group_is(st, args.group))
end

function M.run(ctx, args)
  local t0 = ctx.now()
  local result = { changed = false, dest = args.dest, url = args.url, elapsed = 0, state = "file" }
  local headers = {}
  for k, v in pairs(args.headers or {}) do headers[#headers + 1] = { tostring(k), ctx.tostring(v) } end
  table.sort(headers, function(a, b) return a[1] < b[1] end)
  local req = { url = args.url, method = ctx.check_mode and "HEAD" or "GET", headers = headers,
    user = args.url_username, password = args.url_password, basic = args.force_basic_auth,
    timeout = args.timeout, validate_certs = args.validate_certs, follow = true, agent = args.http_agent,
    proxy = args.use_proxy }
  if args.owner or args.group then
    local ok, err = ctx:check_owner(args.owner, args.group)
    if not ok then return fail(result, err .. " (nothing downloaded to " .. args.dest .. ")") end
  end
  local algo, sum
  if args.checksum ~= "" then
    algo, sum = ctx.lib("get_url_checksum").read(ctx, args, req)
    if not algo then return fail(result, sum) end
  end
  local http = ctx.lib("http_request")
  local stdin, err = http.fetch_stdin(req)
  if not stdin then return fail(result, err) end
  local url = args.url
  local res = ctx:run(main_sh(ctx, http, args, algo, sum), { stdin = stdin, on_output = function(line, is_stderr, ev)
    if line:match("^@") then return end
    local p = tonumber(line:match("(%d+%.?%d*)%%"))
    if p and p >= 0 and p <= 100 then
      ctx:progress({ stage = "downloading", percentage = p, message = url })
      if ev and ev.cr then return end
    end
    ctx.emit({ type = is_stderr and "stderr" or "stdout", data = line }, ev)
  end })
  result.elapsed = math.floor(ctx.now() - t0)
  local m = http.markers(res.stdout)
  if not res.ok then return fail(result, "get_url failed on the host: " .. ctx.chomp(res.stderr or "")) end
  if m.notool then
    return fail(result, "get_url: the host has none of curl, wget, python3 (one is needed to download " .. url .. ")")
  end
  if m.tmpdest then return fail(result, args.tmp_dest .. " directory does not exist.") end
  local st = parse_st(m.dest)
  if m.exists then -- the checksum matched: no request
    result.checksum_dest = nil
    result.msg = "file already exists"
    if attrs_differ(ctx, args, st) then
      result.changed, result.msg = true, "file already exists but file attributes changed"
      if ctx.check_mode then return result end
      return install(ctx, args, result, nil, args.dest, st, false)
    end
    return result
  end
  local code = tonumber((m.status or ""):match("^(-?%d+)"))
  if not code or code == -1 or code == 0 then
    local why = ctx.chomp(res.stderr or ""):match("([^\n]*)$") or ""
    return fail(result, "Request failed: cannot reach " .. url .. (why ~= "" and (" (" .. why .. ")") or ""),
      { status_code = -1 })
  end
  result.status_code = code
  if code == 304 then
    result.msg = "Not Modified"
    return result
  end
  local hdr = {}
  for l in (res.stdout or ""):gmatch("@h ([^\n]*)") do hdr[#hdr + 1] = l end
  local _, reason = http.parse_headers(table.concat(hdr, "\n"))
  if code ~= 200 then return fail(result, "Request failed", { response = "HTTP Error " .. code .. ": " .. reason }) end
  local final = m.final or args.dest
  result.dest, result.checksum_src, result.md5sum = final, m.srcsha1, m.srcmd5
  result.size = tonumber(m.size)
  result.checksum_dest = m.finalsha1 or ctx:eval("None") -- null for a new file, as Ansible's
  result.msg = "OK (" .. tostring(result.size or "unknown") .. " bytes)"
  if m.nodir then
    if m.tmp then ctx:run("rm -f -- " .. ctx.quote(m.tmp)) end
    return fail(result, "Destination " .. ctx.path.py_dirname(final) .. " does not exist")
  end
  local fst = parse_st(m.finalst)
  local need_write = m.srcsha1 ~= m.finalsha1
  if sum and m.srcsum ~= sum and not ctx.check_mode then -- (under --check a HEAD: no body)
    if m.tmp then ctx:run("rm -f -- " .. ctx.quote(m.tmp)) end
    return fail(result, "The checksum for " .. final .. " did not match " .. sum .. "; it was "
      .. tostring(m.srcsum) .. ".")
  end
  local need_attrs = fst == nil or attrs_differ(ctx, args, fst)
  if ctx.check_mode then
    result.changed = need_write or (fst ~= nil and attrs_differ(ctx, args, fst))
    if result.changed then result.msg = "would download " .. url .. " to " .. final end
    return result
  end
  if not need_write and not need_attrs then
    set_attrs(result, fst)
    return result
  end
  result.changed = true
  if ctx.diff and need_write and ctx.diff_result then -- the checksums (a download is often binary)
    result.diff = ctx:diff_result(ctx.object({ path = final, checksum = m.finalsha1 or "(absent)" }),
      ctx.object({ path = final, checksum = m.srcsha1 }))
  end
  result.src = m.tmp
  return install(ctx, args, result, m.tmp, final, fst, need_write)
end

return M
