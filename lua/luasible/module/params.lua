--- luasible.module.params: checking and coercing a task's arguments against
-- a module's `params` (types, defaults, choices, aliases, mutually
-- exclusive and required groups), and the argument sets modules share.
local template = require "luasible.template"
local mode = require "luasible.module.mode"
local checks = require "luasible.module.checks"
local S = require "luasible.util.schema"

local M = {}

local function has_template(v)
  if type(v) == "string" then return v:find("{[{%%]") ~= nil end
  if type(v) == "table" then
    for _, x in pairs(v) do if has_template(x) then return true end end
  end
  return false
end
M.has_template = has_template

local TRUE = { ["true"] = true, yes = true, on = true, ["1"] = true }
local FALSE = { ["false"] = true, no = true, off = true, ["0"] = true }

local coerce = {}
function coerce.string(v)
  if type(v) == "string" then return v end
  if type(v) == "number" or type(v) == "boolean" then return template.tostring(v) end
end
coerce.path = coerce.string
function coerce.number(v) return tonumber(v) end
function coerce.integer(v)
  local n = tonumber(v)
  return n and math.tointeger(n)
end
function coerce.boolean(v)
  if type(v) == "boolean" then return v end
  if type(v) == "number" then return v ~= 0 end
  if type(v) == "string" then
    if TRUE[v:lower()] then return true end
    if FALSE[v:lower()] then return false end
  end
end
function coerce.list(v)
  if type(v) == "table" then return v end
  if type(v) == "string" then
    local out = {}
    for x in v:gmatch("[^,]+") do out[#out + 1] = x:match("^%s*(.-)%s*$") end
    return out
  end
  if v ~= nil then return { v } end
end
function coerce.dict(v) if type(v) == "table" then return v end end
coerce.table = coerce.dict
function coerce.mode(v)
  if type(v) == "number" then
    v = math.tointeger(v)
    if not v then return nil end
    v = string.format("%d", v)
  end
  if type(v) == "string" and mode.is_mode(v) then return v end
end
function coerce.raw(v) return v end
coerce.any = coerce.raw

-- What a value of each type is, for messages.
local DESC = { string = "a string", path = "a path (a string)", number = "a number", integer = "an integer",
  boolean = "true or false (or yes/no)", list = "a list", dict = "a mapping", table = "a table",
  mode = "a file mode ('0644', 'u+rwx', ...)" }

-- Argument sets several modules take (as Ansible's file arguments): a
-- module names them in `param_groups`; its own `params` win over a group's.
M.GROUPS = {
  -- what ctx:run_command honours
  command = {
    chdir = { type = "path" },
    creates = { type = "path" },
    removes = { type = "path" },
    stdin = { type = "string" },
    timeout = { type = "number" },
    env = { type = "dict" },
  },
  -- a file's attributes
  file = {
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
  },
  -- what copy.install takes (the file group too)
  install = {
    dest = { type = "path", required = true },
    backup = { type = "boolean", default = false },
    force = { type = "boolean", default = true },
    follow = { type = "boolean", default = false },
  },
}
local IMPLIES = { install = { "file" } }

--- Complete a loaded module: `params` with those of its `param_groups`,
--- `name`. Returns mod, or nil, err for an unknown group.
function M.prepare(mod, name)
  mod.name = mod.name or name
  local params = mod.params or {}
  local function add(g)
    local group = M.GROUPS[g]
    if not group then return nil, "module " .. tostring(mod.name) .. ": unknown param group '" .. tostring(g) .. "'" end
    for p, spec in pairs(group) do if params[p] == nil then params[p] = spec end end
    for _, sub in ipairs(IMPLIES[g] or {}) do add(sub) end
    return true
  end
  for _, g in ipairs(mod.param_groups or {}) do
    local ok, err = add(g)
    if not ok then return nil, err end
  end
  mod.params = params
  return mod
end

-- The aliases of a params table: alias -> param, made once per table.
local ALIASES = setmetatable({}, { __mode = "k" })

--- Check args against a module's params. With `partial`, values that still
--- hold {{ }} are not type-checked (they are checked per host once rendered).
--- Returns the normalised args (defaults filled, aliases resolved), or nil,
--- err and the argument concerned (when it is one).
function M.validate(mod, args, partial)
  local name = mod.name or "module"
  local params = mod.params or {}
  if args == nil then args = {} end
  if type(args) == "string" then
    if not mod.free_form then return nil, name .. ": args must be a table" end
    args = { [mod.free_form] = args }
  end
  if type(args) ~= "table" then return nil, name .. ": args must be a table" end
  local alias = ALIASES[params]
  if not alias then
    alias = {}
    for p, spec in pairs(params) do
      for _, a in ipairs(spec.aliases or {}) do alias[a] = p end
    end
    ALIASES[params] = alias
  end
  local out = {}
  for k, v in pairs(args) do
    if k == 1 and mod.free_form and args[mod.free_form] == nil then k = mod.free_form end
    local key = params[k] and k or alias[k]
    if not key and mod.any_params then key = k end -- set_fact: any name is an argument
    if not key then
      local known = {}
      for p in pairs(params) do known[#known + 1] = p end
      table.sort(known)
      return nil, string.format("%s: unknown argument %s (known: %s)", name,
        type(k) == "string" and S.quote(k) or S.sub("", k), #known > 0 and table.concat(known, ", ") or "none"), k
    end
    out[key] = v
  end
  for p, spec in pairs(params) do
    local v = out[p]
    if v == nil then
      if spec.required then return nil, string.format("%s: missing required argument '%s'", name, p), p end
      if spec.default ~= nil then out[p] = spec.default end
    elseif not (partial and has_template(v)) then
      local ty = spec.type or "raw"
      local conv = coerce[ty]
      if not conv then return nil, string.format("%s: param '%s' has unknown type '%s'", name, p, ty) end
      local c = conv(v)
      if c == nil then
        return nil, string.format("%s: argument '%s' must be %s, got %s", name, p, DESC[ty] or ("a " .. ty),
          S.show(v)), p
      end
      if spec.choices then
        local okc = false
        for _, ch in ipairs(spec.choices) do if ch == c then okc = true break end end
        if not okc then
          local list = {}
          for i, ch in ipairs(spec.choices) do list[i] = tostring(ch) end
          return nil, string.format("%s: argument '%s' must be one of %s, got %s", name, p,
            table.concat(list, ", "), S.quote(c)), p
        end
      end
      out[p] = c
    end
  end
  for _, group in ipairs(mod.mutually_exclusive or {}) do
    local set = {}
    for _, p in ipairs(group) do if args[p] ~= nil then set[#set + 1] = p end end
    if #set > 1 then
      return nil, string.format("%s: arguments are mutually exclusive: %s", name, table.concat(set, ", "))
    end
  end
  for _, group in ipairs(mod.required_one_of or {}) do
    local any = false
    for _, p in ipairs(group) do if out[p] ~= nil then any = true end end
    if not any then
      return nil, string.format("%s: one of these arguments is required: %s", name, table.concat(group, ", "))
    end
  end
  if mod.check_args then
    -- the module's own checks, on values known now (templated ones wait for their host)
    local known = {}
    for k, v in pairs(out) do if not (partial and has_template(v)) then known[k] = v end end
    -- out: every argument, templated ones unrendered; checks: module/checks.lua
    local ok, cerr = mod.check_args(known, out, checks)
    if not ok then return nil, name .. ": " .. tostring(cerr) end
  end
  return out
end

return M
