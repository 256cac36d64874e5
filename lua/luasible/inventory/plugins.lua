--- luasible.inventory.plugins: inventory plugins written in Lua, found on
-- a search path as modules are (luasible.module), and the YAML sources
-- that name a plugin (`plugin: NAME` and its options, as Ansible's auto
-- plugin reads them). `constructed` is built in (inventory/constructed).
--
-- A plugin is a Lua file NAME.lua returning
--
--   { options = { region = { type = "string", default = "eu-west-1" },    -- checked as module params
--                 file = { type = "path", required = true } },
--     load = function(opts, ctx) return data end }   -- or nil, err
--
-- where `data` is the shape of an inventory script's `--list` output
-- (inventory/script.lua: groups with hosts, vars, children, and
-- _meta.hostvars). ctx: source (the YAML file; nil when the plugin is
-- given to -i itself), dir (its folder: relative paths of options are
-- taken from there), read(path) (a file's text, or nil, err), decode(text,
-- name) (JSON or YAML: value, or nil, err; JSON's null is a marker value,
-- is_null(v) tells it), run(argv, {timeout=}) (a
-- command through the core's processes: its stdout, or nil, err naming it
-- with its stderr), and inventory (the Inventory so far, for plugins that
-- rather call add_host / add_group / add_child / set_group_var).
--
-- Search path, in order: the folders given (CLI --inventory-plugins, the
-- config file's inventory_plugins), LUASIBLE_INVENTORY_PLUGINS (a colon
-- list), then the folder `inventory_plugins/` beside the source
-- (examples/inventory_plugins/ has one).
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"
local searchpath = require "luasible.util.searchpath"
local yaml = require "luasible.yaml"
local params = require "luasible.module.params"
local script = require "luasible.inventory.script"
local constructed = require "luasible.inventory.constructed"
local S = require "luasible.util.schema"

local M = {}

--- The folders searched for plugin NAME.lua: `dirs` (a list or a colon
--- list), LUASIBLE_INVENTORY_PLUGINS, `inventory_plugins/` beside the
--- source file `source` (when given). A new list each call.
function M.search_path(dirs, source)
  local out = searchpath.list(dirs, os.getenv("LUASIBLE_INVENTORY_PLUGINS"))
  if source then out[#out + 1] = path.join(path.dirname(source), "inventory_plugins") end
  return out
end

--- Load plugin `name` from the folders `dirs` (M.search_path): the plugin
--- table and its file, or nil, err naming the folders searched.
function M.find(name, dirs)
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    return nil, "bad inventory plugin name " .. S.show(name)
  end
  local file, serr = searchpath.find(dirs, name)
  if serr then return nil, "inventory plugin " .. name .. ": " .. serr end
  if file then return M.load_file(file) end
  return nil, "unknown inventory plugin '" .. name .. "' (searched " .. (#dirs > 0 and table.concat(dirs, ", ")
    or "no folder") .. "; built in: constructed)"
end

--- Load a plugin file: the plugin table and the file, or nil, err.
function M.load_file(file)
  local chunk, err = loadfile(file, "t")
  if not chunk then return nil, "inventory plugin " .. err end
  local ok, p = pcall(chunk)
  if not ok then return nil, "inventory plugin " .. file .. ": " .. tostring(p) end
  if not M.is_plugin(p) then
    return nil, "inventory plugin " .. file .. ": must return a table with a load function"
  end
  return p, file
end

--- Is `t` a plugin table (a table with a load function)?
function M.is_plugin(t) return type(t) == "table" and type(t.load) == "function" end

-- the ctx a plugin's load gets
local function context(inv, source, dir, opts)
  return {
    source = source, dir = dir, inventory = inv,
    read = function(p) return fs.read(path.resolve(dir, p)) end,
    decode = function(text, name) return yaml.load(text, name or "<data>") end,
    is_null = yaml.is_null,
    run = function(argv, ro)
      if type(argv) ~= "table" or type(argv[1]) ~= "string" then error("ctx.run: argv must be a list of strings", 2) end
      return script.run(argv, ro and ro.timeout or opts.timeout)
    end,
  }
end

--- Run the plugin `p` (file `file`) with options `args` (from `source`,
--- nil when the plugin file is the source) into `inv`. Returns true, or
--- nil, err.
function M.run(inv, p, file, args, source, opts)
  local spec = { name = "inventory plugin " .. file, params = p.options or {} }
  local checked, err = params.validate(spec, args or {})
  if not checked then return nil, (source or file) .. ": " .. err end
  local dir = path.dirname(source or file)
  local ok, data, lerr = pcall(p.load, checked, context(inv, source, dir, opts or {}))
  if not ok then return nil, "inventory plugin " .. file .. ": " .. tostring(data) end
  if data == nil and lerr then return nil, "inventory plugin " .. file .. ": " .. tostring(lerr) end
  if data == nil or data == true then return true end  -- it filled ctx.inventory itself
  return script.read(inv, data, "inventory plugin " .. file)
end

--- Read a YAML source that names a plugin (`cfg.plugin`), from `source`
--- (its text `text`), into `inv`. opts: plugin_path, timeout, extra_vars,
--- layers (for constructed). Returns true, or nil, err.
function M.from_config(inv, cfg, source, text, opts)
  opts = opts or {}
  local name = cfg.plugin
  if constructed.NAMES[name] then
    local ok, err = constructed.check(cfg, source, text)
    if not ok then return nil, err end
    return constructed.apply(inv, cfg, source, opts)
  end
  local p, file = M.find(name, M.search_path(opts.plugin_path, source))
  if not p then
    local n = yaml.key_line(text, "plugin")
    return nil, (n and source .. ":" .. n or source) .. ": " .. file
  end
  local args = {}
  for k, v in pairs(cfg) do if k ~= "plugin" then args[k] = v end end
  return M.run(inv, p, file, args, source, opts)
end

return M
