--- luasible.module.lib.http_request: an HTTP request done by the host
-- with its own curl, else wget, else python3 (the host does the request:
-- what it can reach counts, not what the controller can). get_url, uri and
-- unarchive's URLs build on it (ctx.lib("http_request"); get_url offers
-- these functions as its own). Credentials and headers travel on stdin
-- into a 0600 temporary file (curl's --config, a wgetrc, a JSON for
-- python3), never on a command line.
local M = {}

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

-- "@key value" lines of the script's stdout (module/lib/markers.lua)
M.markers = require("luasible.module.lib.markers").parse

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

return M
