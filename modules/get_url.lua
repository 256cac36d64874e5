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
-- M.fetch_sh / M.fetch_stdin are the request part uri builds on.
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

-- curl's config file syntax: a double-quoted string with \ escapes
local function cq(s)
  s = tostring(s):gsub('[\\"]', "\\%0"):gsub("\n", "\\n"):gsub("\r", "\\r"):gsub("\t", "\\t")
  return '"' .. s .. '"'
end

local function json_str(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c)
    local map = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
    return map[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

--- The request's settings as the host's script reads them from stdin: one
--- section per tool (@@curl, @@wget, @@python), the script keeps its tool's.
--- req: url, method, headers (list of { k, v }), body (string), user,
--- password, timeout, validate_certs, follow (boolean), agent, proxy.
--- Returns the text, or nil, err (a value that cannot be passed).
function M.fetch_stdin(req)
  if tostring(req.url):find("[%c ]") then return nil, "url: a URL holds no spaces or control characters" end
  for _, h in ipairs(req.headers or {}) do
    if tostring(h[1]):find("[\r\n:]") or tostring(h[2]):find("[\r\n]") then
      return nil, "headers: a header name or value holds a line break (or a name a colon): " .. tostring(h[1])
    end
  end
  local t = tostring(req.timeout or 10)
  local c = { "@@curl", "url = " .. cq(req.url), "connect-timeout = " .. t, "speed-time = " .. t,
    "speed-limit = 1", "user-agent = " .. cq(req.agent or "ansible-httpget") }
  local w = { "@@wget", "timeout = " .. t, "tries = 1", "user_agent = " .. (req.agent or "ansible-httpget"),
    "max_redirect = " .. (req.follow and "20" or "0") }
  if req.method == "HEAD" then c[#c + 1] = "head"
  elseif req.method ~= "GET" then c[#c + 1] = "request = " .. cq(req.method) end
  if req.follow then c[#c + 1] = "location"; c[#c + 1] = "max-redirs = 20" end
  if req.validate_certs == false then c[#c + 1] = "insecure"; w[#w + 1] = "check_certificate = off" end
  if req.proxy == false then c[#c + 1] = "noproxy = " .. cq("*"); w[#w + 1] = "use_proxy = off" end
  if req.user then
    c[#c + 1] = "user = " .. cq(req.user .. ":" .. (req.password or ""))
    if tostring(req.user):find("[\r\n]") or tostring(req.password or ""):find("[\r\n]") then
      return nil, "url_username/url_password: a line break cannot be passed"
    end
    w[#w + 1] = "user = " .. req.user
    w[#w + 1] = "password = " .. (req.password or "")
    if req.basic then w[#w + 1] = "auth_no_challenge = on" end
  end
  local hj = {}
  for _, h in ipairs(req.headers or {}) do
    c[#c + 1] = "header = " .. cq(h[1] .. ": " .. h[2])
    w[#w + 1] = "header = " .. h[1] .. ": " .. h[2]
    hj[#hj + 1] = json_str(h[1]) .. ":" .. json_str(h[2])
  end
  if req.body then c[#c + 1] = "data-binary = " .. cq(req.body) end
  local p = string.format('{"url":%s,"method":%s,"headers":{%s},"timeout":%s,"validate":%s,"follow":%s,'
    .. '"agent":%s,"user":%s,"password":%s,"body":%s}', json_str(req.url), json_str(req.method), table.concat(hj, ","),
    t, tostring(req.validate_certs ~= false), tostring(req.follow == true), json_str(req.agent or "ansible-httpget"),
    req.user and json_str(req.user) or "null", req.user and json_str(req.password or "") or "null",
    req.body and json_str(req.body) or "null")
  return table.concat(c, "\n") .. "\n" .. table.concat(w, "\n") .. "\n@@python3\n" .. p .. "\n@@url\n"
    .. req.url .. "\n@@end\n"
end

-- python3's request: the settings from the JSON file argv[1], the body to
-- argv[2], the headers to argv[3]; prints "@status CODE URL" (-1 on failure)
local PY = [[
import json,sys,ssl,base64,urllib.request as u,urllib.error as e
import os
c=json.load(open(sys.argv[1]));h=dict(c["headers"]);h.setdefault("User-Agent",c["agent"])
if os.environ.get("IMS"):h["If-Modified-Since"]=os.environ["IMS"]
if c["user"] is not None:h["Authorization"]="Basic "+base64.b64encode((c["user"]+":"+c["password"]).encode()).decode()
class N(u.HTTPRedirectHandler):
  def redirect_request(s,*a):return None
hs=[] if c["follow"] else [N()]
if not c["validate"]:
  x=ssl.create_default_context();x.check_hostname=False;x.verify_mode=ssl.CERT_NONE;hs.append(u.HTTPSHandler(context=x))
b=c["body"].encode() if c["body"] is not None else None
r=u.Request(c["url"],data=b,headers=h,method=c["method"])
try:
  try:f=u.build_opener(*hs).open(r,timeout=c["timeout"])
  except e.HTTPError as x:f=x
except Exception as x:
  sys.stderr.write("python3: %s\n"%x);print("@status -1 "+c["url"]);sys.exit(0)
n=int(f.headers.get("Content-Length") or 0);d=0;k=0
with open(sys.argv[2],"wb") as o:
  while True:
    s=f.read(65536)
    if not s:break
    o.write(s);d+=len(s)
    if n and d*10//n>k:k=d*10//n;sys.stderr.write("%d%% %d bytes\n"%(d*100//n,d));sys.stderr.flush()
with open(sys.argv[3],"w") as o:
  o.write("HTTP/1.1 %d %s\r\n"%(f.status,f.reason or ""))
  for a,v in f.headers.items():o.write("%s: %s\r\n"%(a,v))
print("@status %d %s"%(f.status,f.geturl()))
]]

--- The shell that does the request with the first of curl, wget, python3:
--- expects $cfgall (the stdin text in a file), $BODY, $HDR (files to
--- write); prints "@tool NAME" then "@status CODE URL" (CODE -1: no
--- answer), or "@notool" and exits 0. `tools` limits the choice.
function M.fetch_sh(q, tools)
  local list = table.concat(tools or { "curl", "wget", "python3" }, " ")
  return table.concat({
    "tool=; for t in " .. list .. "; do command -v $t >/dev/null 2>&1 && { tool=$t; break; }; done",
    '[ -n "$tool" ] || { echo "@notool"; exit 0; }',
    'echo "@tool $tool"',
    'cfg=$(mktemp) && awk -v s="@@$tool" \'$0==s{on=1;next} /^@@/{on=0} on\' "$cfgall" >"$cfg" || exit 1',
    'if [ -n "${IMS:-}" ]; then case $tool in',
    '  curl) echo "header = \\"If-Modified-Since: $IMS\\"" >>"$cfg" ;;',
    '  wget) echo "header = If-Modified-Since: $IMS" >>"$cfg" ;;',
    'esac; export IMS; fi',
    'case $tool in',
    "curl) curl -q --config \"$cfg\" -# -o \"$BODY\" -D \"$HDR\" -w '\\n@status %{http_code} %{url_effective}\\n'"
      .. ' || { rc=$?; echo "@status -1 curl exit $rc"; } ;;',
    "wget) log=$(mktemp); awk '$0==\"@@url\"{on=1;next} /^@@/{on=0} on' \"$cfgall\" >\"$cfg.url\";"
      .. ' { wget --config="$cfg" -S --progress=dot:binary -i "$cfg.url" -O "$BODY" 2>&1; echo $? >"$cfg.rc"; }'
      .. ' | tee "$log" >&2; rc=$(cat "$cfg.rc");'
      .. " code=$(sed -n 's/^  HTTP\\/[0-9.]* \\([0-9]*\\).*/\\1/p' \"$log\" | tail -n 1);"
      .. " last=$(grep -n '^  HTTP/' \"$log\" | tail -n 1 | cut -d: -f1);"
      .. " [ -n \"$last\" ] && sed -n \"${last},\\$p\" \"$log\""
      .. " | sed -n 's/^  \\(HTTP\\/.*\\|[A-Za-z0-9-]*: .*\\)$/\\1/p' >\"$HDR\";"
      .. " eff=$(sed -n 's/^--[^ ]* [^ ]*--  //p' \"$log\" | tail -n 1);"
      .. ' rm -f "$log" "$cfg.url" "$cfg.rc";'
      .. ' if [ -n "$code" ]; then echo "@status $code $eff"; else echo "@status -1 wget exit $rc"; fi ;;',
    "python3) python3 -c " .. q(PY) .. ' "$cfg" "$BODY" "$HDR" ;;',
    "esac",
    'rm -f "$cfg"',
  }, "\n")
end

-- "@key value" lines of the script's stdout
local function markers(out)
  local m = {}
  for line in (out or ""):gmatch("[^\n]+") do
    local k, v = line:match("^@(%w+) ?(.*)$")
    if k then m[k] = v end
  end
  return m
end
M.markers = markers

--- The headers of the last response in a header dump (curl -D, wget -S),
--- as { name_lowercased = value }, and its status line's reason.
function M.parse_headers(text)
  local blocks, cur = {}, nil
  for line in (text or ""):gmatch("[^\n]+") do
    line = line:gsub("\r$", "")
    if line:match("^HTTP/") then
      cur = { reason = line:match("^HTTP/%S+%s+%d+%s*(.*)$") or "", h = {} }
      blocks[#blocks + 1] = cur
    elseif cur then
      local k, v = line:match("^([^:%s]+):%s*(.-)%s*$")
      if k then
        k = k:lower()
        cur.h[k] = cur.h[k] and (cur.h[k] .. ", " .. v) or v
      end
    end
  end
  local last = blocks[#blocks] or { h = {}, reason = "" }
  return last.h, last.reason
end

local function read_checksum(ctx, args, req)
  local algo, sum = args.checksum:match("^([^:]+):(.+)$")
  if not algo then return nil, "checksum: the checksum parameter has to be in format <algorithm>:<checksum>" end
  algo = algo:lower()
  if sum:match("^%a+://") then -- a checksum file: fetched by the host, the line naming the URL's file kept
    local creq = {}
    for k, v in pairs(req) do creq[k] = v end
    creq.url, creq.method = sum, "GET"
    local stdin, err = M.fetch_stdin(creq)
    if not stdin then return nil, err end
    local res = ctx:run(table.concat({ "set -u", "cfgall=$(mktemp) && cat >\"$cfgall\" || exit 1",
      "BODY=$(mktemp); HDR=$(mktemp)", "(", M.fetch_sh(ctx.quote), ")", 'cat "$BODY" | sed "s/^/@line /"',
      'rm -f "$BODY" "$HDR" "$cfgall"' }, "\n"), { stdin = stdin })
    local m = markers(res.stdout)
    if m.notool then return nil, "get_url: the host has none of curl, wget, python3 (needed to download)" end
    local code = tonumber((m.status or ""):match("^(-?%d+)"))
    if code ~= 200 then
      return nil, "get_url: cannot fetch the checksum file " .. sum .. " (status " .. tostring(code) .. ")"
    end
    local lines = {}
    for l in (res.stdout or ""):gmatch("@line ([^\n]*)") do lines[#lines + 1] = l end
    local file = (args.url:gsub("[?#].*$", ""):match("([^/]*)$"))
    if file == "" then file = "index.html" end
    local found
    if #lines == 1 and lines[1]:match("^%S+$") then found = lines[1] end
    for _, l in ipairs(lines) do
      if found then break end
      local s, f = l:match("^(%S+) (.*)$")
      if f and (f:gsub("^[ *]", ""):gsub("^[./]+", "")) == file then found = s end
    end
    if not found then return nil, "Unable to find a checksum for file '" .. file .. "' in '" .. sum .. "'" end
    sum = found
  end
  sum = sum:gsub("[%W_]+", ""):lower()
  if not sum:match("^%x+$") then return nil, "checksum: the checksum format is invalid" end
  return algo, sum
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
local function main_sh(ctx, args, algo, sum)
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
    "out=$(", M.fetch_sh(q), ")", 'echo "$out"', 'rm -f "$cfgall"',
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
    algo, sum = read_checksum(ctx, args, req)
    if not algo then return fail(result, sum) end
  end
  local stdin, err = M.fetch_stdin(req)
  if not stdin then return fail(result, err) end
  local url = args.url
  local res = ctx:run(main_sh(ctx, args, algo, sum), { stdin = stdin, on_output = function(line, is_stderr, ev)
    if line:match("^@") then return end
    local p = tonumber(line:match("(%d+%.?%d*)%%"))
    if p and p >= 0 and p <= 100 then
      ctx:progress({ stage = "downloading", percentage = p, message = url })
      if ev and ev.cr then return end
    end
    ctx.emit({ type = is_stderr and "stderr" or "stdout", data = line }, ev)
  end })
  result.elapsed = math.floor(ctx.now() - t0)
  local m = markers(res.stdout)
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
  local _, reason = M.parse_headers(table.concat(hdr, "\n"))
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
