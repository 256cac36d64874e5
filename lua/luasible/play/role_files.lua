--- luasible.play.role_files: finding a role and reading its files, for
-- play/roles.lua: the role search path, SUB/main.yml (.yaml, or .lua for a
-- role written in Lua) and SUB/FROM for *_from, each file read as the
-- YAML reader gives it (lines kept), a Lua one run and its value marked
-- as YAML's. Errors go through ctx.raise (file:line).
local yaml = require "luasible.yaml"
local json = require "luasible.json"
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"
local S = require "luasible.util.schema"
local luafile = require "luasible.util.luafile"

local M = {}

--- The folders a role name is looked for in, in order: roles/ beside the
--- playbook, the roles_path setting (or $LUASIBLE_ROLES_PATH /
--- $ANSIBLE_ROLES_PATH when no configuration was read), the playbook's
--- folder.
function M.search_dirs(dir, roles_path)
  local dirs = { path.join(dir, "roles") }
  if roles_path == nil then
    local env = os.getenv("LUASIBLE_ROLES_PATH") or os.getenv("ANSIBLE_ROLES_PATH") or ""
    roles_path = {}
    for d in env:gmatch("[^:]+") do roles_path[#roles_path + 1] = d end
  end
  for _, d in ipairs(roles_path) do dirs[#dirs + 1] = d end
  dirs[#dirs + 1] = dir
  return dirs
end

local function is_dir(p)
  local st = fs.stat(p)
  return st ~= nil and st.type == "directory"
end

function M.is_mapping(v) return type(v) == "table" and (not S.is_list(v) or next(v) == nil) end

-- The role's folder for `name` (a name on the search path; a name with a
-- "/" is a folder relative to the playbook's), or nil and the folders tried.
function M.find(name, ctx)
  local tried = {}
  if name:find("/", 1, true) then
    local d = path.is_abs(name) and name or path.join(ctx.dir, name)
    if is_dir(d) then return d end
    return nil, { d }
  end
  for _, base in ipairs(M.search_dirs(ctx.dir, ctx.roles_path)) do
    local d = path.join(base, name)
    if is_dir(d) then return d end
    tried[#tried + 1] = base
  end
  return nil, tried
end

-- SUB/main.yml (or .yaml, or .lua: a role written in Lua) of a role
-- (SUB/FROM.yml for tasks_from: FROM), or nil
function M.main_file(dir, sub, from)
  local names = { "main.yml", "main.yaml", "main.lua" }
  if from then names = { from .. ".yml", from .. ".yaml", from .. ".lua", from } end
  for _, n in ipairs(names) do
    local f = path.join(dir, sub, n)
    local st = fs.stat(f)
    if st and st.type ~= "directory" then return f end
  end
end

--- A Lua value as YAML's reader gives it (a copy): each mapping marked
--- (json.object), lists as they are; a table met twice copied once.
function M.as_yaml(v)
  local copies = {}
  local function copy(x, depth)
    if type(x) ~= "table" or getmetatable(x) ~= nil or depth > 64 then return x end
    if copies[x] then return copies[x] end
    local out = {}
    copies[x] = out
    for k, y in pairs(x) do out[k] = copy(y, depth + 1) end
    if next(out) ~= nil and not S.is_list(out) then json.object(out) end
    return out
  end
  return copy(v, 0)
end

-- A role's file written in Lua: the value its chunk returns (a list of
-- tasks, or a mapping of variables or of meta), as a Lua play file is run.
local function read_lua(ctx, file, text)
  local v, err = luafile.run(text, file)
  if err then ctx.raise(S.escape(err)) end
  return M.as_yaml(v)
end

-- A role's file read (with lines), or nil when it is absent; empty is nil.
function M.read_yaml(ctx, file)
  if not file then return nil end
  local text, err = fs.read(file)
  if not text then ctx.raise(S.escape(file) .. ": cannot read: " .. S.escape(tostring(err))) end
  if file:match("%.lua$") then return read_lua(ctx, file, text) end
  local doc, yerr = yaml.load(text, file, { lines = true, column = true })
  if yerr then ctx.raise(yerr) end
  if yaml.is_null(doc) then return nil end
  return doc
end

-- A variables file of a role (defaults/ or vars/): a mapping.
function M.read_vars(ctx, dir, sub, from)
  local file = M.main_file(dir, sub, from)
  local v = M.read_yaml(ctx, file)
  if v == nil then return {} end
  if not M.is_mapping(v) then ctx.raise(S.escape(file) .. ": must hold a mapping of variables, got " .. S.show(v)) end
  return v
end

return M
