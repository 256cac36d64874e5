--- luasible.inventory.ranges: host ranges in host names, as Ansible expands
-- them (expand_hostname_range): web[01:20].example.com, db-[a:c],
-- x[0:10:2], several ranges in one name. The first [ and the first ] of a
-- name enclose a range begin:end or begin:end:step; begin may be left out
-- (0); a begin with a leading zero pads every number to its width (the end
-- must be as wide); letters range over a..zA..Z; an end below the begin
-- gives no host.
local literal = require "luasible.inventory.literal"

local M = {}

M.MAX_RANGE = 100000   -- hosts one host pattern with ranges may give

local LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

-- The first range of `name`: head, the items of the range (strings), tail;
-- or nil, err.
local function first_range(name)
  local i, j = name:find("[", 1, true), name:find("]", 1, true)
  if not i or not j then return nil, "unbalanced '[' or ']' in host name '" .. name .. "'" end
  local a, b = math.min(i, j), math.max(i, j)
  local head, body, tail = name:sub(1, a - 1), name:sub(a + 1, b - 1), name:sub(b + 1)
  if body:find("|", 1, true) or head:find("|", 1, true) or tail:find("|", 1, true) then
    return nil, "bad host range in host name '" .. name .. "'"
  end
  local bounds = {}
  for x in (body .. ":"):gmatch("([^:]*):") do bounds[#bounds + 1] = x end
  if #bounds ~= 2 and #bounds ~= 3 then
    return nil, "host range must be begin:end or begin:end:step, got '[" .. body .. "]' in '" .. name .. "'"
  end
  local beg, fin, step = bounds[1], bounds[2], bounds[3] or "1"
  if beg == "" then beg = "0" end
  if fin == "" then return nil, "host range must specify end value, in '" .. name .. "'" end
  local width = 0
  if beg:sub(1, 1) == "0" and #beg > 1 then
    if #beg ~= #fin then
      return nil, "host range must specify equal-length begin and end formats, in '" .. name .. "'"
    end
    width = #beg
  end
  local nstep = literal.int(step)
  if not nstep or nstep == 0 then return nil, "bad host range step '" .. step .. "' in '" .. name .. "'" end
  local ib, ie = LETTERS:find(beg, 1, true), LETTERS:find(fin, 1, true)
  if ib and ie then
    if ib > ie then return nil, "host range must have begin <= end, in '" .. name .. "'" end
    -- a slice of the letters; one with a negative step is empty
    return head, { from = ib, to = nstep > 0 and ie or ib - 1, step = math.abs(nstep), letters = true }, tail
  end
  local x, y = literal.int(beg), literal.int(fin)
  -- digits beyond 64 bits: a float, so that the count says what is wrong
  if not x and beg:match("^%d+$") then x = tonumber(beg) end
  if not y and fin:match("^%d+$") then y = tonumber(fin) end
  if not x or not y then return nil, "bad host range '[" .. body .. "]' in host name '" .. name .. "'" end
  -- Ansible gives no host here; a typo should not go unnoticed
  if nstep > 0 and x > y then return nil, "range start after end in host name '" .. name .. "'" end
  -- Python's range(begin, end + 1, step): a negative step stops above end + 1
  return head, { from = x, to = nstep > 0 and y or y + 2, step = nstep, width = width }, tail
end

-- how many items range r gives (a Lua numeric for loop over from, to, step)
local function count_of(r)
  if r.step > 0 then return r.from > r.to and 0 or (r.to - r.from) // r.step + 1 end
  return r.from < r.to and 0 or (r.from - r.to) // -r.step + 1
end

-- the name of item i of range r: a letter, or a number padded to the width
local function item(r, i)
  if r.letters then return LETTERS:sub(i, i) end
  local s = tostring(i)
  if #s < r.width then
    local sign = s:sub(1, 1) == "-" and "-" or ""
    s = sign .. ("0"):rep(r.width - #s) .. s:sub(#sign + 1)
  end
  return s
end

--- How many names a host pattern gives, or nil, err when a range is malformed.
function M.range_count(name)
  if not name:find("[", 1, true) then return 1 end
  local head, r, tail = first_range(name)
  if not head then return nil, r end
  local rest, err = M.range_count(head .. "0" .. tail)
  if not rest then return nil, err end
  return count_of(r) * rest
end

--- The host names of a host pattern, in order: a list, or nil, err.
function M.expand(name)
  local count, cerr = M.range_count(name)
  if not count then return nil, cerr end
  if count > M.MAX_RANGE then
    return nil, string.format("host range '%s' gives %.0f hosts, more than the %d one pattern may give",
      name, count, M.MAX_RANGE)
  end
  if not name:find("[", 1, true) then return { name } end
  local out = {}
  local function walk(n)
    if not n:find("[", 1, true) then out[#out + 1] = n return end
    local head, r, tail = first_range(n)
    for i = r.from, r.to, r.step do walk(head .. item(r, i) .. tail) end
  end
  walk(name)
  return out
end

return M
