--- luasible.play.lua_roles: `roles` in a Lua play, the roles a YAML play
-- takes (play/roles.lua: the search path, meta dependencies, defaults and
-- vars, tasks_from..., roles written in YAML or in Lua): their tasks before
-- the play's `tasks`, their handlers before its `handlers`, as Ansible runs
-- them. Messages keep their file:line: a role's task its role file's line,
-- a task of the play its line in the Lua file (the locator shifted past the
-- role tasks put before it).
--
--   local play2, locate2 = M.expand(play, { play_file =, locate =, roles_path = })
--                                        -- or nil, "file:line: message"
local S = require "luasible.util.schema"
local rd = require "luasible.play.playbook_read"

local M = {}

-- A locator: role tasks (the first n[field] of tasks / handlers) from the
-- roles' files, the rest from the Lua file's locator, their index shifted.
local function shifted(lua_locate, yaml_locate, n)
  local at_lua = type(lua_locate) == "table" and lua_locate.at or function() return nil end
  local function at(p)
    for i, k in ipairs(p) do
      if (k == "tasks" or k == "handlers") and math.type(p[i + 1]) == "integer" then
        local idx = p[i + 1]
        if idx <= n[k] then
          local q = { 1, k, idx }
          for j = i + 2, #p do q[#q + 1] = p[j] end
          return yaml_locate.at(q)
        end
        local q = { table.unpack(p) }
        q[i + 1] = idx - n[k]
        return at_lua(q)
      end
    end
    return at_lua(p)
  end
  return setmetatable({ at = at }, { __call = function(_, name)
    if type(lua_locate) == "table" or type(lua_locate) == "function" then return lua_locate(name) end
  end })
end

--- The play with its roles applied (a new table; `roles` gone), and the
--- locator for it; or nil, err (a role not found, a bad entry: file:line).
function M.expand(play, opts)
  local playbook = require "luasible.play.playbook"
  local roles = require "luasible.play.roles"
  local task = require "luasible.play.playbook_task"
  local list_mod = require "luasible.play.playbook_list"
  local file = type(opts.play_file) == "string" and opts.play_file or "play"
  local r = rd.reader(file)
  local label = "play " .. S.quote(type(play.name) == "string" and play.name or file)
  local p = { roles = require("luasible.play.role_files").as_yaml(play.roles), environment = play.environment }
  local out = {}
  for k, v in pairs(play) do if k ~= "roles" then out[k] = v end end
  local src = { node = p, tasks = {}, handlers = {} }
  local ok, err = pcall(function()
    if type(p.roles) ~= "table" then
      rd.raise(file .. ": " .. label .. ": roles must be a list of roles, got " .. S.show(play.roles))
    end
    local rctx
    rctx = roles.context({ r = r, raise = rd.raise, where = rd.where, reader = rd.reader, label = label,
      roles_path = opts.roles_path, check_mode = play.check_mode, environment = play.environment,
      name_vars = rd.scope(play.vars, opts.extra_vars), -- (templated role names: play/roles.lua)
      convert_task = function(rr, t, what, h, list, j) -- (the role's environment: ctx.scope)
        return task.convert(rr, t, what, h, list, j, rctx.scope.environment)
      end,
      convert_list = function(rr, l, what, maps)
        return list_mod.convert(rr, l, what, false, p, maps, { rd.tidy(rr.file) })
      end })
    list_mod.set_roles(p, rctx)
    local before = { tasks = out.tasks, handlers = out.handlers }
    roles.expand(rctx, p, out, src)
    local n = {}
    for _, k in ipairs({ "tasks", "handlers" }) do
      n[k] = #(out[k] or {}) - #(before[k] or {})
    end
    out.__locate = shifted(opts.locate, playbook.locator(src, 1), n)
  end)
  if not ok then
    if type(err) == "table" and err.playbook_error then return nil, err.playbook_error end
    error(err, 0)
  end
  local locate = out.__locate
  out.__locate = nil
  return out, locate
end

return M
