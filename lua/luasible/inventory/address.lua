--- luasible.inventory.address: Ansible's parse_address
-- (ansible/parsing/utils/addresses.py): a host identifier with an optional
-- port: `host`, `host:22`, `10.0.0.1:22`, `[2001:db8::2]:2222`, `fe80::1`,
-- with `[x:y]` ranges allowed where Ansible allows them. The regexes are
-- Ansible's own, run by PCRE2 (util/regex) as Python's re runs them.
local regex = require "luasible.util.regex"

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

return M
