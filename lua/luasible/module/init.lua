-- luasible.module: finding and loading task modules (the search path).
-- Argument checks are in module/params.lua, the ctx a module runs with in
-- module/context.lua; this face re-exports what the play layer calls.
--
-- A module is a Lua file returning
--   { params = { name = { type=, required=, default=, choices=, aliases= } },
--     free_form = "cmd",                 -- optional: where `-a 'echo hi'` goes
--     mutually_exclusive = { {"a","b"} }, required_one_of = { {"a","b"} },
--     check_mode = true,                 -- the module honours ctx.check_mode
--     run = function(ctx, args) return { changed = .., failed = .., msg = .. } end }
-- Types: string, number, integer, boolean, list, dict, table, path, mode, raw.


local M = {}

---------------------------------------------------------------------------
-- Search path
---------------------------------------------------------------------------
local function this_dir()
  local src = debug.getinfo(1, "S").source
  return src:sub(1, 1) == "@" and (src:sub(2):match("^(.*)/[^/]*$") or ".") or "."
end

-- "a/b/../../c" -> "c", textually: for messages a person reads (the search
-- itself keeps the paths as they are, which a symbolic link may make differ)
local function tidy(path)
  local out, abs = {}, path:sub(1, 1) == "/"
  for part in path:gmatch("[^/]+") do
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

local function split_path(p, out)
  if type(p) == "table" then
    for _, x in ipairs(p) do split_path(x, out) end
  elseif type(p) == "string" then
    for dir in p:gmatch("[^:]+") do out[#out + 1] = dir end
  end
  return out
end

--- The folders searched, in order: given dirs (CLI -M, play module_path),
--- LUASIBLE_MODULE_PATH, then the built-in modules.
function M.search_path(...)
  local out = {}
  for i = 1, select("#", ...) do split_path((select(i, ...)), out) end
  split_path(os.getenv("LUASIBLE_MODULE_PATH"), out)
  for _, d in ipairs(M.builtin_dirs()) do out[#out + 1] = d end
  return out
end

local cache = {}

--- Find and load a module by name. Returns module table, path; or nil, err.
function M.load(name, path)
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    return nil, "bad module name '" .. tostring(name) .. "'"
  end
  path = path or M.search_path()
  for _, dir in ipairs(path) do
    local file = dir .. "/" .. name .. ".lua"
    if cache[file] then return cache[file], file end
    local f = io.open(file, "r")
    if f then
      f:close()
      local chunk, err = loadfile(file)
      if not chunk then return nil, "module " .. name .. ": " .. err end
      local ok, mod = pcall(chunk)
      if not ok then return nil, "module " .. name .. " (" .. file .. "): " .. tostring(mod) end
      if type(mod) ~= "table" or type(mod.run) ~= "function" then
        return nil, "module " .. name .. " (" .. file .. ") must return a table with a run function"
      end
      mod.params = mod.params or {}
      mod.name = mod.name or name
      cache[file] = mod
      return mod, file
    end
  end
  -- installed as a Lua module
  local ok, mod = pcall(require, "luasible.modules." .. name)
  if ok and type(mod) == "table" and type(mod.run) == "function" then
    mod.params = mod.params or {}
    return mod, "luasible.modules." .. name
  end
  local shown = {}
  for i, dir in ipairs(path) do shown[i] = tidy(dir) end
  return nil, "unknown module '" .. name .. "' (searched " .. table.concat(shown, ", ") .. ")"
end


local params = require "luasible.module.params"
local context = require "luasible.module.context"
for _, k in ipairs({ "has_template", "validate", "check_lua_pattern", "check_package_names", "words", "argv",
  "parse_kv", "pattern_captures_error" }) do M[k] = params[k] end
for _, k in ipairs({ "context", "is_unreachable", "chomp", "run_command", "sha256", "base64", "read_file",
  "owner_is", "group_is", "mode_bits", "quote", "sha256_lua" }) do M[k] = context[k] end

return M
