--- luasible.inventory.ranges: host ranges in host names, as Ansible
-- writes them: web[01:20].example.com, db-[a:c], x[0:10:2].
local M = {}

M.MAX_RANGE = 100000   -- hosts one host pattern with ranges may give

--- How many names a host pattern gives (nil when a range is malformed:
--- the expansion says what is wrong).
function M.range_count(name)
  local total = 1
  for body in name:gmatch("%[([^%]]*)%]") do
    local a, b, step = body:match("^([^:]*):([^:]*):?(%d*)$")
    if not a then return nil end
    step = tonumber(step) or 1
    if step < 1 then return nil end
    local n
    if a:match("^%d+$") and b:match("^%d+$") then n = (tonumber(b) - tonumber(a)) // step + 1
    elseif a:match("^%a$") and b:match("^%a$") then n = (b:byte() - a:byte()) // step + 1
    else return nil end
    if n < 1 then return nil end
    total = total * n
  end
  return total
end

--- The host names of a host pattern, in order: a list, or nil, err.
function M.expand(name)
  local count = M.range_count(name)
  if count and count > M.MAX_RANGE then
    return nil, string.format("host range '%s' gives %.0f hosts, more than the %d one pattern may give",
      name, count, M.MAX_RANGE)
  end
  local pre, body, post = name:match("^(.-)%[([^%]]*)%](.*)$")
  if not pre then
    if name:find("[%[%]]") then return nil, "unbalanced '[' or ']' in host name '" .. name .. "'" end
    return { name }
  end
  local a, b, step = body:match("^([^:]*):([^:]*):?(%d*)$")
  if not a or a == "" or b == "" then return nil, "bad range '[" .. body .. "]' in host name '" .. name .. "'" end
  step = tonumber(step) or 1
  if step < 1 then return nil, "bad range step in host name '" .. name .. "'" end
  local items = {}
  if a:match("^%d+$") and b:match("^%d+$") then
    local width = (a:sub(1, 1) == "0" and #a > 1) and #a or 0
    local x, y = tonumber(a), tonumber(b)
    if x > y then return nil, "range start after end in host name '" .. name .. "'" end
    for i = x, y, step do items[#items + 1] = width > 0 and string.format("%0" .. width .. "d", i) or tostring(i) end
  elseif a:match("^%a$") and b:match("^%a$") then
    if a > b then return nil, "range start after end in host name '" .. name .. "'" end
    for i = a:byte(), b:byte(), step do items[#items + 1] = string.char(i) end
  else
    return nil, "bad range '[" .. body .. "]' in host name '" .. name .. "'"
  end
  local out = {}
  for _, it in ipairs(items) do
    local rest, err = M.expand(it .. post)
    if not rest then return nil, err end
    for _, r in ipairs(rest) do out[#out + 1] = pre .. r end
  end
  return out
end

return M
