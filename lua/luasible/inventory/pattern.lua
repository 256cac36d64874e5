-- luasible.inventory.pattern: Ansible's host patterns, as
-- ansible/inventory/manager.py reads them (ansible-core 2.14):
--
--   all, *              every host (the implicit localhost excepted, see hidden)
--   web, db1            a group (with its children's hosts), or a host
--   web*, db[12]        a shell glob (Python's fnmatch) over group and host names
--   ~(web|db)\d+        a regex (Python's re.match: anchored at the start only)
--   web[0] web[-1]      a subscript of what the rest matched: one host,
--   web[1:3] web[2:]      or an inclusive range, counted from 0
--   a:b  a,b            union (`,` when the pattern holds one, else `:`, a
--                         single host:port or IPv6 address left whole)
--   a:&b                intersection
--   a:!b                exclusion
--   localhost           the implicit localhost when no host has that name
--
-- Terms apply in Ansible's order: the plain ones (their union, in the order
-- written), then the `&` ones, then the `!` ones; with no plain term, `all`.
-- Hosts come out in Ansible's order: a term's hosts in its groups' order
-- (a group's own hosts, then its children's, breadth first), terms in the
-- order written, each host once.
--
-- Deliberate difference: a term that matches no host and no group is an
-- error here (Ansible warns and ignores it); see docs/TASKS.md.
local regex = require "luasible.util.regex"
local fnmatch = require "luasible.util.fnmatch"
local address = require "luasible.inventory.address"
local errors = require "luasible.util.errors"
local S = require "luasible.util.schema"

local M = {}

-- a pattern as a message shows it (a control byte escaped: one line)
local function quote(s) return S.quote(s, 200) end

M.LOCALHOST = { ["localhost"] = true, ["127.0.0.1"] = true, ["::1"] = true }

-- Ansible's split_host_pattern, for one string.
local function split_one(pattern, out)
  local parts = {}
  if pattern:find(",", 1, true) then
    for p in (pattern .. ","):gmatch("(.-),") do parts[#parts + 1] = p end
  elseif address.parse(pattern, true) then
    parts[1] = pattern
  else
    -- (?:[^\s:\[\]]|\[[^\]]*\])+ : colons outside brackets separate
    local i, n, cur = 1, #pattern, {}
    local function flush()
      if #cur > 0 then parts[#parts + 1] = table.concat(cur); cur = {} end
    end
    while i <= n do
      local c = pattern:sub(i, i)
      local close = c == "[" and pattern:find("]", i + 1, true)
      if close then
        cur[#cur + 1] = pattern:sub(i, close); i = close + 1
      else
        if c:match("[%s:%[%]]") then flush() else cur[#cur + 1] = c end
        i = i + 1
      end
    end
    flush()
  end
  for _, p in ipairs(parts) do
    p = p:match("^%s*(.-)%s*$")
    if p ~= "" then out[#out + 1] = p end
  end
  return out
end

--- The terms of a pattern (a string, or a list of strings), as Ansible's
--- split_host_pattern gives them: a list of strings such as "&web".
function M.split(pattern)
  local out = {}
  if type(pattern) == "table" then
    for _, p in ipairs(pattern) do split_one(tostring(p), out) end
  else
    split_one(pattern, out)
  end
  return out
end

--- Ansible's order_patterns: plain terms, then `&`, then `!`; `all` first
--- when there is no plain term.
function M.order(terms)
  local plain, inter, excl = {}, {}, {}
  for _, t in ipairs(terms) do
    local c = t:sub(1, 1)
    local list = c == "!" and excl or c == "&" and inter or plain
    list[#list + 1] = t
  end
  if #plain == 0 then plain[1] = "all" end
  for _, t in ipairs(inter) do plain[#plain + 1] = t end
  for _, t in ipairs(excl) do plain[#plain + 1] = t end
  return plain
end

--- Ansible's _split_subscript: expr, subscript ({start, stop}; stop nil
--- for one host, -1 for "to the end") or nil. A regex has none.
-- a subscript's number (past 2^53 it is out of range anyway)
local function int(s)
  local x = tonumber(s)
  return math.tointeger(x) or (x < 0 and -2 ^ 53 or 2 ^ 53)
end

function M.subscript(term)
  if term:sub(1, 1) == "~" then return term, nil end
  local expr, idx = term:match("^(.+)%[(%-?%d+)%]$")
  if expr then return expr, { int(idx) } end
  local e2, start, stop = term:match("^(.+)%[(%d+)[:%-](%d*)%]$")
  if not e2 then return term, nil end
  return e2, { int(start), stop == "" and -1 or int(stop) }
end

-- Ansible's _apply_subscript (Python's slicing): hosts, or nil when the
-- single index is out of range.
local function apply_subscript(hosts, sub)
  if not sub or #hosts == 0 then return hosts end
  local n, start, stop = #hosts, sub[1], sub[2]
  if stop and stop ~= 0 then
    if stop == -1 then stop = n - 1 end
    local out = {}
    for i = start + 1, math.min(stop + 1, n) do out[#out + 1] = hosts[i] end
    return out
  end
  local i = start < 0 and n + start + 1 or start + 1
  if i < 1 or i > n then return nil end
  return { hosts[i] }
end

--- Is host `h` left out of groups and of name matching? The implicit
--- localhost is, as in Ansible ("the implicit localhost does not match
--- 'all'"), except when no inventory was given: then it is the inventory's
--- only host (docs/TASKS.md; inventory.load(nil) names that source
--- "<implicit>").
function M.hidden(inv, h)
  return inv.hosts[h].implicit and inv.source ~= "<implicit>"
end
local hidden = M.hidden

-- The name of the hidden host, if there is one.
local function hidden_name(inv)
  local l = inv.hosts.localhost
  return l and l.implicit and inv.source ~= "<implicit>" and "localhost" or nil
end

--- The child groups of `name` as Ansible has them: those the sources gave;
--- for `all`, ungrouped and the groups with no other parent, in order, and
--- those a source named under `all` although they have another parent (a
--- YAML `all: children:`), when the loader marks them in
--- `inv.groups.all.explicit_children` (a set of names).
function M.children(inv, name)
  local g = inv.groups[name]
  -- a model with reconcile() keeps all's children as Ansible does; the
  -- one before it makes every group a child of all
  if name ~= "all" or inv.reconcile then return g.child_list end
  local out = {}
  for _, c in ipairs(g.child_list) do
    local top = true
    for p in pairs(inv.groups[c].parents) do if p ~= "all" then top = false break end end
    if top or (g.explicit_children and g.explicit_children[c]) then out[#out + 1] = c end
  end
  return out
end

--- The hosts of group `name` in Ansible's order (Group.get_hosts): the
--- group's own hosts, then its children's, breadth first; the implicit
--- localhost is in no group.
function M.group_hosts(inv, name)
  local groups = inv.groups
  local ordered, seen = { name }, { [name] = true }
  for _, c in ipairs(M.children(inv, name)) do
    if not seen[c] then seen[c] = true; ordered[#ordered + 1] = c end
  end
  local level, first = ordered, 2 -- the first level: the children (the group's own done above)
  while level do
    local nxt, n = {}, 0
    for i = first, #level do
      for _, c in ipairs(groups[level[i]].child_list) do
        if not seen[c] then seen[c] = true; ordered[#ordered + 1] = c; n = n + 1; nxt[n] = c end
      end
    end
    level, first = n > 0 and nxt or nil, 1
  end
  -- the one host that may be implicit is localhost (model's implicit_localhost)
  local out, have, n = {}, { [hidden_name(inv) or false] = true }, 0
  for _, g in ipairs(ordered) do
    for _, h in ipairs(groups[g].host_list) do
      if not have[h] then have[h] = true; n = n + 1; out[n] = h end
    end
  end
  return out
end

-- The names of `list` (group_order or host_order) the term matches.
local function match_list(inv, list, term, hosts)
  local re, err
  if term:sub(1, 1) == "~" then re, err = regex.compile(term:sub(2))
  else re, err = regex.compile(fnmatch.translate(term)) end
  if not re then return nil, "invalid host pattern " .. quote(term) .. ": " .. err end
  local out = {}
  for _, name in ipairs(list) do
    if re:test(name) and not (hosts and hidden(inv, name)) then out[#out + 1] = name end
  end
  return out
end

-- Ansible's _enumerate_matches: hosts (each once, the first time it comes),
-- matched (a group or host matched, even an empty group); or nil, err.
local function enumerate(inv, expr)
  local groups, err = match_list(inv, inv.group_order, expr)
  if not groups then return nil, err end
  -- every other group's hosts and every host are all's, after all's: the same list
  if groups[1] == "all" then return M.group_hosts(inv, "all"), true end
  local out, have = {}, {}
  local function add(h) if not have[h] then have[h] = true; out[#out + 1] = h end end
  for _, g in ipairs(groups) do
    for _, h in ipairs(M.group_hosts(inv, g)) do add(h) end
  end
  if #groups == 0 or expr:sub(1, 1) == "~" or expr:find("[.?*%[]") then
    for _, h in ipairs(assert(match_list(inv, inv.host_order, expr, true))) do add(h) end
  end
  if #out == 0 and M.LOCALHOST[expr] then
    inv:implicit_localhost()
    out[1] = "localhost"
  end
  return out, #groups > 0 or #out > 0
end

-- The names of groups and hosts close to `term`, for a message.
local function close_to(inv, term)
  local names = {}
  for _, g in ipairs(inv.group_order) do names[#names + 1] = g end
  for _, h in ipairs(inv.host_order) do if not hidden(inv, h) then names[#names + 1] = h end end
  return errors.close_names(term:gsub("^[~&!]", ""), names)
end

-- Ansible's _match_one_pattern: the hosts of one term, or nil, err.
local function match_one(inv, term, whole, cache)
  local t = term:gsub("^[&!]", "")
  if cache[t] then return cache[t] end
  if t == "" then return nil, "empty term in host pattern " .. quote(whole) end
  local expr, sub = M.subscript(t)
  local hosts, matched = enumerate(inv, expr)
  if not hosts then return nil, matched end
  if not matched and expr ~= "all" then
    local msg = string.format("host pattern %s matches no host or group in %s", quote(t), inv.source)
    local close = close_to(inv, expr)
    if whole ~= t then msg = msg .. " (a term of " .. quote(whole) .. ")" end
    for i, c in ipairs(close) do close[i] = S.escape(c, 100) end
    if #close > 0 then msg = msg .. "; close names: " .. table.concat(close, ", ") end
    return nil, msg
  end
  local picked = apply_subscript(hosts, sub)
  if not picked then
    return nil, string.format("no hosts matched the subscripted pattern %s (%d host%s match %s)",
      quote(t), #hosts, #hosts == 1 and "" or "s", quote(expr))
  end
  cache[t] = picked
  return picked
end

-- Ansible's _evaluate_patterns over ordered terms: a list of unique hosts.
local function evaluate(inv, terms, whole, cache)
  -- hosts: the list so far (a term's own list until a second plain term
  -- adds to it); have: its set, made when that happens
  local hosts, have, own = {}, nil, false
  for i, p in ipairs(M.order(terms)) do
    local c = p:sub(1, 1)
    local that, err
    if c ~= "&" and c ~= "!" and inv.hosts[p] and not hidden(inv, p) then that = { p }
    else
      that, err = match_one(inv, p, whole, cache)
      if not that then return nil, err end
    end
    if c == "&" or c == "!" then
      local set = {}
      for _, h in ipairs(that) do set[h] = true end
      local keep, n = {}, 0
      for _, h in ipairs(hosts) do
        if (c == "&") == (set[h] == true) then n = n + 1; keep[n] = h end
      end
      hosts, own = keep, true
    elseif i == 1 then
      hosts = that
    else
      if not own then
        local copy = {}
        for j, h in ipairs(hosts) do copy[j] = h end
        hosts, own = copy, true
      end
      if not have then
        have = {}
        for _, h in ipairs(hosts) do have[h] = true end
      end
      for _, h in ipairs(that) do
        if not have[h] then have[h] = true; hosts[#hosts + 1] = h end
      end
    end
  end
  return hosts
end

local function describe(pattern)
  if type(pattern) == "table" then return table.concat(pattern, ",") end
  return tostring(pattern)
end

--- The hosts of `inv` matching `pattern` (a string or a list of strings),
--- in Ansible's order: a list of host names, or nil, err.
function M.select(inv, pattern, cache)
  if type(pattern) ~= "string" and type(pattern) ~= "table" then return nil, "empty host pattern" end
  local terms = M.split(pattern)
  if #terms == 0 then return nil, "empty host pattern" end
  return evaluate(inv, terms, describe(pattern), cache or {})
end

-- A --limit's terms: its patterns, with @file read as one host name a line.
local function limit_terms(limit)
  local out = {}
  for _, t in ipairs(M.split(limit)) do
    if t:sub(1, 1) == "@" then
      local text, err = require("luasible.util.fs").read(t:sub(2))
      if not text then return nil, "cannot read limit file " .. t:sub(2) .. ": " .. tostring(err) end
      for line in text:gmatch("[^\n]+") do
        line = line:match("^%s*(.-)%s*$")
        if line ~= "" then out[#out + 1] = line end
      end
    else
      out[#out + 1] = t
    end
  end
  return out
end

--- Hosts of `pattern`, further restricted by `limit` (another pattern, as
--- Ansible's --limit: `@file` reads host names from a file).
function M.select_limited(inv, pattern, limit)
  local cache = {}
  local hosts, err = M.select(inv, pattern, cache)
  if not hosts then return nil, err end
  if limit == nil or limit == "" then return hosts end
  local terms, lerr = limit_terms(limit)
  if not terms then return nil, "--limit: " .. lerr end
  if #terms == 0 then return nil, "--limit: empty host pattern" end
  local allowed, aerr = evaluate(inv, terms, describe(limit), cache)
  if not allowed then return nil, "--limit: " .. aerr end
  local set = {}
  for _, h in ipairs(allowed) do set[h] = true end
  local out = {}
  for _, h in ipairs(hosts) do if set[h] then out[#out + 1] = h end end
  return out
end

return M
