--- luasible.ssh.hostkey: whether to trust the key a server offers, from
-- the pins, the known_hosts state and the host_key_check policy; trusting
-- a new key on first use appends it to known_hosts.
local core = require "luasible.core"
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"

local M = {}

-- append an accepted key to known_hosts in OpenSSH's format (its folder
-- made, 0700, when missing, as OpenSSH does); true or the fail tuple: a
-- key that cannot be recorded is not trusted
--- The host field of a known_hosts line hashed as OpenSSH's HashKnownHosts
--- writes it: |1|base64(salt)|base64(HMAC-SHA1(salt, host)), salt 20
--- random bytes (`salt` given for the specs).
function M.hash_host(hostport, salt)
  salt = salt or core.crypto.random(20)
  return "|1|" .. core.base64_encode(salt) .. "|" .. core.base64_encode(core.crypto.hmac("sha1", salt, hostport))
end

local function remember(r, hk)
  local host = r.hash_known_hosts and M.hash_host(r.hostport) or r.hostport
  local line = host .. " " .. hk.type .. " " .. hk.key .. "\n"
  local ok, err, name = fs.append(r.known_hosts, line)
  if not ok and name == "ENOENT" and fs.mkdir_p(path.dirname(r.known_hosts), tonumber("700", 8)) then
    ok, err, name = fs.append(r.known_hosts, line)
  end
  if not ok then
    return nil, ("%s (the host key of %s, %s %s, was not trusted)"):format(err, r.where, hk.type, hk.fingerprint),
      name
  end
  return true
end

--- r: the resolved connect spec (lua/luasible/ssh/resolve.lua); hk: the
-- core session's host_key(). Returns true, or nil, message, name:
-- "EHOSTKEY", or the name of why known_hosts could not be read or
-- appended to (EACCES, EISDIR, EMFILE, ENOMEM...): such a file is never
-- taken for an empty one.
function M.decide(r, hk)
  local desc = hk.type .. " " .. hk.fingerprint
  local function refuse(fmt, ...)
    return nil, "EHOSTKEY: " .. fmt:format(...), "EHOSTKEY"
  end
  if r.pins then
    for _, p in ipairs(r.pins) do
      if p == hk.fingerprint then return true end
    end
    return refuse("host key of %s does not match the pinned fingerprint %s: the server offers %s",
      r.where, table.concat(r.pins, ", "), desc)
  end
  if hk.state == "match" then return true end
  local check = r.host_key_check
  if check == "off" then return true end
  if hk.state == "unreadable" then
    return nil, ("%s: the host key of %s (%s) cannot be checked"):format(hk.error, r.where, desc), hk.code
  end
  if type(check) == "function" then
    if check(r.where, hk.fingerprint, hk.state) == true then return true end
    return refuse("host key of %s (%s) was refused by the host_key_check function (%s)", r.where, desc, hk.state)
  end
  if hk.state == "changed" then
    return refuse("host key of %s has CHANGED: the server offers %s, which differs from the key in %s. "
      .. "Someone could be eavesdropping (man-in-the-middle), or the host key was replaced; "
      .. "remove the old entry (ssh-keygen -R '%s' -f %s) if you trust the new key",
      r.where, desc, r.known_hosts, r.hostport, r.known_hosts)
  end
  if check == "accept-new" then return remember(r, hk) end
  return refuse("host key of %s is unknown: the server offers %s, which is not in %s "
    .. "(use host_key_check = \"accept-new\" to trust it on first use, or pin it with host_key)",
    r.where, desc, r.known_hosts)
end

return M
