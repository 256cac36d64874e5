--- Canonical, typed views of an inventory, luasible's and Ansible's, and
-- the differences between them (spec/integration/inventory_oracle_spec.lua).
--
--   canon.luasible(path)          luasible's view of the inventory at path
--   canon.oracle(paths)           Ansible's, { [path] = view }, or nil, why
--   canon.diff(ours, theirs)      the differences: { { key =, ours =, theirs = } }
--   canon.value(v)                a value as a string that tells its type
--
-- A view is { error = msg | nil, groups = { name = { hosts = {..}, children
-- = {..} } }, hostvars = { host = { var = canonical value } } }: every group
-- with its direct hosts and child groups in order, every host with its
-- merged variables as `ansible-inventory --list` shows them (the JSON shapes
-- of luasible.inventory.export). Ansible's comes from
-- spec/helpers/inventory_oracle.py (its manual is there), cached in
-- $LUASIBLE_ORACLE_CACHE (default build/oracle-cache).
local inventory = require "luasible.inventory"
local export = require "luasible.inventory.export"
local json = require "luasible.json"
local yaml = require "luasible.yaml"
local values = require "luasible.template.values"
local files = require "spec.helpers.files"

local M = {}

M.CACHE = os.getenv("LUASIBLE_ORACLE_CACHE") or "build/oracle-cache"
M.HELPER = "spec/helpers/inventory_oracle.py"

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ["\b"] = "\\b", ["\f"] = "\\f" }
-- a string as Python's json.dumps(s, ensure_ascii=False) writes it
local function quote(s)
  return '"' .. s:gsub('[%z\1-\31"\\]', function(c) return ESC[c] or string.format("\\u%04x", c:byte()) end) .. '"'
end

local function is_list(t) return not json.is_object(t) and values.is_list(t) end

--- A value as a string that tells its type, as inventory_oracle.py writes
--- Python's: null, true, false, int:5, float:1.5, "text", [..], {"k":..}.
function M.value(v)
  local t = type(v)
  if v == nil or yaml.is_null(v) then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if math.type(v) == "integer" then return "int:" .. string.format("%d", v) end
    if v ~= v then return "float:nan" end
    return "float:" .. string.format("%.17g", v)
  end
  if t == "string" then return quote(v) end
  if t == "table" then
    local out = {}
    if is_list(v) then
      for i = 1, #v do out[i] = M.value(v[i]) end
      return "[" .. table.concat(out, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do
      local ks = yaml.is_null(k) and "null" or tostring(k)
      keys[#keys + 1] = ks
      out[ks] = v[k]
    end
    table.sort(keys)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = quote(k) .. ":" .. M.value(out[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return "?" .. t .. ":" .. tostring(v)
end

--- luasible's view of the inventory at `path`.
function M.luasible(path)
  local sources = {}
  for p in path:gmatch("[^|]+") do sources[#sources + 1] = p end
  local inv, err = inventory.load(#sources > 1 and sources or path)
  if not inv then return { error = err, groups = {}, hostvars = {} } end
  local list = export.list(inv)
  local view = { groups = {}, hostvars = {} }
  local function group(name)
    if view.groups[name] then return end
    local e = list[name] or {}
    view.groups[name] = { hosts = { table.unpack(e.hosts or {}) }, children = { table.unpack(e.children or {}) } }
    for _, h in ipairs(view.groups[name].hosts) do view.hostvars[h] = view.hostvars[h] or {} end
    for _, c in ipairs(view.groups[name].children) do group(c) end
  end
  group("all")
  for h, vars in pairs(list._meta.hostvars) do
    local cv = {}
    for k, v in pairs(vars) do cv[tostring(k)] = M.value(v) end
    view.hostvars[h] = cv
  end
  return view
end

-- The Python that runs ansible-inventory (the one of its #! line), or nil, why.
local function python()
  local exe = files.sh("command -v ansible-inventory 2>/dev/null")
  if exe == "" then return nil, "ansible-inventory is not installed (Debian: apt-get install ansible-core)" end
  local first = (files.read(exe) or ""):match("^#!%s*(%S+)")
  if not first or not first:find("python") then return nil, exe .. " is not a Python script" end
  return first
end

--- Ansible's views of the inventories at `paths`: { [path] = view }, or
--- nil, why (Ansible is not installed, or the helper failed).
function M.oracle(paths)
  local py, why = python()
  if not py then return nil, why end
  local words = {}
  for i, p in ipairs(paths) do words[i] = "'" .. p:gsub("'", "'\\''") .. "'" end
  local out, ok = files.run(py .. " " .. M.HELPER .. " --cache '" .. M.CACHE .. "' " .. table.concat(words, " "))
  if not ok then return nil, "inventory_oracle.py failed: " .. out end
  local cjson = require "cjson"
  local views = cjson.decode(out)
  for _, v in pairs(views) do
    if v.error == cjson.null then v.error = nil end
  end
  return views
end

local function list_text(l)
  local out = {}
  for i, x in ipairs(l or {}) do out[i] = tostring(x) end
  return "[" .. table.concat(out, ", ") .. "]"
end

local function sorted_union(a, b)
  local set, out = {}, {}
  for k in pairs(a or {}) do set[k] = true end
  for k in pairs(b or {}) do set[k] = true end
  for k in pairs(set) do out[#out + 1] = k end
  table.sort(out)
  return out
end

--- The differences between two views: a list of { key =, ours =, theirs = },
--- each key one of "refused" (Ansible refuses, luasible does not),
--- "accepted" (the other way round), "group G", "group G hosts",
--- "group G children", "host H", "host H var V"; ours/theirs the two sides
--- as text (nil: absent).
function M.diff(ours, theirs)
  local out = {}
  local function add(key, a, b) out[#out + 1] = { key = key, ours = a, theirs = b } end
  if theirs.error or ours.error then
    if theirs.error and not ours.error then
      add("refused", nil, theirs.error .. " " .. table.concat(theirs.failures or {}, "; "))
    elseif ours.error and not theirs.error then
      add("accepted", ours.error, nil)
    end
    return out
  end
  -- each name of A or B: present on one side only, or compare(a, b, key)
  local function each(kind, A, B, compare)
    for _, n in ipairs(sorted_union(A, B)) do
      local a, b = A[n], B[n]
      if a and b then compare(a, b, kind .. " " .. n)
      else add(kind .. " " .. n, a and "present" or nil, b and "present" or nil) end
    end
  end
  each("group", ours.groups, theirs.groups, function(a, b, key)
    for _, part in ipairs({ "hosts", "children" }) do
      local x, y = list_text(a[part]), list_text(b[part])
      if x ~= y then add(key .. " " .. part, x, y) end
    end
  end)
  each("host", ours.hostvars, theirs.hostvars, function(a, b, key)
    for _, k in ipairs(sorted_union(a, b)) do
      if a[k] ~= b[k] then add(key .. " var " .. k, a[k], b[k]) end
    end
  end)
  return out
end

return M
