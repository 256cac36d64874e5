--- luasible.ssh.resolve: a connect spec checked, then resolved with the
-- ssh_config into everything needed to connect (address, user, keys,
-- known_hosts, timeouts, host key policy).
local connection = require "luasible.connection"
local config = require "luasible.ssh.config"
local fs = require "luasible.util.fs"
local jump = require "luasible.ssh.jump"

local M = {}

local OPTIONS = {
  host = "string", port = "number", user = "string", identity = "string|table",
  passphrase = "string", password = "string", agent = "boolean|string",
  known_hosts = "string", host_key_check = "string|function", host_key = "string|table",
  connect_timeout = "number", keepalive = "number", keepalive_count_max = "number",
  ssh_config = "string|boolean",
  jump = "string|boolean", proxy_command = "string|boolean", forward_agent = "boolean",
  identities_only = "boolean", hash_known_hosts = "boolean",
  connection = "string", kind = "string", name = "string", persist = "number", control_dir = "string",
}

-- A hop of a jump chain is resolved like a target, with these options of
-- the target's spec (the rest comes from the ssh_config of the hop's own
-- name); its credentials are its own: a target's password is never sent to
-- a jump host.
local HOP_OPTIONS = { "ssh_config", "known_hosts", "host_key_check", "agent", "connect_timeout",
  "keepalive", "keepalive_count_max", "hash_known_hosts" }
local MAX_HOPS = 8

--- Why agent forwarding is refused (docs/SSH.md "Agent forwarding"): the
-- one message of forward_agent, -A, -o ForwardAgent and ssh_config's
-- ForwardAgent.
M.NO_FORWARD_AGENT = "agent forwarding is not supported: libssh2 1.10 can ask for it, but it drops the"
  .. " auth-agent@openssh.com channels the server then opens back without an answer, so a program on"
  .. " the host that used the forwarded agent would hang; see docs/SSH.md \"Agent forwarding\""

local CHECKS = { strict = true, ["accept-new"] = true, off = true }

--- Raise (at the caller of connect) for an unknown option or a bad value.
function M.check(spec)
  connection.check_options("connect", 1, spec, OPTIONS, nil, 4)
  local c = spec.host_key_check
  if type(c) == "string" and not CHECKS[c] then
    error("bad option 'host_key_check' to 'connect' (\"strict\", \"accept-new\", \"off\" or a function expected, got \""
      .. c .. "\")", 4)
  end
  local n = spec.keepalive_count_max
  if n ~= nil and (math.type(n) ~= "integer" and n ~= math.floor(n) or n < 1) then
    error("bad option 'keepalive_count_max' to 'connect' (a whole number >= 1 expected, got " .. tostring(n) .. ")", 4)
  end
  if spec.forward_agent then
    error("bad option 'forward_agent' to 'connect' (" .. M.NO_FORWARD_AGENT .. ")", 4)
  end
  if type(spec.jump) == "string" then
    local ok, why = jump.parse(spec.jump)
    if not ok then error("bad option 'jump' to 'connect' (" .. why .. ")", 4) end
  end
  if spec.jump == true or spec.proxy_command == true then
    error("bad option '" .. (spec.jump == true and "jump" or "proxy_command")
      .. "' to 'connect' (a string or false expected, got true)", 4)
  end
end

-- a key file to try: one that is there, or that is there for all we know
-- (its folder cannot be searched, EMFILE...: the core names why it cannot
-- read it, instead of a key left out in silence)
local function exists(path)
  local st, _, name = fs.stat(path)
  return st ~= nil or (name ~= "ENOENT" and name ~= "ENOTDIR")
end

-- the identity files to try: given, configured (those that exist), or the
-- default ones that exist
local function identities(spec, cfg, ctx)
  local ids = {}
  local function add(p) ids[#ids + 1] = { path = p, passphrase = spec.passphrase } end
  local given = spec.identity
  if type(given) == "string" then given = { given } end
  if not given and #cfg.identityfile == 0 then given = spec.hop_identity end
  if given then
    for _, p in ipairs(given) do add(config.expand(p, ctx)) end
  elseif #cfg.identityfile > 0 then
    for _, p in ipairs(cfg.identityfile) do
      p = config.expand(p, ctx)
      if exists(p) then add(p) end
    end
  else
    for _, n in ipairs { "id_ed25519", "id_ecdsa", "id_rsa" } do
      local p = config.HOME .. "/.ssh/" .. n
      if exists(p) then add(p) end
    end
  end
  return ids
end

--- spec + ssh_config -> everything needed to connect, or nil, err, name
--- (an ssh_config or a file telling the local user that cannot be read).
function M.resolve(spec, depth)
  depth = depth or 0
  local cfg = { identityfile = {} }
  local cfile = spec.ssh_config
  if cfile == nil then cfile = config.HOME .. "/.ssh/config" end
  if cfile then
    local err, name
    cfg, err, name = config.read(config.expand(cfile), spec.host, { user = spec.user })
    if not cfg then return nil, err, name end
  end
  local r = {}
  r.alias = spec.host
  r.hostname = cfg.hostname and cfg.hostname:gsub("%%h", spec.host) or spec.host
  r.port = spec.port or tonumber(cfg.port) or 22
  r.user = spec.user or cfg.user
  if not r.user then
    local err, name
    r.user, err, name = config.local_user()
    if not r.user then return nil, err, name end
  end
  local ctx = { hostname = r.hostname, user = r.user, original = spec.host, port = r.port }
  r.identities = identities(spec, cfg, ctx)
  r.known_hosts = config.expand(spec.known_hosts
    or (cfg.userknownhostsfile and cfg.userknownhostsfile:match("^(%S+)")) or "~/.ssh/known_hosts", ctx)
  local agent = spec.agent
  if agent == nil and cfg.identityagent then
    -- IdentityAgent: a socket path (~ and tokens), SSH_AUTH_SOCK, $VAR, or none
    local ia = cfg.identityagent
    if ia:lower() == "none" then agent = false
    elseif ia == "SSH_AUTH_SOCK" then agent = true
    elseif ia:sub(1, 1) == "$" then agent = os.getenv(ia:sub(2)) or false
    else agent = config.expand(ia, ctx) end
  end
  local only = spec.identities_only
  if only == nil then only = (cfg.identitiesonly or ""):lower() == "yes" end
  -- IdentitiesOnly: the identity files only (the agent's keys are not
  -- offered; OpenSSH would still use the agent's copy of a listed key)
  if only and spec.agent == nil then agent = false end
  if agent == nil or agent == true then agent = os.getenv("SSH_AUTH_SOCK") or false end
  r.agent = agent
  r.password = spec.password
  r.connect_timeout = spec.connect_timeout or tonumber(cfg.connecttimeout) or 10
  r.keepalive = spec.keepalive or tonumber(cfg.serveraliveinterval) or 15
  r.keepalive_count_max = spec.keepalive_count_max or math.tointeger(tonumber(cfg.serveralivecountmax)) or 3
  local shkc = cfg.stricthostkeychecking and ({ yes = "strict", ask = "strict", ["accept-new"] = "accept-new",
    no = "off", off = "off" })[cfg.stricthostkeychecking:lower()]
  r.host_key_check = spec.host_key_check or shkc or "strict"
  local hash = spec.hash_known_hosts
  if hash == nil then hash = (cfg.hashknownhosts or ""):lower() == "yes" end
  r.hash_known_hosts = hash
  if type(spec.host_key) == "string" then r.pins = { spec.host_key } else r.pins = spec.host_key end
  r.label = r.user .. "@" .. r.hostname .. ":" .. r.port
  r.hostport = r.port == 22 and r.hostname or ("[" .. r.hostname .. "]:" .. r.port)
  r.where = r.hostname .. ":" .. r.port
  -- ForwardAgent yes (or a socket) in the ssh_config of the host: refused
  -- rather than connected without it, unless forward_agent = false (-a,
  -- -o ForwardAgent=no) says to go without. A jump host runs no command
  -- of the user's: its ForwardAgent does not matter.
  local fa = cfg.forwardagent
  if depth == 0 and spec.forward_agent == nil and fa and fa:lower() ~= "no" then
    return nil, ("EINVAL: %s: ForwardAgent %s for %s: %s (for this host set ForwardAgent no, or connect"
      .. " with forward_agent = false, -o ForwardAgent=no or -a)"):format(cfg.forwardagent_at or cfile, fa,
      r.label, M.NO_FORWARD_AGENT), "EINVAL"
  end
  -- the transport: a jump chain, a ProxyCommand, or TCP. The spec's own
  -- options win; of the config's two, the one obtained first
  local jmp, pc = spec.jump, spec.proxy_command
  if jmp == nil and pc == nil then jmp, pc = cfg.proxyjump, cfg.proxycommand end
  if type(jmp) == "string" and jmp:lower() == "none" then jmp = nil end
  if type(pc) == "string" and pc:lower() == "none" then pc = nil end
  local hops
  if jmp then
    local why
    hops, why = jump.parse(jmp)
    if not hops then return nil, "EINVAL: bad ProxyJump for " .. r.label .. ": " .. why, "EINVAL" end
    -- a jump host that is the host itself is ignored (OpenSSH's rule: a
    -- "Host * / ProxyJump bastion" block also matches the bastion)
    if #hops > 0 and hops[#hops].host == spec.host and spec.jump == nil then hops = {} end
  end
  if hops and #hops > 0 then
    if depth + #hops > MAX_HOPS then
      return nil, "EINVAL: more than " .. MAX_HOPS .. " jump hosts for " .. r.label .. " (a ProxyJump loop?)", "EINVAL"
    end
    local prev
    for i, h in ipairs(hops) do
      local hs = { host = h.host, port = h.port, user = h.user, hop_identity = spec.identity or spec.hop_identity,
        passphrase = spec.passphrase }
      if type(hs.hop_identity) == "string" then hs.hop_identity = { hs.hop_identity } end
      for _, k in ipairs(HOP_OPTIONS) do hs[k] = spec[k] end
      -- the first hop's own ProxyJump (ssh_config) applies; the next ones
      -- go through the hop before them
      if i > 1 then hs.jump = false end
      local hr, herr, hname = M.resolve(hs, depth + i)
      if not hr then
        return nil, (hname or "EIO") .. ": jump host " .. h.host .. ": " .. (herr or ""):gsub("^%u+: ", ""), hname
      end
      if i > 1 then
        hr.jump = prev
        hr.key = prev.key .. ">" .. hr.key
      end
      prev = hr
    end
    r.jump = prev
  elseif pc then
    -- %h %p %r %n %% (as ssh_config(5) TOKENS for ProxyCommand)
    r.proxy_command = pc:gsub("%%(.)", function(c)
      if c == "h" then return r.hostname end
      if c == "p" then return tostring(r.port) end
      if c == "r" then return r.user end
      if c == "n" then return spec.host end
      if c == "%" then return "%" end
      return nil
    end)
  end
  -- what a shared hop session is told apart by: where it goes, through
  -- what, as whom, with which keys and host key rules
  local ids = {}
  for _, id in ipairs(r.identities) do ids[#ids + 1] = id.path end
  r.key = (r.jump and r.jump.key .. ">" or "") .. (r.proxy_command and ("[" .. r.proxy_command .. "]") or "")
    .. r.label .. "|" .. r.known_hosts .. "|" .. tostring(r.host_key_check) .. "|" .. tostring(r.agent)
    .. "|" .. table.concat(ids, ",")
  return r
end

return M
