-- luasible.inventory.pattern: Ansible host patterns.
--
--   all, *            every host
--   web, db1          a group (with its children) or a host
--   web*, db[12]      a glob over group and host names
--   ~lua%-pattern     a Lua pattern over group and host names
--   a:b  a,b          union
--   a:&b              intersection
--   a:!b              exclusion
--
-- Unions are taken first, then intersections, then exclusions (as Ansible).
-- A term that matches no group and no host is an error.

local M = {}

-- A glob (* ? [set] [!set]) as a function name -> does it match? The
-- matching takes time linear in name and glob for each star (the usual
-- backtracking to the last star), never the exponential time a Lua pattern
-- of many ".*" can take. nil for a bad glob.
local function glob_matcher(g)
  local atoms, i = {}, 1
  while i <= #g do
    local c = g:sub(i, i)
    if c == "*" then
      if not (atoms[#atoms] and atoms[#atoms].star) then atoms[#atoms + 1] = { star = true } end
    elseif c == "?" then atoms[#atoms + 1] = { any = true }
    elseif c == "[" then
      local j = g:find("]", i + 1, true)
      if not j then return nil end
      local set = "^[" .. g:sub(i + 1, j - 1):gsub("^!", "^"):gsub("%%", "%%%%") .. "]$"
      if not pcall(string.find, "", set) then return nil end
      atoms[#atoms + 1] = { set = set }
      i = j
    else atoms[#atoms + 1] = { byte = c:byte() } end
    i = i + 1
  end
  local function one(a, name, k)
    if a.any then return true end
    if a.set then return name:sub(k, k):find(a.set) ~= nil end
    return name:byte(k) == a.byte
  end
  return function(name)
    local k, j, star_j, star_k = 1, 1, nil, nil -- k: in name, j: in atoms
    while k <= #name do
      local a = atoms[j]
      if a and a.star then star_j, star_k, j = j, k, j + 1
      elseif a and one(a, name, k) then k, j = k + 1, j + 1
      elseif star_j then star_k = star_k + 1; k, j = star_k, star_j + 1
      else return false end
    end
    while atoms[j] and atoms[j].star do j = j + 1 end
    return atoms[j] == nil
  end
end

--- Split a pattern into terms {op = "|"|"&"|"!", text = "..."}.
function M.parse(pattern)
  if type(pattern) == "table" then pattern = table.concat(pattern, ",") end
  if type(pattern) ~= "string" or pattern:match("^%s*$") then
    return nil, "empty host pattern"
  end
  local sep = pattern:find(",", 1, true) and "," or ":"
  local terms = {}
  for raw in (pattern .. sep):gmatch("(.-)" .. sep) do
    local t = raw:match("^%s*(.-)%s*$")
    if t ~= "" then
      local op = t:sub(1, 1)
      if op == "&" or op == "!" then t = t:sub(2) else op = "|" end
      if t == "" then return nil, "empty term in host pattern '" .. pattern .. "'" end
      terms[#terms + 1] = { op = op, text = t }
    end
  end
  if #terms == 0 then return nil, "empty host pattern" end
  return terms
end

local function match_term(inv, text)
  if text == "all" or text == "*" then return inv:group_hosts("all") end
  if inv.groups[text] then return inv:group_hosts(text) end
  if inv.hosts[text] then return { text } end
  if text == "localhost" or text == "127.0.0.1" then
    inv:implicit_localhost()
    return { "localhost" }
  end
  local match
  if text:sub(1, 1) == "~" then
    local pat = text:sub(2)
    if not pcall(string.find, "", pat) then return nil, "bad pattern '" .. text .. "'" end
    match = function(name) return name:find(pat) ~= nil end
  elseif text:find("[*?%[]") then
    match = glob_matcher(text)
    if not match then return nil, "bad glob '" .. text .. "'" end
  else
    return {}
  end
  local out, seen = {}, {}
  for _, g in ipairs(inv.group_order) do
    if match(g) then
      for _, h in ipairs(inv:group_hosts(g)) do
        if not seen[h] then seen[h] = true; out[#out + 1] = h end
      end
    end
  end
  for _, h in ipairs(inv.host_order) do
    if not seen[h] and match(h) then seen[h] = true; out[#out + 1] = h end
  end
  return out
end

--- Select hosts of `inv` matching `pattern`, in inventory order.
--- Returns a list of host names, or nil, err.
function M.select(inv, pattern)
  local terms, err = M.parse(pattern)
  if not terms then return nil, err end
  local union, inter, exclude = {}, nil, {}
  local any_union = false
  for _, t in ipairs(terms) do
    local hosts, merr = match_term(inv, t.text)
    if not hosts then return nil, merr end
    if #hosts == 0 and not inv.groups[t.text] then
      return nil, string.format("host pattern '%s' matches no host or group in %s", t.text, inv.source)
    end
    local set = {}
    for _, h in ipairs(hosts) do set[h] = true end
    if t.op == "|" then
      any_union = true
      for h in pairs(set) do union[h] = true end
    elseif t.op == "&" then
      if inter then for h in pairs(inter) do if not set[h] then inter[h] = nil end end
      else inter = set end
    else
      for h in pairs(set) do exclude[h] = true end
    end
  end
  if not any_union then
    for _, h in ipairs(inv.host_order) do union[h] = true end
  end
  local out = {}
  for _, h in ipairs(inv.host_order) do
    if union[h] and (not inter or inter[h]) and not exclude[h] then out[#out + 1] = h end
  end
  return out
end

--- Hosts of `pattern`, further restricted by `limit` (another pattern).
function M.select_limited(inv, pattern, limit)
  local hosts, err = M.select(inv, pattern)
  if not hosts then return nil, err end
  if limit == nil or limit == "" then return hosts end
  local allowed, lerr = M.select(inv, limit)
  if not allowed then return nil, "--limit: " .. lerr end
  local set = {}
  for _, h in ipairs(allowed) do set[h] = true end
  local out = {}
  for _, h in ipairs(hosts) do if set[h] then out[#out + 1] = h end end
  return out
end

return M
