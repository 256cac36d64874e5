--- luasible.module: finding and loading task modules (the search path),
-- and the face the play layer and the CLI call. Argument checks are in
-- module/params.lua (checks a module may use in module/checks.lua), k=v
-- strings in module/kv.lua, the ctx a module runs with in
-- module/context.lua, file modes in module/mode.lua.
--
-- A module is a Lua file returning
--   { params = { name = { type=, required=, default=, choices=, aliases= } },
--     param_groups = { "command" },      -- optional: shared argument sets (module/params.lua)
--     free_form = "cmd",                 -- optional: where `-a 'echo hi'` goes
--     mutually_exclusive = { {"a","b"} }, required_one_of = { {"a","b"} },
--     check_mode = true,                 -- the module honours ctx.check_mode
--     check_args = function(known, all, checks) return true | nil, err end, -- optional
--     run = function(ctx, args) return { changed = .., failed = .., msg = .. } end,
--     lib = "http_request" }              -- optional: that helper library's functions are the module's too
-- Types: string, number, integer, boolean, list, dict, table, path, mode, raw.
-- A module requires nothing of luasible's: all it needs is on its ctx.
local path = require "luasible.util.path"
local searchpath = require "luasible.util.searchpath"
local params = require "luasible.module.params"
local kv = require "luasible.module.kv"

local M = {}

local function this_dir()
  local src = debug.getinfo(1, "S").source
  return src:sub(1, 1) == "@" and path.dirname(src:sub(2)) or "."
end

-- "a/b/../../c" -> "c", textually: for messages a person reads (the search
-- itself keeps the paths as they are, which a symbolic link may make differ)
local function tidy(p)
  local out, abs = {}, path.is_abs(p)
  for part in p:gmatch("[^/]+") do
    if part == ".." and #out > 0 and out[#out] ~= ".." then out[#out] = nil
    elseif part ~= "." then out[#out + 1] = part end
  end
  local s = table.concat(out, "/")
  if abs then return "/" .. s end
  return s ~= "" and s or "."
end

--- Built-in module folders: <root>/modules in a source tree, and
--- <dir of this file>/modules when installed.
function M.builtin_dirs()
  local d = this_dir()
  return { d .. "/../../../modules", d .. "/../modules" }
end

--- The folders searched, in order: given dirs (CLI -M, play module_path),
--- LUASIBLE_MODULE_PATH, then the built-in modules. A new list each call.
function M.search_path(...)
  local out = searchpath.list(...)
  searchpath.append(out, os.getenv("LUASIBLE_MODULE_PATH"))
  return searchpath.append(out, M.builtin_dirs())
end

-- The modules loaded through a search path, per search path: a list that
-- search_path() returned (the play keeps one for its run) -> { name ->
-- module, file }. Weak keys: once nobody holds that list, what was loaded
-- through it goes, and the next list reads the files again. A load
-- without a path (a fresh search_path()) is never cached.
local loaded = setmetatable({}, { __mode = "k" })

-- A module's table made ready: its param groups (module/params.lua), and
-- the functions of its `lib` (a helper library, lua/luasible/module/lib/:
-- ctx.lib) offered as its own where it has none of that name.
local function prepare(mod, name)
  local ready, err = params.prepare(mod, name)
  if not ready then return nil, err end
  if mod.lib ~= nil then
    local ok, lib = pcall(require("luasible.module.context").lib, mod.lib)
    if not ok then return nil, "module " .. tostring(mod.name) .. ": " .. tostring(lib) end
    for k, f in pairs(lib) do if mod[k] == nil then mod[k] = f end end
  end
  return mod
end

local function load_file(name, file)
  local chunk, err = loadfile(file)
  if not chunk then return nil, "module " .. name .. ": " .. err end
  local ok, mod = pcall(chunk)
  if not ok then return nil, "module " .. name .. " (" .. file .. "): " .. tostring(mod) end
  if type(mod) ~= "table" or type(mod.run) ~= "function" then
    return nil, "module " .. name .. " (" .. file .. ") must return a table with a run function"
  end
  return prepare(mod, name)
end

local function find(name, dirs)
  local file, serr = searchpath.find(dirs, name)
  if serr then return nil, "module " .. name .. ": " .. serr end
  if file then
    local mod, err = load_file(name, file)
    if not mod then return nil, err end
    return mod, file
  end
  -- installed as a Lua module
  local ok, mod = pcall(require, "luasible.modules." .. name)
  if ok and type(mod) == "table" and type(mod.run) == "function" then
    local ready, perr = prepare(mod, name)
    if not ready then return nil, perr end
    return ready, "luasible.modules." .. name
  end
  local shown = {}
  for i, dir in ipairs(dirs) do shown[i] = tidy(dir) end
  return nil, "unknown module '" .. name .. "' (searched " .. table.concat(shown, ", ") .. ")"
end

--- Find and load a module by name through `dirs` (a search_path() list;
--- default: a fresh one). Returns module table, path; or nil, err.
function M.load(name, dirs)
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    return nil, "bad module name '" .. tostring(name) .. "'"
  end
  if not dirs then return find(name, M.search_path()) end
  local mine = loaded[dirs]
  if not mine then mine = {}; loaded[dirs] = mine end
  local hit = mine[name]
  if hit then return hit[1], hit[2] end
  local mod, where = find(name, dirs)
  if mod then mine[name] = { mod, where } end
  return mod, where
end

M.validate = params.validate
M.has_template = params.has_template
M.parse_kv = kv.parse_kv

--- The ctx of one module run (module/context.lua).
M.context = require("luasible.module.context").new

return M
