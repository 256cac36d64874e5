-- uri: an HTTP request made by the host (its curl, else python3; the
-- request part is get_url's: ctx.lib("http_request")), with Ansible's result:
-- status, url, redirected, msg, the response headers as fields (lowercased,
-- "-" as "_"), content (return_content), json (a
-- JSON answer), dest written with the body. One remote command a run:
-- creates/removes, the request, the body read back and dest written.
-- Not run under --check (Ansible's uri has no check mode either).
local M = {
  params = {
    url = { type = "string", required = true },
    dest = { type = "path" },
    url_username = { type = "string", aliases = { "user" } },
    url_password = { type = "string", aliases = { "password" } },
    body = { type = "raw" },
    body_format = { type = "string", default = "raw",
      choices = { "form-urlencoded", "json", "raw", "form-multipart" } },
    method = { type = "string", default = "GET" },
    return_content = { type = "boolean", default = false },
    force_basic_auth = { type = "boolean", default = false },
    follow_redirects = { type = "string", default = "safe",
      choices = { "all", "no", "none", "safe", "urllib2", "yes" } },
    creates = { type = "path" },
    removes = { type = "path" },
    status_code = { type = "list", default = { 200 } },
    timeout = { type = "integer", default = 30 },
    headers = { type = "dict" },
    validate_certs = { type = "boolean", default = true },
    http_agent = { type = "string", default = "ansible-httpget" },
    use_proxy = { type = "boolean", default = true },
  },
  param_groups = { "file" },
  check_mode = false,
}

function M.check_args(args)
  if args.method and not tostring(args.method):upper():match("^[A-Z]+$") then
    return nil, "method: needs to be a single word, like GET or POST (got '" .. tostring(args.method) .. "')"
  end
  if args.body_format == "form-multipart" then
    return nil, "body_format: form-multipart is not supported by luasible's uri (use raw with your own Content-Type)"
  end
  for _, c in ipairs(args.status_code or {}) do
    if not math.tointeger(tonumber(c)) then
      return nil, "status_code: '" .. tostring(c) .. "' is not a status code (a list of integers)"
    end
  end
  return true
end

-- application/x-www-form-urlencoded, as Python's urlencode (quote_plus)
local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~ ]", function(c) return string.format("%%%02X", c:byte()) end):gsub(" ", "+"))
end

local function form(ctx, body)
  if type(body) ~= "table" then return ctx.tostring(body) end
  local keys, parts = {}, {}
  for k in pairs(body) do keys[#keys + 1] = k end
  if #body > 0 then -- a list of pairs
    for _, kv in ipairs(body) do
      local k, v = kv[1] or kv.name or kv.key, kv[2] or kv.value
      parts[#parts + 1] = urlencode(ctx.tostring(k)) .. "=" .. urlencode(ctx.tostring(v))
    end
    return table.concat(parts, "&")
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    parts[#parts + 1] = urlencode(ctx.tostring(k)) .. "=" .. urlencode(ctx.tostring(body[k]))
  end
  return table.concat(parts, "&")
end

local JSON_TYPES = { json = true, javascript = true, ["x-javascript"] = true, ["x-json"] = true }

local function is_json(ctype)
  local sub = (ctype or ""):lower():match("^[^/;]+/([^;%s]+)")
  if not sub then return false end
  return JSON_TYPES[sub:match("%+(.+)$") or sub] == true
end

local function body_and_headers(ctx, args)
  local headers, have = {}, {}
  for k, v in pairs(args.headers or {}) do
    headers[#headers + 1] = { tostring(k), ctx.tostring(v) }
    have[tostring(k):lower()] = true
  end
  local body = args.body
  if body ~= nil then
    if args.body_format == "json" then
      if type(body) ~= "string" then body = ctx.tostring(body) end
      if not have["content-type"] then headers[#headers + 1] = { "Content-Type", "application/json" } end
    elseif args.body_format == "form-urlencoded" then
      body = form(ctx, body)
      if not have["content-type"] then
        headers[#headers + 1] = { "Content-Type", "application/x-www-form-urlencoded" }
      end
    else
      body = ctx.tostring(body)
    end
  end
  table.sort(headers, function(a, b) return a[1] < b[1] end)
  return body, headers
end

local function script(ctx, http, args)
  local q = ctx.quote
  return table.concat({
    "set -u", "DEST=" .. q(args.dest or ""),
    args.creates and ("[ -e " .. q(args.creates) .. " ] && { echo '@creates'; exit 0; }") or ":",
    args.removes and ("[ -e " .. q(args.removes) .. " ] || { echo '@removes'; exit 0; }") or ":",
    'cfgall=$(mktemp) && cat >"$cfgall" || exit 1',
    'BODY=$(mktemp) && HDR=$(mktemp) || exit 1',
    -- as Ansible's: an existing dest file makes the request conditional (a 304 then)
    "IMS=; [ -f \"$DEST\" ] && IMS=$(LC_ALL=C date -u -r \"$DEST\" '+%a, %d %b %Y %H:%M:%S GMT')",
    "out=$(", http.fetch_sh(q, { "curl", "python3" }), ")", 'echo "$out"', 'rm -f "$cfgall"',
    'sed "s/^/@h /" "$HDR"; rm -f "$HDR"',
    -- with a dest, the body stays on the host for write_dest (the second command)
    '[ -n "$DEST" ] && echo "@tmp $BODY"',
    'echo "@body"; cat "$BODY"',
    '[ -n "$DEST" ] || rm -f "$BODY"',
  }, "\n")
end

local function fail_status(result, codes, msg)
  local list = {}
  for i, c in ipairs(codes) do list[i] = tostring(c) end
  result.failed = true
  result.msg = "Status code was " .. tostring(result.status) .. " and not [" .. table.concat(list, ", ") .. "]: "
    .. (msg or "")
  return result
end

-- dest: the body (kept on the host in a temporary file) moved there, the
-- file attributes applied; a folder dest gets the name the answer gives
local function write_dest(ctx, args, result, tmp, headers, final_url)
  local q = ctx.quote
  local cd = (headers["content-disposition"] or ""):match('filename="?([^";]+)')
  local name = cd and cd:match("([^/]+)$")
    or (final_url or ""):gsub("[?#].*$", ""):gsub("/+$", ""):match("://[^/]+/(.*)$")
  name = name and name:match("([^/]*)$") or ""
  if name == "" then name = "index.html" end
  local cmds = { "d=" .. q(args.dest), 'if [ -d "$d" ]; then d=${d%/}/' .. q(name) .. "; fi",
    "chmod $(printf %o $((0666 & ~$(umask)))) -- " .. q(tmp), 'mv -f -- ' .. q(tmp) .. ' "$d"' }
  if args.mode then cmds[#cmds + 1] = "chmod " .. q(args.mode) .. ' -- "$d"' end
  if args.owner or args.group then
    cmds[#cmds + 1] = "chown " .. q((args.owner or "") .. (args.group and (":" .. args.group) or "")) .. ' -- "$d"'
  end
  cmds[#cmds + 1] = 'echo "$d"'
  local res = ctx:run(table.concat(cmds, " && "))
  if not res.ok then
    ctx:run("rm -f -- " .. q(tmp))
    result.failed, result.msg = true, "cannot write " .. args.dest .. ": " .. ctx.chomp(res.stderr or "")
    return result
  end
  result.path = ctx.chomp(res.stdout)
  result.changed = true
  return result
end

function M.run(ctx, args)
  local http = ctx.lib("http_request")
  local t0 = ctx.now()
  local method = tostring(args.method):upper()
  local codes = {}
  for i, c in ipairs(args.status_code) do codes[i] = math.tointeger(tonumber(c)) end
  local body, headers = body_and_headers(ctx, args)
  local fr = args.follow_redirects
  local follow = fr == "all" or fr == "yes" or fr == "urllib2"
    or (fr == "safe" and (method == "GET" or method == "HEAD"))
  local req = { url = args.url, method = method, headers = headers, body = body, user = args.url_username,
    password = args.url_password, basic = args.force_basic_auth, timeout = args.timeout,
    validate_certs = args.validate_certs, follow = follow, agent = args.http_agent, proxy = args.use_proxy }
  local stdin, err = http.fetch_stdin(req)
  if not stdin then return { failed = true, msg = err } end
  local res = ctx:run(script(ctx, http, args), { stdin = stdin })
  local out = res.stdout or ""
  local head, content = out:match("^(.-\n)@body\n(.*)$")
  head = head or out
  local m = http.markers(head)
  if m.creates then return { changed = false, stdout = "skipped, since '" .. args.creates .. "' exists" } end
  if m.removes then return { changed = false, stdout = "skipped, since '" .. args.removes .. "' does not exist" } end
  if m.notool then
    return { failed = true,
      msg = "uri: the host has neither curl nor python3 (one is needed to request " .. args.url .. ")" }
  end
  local code, final_url = (m.status or ""):match("^(-?%d+) ?(.*)$")
  code = tonumber(code) or -1
  local result = { changed = false, url = args.url, elapsed = math.floor(ctx.now() - t0), status = code,
    redirected = false, cookies = ctx.object({}), cookies_string = "" }
  if code <= 0 then
    if m.tmp then ctx:run("rm -f -- " .. ctx.quote(m.tmp)) end
    local why = ctx.chomp(res.stderr or ""):match("([^\n]*)$") or ""
    result.status = -1
    return fail_status(result, codes,
      "Request failed: cannot reach " .. args.url .. (why ~= "" and (" (" .. why .. ")") or ""))
  end
  local hl = {}
  for l in head:gmatch("@h ([^\n]*)") do hl[#hl + 1] = l end
  local h, reason = http.parse_headers(table.concat(hl, "\n"))
  for k, v in pairs(h) do result[k:gsub("-", "_")] = v end
  if final_url and final_url ~= "" then result.url = final_url end
  result.redirected = result.url ~= args.url
  local cookies = {}
  for c in (h["set-cookie"] or ""):gmatch("[^,]+") do
    local n, v = c:match("^%s*([^=;%s]+)=([^;]*)")
    if n then result.cookies[n] = v; cookies[#cookies + 1] = n .. "=" .. v end
  end
  result.cookies_string = table.concat(cookies, "; ")
  if result.location and not result.location:find("://", 1, true) and result.location:sub(1, 1) == "/" then
    -- as Ansible's absolute_location: the URL with (every copy of) its path
    -- removed, then the location (a query stays: ".../r?a=b" -> "http://h?a=b/loc")
    local path = args.url:match("^%a[%w+.-]*://[^/?#]*([^?#]*)") or ""
    local base = path ~= "" and args.url:gsub(path:gsub("%p", "%%%0"), "") or args.url
    result.location = base .. result.location
  end
  local accepted = false
  for _, c in ipairs(codes) do if c == code then accepted = true end end
  local ctype = h["content-type"]
  if is_json(ctype) and content and content ~= "" then
    local js = ctx.eval({ vars = { uri_content = content } }, "uri_content | from_json")
    if js ~= nil then result.json = js end
  end
  if args.return_content then result.content = content or "" end
  result.msg = "OK (" .. (h["content-length"] or "unknown") .. " bytes)"
  if not accepted then
    if m.tmp then ctx:run("rm -f -- " .. ctx.quote(m.tmp)) end
    return fail_status(result, codes, "HTTP Error " .. code .. ": " .. (reason or ""))
  end
  if args.dest then
    if code == 304 or not m.tmp then
      if m.tmp then ctx:run("rm -f -- " .. ctx.quote(m.tmp)) end
      result.path = args.dest
      return result
    end
    return write_dest(ctx, args, result, m.tmp, h, result.url)
  end
  return result
end

return M
