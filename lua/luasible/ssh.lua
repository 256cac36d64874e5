--- The SSH connection kind: ~/.ssh/config, host key policy, reconnects,
-- commands over exec channels and files over SFTP. execute/stream come from
-- connection.Connection; this file only provides :_start and put/get.
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"
local connection = require "luasible.connection"

local quote, join = connection.quote, connection.join

local M = {}

local HOME = os.getenv("HOME") or "/"

local function expand(path, ctx)
  path = path:gsub("^~/", HOME .. "/"):gsub("^~$", HOME)
  if ctx then
    path = path:gsub("%%(.)", function(c)
      if c == "d" then return HOME end
      if c == "h" then return ctx.hostname or "" end
      if c == "u" or c == "r" then return ctx.user or "" end
      if c == "%" then return "%" end
      return nil
    end)
  end
  return path
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function local_user()
  local u = os.getenv("USER") or os.getenv("LOGNAME")
  if u and u ~= "" then return u end
  local p = io.popen("id -un 2>/dev/null")
  if p then
    u = p:read("l")
    p:close()
  end
  return u or "root"
end

-- OpenSSH glob (* and ?) -> Lua pattern
local function glob(pat)
  return "^" .. pat:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
end

local function host_matches(list, host)
  local matched = false
  for pat in list:gmatch("%S+") do
    local neg = pat:sub(1, 1) == "!"
    if neg then pat = pat:sub(2) end
    if host:find(glob(pat)) then
      if neg then return false end
      matched = true
    end
  end
  return matched
end

local function unquote(v)
  return (v:match('^"(.*)"$') or v)
end

--- Read the options of `host` from an OpenSSH client config file: the
-- first value of each keyword wins; IdentityFile accumulates.
function M.read_config(path, host)
  local res = { identityfile = {} }
  local f = io.open(path, "r")
  if not f then return res end
  local active = true
  for line in f:lines() do
    line = line:gsub("^%s+", ""):gsub("%s+$", "")
    if line ~= "" and line:sub(1, 1) ~= "#" then
      local key, val = line:match("^(%S-)%s*=%s*(.*)$")
      if not key or key == "" or key:find("%s") then key, val = line:match("^(%S+)%s+(.*)$") end
      if key then
        key = key:lower()
        val = unquote(val or "")
        if key == "host" then
          active = host_matches(val, host)
        elseif key == "match" then
          active = val:lower() == "all"
        elseif active then
          if key == "identityfile" then
            res.identityfile[#res.identityfile + 1] = val
          elseif res[key] == nil then
            res[key] = val
          end
        end
      end
    end
  end
  f:close()
  return res
end

local OPTIONS = {
  host = "string", port = "number", user = "string", identity = "string|table",
  passphrase = "string", password = "string", agent = "boolean|string",
  known_hosts = "string", host_key_check = "string|function", host_key = "string|table",
  connect_timeout = "number", keepalive = "number", ssh_config = "string|boolean",
  connection = "string", kind = "string", name = "string",
}

local function check_spec(spec)
  for k, v in pairs(spec) do
    local want = OPTIONS[k]
    if not want then
      error("bad argument #1 to 'connect' (unknown option '" .. tostring(k) .. "')", 4)
    end
    if not want:find(type(v), 1, true) then
      error(("bad option '%s' to 'connect' (%s expected, got %s)"):format(k, want, type(v)), 4)
    end
  end
  local c = spec.host_key_check
  if type(c) == "string" and c ~= "strict" and c ~= "accept-new" and c ~= "off" then
    error("bad option 'host_key_check' to 'connect' (\"strict\", \"accept-new\", \"off\" or a function expected, got \""
      .. c .. "\")", 4)
  end
end

-- spec + ssh_config -> everything needed to connect
local function resolve(spec)
  local cfg = { identityfile = {} }
  local cfile = spec.ssh_config
  if cfile == nil then cfile = HOME .. "/.ssh/config" end
  if cfile then cfg = M.read_config(expand(cfile), spec.host) end
  local r = {}
  r.alias = spec.host
  r.hostname = cfg.hostname and cfg.hostname:gsub("%%h", spec.host) or spec.host
  r.port = spec.port or tonumber(cfg.port) or 22
  r.user = spec.user or cfg.user or local_user()
  local ctx = { hostname = r.hostname, user = r.user }
  local ids = {}
  local given = spec.identity
  if type(given) == "string" then given = { given } end
  if given then
    for _, p in ipairs(given) do ids[#ids + 1] = { path = expand(p, ctx), passphrase = spec.passphrase } end
  elseif #cfg.identityfile > 0 then
    for _, p in ipairs(cfg.identityfile) do
      p = expand(p, ctx)
      if exists(p) then ids[#ids + 1] = { path = p, passphrase = spec.passphrase } end
    end
  else
    for _, n in ipairs { "id_ed25519", "id_ecdsa", "id_rsa" } do
      local p = HOME .. "/.ssh/" .. n
      if exists(p) then ids[#ids + 1] = { path = p, passphrase = spec.passphrase } end
    end
  end
  r.identities = ids
  r.known_hosts = expand(spec.known_hosts or (cfg.userknownhostsfile and cfg.userknownhostsfile:match("^(%S+)"))
    or "~/.ssh/known_hosts", ctx)
  local agent = spec.agent
  if agent == nil or agent == true then agent = os.getenv("SSH_AUTH_SOCK") or false end
  r.agent = agent
  r.password = spec.password
  r.connect_timeout = spec.connect_timeout or tonumber(cfg.connecttimeout) or 10
  r.keepalive = spec.keepalive or tonumber(cfg.serveraliveinterval) or 15
  r.host_key_check = spec.host_key_check or "strict"
  if type(spec.host_key) == "string" then r.pins = { spec.host_key } else r.pins = spec.host_key end
  r.label = r.user .. "@" .. r.hostname .. ":" .. r.port
  r.hostport = r.port == 22 and r.hostname or ("[" .. r.hostname .. "]:" .. r.port)
  r.where = r.hostname .. ":" .. r.port
  return r
end

local function host_key_decision(r, hk)
  local desc = hk.type .. " " .. hk.fingerprint
  if r.pins then
    for _, p in ipairs(r.pins) do
      if p == hk.fingerprint then return true end
    end
    return nil, ("EHOSTKEY: host key of %s does not match the pinned fingerprint %s: the server offers %s")
      :format(r.where, table.concat(r.pins, ", "), desc)
  end
  if hk.state == "match" then return true end
  local check = r.host_key_check
  if check == "off" then return true end
  if type(check) == "function" then
    if check(r.where, hk.fingerprint, hk.state) == true then return true end
    return nil, ("EHOSTKEY: host key of %s (%s) was refused by the host_key_check function (%s)")
      :format(r.where, desc, hk.state)
  end
  if hk.state == "changed" then
    return nil, ("EHOSTKEY: host key of %s has CHANGED: the server offers %s, which differs from the key in %s. "
      .. "Someone could be eavesdropping (man-in-the-middle), or the host key was replaced; "
      .. "remove the old entry (ssh-keygen -R '%s' -f %s) if you trust the new key")
      :format(r.where, desc, r.known_hosts, r.hostport, r.known_hosts)
  end
  if check == "accept-new" then
    local f = io.open(r.known_hosts, "a")
    if f then
      f:write(r.hostport, " ", hk.type, " ", hk.key, "\n")
      f:close()
    end
    return true
  end
  return nil, ("EHOSTKEY: host key of %s is unknown: the server offers %s, which is not in %s "
    .. "(use host_key_check = \"accept-new\" to trust it on first use, or pin it with host_key)")
    :format(r.where, desc, r.known_hosts)
end

-- connect once: a ready session, or nil, err, name
local function open1(r)
  local sess = core.ssh_connect {
    host = r.hostname, port = r.port, user = r.user, label = r.label,
    known_hosts = r.known_hosts, password = r.password, agent = r.agent,
    identities = r.identities, connect_timeout = r.connect_timeout,
    keepalive = r.keepalive,
  }
  scheduler.wait(sess)
  if sess:state() == "hostkey" then
    local ok, err = host_key_decision(r, sess:host_key())
    if not ok then
      sess:close()
      return nil, err, "EHOSTKEY"
    end
    sess:accept_host_key()
    scheduler.wait(sess)
  end
  if sess:state() ~= "ready" then
    local err, name = sess:error()
    sess:close()
    return nil, err or ("EIO: cannot connect to " .. r.label), name or "EIO"
  end
  return sess
end

-- libssh2 1.10's non-blocking key exchange fails now and then on a slow
-- (loaded) peer or client with "Unable to exchange encryption keys"; one
-- more try tells that from a real algorithm mismatch.
local function open(r)
  local sess, err, name = open1(r)
  if not sess and name == "EPROTO" and err:find("exchange encryption keys", 1, true) then
    sess, err, name = open1(r)
  end
  return sess, err, name
end

local SSH = setmetatable({}, { __index = connection.Connection })
SSH.__index = SSH
SSH.__close = connection.Connection.__close
SSH.__tostring = connection.Connection.__tostring
M.SSH = SSH

--- connect{ host = ..., ... } -> conn | nil, err, name
function M.connect(spec)
  check_spec(spec)
  local r = resolve(spec)
  local sess, err, name = open(r)
  if not sess then return nil, err, name end
  return setmetatable({ kind = "ssh", streaming = true, name = spec.name or spec.host,
    host = r.hostname, port = r.port, user = r.user, _r = r, _sess = sess }, SSH)
end

--- The session, reconnecting after a loss.
function SSH:_session()
  if self.closed then error("luasible: connection used after close", 3) end
  local sess = self._sess
  if sess and sess:state() == "ready" then return sess end
  return self:reconnect()
end

--- Close the current session (if any) and connect again.
function SSH:reconnect()
  if self.closed then error("luasible: connection used after close", 2) end
  if self._sess then self._sess:close() end
  self._sess = nil
  local sess, err, name = open(self._r)
  if not sess then return nil, err, name end
  self._sess = sess
  return sess
end

function SSH:close()
  if self._sess then self._sess:close() end
  self._sess = nil
  self.closed = true
end

local function wait_result(s)
  while true do
    local ev = s:pop()
    if ev then
      if ev.type == "done" or ev.type == "error" then return ev end
    elseif s:finished() then
      return nil
    else
      scheduler.wait(s)
    end
  end
end

--- The remote command line of cmd with opts (cwd, env, sudo prefix).
function M.command_line(cmd, opts, prefix)
  local argv = type(cmd) == "string" and { "/bin/sh", "-c", cmd } or cmd
  if opts.env and next(opts.env) then
    local keys = {}
    for k in pairs(opts.env) do keys[#keys + 1] = k end
    table.sort(keys)
    local e = { "env" }
    for _, k in ipairs(keys) do e[#e + 1] = k .. "=" .. opts.env[k] end
    argv = connection.concat(e, argv)
  end
  if prefix then argv = connection.concat(prefix, argv) end
  local words = join(argv)
  local line = "exec " .. words
  local t = opts.timeout
  if t and t > 0 and t < 1e9 then
    -- the server enforces the timeout as well (timeout(1) signals its whole
    -- process group), half a second after ours: the command ends even when
    -- no channel is free for the kill (the server's MaxSessions reached)
    line = ("if command -v timeout >/dev/null 2>&1; then exec timeout -k 2 %g %s; else %s; fi")
      :format(t + 0.5, words, line)
  end
  if opts.cwd then line = "cd " .. quote(opts.cwd) .. " && " .. line end
  return line
end

function SSH:_start(cmd, opts, mode)
  local sess, err, name = self:_session()
  if not sess then return nil, err, name end
  local function probe(prefix, argv)
    local s <close> = sess:exec(M.command_line(argv, {}, prefix),
      { capture = true, lines = false, progress = false })
    local ev = s and wait_result(s)
    return ev and ev.result
  end
  local prefix, stdin = connection.sudo_prefix(opts, probe)
  return sess:exec(M.command_line(cmd, opts, prefix), {
    timeout = opts.timeout, stdin = stdin, max_line = opts.max_line,
    lines = mode.lines, capture = mode.capture, progress = mode.progress,
  })
end

-- Files -------------------------------------------------------------------

M.check_xfer = require("luasible.transfer").check

local function tmp_name(path)
  local dir, base = path:match("^(.*/)([^/]*)$")
  if not dir then dir, base = "", path end
  return ("%s.%s.luasible-%d%04d.tmp"):format(dir, base, os.time() % 100000, math.random(0, 9999))
end
M.tmp_name = tmp_name

-- drive a transfer stream; returns result, sha256 or nil, err, name
local function drain(s, on_progress)
  local sha, bytes
  while true do
    local ev = s:pop()
    if not ev then
      if s:finished() then return nil, "EIO: transfer ended without a result", "EIO" end
      scheduler.wait(s)
    elseif ev.type == "progress" then
      local p = ev.progress
      if p.stage == "transferring" then
        local h = p.message:match("^sha256:(%x+)$")
        if h then sha = h; p.message = "transferred"; p.sha256 = h end
        bytes = p.bytes_done or bytes
        if on_progress then on_progress(p) end
      end
    elseif ev.type == "done" then
      ev.result.bytes = bytes
      return ev.result, sha
    elseif ev.type == "error" then
      local name = ev.error:match("^(%u[%u%d_]*):") or "EIO"
      return nil, ev.error, name
    end
  end
end

local function remote_sha(self, path)
  local res, err, name = self:execute("sha256sum < " .. quote(path))
  if not res then return nil, err, name end
  local h = res.stdout:match("^(%x+)")
  if not res.ok or not h then
    return nil, "ECHECKSUM: cannot compute the SHA-256 of " .. path .. " on " .. self._r.where
      .. ": " .. (res.stderr ~= "" and res.stderr or "sha256sum failed"), "ECHECKSUM"
  end
  return h
end

--- conn:put(local_path_or_content, remote_path, opts) -> result | nil, err, name
-- opts: mode (default 0644), content = true, on_progress(info), atomic
-- (default true), checksum (default true).
function SSH:put(src, dest, opts)
  opts = M.check_xfer("put", src, dest, opts)
  local t0 = core.now()
  local sess, err, name = self:_session()
  if not sess then return nil, err, name end
  local atomic = opts.atomic ~= false
  local target = atomic and tmp_name(dest) or dest
  local args = { remote = target, mode = tonumber("600", 8) }
  if opts.content then args.content = src else args["local"] = src end
  local s, e2, n2 = sess:sftp_put(args)
  if not s then return nil, e2, n2 end
  local res, sha, n1 = drain(s, opts.on_progress)
  s:close()
  if not res then
    if atomic then pcall(self.execute, self, "rm -f -- " .. quote(target)) end
    return nil, sha, n1
  end
  local mode = ("%o"):format(opts.mode or tonumber("644", 8))
  local script = {}
  if opts.checksum ~= false then
    local t = quote(target)
    script[#script + 1] = "h=$(sha256sum < " .. t .. ") || { echo 'ECHECKSUM: sha256sum failed' >&2; rm -f -- "
      .. t .. "; exit 3; }"
    script[#script + 1] = "[ \"${h%% *}\" = " .. sha .. " ] || { echo \"ECHECKSUM: checksum mismatch: sent "
      .. sha .. ", the remote file has ${h%% *}\" >&2; rm -f -- " .. t .. "; exit 4; }"
  end
  local chmod_failed = " || { echo 'EIO: chmod failed' >&2; rm -f -- " .. quote(target) .. "; exit 6; }"
  if opts.mode or not atomic then
    script[#script + 1] = "chmod " .. mode .. " " .. quote(target) .. chmod_failed
  else -- no mode asked: an existing file keeps its mode, a new one gets 0644
    script[#script + 1] = "if [ -e " .. quote(dest) .. " ]; then chmod --reference=" .. quote(dest) .. " "
      .. quote(target) .. "; else chmod " .. mode .. " " .. quote(target) .. "; fi" .. chmod_failed
  end
  if atomic then
    script[#script + 1] = "mv -f -- " .. quote(target) .. " " .. quote(dest)
      .. " || { rm -f -- " .. quote(target) .. "; exit 5; }"
  end
  local fin, e3, n3 = self:execute(table.concat(script, "; "))
  if not fin then return nil, e3, n3 end
  if not fin.ok then
    local msg = fin.stderr:match("(ECHECKSUM: [^\n]*)")
    if msg then return nil, msg .. " (" .. dest .. " on " .. self._r.where .. ")", "ECHECKSUM" end
    return nil, "EIO: finishing the upload of " .. dest .. " on " .. self._r.where .. " failed: " .. fin.stderr, "EIO"
  end
  return { ok = true, changed = true, path = dest, bytes = res.bytes, sha256 = sha,
    duration = core.now() - t0 }
end

--- conn:get(remote_path, local_path, opts) -> result | nil, err, name
function SSH:get(src, dest, opts)
  opts = M.check_xfer("get", src, dest, opts)
  local t0 = core.now()
  local sess, err, name = self:_session()
  if not sess then return nil, err, name end
  local atomic = opts.atomic ~= false
  local target = atomic and tmp_name(dest) or dest
  local s, e2, n2 = sess:sftp_get { remote = src, ["local"] = target, mode = opts.mode or tonumber("644", 8) }
  if not s then return nil, e2, n2 end
  local res, sha, n3 = drain(s, opts.on_progress)
  s:close()
  if not res then
    if atomic then os.remove(target) end
    return nil, sha, n3
  end
  if opts.checksum ~= false then
    local rsha, e4, n4 = remote_sha(self, src)
    if not rsha or rsha ~= sha then
      os.remove(target)
      if not rsha then return nil, e4, n4 end
      return nil, ("ECHECKSUM: checksum mismatch for %s from %s: received %s, the remote file has %s")
        :format(src, self._r.where, sha, rsha), "ECHECKSUM"
    end
  end
  if opts.mode then core.chmod(target, opts.mode) end
  if atomic then
    local ok, e5 = os.rename(target, dest)
    if not ok then
      os.remove(target)
      return nil, "EIO: " .. tostring(e5), "EIO"
    end
  end
  return { ok = true, changed = true, path = dest, bytes = res.bytes, sha256 = sha,
    duration = core.now() - t0 }
end

return M
