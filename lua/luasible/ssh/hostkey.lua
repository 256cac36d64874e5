--- luasible.ssh.hostkey: whether to trust the key a server offers, from
-- the pins, the known_hosts state and the host_key_check policy; trusting
-- a new key on first use appends it to known_hosts.
local M = {}

-- append an accepted key to known_hosts in OpenSSH's format
local function remember(r, hk)
  local f = io.open(r.known_hosts, "a")
  if f then
    f:write(r.hostport, " ", hk.type, " ", hk.key, "\n")
    f:close()
  end
end

--- r: the resolved connect spec (lua/luasible/ssh/resolve.lua); hk: the
-- core session's host_key(). Returns true, or nil, message, "EHOSTKEY".
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
  if check == "accept-new" then
    remember(r, hk)
    return true
  end
  return refuse("host key of %s is unknown: the server offers %s, which is not in %s "
    .. "(use host_key_check = \"accept-new\" to trust it on first use, or pin it with host_key)",
    r.where, desc, r.known_hosts)
end

return M
