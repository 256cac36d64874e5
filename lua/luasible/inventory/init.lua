--- luasible.inventory: hosts, groups and their variables; the face others
-- call (load, connect_args, become, vars_dir, ...).
--
-- Sources, read as Ansible reads them: a file in Ansible's YAML, INI or
-- TOML format (tried in Ansible's order: YAML for a name without ending or
-- ending .yml/.yaml/.json, then INI, then TOML for .toml), a folder (every
-- file in it, sorted, sub-folders too, but for hidden ones, group_vars/,
-- host_vars/ and Ansible's ignored endings), an inline "host1,host2" list,
-- a Lua table of the YAML shape or a .lua file returning one. Without a
-- source the inventory holds only the implicit `localhost` (local
-- connection). The group_vars/ and host_vars/ beside an inventory file (in
-- an inventory folder) are read with it (inventory/vars_dirs).
--
--   model      the Inventory object: groups, hosts, host_vars precedence, select
--   address    host patterns of an inventory: web[1:2]:2201, [2001:db8::2]:22
--   ranges     web[01:10] host ranges
--   literal    INI values as Python literals
--   ini, yaml, toml   the file formats (yaml: also a Lua table)
--   vars_dirs  group_vars/ and host_vars/ folders, vars files
--   export     the JSON shapes of ansible-inventory --list / --host / --graph
--   connect    host vars -> luasible.connect arguments, become, secret names
--   pattern    host patterns (web:&prod:!db1)
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"
local model = require "luasible.inventory.model"
local ranges = require "luasible.inventory.ranges"
local address = require "luasible.inventory.address"
local ini = require "luasible.inventory.ini"
local yaml_inv = require "luasible.inventory.yaml"
local toml = require "luasible.inventory.toml"
local vars_dirs = require "luasible.inventory.vars_dirs"
local connect = require "luasible.inventory.connect"
local script = require "luasible.inventory.script"
local plugins = require "luasible.inventory.plugins"
local yaml = require "luasible.yaml"
local core = require "luasible.core"
local regex = require "luasible.util.regex"

local M = {}

M.Inventory = model.Inventory
M.new = model.new
M.is_inventory = model.is_inventory
M.check_cycles = model.check_cycles
M.range_count = ranges.range_count
M.expand_range = ranges.expand
M.parse_ini = ini.parse
M.parse_yaml = yaml_inv.parse
M.parse_toml = toml.parse
M.from_table = yaml_inv.from_table
M.load_vars_file = vars_dirs.load_vars_file
M.vars_dir = vars_dirs.vars_dir
M.bool = connect.bool
M.secret_vars = connect.secret_vars
M.is_secret_name = connect.is_secret_name
M.ssh_args = connect.ssh_args
M.connect_args = connect.connect_args
M.become = connect.become

--- What a folder given as inventory leaves out (Ansible's IGNORED: hidden
--- names, group_vars, host_vars, vars_plugins, and INVENTORY_IGNORE_EXTS).
M.IGNORED_EXTS = { ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".ini",
  ".cfg", ".retry" }

-- opts.ignore_extensions replaces IGNORED_EXTS; opts.ignore_patterns adds
-- regexes searched in the name (Ansible's INVENTORY_IGNORE_PATTERNS).
local function ignored(name, opts)
  if name:sub(1, 1) == "." or name == "host_vars" or name == "group_vars" or name == "vars_plugins" then
    return true
  end
  for _, e in ipairs(opts.ignore_extensions or M.IGNORED_EXTS) do
    if #name >= #e and name:sub(-#e) == e then return true end
  end
  for _, p in ipairs(opts.ignore_patterns or {}) do
    local r, rerr = regex.compile(p)
    if not r then error({ inv_error = "inventory ignore pattern: " .. rerr }, 0) end
    if r:search(name) then return true end
  end
  return false
end

-- Ansible's "host1,host2:2222," inline list (the host_list plugin).
local function inline(inv, src)
  for item in src:gmatch("[^,]+") do
    local h = item:match("^%s*(.-)%s*$")
    if h ~= "" then
      local host, port = address.parse(h)
      if not host or host:find("[", 1, true) then host, port = h, nil end
      if not inv.hosts[host] then
        inv:add_host(host, host == "localhost" and { ansible_connection = "local" } or {}, "ungrouped", port)
      end
    end
  end
  return true
end

-- the ending of a file name, as Python's os.path.splitext
local function ext_of(file)
  return path.basename(file):match("^%.*[^.].*(%.[^.]*)$") or ""
end

local YAML_EXTS = { [""] = true, [".yml"] = true, [".yaml"] = true, [".json"] = true }

-- Read one inventory file's text into inv: a Lua file (a plugin, or a
-- table of the YAML shape), a YAML plugin configuration (plugin: NAME,
-- .yml/.yaml only, as Ansible's auto plugin), else the formats in Ansible's
-- order (a format that fails may leave what it read before failing, as in
-- Ansible). Returns true, or nil, err (what the most likely format said).
local function read_text(inv, file, text, opts)
  local ext = ext_of(file)
  if ext == ".lua" then
    local chunk, lerr = load(text, "@" .. file, "t", {})
    if not chunk then return nil, lerr end
    local ok, t = pcall(chunk)
    if not ok then return nil, tostring(t) end
    if plugins.is_plugin(t) then return plugins.run(inv, t, file, nil, nil, opts) end
    return yaml_inv.read(inv, t, file)
  end
  local errs = {}
  if YAML_EXTS[ext] then
    local t, yerr = yaml_inv.decode(text, file)
    if t and (ext == ".yml" or ext == ".yaml") and t.plugin ~= nil and not yaml.is_null(t.plugin) then
      return plugins.from_config(inv, t, file, text, opts)
    end
    if t then
      local ok, err = yaml_inv.read(inv, t, file, text)
      if ok then return true end
      errs.yaml = err
    elseif ext ~= "" then
      errs.yaml = yerr
    end
  end
  local ok, err = ini.read(inv, text, file)
  if ok then return true end
  errs.ini = err
  if ext == ".toml" then
    ok, err = toml.read(inv, text, file)
    if ok then return true end
    errs.toml = err
  end
  if text:sub(1, 2) == "#!" then
    return nil, file .. ": an inventory script (#!) that is not executable (chmod +x it)"
  end
  return nil, errs.toml or errs.yaml or errs.ini
end

-- Read one inventory file into inv: an inventory script (executable, #!
-- or ELF) is run; else its text is read (read_text), a vault-encrypted one
-- decrypted with the run's vault secrets (luasible.vault), its variables
-- secrets then.
local read_file_now
local function read_file(inv, file, opts)
  local ok, err = read_file_now(inv, file, opts)
  -- the file each host was first defined in: its inventory_file / inventory_dir (play/vars.lua)
  if ok then
    local abs = core.realpath(file) or file
    for _, h in pairs(inv.hosts or {}) do if not h.source then h.source = abs end end
  end
  return ok, err
end

read_file_now = function(inv, file, opts)
  local st = fs.stat(file)
  local text, rerr = fs.read(file)
  if not text then return nil, "cannot read inventory " .. file .. ": " .. tostring(rerr) end
  if script.is_script(st, text:sub(1, 4)) then return script.load(inv, file, opts) end
  local vault = require "luasible.vault"
  local plain, vaulted = vault.file_text(text, nil, "none")
  if not plain then return nil, file .. ": " .. vaulted end
  local ok, err = read_text(inv, file, plain, opts)
  if ok and vaulted then
    for _, h in pairs(inv.hosts or {}) do vault.reveal_all(h.vars) end
    for _, g in pairs(inv.groups or {}) do vault.reveal_all(g.vars) end
  end
  return ok, err
end

-- Read a folder's inventory sources into inv (sorted; sub-folders too),
-- as Ansible's InventoryManager.parse_source walks one.
local function read_dir(inv, dir, opts, depth)
  depth = depth or 0
  if depth > 32 then return nil, "inventory folder " .. dir .. ": folders nested too deep (a link loop?)" end
  local names, werr = core.readdir(dir)
  if not names then return nil, "cannot read inventory folder " .. dir .. ": " .. tostring(werr) end
  table.sort(names)
  for _, name in ipairs(names) do
    local iok, skip = pcall(ignored, name, opts)
    if not iok then
      if type(skip) == "table" and skip.inv_error then return nil, skip.inv_error end
      error(skip, 0)
    end
    if not skip then
      local full = path.join(dir, name)
      local st = fs.stat(full)
      local ok, err = true, nil
      if st and st.type == "directory" then ok, err = read_dir(inv, full, opts, depth + 1)
      elseif st and st.type == "file" then ok, err = read_file(inv, full, opts) end
      if not ok then return nil, err end
    end
  end
  return true
end

-- the folder whose group_vars/ and host_vars/ go with a source
local function vars_base(src, st)
  return st.type == "directory" and src or path.dirname(src)
end

-- Read one path source into inv; adds its vars layer to `layers` (once a
-- folder). Returns true, or nil, err.
local function read_source(inv, src, opts, layers)
  local st, serr = fs.stat(src)
  if not st then
    if src:find(",") then return inline(inv, src) end
    return nil, "cannot read inventory " .. src .. ": " .. tostring(serr)
  end
  opts.layers = layers
  local ok, err
  if st.type == "directory" then ok, err = read_dir(inv, src, opts) else ok, err = read_file(inv, src, opts) end
  if not ok then return nil, err end
  local base = vars_base(src, st)
  for _, l in ipairs(layers) do if l.dir == base then return true end end
  -- read once the sources are all in (only their groups' and hosts' files)
  layers[#layers + 1] = { dir = base, pending = true }
  return true
end

--- Load an inventory. `src`: nil (implicit localhost only), a path (a
--- file, a folder, an inventory script), a comma list of host names
--- ("a,b,"), a list of those (merged in order, as -i repeated), a table,
--- or an Inventory. opts: timeout (seconds for an inventory script's run),
--- plugin_path (folders of Lua inventory plugins), extra_vars (for
--- constructed's use_extra_vars), ignore_extensions (the endings a folder
--- leaves out, instead of M.IGNORED_EXTS), ignore_patterns (regexes of
--- names a folder leaves out). Returns inv or nil, err.
function M.load(src, opts)
  if src == nil then
    local inv = model.new("<implicit>")
    inv:implicit_localhost()
    return inv
  end
  if model.is_inventory(src) then return src end
  local list
  if type(src) == "table" and #src > 0 and not yaml.keys(src) then
    for _, s in ipairs(src) do
      if type(s) ~= "string" then return nil, "a list of inventories must hold paths or host lists" end
    end
    list = src
  elseif type(src) == "table" then
    return yaml_inv.from_table(src)
  elseif type(src) == "string" then
    list = { src }
  else
    return nil, "inventory must be a path, a list of paths, a table or an Inventory"
  end
  local ro = {}
  for k, v in pairs(opts or {}) do ro[k] = v end
  local inv = model.new(#list == 1 and list[1] or table.concat(list, ","))
  local layers = {}
  for _, s in ipairs(list) do
    local ok, err = read_source(inv, s, ro, layers)
    if not ok then return nil, err end
  end
  inv:reconcile()
  -- group_vars/ and host_vars/ next to each inventory file, or in each folder
  for i, l in ipairs(layers) do
    if l.pending then
      local layer, verr = vars_dirs.vars_dir(l.dir, inv)
      if not layer then return nil, verr end
      layers[i] = layer
    end
  end
  inv.vars_layers = layers
  return inv
end

return M
