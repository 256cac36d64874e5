--- luasible.inventory.address: Ansible's parse_address
-- (ansible/parsing/utils/addresses.py): a host identifier with an optional
-- port: `host`, `host:22`, `10.0.0.1:22`, `[2001:db8::2]:2222`, `fe80::1`,
-- with `[x:y]` ranges allowed where Ansible allows them. The regexes are
-- Ansible's own, run by PCRE2 (util/regex) as Python's re runs them. And
-- the host patterns of inventories (_expand_hostpattern): names and a port.
--
--   web1:2222               ->  web1, port 2222
--   web[1:2]:2201           ->  web1, web2, port 2201
--   [2001:db8::2]:2222      ->  2001:db8::2, port 2222 (only so for IPv6)
--   10.0.0.[1:3]            ->  10.0.0.1 .. 10.0.0.3
local regex = require "luasible.util.regex"
local ranges = require "luasible.inventory.ranges"

local M = {}

local numeric_range = [=[\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]]=]
local hexadecimal_range = [=[\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]]=]
local alphanumeric_range = [=[\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]]=]
local i6 = "(?:[0-9a-f]{1,4}|" .. hexadecimal_range .. ")"
local i4 = "(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|" .. numeric_range .. ")"
local label = "(?:[\\w]|" .. alphanumeric_range .. ")(?:[\\w_-]|" .. alphanumeric_range .. ")*(?<![_-])"

local function sub(s, x) return (s:gsub("{0}", x)) end

local P = {
  bracketed_hostport = { [=[^\[(.+)\]:([0-9]+)$]=], "" },
  hostport = { [=[^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$]=], "" },
  ipv4 = { "^(?:" .. i4 .. "\\.){3}" .. i4 .. "$", "i" },
  -- as Ansible's: its `^` binds to the first branch and its `$` to the
  -- last one only, and re.match anchors every branch at the start
  ipv6 = { sub(table.concat({
    "^(?:{0}:){7}{0}", "(?:{0}:){1,6}:", "(?:{0}:)(?::{0}){1,6}", "(?:{0}:){2}(?::{0}){1,5}",
    "(?:{0}:){3}(?::{0}){1,4}", "(?:{0}:){4}(?::{0}){1,3}", "(?:{0}:){5}(?::{0}){1,2}",
    "(?:{0}:){6}(?::{0})", ":(?::{0}){1,6}", "{0}?::", "(?:0:){6}(?:{0}\\.){3}{0}",
    "::(?:ffff:)?(?:{0}\\.){3}{0}", "(?:0:){5}ffff:(?:{0}\\.){3}{0}$" }, "|"), i6), "i" },
  hostname = { "^" .. label .. "(?:\\." .. label .. ")*$", "i" },
}

local function re(name)
  return assert(regex.compile(P[name][1], P[name][2]))
end

--- Ansible's parse_address(address, allow_ranges): host, port (an integer
--- or nil), or nil, err when `address` is not a host identifier.
function M.parse(address, allow_ranges)
  local port
  for _, name in ipairs({ "bracketed_hostport", "hostport" }) do
    local s, _, caps = re(name):match(address)
    if s then address, port = caps[1], math.tointeger(tonumber(caps[2])) end
  end
  local host
  for _, name in ipairs({ "ipv4", "ipv6", "hostname" }) do
    if re(name):match(address) then host = address end
  end
  if not host then return nil, "not a valid network hostname: " .. address end
  if not allow_ranges and host:find("[", 1, true) then
    return nil, "a range in host '" .. host .. "' where ranges are not allowed"
  end
  return host, port
end

--- Is name an IP address (Ansible's inventory_hostname_short keeps those
--- whole)? A name without ':' that is not digits and dots is neither.
function M.is_ip(name)
  if name:find(":", 1, true) then return re("ipv6"):match(name) ~= nil end
  if not name:find("^[%d.%[%]]+$") then return false end
  return re("ipv4"):match(name) ~= nil
end

--- The host names and the port of an inventory host pattern, as Ansible's
--- _expand_hostpattern: a port is split off only when what is left is a
--- valid host (else the whole text is the name), then ranges expand.
--- Returns names, port (or nil); or nil, err for a bad range.
function M.expand(hostpattern)
  if not hostpattern:find("[:%[%]]") then return { hostpattern } end -- no port, no range: the name
  local pat, port = M.parse(hostpattern, true)
  if not pat then pat, port = hostpattern, nil end
  local names, err = ranges.expand(pat)
  if not names then return nil, err end
  return names, port
end

return M
