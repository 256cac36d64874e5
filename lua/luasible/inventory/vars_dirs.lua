--- luasible.inventory.vars_dirs: the group_vars/ and host_vars/ folders
-- beside an inventory or a play (Ansible's host_group_vars), and the vars
-- files in them (YAML or JSON mappings of variable names to values).
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"
local yaml = require "luasible.yaml"

local M = {}

local VARS_EXT = { "", ".yml", ".yaml", ".json" }
local VAR_NAME = "^[%a_][%w_]*$"
local VAULT = "^%s*%$ANSIBLE_VAULT;"

-- Keys of a mapping in a fixed order (by name), for messages that must not
-- depend on table iteration.
local function sorted_keys(t) return yaml.ordered_keys(t) end

-- Turn YAML nulls into nothing (Lua tables cannot hold nil: a key without
-- value is left undefined) and refuse vault-encrypted values: raises
-- { vars_error = msg } naming `where` (the variable, with its keys).
local function clean(v, where, depth)
  if type(v) == "string" and v:match(VAULT) then
    error({ vars_error = "the value of '" .. where .. "' is vault-encrypted (!vault): ansible-vault files are"
      .. " not supported (decrypt it, or pass the secret with -e)" }, 0)
  end
  if type(v) ~= "table" or depth > 64 then return v end
  local out = setmetatable({}, getmetatable(v)) -- an empty mapping stays one (json.object)
  if #v > 0 then
    for _, x in ipairs(v) do if not yaml.is_null(x) then out[#out + 1] = clean(x, where, depth + 1) end end
  else
    for _, k in ipairs(sorted_keys(v)) do
      local x = v[k]
      if not yaml.is_null(x) then out[k] = clean(x, where .. "." .. tostring(k), depth + 1) end
    end
  end
  return out
end

--- Load one vars file (YAML or JSON): a mapping of variable names to values.
--- Returns the table, or nil, "file[:line]: what is wrong".
function M.load_vars_file(file)
  local text, err = fs.read(file)
  if not text then return nil, "cannot read " .. file .. ": " .. tostring(err) end
  if text:match(VAULT) then
    return nil, file .. ": ansible-vault files are not supported (decrypt it with ansible-vault decrypt)"
  end
  local t, yerr = yaml.load(text, file)
  if yerr then return nil, yerr end
  if yaml.is_null(t) then return {} end
  if type(t) ~= "table" or (#t > 0) then
    return nil, file .. ": must be a mapping of variable names to values, got a "
      .. (type(t) == "table" and "list" or type(t))
  end
  local function at(key)
    local n = yaml.key_line(text, key)
    return n and (file .. ":" .. n) or file
  end
  local keys = yaml.ordered_keys(t, text)
  for _, k in ipairs(keys) do
    if type(k) ~= "string" or not k:match(VAR_NAME) then
      return nil, at(k) .. ": '" .. tostring(k) .. "' is not a valid variable name"
    end
  end
  local out = setmetatable({}, getmetatable(t))
  for _, k in ipairs(keys) do
    if not yaml.is_null(t[k]) then
      local ok, res = pcall(clean, t[k], k, 1)
      if not ok then
        if type(res) == "table" and res.vars_error then return nil, at(k) .. ": " .. res.vars_error end
        error(res, 0)
      end
      out[k] = res
    end
  end
  return out
end

-- The name a vars file or folder entry `rel` gives (web.yml -> web), or nil
-- when it is not one: hidden files and folders, `~` backups, other endings.
local function vars_name(rel)
  local leaf = path.basename(rel)
  if leaf:sub(-1) == "~" then return nil end
  for comp in rel:gmatch("[^/]+") do if comp:sub(1, 1) == "." then return nil end end
  for _, ext in ipairs(VARS_EXT) do
    if ext == "" then
      if not leaf:find(".", 1, true) then return leaf end
    elseif leaf:sub(-#ext) == ext and #leaf > #ext then
      return leaf:sub(1, -#ext - 1)
    end
  end
  return nil
end

-- The vars of one folder (group_vars/ or host_vars/) into `into`:
-- into[name] = merged vars. Returns true, or nil, err.
local function load_kind(base, into)
  local entries, paths = {}, {}
  for _, e in ipairs(fs.walk(base)) do -- sorted, following links
    entries[e.path] = e.type
    paths[#paths + 1] = e.path
  end
  -- the names, each with its files in Ansible's order: NAME, NAME.yml,
  -- NAME.yaml, NAME.json (a folder NAME/ in the place of NAME)
  local names, order = {}, {}
  for _, rel in ipairs(paths) do
    if not rel:find("/", 1, true) then
      local name = entries[rel] == "directory" and rel or vars_name(rel)
      if name and not names[name] then names[name] = true; order[#order + 1] = name end
    end
  end
  for _, name in ipairs(order) do
    local files = {}
    for _, ext in ipairs(VARS_EXT) do
      local top = name .. ext
      if entries[top] == "file" then files[#files + 1] = top
      elseif entries[top] == "directory" then
        for _, rel in ipairs(paths) do
          if entries[rel] == "file" and rel:sub(1, #top + 1) == top .. "/" and vars_name(rel) then
            files[#files + 1] = rel
          end
        end
      end
    end
    for _, rel in ipairs(files) do
      local vars, err = M.load_vars_file(base .. "/" .. rel)
      if not vars then return nil, err end
      local t = into[name] or {}
      into[name] = t
      for k, v in pairs(vars) do t[k] = v end
    end
  end
  return true
end

--- The group_vars/ and host_vars/ of a folder (Ansible's host_group_vars):
--- for a name, the file `NAME`, `NAME.yml`, `NAME.yaml` or `NAME.json`, or
--- the folder `NAME/` whose files (those names' endings, hidden files and
--- `~` backups left out) are loaded in sorted order, later ones overriding
--- earlier ones. Every such file is read, for hosts and groups of the
--- inventory or not. Returns a layer { dir =, groups = {}, hosts = {} } or
--- nil, "file[:line]: what is wrong".
function M.vars_dir(dir)
  local layer = { dir = dir, groups = {}, hosts = {} }
  local ok, err = load_kind(path.join(dir, "group_vars"), layer.groups)
  if ok then ok, err = load_kind(path.join(dir, "host_vars"), layer.hosts) end
  if not ok then return nil, err end
  return layer
end

return M
