--- luasible.inventory: hosts, groups and their variables; the face others
-- call (load, connect_args, become, vars_dir, ...).
--
-- Sources: Ansible's INI format (inventory/ini), Ansible's YAML format
-- (all/children/hosts/vars, inventory/yaml), a Lua table of the same shape,
-- or a .lua file returning one. Without a source the inventory holds only
-- the implicit `localhost` (local connection). The group_vars/ and
-- host_vars/ beside an inventory file are read with it (inventory/vars_dirs).
--
--   model      the Inventory object: groups, hosts, host_vars precedence, select
--   ranges     web[01:10] host ranges
--   ini, yaml  the two file formats (yaml: also a Lua table)
--   vars_dirs  group_vars/ and host_vars/ folders, vars files
--   connect    host vars -> luasible.connect arguments, become, secret names
--   pattern    host patterns (web:&prod:!db1)
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"
local model = require "luasible.inventory.model"
local ranges = require "luasible.inventory.ranges"
local ini = require "luasible.inventory.ini"
local yaml_inv = require "luasible.inventory.yaml"
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
M.from_table = yaml_inv.from_table
M.load_vars_file = vars_dirs.load_vars_file
M.vars_dir = vars_dirs.vars_dir
M.bool = connect.bool
M.secret_vars = connect.secret_vars
M.is_secret_name = connect.is_secret_name
M.ssh_args = connect.ssh_args
M.connect_args = connect.connect_args
M.become = connect.become

-- Ansible's "host1,host2," inline list.
local function inline(src)
  local inv = model.new("<inline>")
  for h in src:gmatch("[^,%s]+") do inv:add_host(h, h == "localhost" and { ansible_connection = "local" } or {}) end
  return inv
end

-- An inventory file's text read from `file`: an Inventory, or nil, err.
local function parse_file(text, file)
  if file:match("%.lua$") then
    local chunk, lerr = load(text, "@" .. file, "t", {})
    if not chunk then return nil, lerr end
    local ok, t = pcall(chunk)
    if not ok then return nil, tostring(t) end
    return yaml_inv.from_table(t, file)
  elseif file:match("%.ya?ml$") or (text:match("^%s*%-%-%-") or text:match("^%s*all%s*:")) then
    return yaml_inv.parse(text, file)
  end
  return ini.parse(text, file)
end

--- Load an inventory. `src`: nil (implicit localhost only), a path, a comma
--- list of host names ("a,b,"), a table, or an Inventory. Returns inv or nil, err.
function M.load(src)
  if src == nil then
    local inv = model.new("<implicit>")
    inv:implicit_localhost()
    return inv
  end
  if model.is_inventory(src) then return src end
  if type(src) == "table" then return yaml_inv.from_table(src) end
  if type(src) ~= "string" then return nil, "inventory must be a path, a table or an Inventory" end
  local text, err = fs.read(src)
  if not text then
    if src:find(",") then return inline(src) end
    return nil, "cannot read inventory " .. src .. ": " .. tostring(err)
  end
  local inv, perr = parse_file(text, src)
  if not inv then return nil, perr end
  -- group_vars/ and host_vars/ next to the inventory file
  local layer, verr = vars_dirs.vars_dir(path.dirname(src))
  if not layer then return nil, verr end
  inv.vars_layers = { layer }
  return inv
end

return M
