--- luasible.ssh.resolve: a connect spec checked, then resolved with the
-- ssh_config into everything needed to connect (address, user, keys,
-- known_hosts, timeouts, host key policy).
local connection = require "luasible.connection"
local config = require "luasible.ssh.config"

local M = {}

local OPTIONS = {
  host = "string", port = "number", user = "string", identity = "string|table",
  passphrase = "string", password = "string", agent = "boolean|string",
  known_hosts = "string", host_key_check = "string|function", host_key = "string|table",
  connect_timeout = "number", keepalive = "number", ssh_config = "string|boolean",
  connection = "string", kind = "string", name = "string",
}

local CHECKS = { strict = true, ["accept-new"] = true, off = true }

--- Raise (at the caller of connect) for an unknown option or a bad value.
function M.check(spec)
  connection.check_options("connect", 1, spec, OPTIONS, nil, 4)
  local c = spec.host_key_check
  if type(c) == "string" and not CHECKS[c] then
    error("bad option 'host_key_check' to 'connect' (\"strict\", \"accept-new\", \"off\" or a function expected, got \""
      .. c .. "\")", 4)
  end
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- the identity files to try: given, configured (those that exist), or the
-- default ones that exist
local function identities(spec, cfg, ctx)
  local ids = {}
  local function add(p) ids[#ids + 1] = { path = p, passphrase = spec.passphrase } end
  local given = spec.identity
  if type(given) == "string" then given = { given } end
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

--- spec + ssh_config -> everything needed to connect.
function M.resolve(spec)
  local cfg = { identityfile = {} }
  local cfile = spec.ssh_config
  if cfile == nil then cfile = config.HOME .. "/.ssh/config" end
  if cfile then cfg = config.read(config.expand(cfile), spec.host) end
  local r = {}
  r.alias = spec.host
  r.hostname = cfg.hostname and cfg.hostname:gsub("%%h", spec.host) or spec.host
  r.port = spec.port or tonumber(cfg.port) or 22
  r.user = spec.user or cfg.user or config.local_user()
  local ctx = { hostname = r.hostname, user = r.user }
  r.identities = identities(spec, cfg, ctx)
  r.known_hosts = config.expand(spec.known_hosts
    or (cfg.userknownhostsfile and cfg.userknownhostsfile:match("^(%S+)")) or "~/.ssh/known_hosts", ctx)
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

return M
