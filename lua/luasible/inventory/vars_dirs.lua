--- luasible.inventory.vars_dirs: the group_vars/ and host_vars/ folders
-- beside an inventory or a play, read as Ansible's host_group_vars plugin
-- reads them, and the vars files in them (YAML or JSON mappings).
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"
local yaml = require "luasible.yaml"

local M = {}

local EXTS = { "", ".yml", ".yaml", ".json" }
local DIR_EXTS = { [""] = true, [".yml"] = true, [".yaml"] = true, [".json"] = true }

--- Load one vars file (YAML or JSON): a mapping of variables to values,
--- any key (`app.port: 80` too) and null values kept, as in Ansible; {}
--- for an empty file. Returns the table, or nil, "file[:line]: what is wrong".
function M.load_vars_file(file)
  local text, err = fs.read(file)
  if not text then return nil, "cannot read " .. file .. ": " .. tostring(err) end
  -- a vault-encrypted file, and `!vault` values in it, are decrypted by
  -- luasible.yaml with the run's vault secrets (luasible.vault)
  local t, yerr = yaml.load(text, file)
  if yerr then return nil, yerr end
  if yaml.is_null(t) then return {} end
  if type(t) ~= "table" or not (yaml.keys(t) or #t == 0) then
    return nil, file .. ": must be a mapping of variable names to values, got a "
      .. (type(t) == "table" and "list" or type(t))
  end
  return t
end

-- What a folder holds, following links: types[rel] = "file"|"directory",
-- names[reldir] = sorted names in it ("" the folder itself); nil, err when
-- a folder or entry cannot be read (never taken for an empty one).
local function listing(base)
  local types, names = {}, { [""] = {} }
  local entries, werr = fs.walk(base)
  if not entries then return nil, werr end
  for _, e in ipairs(entries) do
    types[e.path] = e.type
    local parent, name = e.path:match("^(.*)/([^/]*)$")
    if not parent then parent, name = "", e.path end
    names[parent] = names[parent] or {}
    table.insert(names[parent], name)
    if e.type == "directory" then names[e.path] = names[e.path] or {} end
  end
  for _, l in pairs(names) do table.sort(l) end
  return types, names
end

-- Python's os.path.splitext(name)[2]: from the last dot, not a leading one
local function ext_of(name)
  return name:match("^%.*[^.].*(%.[^.]*)$") or ""
end

-- The files of folder `rel`, in order (Ansible's _get_dir_vars_files):
-- sorted, hidden ones and `~` backups left out, sub-folders without a dot
-- walked, files without an ending or ending .yml, .yaml, .json.
local function dir_files(types, names, rel, out)
  for _, n in ipairs(names[rel] or {}) do
    if n:sub(1, 1) ~= "." and n:sub(-1) ~= "~" then
      local sub, ext = rel .. "/" .. n, ext_of(n)
      if types[sub] == "directory" and ext == "" then dir_files(types, names, sub, out)
      elseif types[sub] == "file" and DIR_EXTS[ext] then out[#out + 1] = sub end
    end
  end
  return out
end

-- The files for entity `name` (Ansible's find_vars_files): the first of
-- NAME, NAME.yml, NAME.yaml, NAME.json that exists; a folder: its files.
local function find(types, names, name)
  for _, ext in ipairs(EXTS) do
    local rel = name .. ext
    if types[rel] == "directory" then return dir_files(types, names, rel, {}) end
    if types[rel] == "file" then return { rel } end
  end
  return {}
end

-- The vars of each entity of `list` found in folder `base` into `into`:
-- into[name] = its files merged, later files' keys replacing earlier ones'.
-- Returns true, or nil, err.
local function load_kind(base, list, into)
  local types, names = listing(base)
  if not types then return nil, names end
  if not list then -- every name the folder can give
    list = {}
    for _, n in ipairs(names[""]) do
      if n:sub(1, 1) ~= "." and n:sub(-1) ~= "~" then
        list[#list + 1] = n
        local stem = n:match("^(.+)%.ya?ml$") or n:match("^(.+)%.json$")
        if stem then list[#list + 1] = stem end
      end
    end
  end
  local cache = {}
  for _, name in ipairs(list) do
    if name ~= "" and name:sub(1, 1) ~= "/" then
      for _, rel in ipairs(find(types, names, name)) do
        local vars = cache[rel]
        if vars == nil then
          local err
          vars, err = M.load_vars_file(base .. "/" .. rel)
          if not vars then return nil, err end
          cache[rel] = vars
        end
        if next(vars) ~= nil then
          local t = into[name] or {}
          into[name] = t
          local marks = yaml.unsafe_keys(vars)
          for k, v in pairs(vars) do
            t[k] = v
            if marks or yaml.unsafe_keys(t) then yaml.set_unsafe(t, k, marks and marks[k]) end
          end
        end
      end
    end
  end
  return true
end

--- The group_vars/ and host_vars/ of a folder, as Ansible's host_group_vars:
--- for a group or host NAME, the first of the file `NAME`, `NAME.yml`,
--- `NAME.yaml`, `NAME.json`, or the folder `NAME/` whose files (no ending
--- or those endings; hidden files and `~` backups left out; sub-folders
--- without a dot in their name walked) are read in sorted order, a later
--- file's keys replacing an earlier one's. With an inventory, only the
--- files of its groups and hosts are read (others are not even parsed);
--- without, every name the folder gives. Returns a layer { dir =, groups =
--- {}, hosts = {} } or nil, "file[:line]: what is wrong".
function M.vars_dir(dir, inv)
  local layer = { dir = dir, groups = {}, hosts = {} }
  local ok, err = load_kind(path.join(dir, "group_vars"), inv and inv.group_order, layer.groups)
  if ok then ok, err = load_kind(path.join(dir, "host_vars"), inv and inv.host_order, layer.hosts) end
  if not ok then return nil, err end
  return layer
end

return M
