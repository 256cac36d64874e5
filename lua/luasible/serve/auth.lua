--- luasible.serve.auth: who may read the dashboard (docs/DASHBOARD.md,
-- "Security"). A one-time token, printed on stderr in the URL, is traded
-- for a session cookie (HttpOnly, SameSite=Strict); the Host header must
-- name the server (the bound address, or a --serve-host name: DNS
-- rebinding); a WebSocket upgrade must come from the page's own origin
-- (cross-site WebSocket hijacking); a request that says it comes from
-- another origin is refused too.
local M = {}

local Auth = {}
Auth.__index = Auth

--- n random bytes as hex, from the kernel.
function M.random_hex(n)
  local f = assert(io.open("/dev/urandom", "rb"))
  local b = f:read(n)
  f:close()
  return (b:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- constant time in the length of a
local function equal(a, b)
  if type(a) ~= "string" or type(b) ~= "string" or #a ~= #b then return false end
  local d = 0
  for i = 1, #a do d = d | (a:byte(i) ~ b:byte(i)) end
  return d == 0
end

local function is_loopback(addr)
  return addr:match("^127%.") ~= nil or addr == "::1"
end
M.is_loopback = is_loopback

--- opts: address, port (bound), hosts (extra names for Host), token (else
--- random).
function M.new(opts)
  local self = setmetatable({ token = opts.token or M.random_hex(16), used = false,
    sessions = {}, names = {}, port = opts.port }, Auth)
  local addr = opts.address
  local shown = addr:find(":", 1, true) and "[" .. addr .. "]" or addr
  self.names[shown] = true
  if is_loopback(addr) then self.names.localhost = true end
  for _, h in ipairs(opts.hosts or {}) do self.names[h:lower()] = true end
  self.shown = shown
  return self
end

--- Is the Host header one of ours? ("name" or "name:port" with our port)
function Auth:host_ok(host)
  if type(host) ~= "string" then return false end
  host = host:lower()
  local name, port = host:match("^(%[[^%]]+%]):?(%d*)$")
  if not name then name, port = host:match("^([^:]+):?(%d*)$") end
  if not name or not self.names[name] then return false end
  return port == "" or tonumber(port) == self.port
end

--- Does the request come from the page's origin (or say nothing of one)?
--- upgrade: an Origin header is required. The origin is http://<Host>, or
--- https://<Host> behind a TLS proxy (the Host itself checked already).
function Auth.origin_ok(_, headers, upgrade)
  local origin = headers.origin
  if origin == nil then return not upgrade end
  local host = tostring(headers.host):lower()
  origin = origin:lower()
  return origin == "http://" .. host or origin == "https://" .. host
end

--- The session cookie of a request, if valid.
function Auth:session(headers)
  local cookie = headers.cookie
  if not cookie then return nil, "no session cookie" end
  for v in (";" .. cookie):gmatch(";%s*luasible=([^;%s]*)") do
    for s in pairs(self.sessions) do
      if equal(v, s) then return s end
    end
  end
  return nil, "not a session of this server"
end

--- Trade the one-time token for a new session: its cookie value, or nil
--- and why.
function Auth:exchange(token)
  if self.used or not equal(token, self.token) then
    return nil, self.used and "this link was used already" or "wrong token"
  end
  self.used = true
  local s = M.random_hex(24)
  self.sessions[s] = true
  return s
end

--- The Set-Cookie value of a session.
function M.cookie(session)
  return "luasible=" .. session .. "; HttpOnly; SameSite=Strict; Path=/"
end

return M
