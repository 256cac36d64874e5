--- luasible.inventory.address: host patterns of an inventory as Ansible
-- reads them (parse_address, _expand_hostpattern): a name, an IPv4 or
-- IPv6 address, with ranges, and a port:
--
--   web1:2222               ->  web1, port 2222
--   web[1:2]:2201           ->  web1, web2, port 2201
--   [2001:db8::2]:2222      ->  2001:db8::2, port 2222 (only so for IPv6)
--   10.0.0.[1:3]            ->  10.0.0.1 .. 10.0.0.3
--
-- As in Ansible, a port is split off only when what is left is a valid
-- host name or address (else the whole text is the name), and the IPv6
-- test, like Ansible's regular expression, looks at how the text begins.
local ranges = require "luasible.inventory.ranges"

local M = {}

local WORD = "[%w_\128-\255]"   -- Python's \w (any non-ASCII byte taken as a letter)

-- a range in a host name at i: [a:z], [0:9], with a :step; its end or nil
local function alnum_range(s, i)
  local _, e = s:find("^%[%a:%a%]", i)
  if not e then _, e = s:find("^%[%a:%a:%d+%]", i) end
  if not e then _, e = s:find("^%[%d+:%d+%]", i) end
  if not e then _, e = s:find("^%[%d+:%d+:%d+%]", i) end
  return e
end

-- one label of a host name: word characters, '-' and ranges, beginning
-- with a word character or a range, not ending with '_' or '-'
local function label(l)
  if l == "" then return false end
  local i, first = 1, true
  while i <= #l do
    local c = l:sub(i, i)
    if c == "[" then
      local e = alnum_range(l, i)
      if not e then return false end
      i = e + 1
    elseif c:match(WORD) or (c == "-" and not first) then
      i = i + 1
    else
      return false
    end
    first = false
  end
  return not l:sub(-1):match("[_-]")
end

--- Is s a host name (with ranges), as Ansible's hostname pattern?
function M.is_hostname(s)
  for l in (s .. "."):gmatch("([^.]*)%.") do
    if not label(l) then return false end
  end
  return true
end

-- an IPv4 part: 0..255 (at most three digits; three only from 0xx, 1xx, 2[0-4]x, 25[0-5]) or a range
local function v4_part(p)
  if p:match("^%[%d+:%d+%]$") or p:match("^%[%d+:%d+:%d+%]$") then return true end
  if not p:match("^%d%d?%d?$") then return false end
  return #p < 3 or p:match("^[01]") ~= nil or p:match("^2[0-4]") ~= nil or p:match("^25[0-5]") ~= nil
end

--- Is s an IPv4 address (with ranges)?
function M.is_ipv4(s)
  local n = 0
  for p in (s .. "."):gmatch("([^.]*)%.") do
    n = n + 1
    if n > 4 or not v4_part(p) then return false end
  end
  return n == 4
end

-- an IPv6 part at i (1 to 4 hex digits, or a hex range) followed by `sep`:
-- the position after sep, or nil
local function v6_part(s, i, sep)
  local _, e = s:find("^%[%x+:%x+%]", i)
  if not e then _, e = s:find("^%[%x+:%x+:%d+%]", i) end
  if not e then
    _, e = s:find("^%x+", i)
    if not e or e - i + 1 > 4 then return nil end
  end
  if s:sub(e + 1, e + #sep) ~= sep then return nil end
  return e + 1 + #sep
end

-- does a part (hex digits or a hex range) begin at i?
local function v6_begins(s, i)
  return s:find("^%x", i) ~= nil or s:find("^%[%x+:%x+%]", i) ~= nil or s:find("^%[%x+:%x+:%d+%]", i) ~= nil
end

--- Is s an IPv6 address (with ranges), as Ansible's pattern finds it: its
--- alternatives but the last are anchored at the start only.
function M.is_ipv6(s)
  s = s:lower()
  if s:sub(1, 2) == "::" then return true end
  -- (c:){1,6}:  (every compressed form begins so)
  local i = 1
  for _ = 1, 6 do
    i = v6_part(s, i, ":")
    if not i then break end
    if s:sub(i, i) == ":" then return true end
  end
  -- (c:){7}c
  i = 1
  for _ = 1, 7 do
    i = i and v6_part(s, i, ":")
  end
  if i and v6_begins(s, i) then return true end
  -- (0:){6}(c.){3}c and, whole, (0:){5}ffff:(c.){3}c
  for _, head in ipairs({ "0:0:0:0:0:0:", "0:0:0:0:0:ffff:" }) do
    if s:sub(1, #head) == head then
      i = #head + 1
      for _ = 1, 3 do i = i and v6_part(s, i, ".") end
      if i and head:find("ffff") then
        local e = v6_part(s .. "\0", i, "\0")
        if e and e == #s + 2 then return true end
      elseif i and v6_begins(s, i) then
        return true
      end
    end
  end
  return false
end

--- Is name an IP address (Ansible's inventory_hostname_short keeps those whole)?
function M.is_ip(name) return M.is_ipv4(name) or M.is_ipv6(name) end

--- Ansible's parse_address with ranges allowed: host, port (nil when
--- none); or nil when the text is no host name or address.
function M.parse(text)
  local port
  local inner, p = text:match("^%[(.+)%]:(%d+)$")
  if inner then text, port = inner, math.tointeger(tonumber(p)) end
  -- a host (brackets only around ranges) and a port
  local i = 1
  while true do
    local c = text:sub(i, i)
    if c == "[" then
      local j = text:find("]", i + 1, true)
      if not j then break end
      i = j + 1
    elseif c == "" or c == ":" or c == "]" then
      break
    else
      i = i + 1
    end
  end
  if text:sub(i, i) == ":" and text:find("^%d+$", i + 1) then
    text, port = text:sub(1, i - 1), math.tointeger(tonumber(text:sub(i + 1)))
  end
  if M.is_ipv4(text) or M.is_ipv6(text) or M.is_hostname(text) then return text, port end
  return nil
end

--- The host names and the port of an inventory host pattern, as Ansible's
--- _expand_hostpattern: names, port (or nil); or nil, err for a bad range.
function M.expand(hostpattern)
  if not hostpattern:find("[:%[%]]") then return { hostpattern } end -- no port, no range: the name
  local pat, port = M.parse(hostpattern)
  if not pat then pat, port = hostpattern, nil end
  local names, err = ranges.expand(pat)
  if not names then return nil, err end
  return names, port
end

return M
