--- luasible.play.batches: a play's hosts in the play's `order` and cut
-- into `serial` batches, as Ansible computes them (docs/TASKS.md, "Rolling
-- deploys"). Pure: no host is touched here.
--
--   serial = 2            batches of 2 (the last one smaller)
--   serial = "30%"        30% of the play's hosts, rounded down, at least 1
--   serial = { 1, "50%", 10 }  the first batch 1 host, then 50%, then 10
--                         at a time: the last entry repeats until no host is left
--   serial = 0 / { }      one batch of every host (the default)
-- A percentage is always of the play's whole host list (Ansible's
-- pct_to_int over all the play's hosts, not of the hosts left).
-- render_serial: a templated serial ("{{ batch }}") rendered with the
-- play's vars and the extra vars, when the play is prepared.
local S = require "luasible.util.schema"

local M = {}

-- "30%" -> 30, true; 5 or "5" -> 5, false; nil when not a size.
local function parse(v)
  if math.type(v) == "integer" then return v, false end
  if type(v) == "string" then
    local n, pct = v:match("^%s*(%d+)%s*(%%?)%s*$")
    if n then return math.tointeger(tonumber(n)), pct == "%" end
  end
  return nil
end

--- The size of one batch for a `serial` entry over `total` hosts (0: all).
function M.size(v, total)
  local n, pct = parse(v)
  if not n then return nil end
  if pct then
    local s = math.floor(n / 100 * total)
    return s > 0 and s or 1
  end
  return n
end

--- The serial value as a list of entries (a scalar is a list of one), or
--- nil when it is not given.
function M.list(serial)
  if serial == nil then return nil end
  if type(serial) == "table" then return serial end
  return { serial }
end

--- `hosts` (a list of names, in the play's order) cut into batches by
--- `serial` (as above). Returns a list of lists (each a new table); no
--- batch when there is no host.
function M.batches(hosts, serial)
  local list = M.list(serial) or {}
  local out = {}
  if #hosts == 0 then return out end
  if #list == 0 then list = { 0 } end
  local total, i, cur = #hosts, 1, 1
  while i <= total do
    local size = M.size(list[cur], total) or 0
    -- 0: the rest; more than is left (math.maxinteger too: i + size would wrap): the rest
    if size <= 0 or size > total - i + 1 then size = total - i + 1 end
    local b = {}
    for j = i, math.min(total, i + size - 1) do b[#b + 1] = hosts[j] end
    out[#out + 1] = b
    i = i + size
    if cur < #list then cur = cur + 1 end
  end
  return out
end

M.ORDERS = { inventory = true, reverse_inventory = true, sorted = true, reverse_sorted = true, shuffle = true }

--- The play's hosts in `order` (nil or "inventory": as the inventory lists
--- them). `random`: a function(n) -> 1..n for shuffle (default math.random).
--- A new list.
function M.order(hosts, order, random)
  local out = {}
  for i, h in ipairs(hosts) do out[i] = h end
  if order == "reverse_inventory" then
    for i = 1, #out // 2 do out[i], out[#out - i + 1] = out[#out - i + 1], out[i] end
  elseif order == "sorted" then
    table.sort(out)
  elseif order == "reverse_sorted" then
    table.sort(out, function(a, b) return a > b end)
  elseif order == "shuffle" then
    random = random or math.random
    for i = #out, 2, -1 do
      local j = random(i)
      out[i], out[j] = out[j], out[i]
    end
  end
  return out
end

-- a serial entry as it is after rendering: a number of hosts or "N%"
local function batch_of(v)
  if math.type(v) == "float" and v == math.floor(v) then v = math.tointeger(v) end
  if math.type(v) == "integer" and v >= 0 then return v end
  if type(v) == "string" and v:match("^%s*%d+%s*%%?%s*$") then return v end
  return nil, "must render to a number of hosts or a percentage (\"30%\"), got " .. S.show(v)
end

--- The play's serial with its `{{ }}` rendered (the play's vars and the
--- extra vars, as Ansible templates it: no host is chosen yet). Returns
--- the value (nil when there is none), or nil, err.
function M.render_serial(serial, pvars, extra)
  local templated = type(serial) == "string" and serial:find("{{", 1, true)
  if type(serial) == "table" then
    for _, v in ipairs(serial) do if type(v) == "string" and v:find("{{", 1, true) then templated = true end end
  end
  if not templated then return serial end
  local scope = {}
  for k, v in pairs(pvars or {}) do scope[k] = v end
  for k, v in pairs(extra or {}) do scope[k] = v end
  local r, rerr = require("luasible.template").render_value(serial, scope)
  if rerr then return nil, rerr end
  local list = type(r) == "table" and r or { r }
  local out = {}
  -- a rendered "[1, 2]" / "1,2": Ansible takes a list there too
  if #list == 1 and type(list[1]) == "string" and list[1]:find(",", 1, true) then
    local parts = {}
    for x in list[1]:gsub("^%s*%[", ""):gsub("%]%s*$", ""):gmatch("[^,]+") do
      parts[#parts + 1] = (x:gsub("^%s*[\"']?", ""):gsub("[\"']?%s*$", ""))
    end
    list = parts
  end
  for i, v in ipairs(list) do
    local b, berr = batch_of(math.tointeger(tonumber(v)) or v)
    if not b then return nil, berr end
    out[i] = b
  end
  if type(r) ~= "table" and #out == 1 then return out[1] end
  return out
end

return M
