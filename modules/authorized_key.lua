-- authorized_key: SSH public keys in a user's authorized_keys, as Ansible's
-- ansible.posix.authorized_key: `key` is one key or several lines of them,
-- with key_options and comment applied to each; exclusive removes every
-- other line. The file is rewritten the way Ansible writes it (keys in
-- their order, options joined with commas, `type blob comment`), so a file
-- either tool wrote is read alike by the other. One round trip reads the
-- user, the file and its folder; a second one writes (atomically: a
-- temporary file beside it, renamed; the content on stdin).

local KEY_TYPES = {}
for t in ([[sk-ecdsa-sha2-nistp256@openssh.com sk-ecdsa-sha2-nistp256-cert-v01@openssh.com
  webauthn-sk-ecdsa-sha2-nistp256@openssh.com ecdsa-sha2-nistp256 ecdsa-sha2-nistp256-cert-v01@openssh.com
  ecdsa-sha2-nistp384 ecdsa-sha2-nistp384-cert-v01@openssh.com ecdsa-sha2-nistp521
  ecdsa-sha2-nistp521-cert-v01@openssh.com sk-ssh-ed25519@openssh.com sk-ssh-ed25519-cert-v01@openssh.com
  ssh-ed25519 ssh-ed25519-cert-v01@openssh.com ssh-dss ssh-rsa ssh-xmss@openssh.com
  ssh-xmss-cert-v01@openssh.com rsa-sha2-256 rsa-sha2-512 ssh-rsa-cert-v01@openssh.com
  rsa-sha2-256-cert-v01@openssh.com rsa-sha2-512-cert-v01@openssh.com ssh-dss-cert-v01@openssh.com]]):gmatch("%S+") do
  KEY_TYPES[t] = true
end

-- "a,b=\"x,y\",c" -> { {"a"}, {"b", "\"x,y\""}, {"c"} }: commas outside quotes split
local function parse_options(s)
  local list = {}
  if not s or s == "" then return list end
  local part, i, n = {}, 1, #s
  local function flush()
    local p = table.concat(part)
    if p ~= "" then
      local k, v = p:match("^([^=]*)=(.*)$")
      list[#list + 1] = k and { k, v } or { p }
    end
    part = {}
  end
  while i <= n do
    local c = s:sub(i, i)
    if c == '"' or c == "'" then
      local j = s:find(c, i + 1, true)
      if not j then part[#part + 1] = s:sub(i); break end -- an open quote: as it stands
      part[#part + 1] = s:sub(i, j)
      i = j + 1
    else
      if c == "," then flush() else part[#part + 1] = c end
      i = i + 1
    end
  end
  flush()
  return list
end

local function options_text(opts)
  local t = {}
  for _, o in ipairs(opts) do t[#t + 1] = o[2] and (o[1] .. "=" .. o[2]) or o[1] end
  return table.concat(t, ",")
end

-- The same options in any order compare equal (they are a mapping in Ansible).
local function options_key(opts)
  local t = {}
  for _, o in ipairs(opts) do t[#t + 1] = o[1] .. "\0" .. tostring(o[2]) end
  table.sort(t)
  return table.concat(t, "\1")
end

-- One line -> { blob, type, options, comment } or nil when it is no key.
local function parse_key(raw)
  raw = raw:gsub("\\#", "#")
  local words = {}
  for w in raw:gmatch("%S+") do words[#words + 1] = w end
  if words[1] == "#" then return nil end
  for i, w in ipairs(words) do
    if KEY_TYPES[w] then
      if not words[i + 1] then return nil end
      return { blob = words[i + 1], type = w, options = parse_options(table.concat(words, " ", 1, i - 1)),
        comment = table.concat(words, " ", i + 2) }
    end
  end
end

local function same(a, b)
  return a.type == b.type and a.comment == b.comment and options_key(a.options) == options_key(b.options)
end

-- The file's lines as Ansible's parsekeys reads them: keyed by the key's blob
-- (another line: by its text), each with its rank (the last one wins).
local function parse_file(text)
  local keys, order = {}, {}
  local rank = 0
  for line in text:gmatch("[^\n]*\n?") do
    if line == "" then break end
    local k = parse_key((line:gsub("\n$", "")))
    local id = k and k.blob or line
    if not k then k = { line = line } end
    k.rank = rank
    if keys[id] == nil then order[#order + 1] = id end
    keys[id] = k
    rank = rank + 1
  end
  return keys, order, rank
end

local function serialize(keys, order)
  local list = {}
  for _, id in ipairs(order) do if keys[id] then list[#list + 1] = keys[id] end end
  table.sort(list, function(a, b) return a.rank < b.rank end)
  local out = {}
  for _, k in ipairs(list) do
    if k.line then out[#out + 1] = k.line
    else
      local o = options_text(k.options)
      out[#out + 1] = (o ~= "" and (o .. " ") or "") .. k.type .. " " .. k.blob .. " " .. k.comment .. "\n"
    end
  end
  return table.concat(out)
end

local function gather(ctx, args)
  local q = ctx.quote
  local s = { "command -v getent >/dev/null 2>&1 || echo MISSING:getent",
    "p=$(getent passwd -- " .. q(args.user) .. ") && echo \"P:$p\"" }
  if args.path then s[#s + 1] = "f=" .. q(args.path)
  else s[#s + 1] = "f=\"$(printf %s \"$p\" | cut -d: -f6)/.ssh/authorized_keys\"" end
  if args.follow then s[#s + 1] = "f=$(realpath -m -- \"$f\")" end
  s[#s + 1] = "echo \"F:$f\"; [ -f \"$f\" ] && { echo C:; cat -- \"$f\"; }"
  return table.concat(s, "\n") .. "\nexit 0\n"
end

return {
  params = {
    user = { type = "string", required = true },
    key = { type = "raw", required = true },
    path = { type = "path" },
    manage_dir = { type = "boolean", default = true },
    state = { type = "string", default = "present", choices = { "present", "absent" } },
    key_options = { type = "string" },
    exclusive = { type = "boolean", default = false },
    comment = { type = "string" },
    validate_certs = { type = "boolean", default = true },
    follow = { type = "boolean", default = false },
  },
  check_args = function(args)
    local k = args.key
    if k ~= nil and type(k) ~= "string" and type(k) ~= "table" then
      return nil, "argument 'key' must be a string or a list of keys"
    end
    if type(k) == "string" and k:match("^http") then
      return nil, "argument 'key': a URL is not fetched by luasible (give the keys themselves, e.g. "
        .. "with lookup('url', ...) or lookup('file', ...))"
    end
    if args.user and (args.user == "" or args.user:find("^%-") or args.user:find("[:%s]")) then
      return nil, "argument 'user' must be a user name, got '" .. args.user .. "'"
    end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q = ctx.quote
    local key = args.key
    if type(key) == "table" then
      local t = {}
      for i, v in ipairs(key) do t[i] = ctx.tostring(v) end
      key = table.concat(t, "\n")
    end
    local new = {}
    for line in (key .. "\n"):gmatch("([^\n]*)\n") do
      line = line:gsub("\r$", "")
      if line ~= "" and line:sub(1, 1) ~= "#" then new[#new + 1] = line end
    end
    local out = ctx:run(gather(ctx, args)).stdout or ""
    if out:find("MISSING:getent", 1, true) then return { failed = true, msg = "getent not found on the host" } end
    local pw = out:match("P:([^\n]*)")
    if not pw and not (args.path and ctx.check_mode) then
      return { failed = true, msg = "Failed to lookup user " .. args.user .. ": no such user" }
    end
    local file = out:match("F:([^\n]*)")
    local existing = out:match("\nC:\n(.*)$") or out:match("^C:\n(.*)$") or ""
    local keys, order, count = parse_file(existing)
    local changed, wanted = false, {}
    local opts = args.key_options and parse_options(args.key_options)
    for i, line in ipairs(new) do
      local k = parse_key(line)
      if not k then return { failed = true, msg = "invalid key specified: " .. line } end
      if opts then k.options = opts end
      if args.comment then k.comment = args.comment end
      local cur = keys[k.blob]
      local matched = cur ~= nil and not cur.line and (args.state ~= "present" or same(k, cur))
      if args.state == "present" then
        wanted[k.blob] = true
        if not matched then
          k.rank = count + i - 1
          if cur == nil then order[#order + 1] = k.blob end
          keys[k.blob] = k
          changed = true
        end
      elseif matched then
        keys[k.blob] = nil
        changed = true
      end
    end
    if args.state == "present" and args.exclusive then
      for id, k in pairs(keys) do
        if k and not wanted[id] then keys[id] = nil; changed = true end
      end
    end
    local result = { user = args.user, key = key, path = args.path, manage_dir = args.manage_dir,
      state = args.state, key_options = args.key_options, exclusive = args.exclusive, comment = args.comment,
      validate_certs = args.validate_certs, follow = args.follow, keyfile = file, changed = changed }
    if not changed then return result end
    local content = serialize(keys, order)
    result.diff = ctx:diff_result(existing, content, file)
    if ctx.check_mode then
      result.msg = "would write " .. file
      return result
    end
    local u = q(args.user)
    local s = { "set -e", "f=" .. q(file), "d=$(dirname -- \"$f\")" }
    if args.manage_dir then
      s[#s + 1] = "[ -d \"$d\" ] || mkdir -m 0700 -- \"$d\"; chown " .. u .. ": \"$d\"; chmod 0700 \"$d\""
    else
      s[#s + 1] = "[ -d \"$d\" ] || mkdir -p -- \"$d\""
    end
    s[#s + 1] = "t=$(mktemp \"$d/.authorized_keys.XXXXXX\"); trap 'rm -f \"$t\"' EXIT; cat > \"$t\""
    s[#s + 1] = "chown " .. u .. ": \"$t\"; chmod 0600 \"$t\"" -- as Ansible: the user's, 0600, every write
    s[#s + 1] = "mv -f -- \"$t\" \"$f\"; trap - EXIT"
    local res = ctx:run(table.concat(s, "\n"), { stdin = content })
    if not res.ok then
      return { failed = true, changed = false, msg = "cannot write " .. file .. ": " .. ctx.chomp(res.stderr) }
    end
    return result
  end,
}
