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

local function ignored(name)
  if name:sub(1, 1) == "." or name == "host_vars" or name == "group_vars" or name == "vars_plugins" then
    return true
  end
  for _, e in ipairs(M.IGNORED_EXTS) do
    if #name >= #e and name:sub(-#e) == e then return true end
  end
  return false
end

-- Ansible's "host1,host2:2222," inline list (the host_list plugin).
local function inline(src)
  local inv = model.new("<inline>")
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
  return inv:reconcile()
end

-- the ending of a file name, as Python's os.path.splitext
local function ext_of(file)
  return path.basename(file):match("^%.*[^.].*(%.[^.]*)$") or ""
end

local YAML_EXTS = { [""] = true, [".yml"] = true, [".yaml"] = true, [".json"] = true }

-- Read one inventory file into inv, trying the formats in Ansible's order
-- (a format that fails may leave what it read before failing, as in
-- Ansible). Returns true, or nil, err (what the most likely format said).
local function read_text(inv, file, text)
  local ext = ext_of(file)
  if ext == ".lua" then
    local chunk, lerr = load(text, "@" .. file, "t", {})
    if not chunk then return nil, lerr end
    local ok, t = pcall(chunk)
    if not ok then return nil, tostring(t) end
    return yaml_inv.read(inv, t, file)
  end
  local errs = {}
  if YAML_EXTS[ext] then
    local t, yerr = yaml_inv.decode(text, file)
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
    return nil, file .. ": an inventory script (#!): dynamic inventories are not supported"
  end
  return nil, errs.toml or errs.yaml or errs.ini
end

-- The same from the file; a vault-encrypted one is decrypted with the run's
-- vault secrets (luasible.vault), and its variables are secrets then.
local function read_file(inv, file)
  local text, rerr = fs.read(file)
  if not text then return nil, "cannot read inventory " .. file .. ": " .. tostring(rerr) end
  local vault = require "luasible.vault"
  local plain, vaulted = vault.file_text(text, nil, "none")
  if not plain then return nil, file .. ": " .. vaulted end
  local ok, err = read_text(inv, file, plain)
  if ok and vaulted then
    for _, h in pairs(inv.hosts or {}) do vault.reveal_all(h.vars) end
    for _, g in pairs(inv.groups or {}) do vault.reveal_all(g.vars) end
  end
  return ok, err
end

-- Read a folder's inventory files into inv (sorted; sub-folders too).
local function read_dir(inv, dir)
  local entries = {}
  local list, werr = fs.walk(dir)
  if not list then return nil, werr end
  for _, e in ipairs(list) do
    if not e.path:find("/", 1, true) then entries[#entries + 1] = e end
  end
  for _, e in ipairs(entries) do
    if not ignored(e.path) then
      local full = path.join(dir, e.path)
      local ok, err
      if e.type == "directory" then ok, err = read_dir(inv, full) else ok, err = read_file(inv, full) end
      if not ok then return nil, err end
    end
  end
  return true
end

--- Load an inventory. `src`: nil (implicit localhost only), a path (a file
--- or a folder), a comma list of host names ("a,b,"), a table, or an
--- Inventory. Returns inv or nil, err.
function M.load(src)
  if src == nil then
    local inv = model.new("<implicit>")
    inv:implicit_localhost()
    return inv
  end
  if model.is_inventory(src) then return src end
  if type(src) == "table" then return yaml_inv.from_table(src) end
  if type(src) ~= "string" then return nil, "inventory must be a path, a table or an Inventory" end
  local st, serr = fs.stat(src)
  if not st then
    if src:find(",") then return inline(src) end
    return nil, "cannot read inventory " .. src .. ": " .. tostring(serr)
  end
  local inv = model.new(src)
  local ok, err
  if st.type == "directory" then ok, err = read_dir(inv, src) else ok, err = read_file(inv, src) end
  if not ok then return nil, err end
  inv:reconcile()
  -- group_vars/ and host_vars/ next to the inventory file, or in the folder
  local layer, verr = vars_dirs.vars_dir(st.type == "directory" and src or path.dirname(src), inv)
  if not layer then return nil, verr end
  inv.vars_layers = { layer }
  return inv
end

return M
