--- luasible.play.module_defaults: the `module_defaults` keyword of plays,
-- blocks, role entries and tasks (docs/TASKS.md, "Module defaults"), as
-- Ansible's: a mapping (or a list of them) of module name (short, or
-- ansible.builtin. / ansible.legacy.) or `group/NAME` (an action group) ->
-- the arguments that module gets where the task gives none. The play's
-- come first, then the blocks', the role's, the task's: a later one wins
-- for a module; a module's own entry wins over its group's; the task's own
-- arguments win over all. Values may be templates (rendered with the task's
-- variables, as its arguments are).
--
--   local md = require "luasible.play.module_defaults"
--   local list, err = md.normalize(value, path)  -- checked; keys made canonical
--   md.concat(a, b)                               -- a's entries, then b's
--   md.args(list, module, args)                   -- args with the defaults under them
local S = require "luasible.util.schema"

local M = {}

-- Ansible's builtin action groups (ansible_builtin_runtime.yml): each
-- extends collections' groups luasible has no modules of; `testgroup`
-- holds ping. A group's members here are luasible's modules in it.
M.GROUPS = { testgroup = { ping = true }, testlegacy = {}, aws = {}, acme = {}, azure = {}, cpm = {},
  docker = {}, gcp = {}, k8s = {}, os = {}, ovirt = {}, vmware = {} }

local function canon_module(k)
  return (k:gsub("^ansible%.builtin%.", ""):gsub("^ansible%.legacy%.", ""))
end

-- a list of mappings from a mapping or a list of them
local function as_list(v)
  if v == nil then return {} end
  if type(v) == "table" and (v[1] ~= nil or next(v) == nil) then return v end
  return { v }
end

--- The entries of `a` then `b` (each a mapping, a list of them, or nil):
--- one new list, or nil when both are nil.
function M.concat(a, b)
  if a == nil then return b end
  if b == nil then return a end
  local out = {}
  for _, m in ipairs(as_list(a)) do out[#out + 1] = m end
  for _, m in ipairs(as_list(b)) do out[#out + 1] = m end
  return out
end

--- A module_defaults value checked and made canonical: a list of
--- mappings whose keys are luasible module names or "group/NAME". `load`
--- (name -> module or nil, err) finds the modules. Returns the list, or
--- nil, err (an unknown module or group, a value that is no mapping).
function M.normalize(v, load)
  if v == nil then return nil end
  local out = {}
  for i, m in ipairs(as_list(v)) do
    if type(m) ~= "table" or (m[1] ~= nil) then
      return nil, "module_defaults must be a mapping (module name -> arguments) or a list of them, got "
        .. S.show(m)
    end
    local c = {}
    for k, args in pairs(m) do
      if type(k) ~= "string" then
        return nil, "module_defaults: a key must be a module or group name, got " .. S.show(k)
      end
      if k:find("{{", 1, true) then
        return nil, "module_defaults: " .. S.quote(k) .. ": the keys must be static module or group names"
          .. " (only the values may be templates)"
      end
      local name
      if k:match("^group/") then
        local g = canon_module(k:sub(7))
        if not M.GROUPS[g] then
          return nil, "module_defaults: " .. S.quote(k) .. ": no such action group (luasible has Ansible's"
            .. " builtin groups only)"
        end
        name = "group/" .. g
      else
        name = canon_module(k)
        if k:match("^[%w_]+%.[%w_]+%.") and name == k then
          return nil, "module_defaults: " .. S.quote(k) .. ": only ansible.builtin's modules are there"
        end
        local mod, err = load(name)
        if not mod then return nil, "module_defaults: " .. S.quote(k) .. ": " .. tostring(err) end
      end
      local templated = type(args) == "string" and args:find("{{", 1, true)
      if not (type(args) == "table" and args[1] == nil) and not templated then
        return nil, "module_defaults: " .. S.quote(k) .. " must map to arguments (a mapping or a \"{{ }}\"),"
          .. " got " .. S.show(args)
      end
      c[name] = args
    end
    out[i] = c
  end
  return out
end

--- The defaults for `module` in the list (as normalize gives it), merged
--- (later entries win; the groups first, the module's own over them), or
--- nil when there are none. Values are not rendered here.
function M.for_module(list, module)
  if not list then return nil end
  local merged = {}
  for _, m in ipairs(list) do for k, v in pairs(m) do merged[k] = v end end
  local out, any = {}, false
  local groups = {}
  for k in pairs(merged) do
    local g = k:match("^group/(.*)$")
    if g and M.GROUPS[g] and M.GROUPS[g][module] then groups[#groups + 1] = k end
  end
  table.sort(groups)
  for _, k in ipairs(groups) do
    if type(merged[k]) == "table" then for a, x in pairs(merged[k]) do out[a], any = x, true end end
  end
  local own = merged[module]
  if type(own) == "table" then for a, x in pairs(own) do out[a], any = x, true end
  elseif own ~= nil then return own end -- a "{{ }}" for the module's whole arguments
  return any and out or nil
end

--- `args` (a table or nil) with `defaults` (a table, from for_module) under
--- them: a new table.
function M.merge(defaults, args)
  if not defaults then return args end
  local out = {}
  for k, v in pairs(defaults) do out[k] = v end
  for k, v in pairs(args or {}) do out[k] = v end
  return out
end

return M
