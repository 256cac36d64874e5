--- luasible.play.role_tasks: a role used from a task list (docs/TASKS.md,
-- "Roles"): `import_role` (static: the role's tasks put where the task
-- stands when the playbook is read) and `include_role` (dynamic: the role
-- read now, so that a missing role or a cycle is refused before anything
-- runs, and run when reached, per host and loop item, by play/include.lua),
-- their arguments (tasks_from, vars_from, defaults_from, handlers_from,
-- public, allow_duplicates, apply) and keywords. play/roles.lua applies the role.
local yaml = require "luasible.yaml"
local json = require "luasible.json"
local S = require "luasible.util.schema"
local roles = require "luasible.play.roles"
local rk = require "luasible.play.role_keywords"

local M = {}

local apply, listed, concat, is_mapping = roles.apply, roles.listed, roles.concat, roles.is_mapping

-- import_role's (and include_role's) own keys, and the task keywords taken with it
local IMPORT_ARGS = { name = true, tasks_from = true, vars_from = true, defaults_from = true, handlers_from = true,
  public = true, allow_duplicates = true, rolespec_validate = true, apply = true }
local IMPORT_KEYWORDS = { name = true, when = true, tags = true, vars = true }
local INCLUDE_KEYWORDS = { name = true, when = true, tags = true, vars = true, loop = true, loop_control = true,
  ignore_errors = true, with_items = true, with_list = true }
local BOOL_ARGS = { public = true, allow_duplicates = true, rolespec_validate = true }

-- The arguments of an import_role / include_role (a mapping): imp = {
-- tasks_from =, ..., public =, allow_duplicates = }, and the role's name.
local function role_args(ctx, r, t, key, label, what)
  local a, at = t[key], ctx.where(r, t, key)
  if not is_mapping(a) or next(a) == nil then
    ctx.raise(at .. label .. ": " .. what .. " must be a mapping with name:, got " .. S.show(a))
  end
  local imp = {}
  for _, k in ipairs(yaml.ordered_keys(a)) do
    if not IMPORT_ARGS[k] then
      ctx.raise(ctx.where(r, a, k) .. label .. ": " .. what .. ": " .. S.quote(k) .. " is not supported yet"
        .. " (name, tasks_from, vars_from, defaults_from, handlers_from, public, allow_duplicates are)")
    end
    if k == "apply" then
      if what ~= "include_role" then
        ctx.raise(ctx.where(r, a, k) .. label .. ": " .. what .. ": 'apply' is for include_role (import_role takes"
          .. " the keywords beside it)")
      end
      imp.apply, imp.apply_env = rk.read_apply(ctx.raise, function(n, k2)
        return ctx.where(r, n or a, n and k2 or k)
      end, a[k], label, what)
    elseif BOOL_ARGS[k] then
      local v = require("luasible.play.playbook_read").keyword_value("become", a[k])
      if type(v) ~= "boolean" then
        ctx.raise(ctx.where(r, a, k) .. label .. ": " .. what .. ": " .. k .. " must be true or false, got "
          .. S.show(a[k]))
      end
      if k ~= "rolespec_validate" then imp[k] = v end
    elseif k ~= "name" then
      if type(a[k]) ~= "string" or a[k] == "" or a[k]:find("{{", 1, true) or a[k]:find("..", 1, true) then
        ctx.raise(ctx.where(r, a, k) .. label .. ": " .. what .. ": " .. k .. " must be a file name in the role, got "
          .. S.show(a[k]))
      end
      imp[k] = a[k]
    end
  end
  return a, at, imp
end

local function key_of(t, module)
  if type(t) ~= "table" then return nil end
  for _, k in ipairs({ module, "ansible.builtin." .. module, "ansible.legacy." .. module }) do
    if t[k] ~= nil then return k end
  end
end

--- A task `include_role: { name: R, tasks_from: F, public:, ... }` (dynamic,
--- as Ansible's): the role is read now (a missing role or file, a cycle:
--- refused before anything runs) and becomes an include node, run when
--- reached per host and loop item by play/include.lua: its `when` and
--- `tags` are the include's own (not given to the role's tasks), its `vars`
--- and loop item the included tasks' (above task vars); `public: true`
--- leaves the role's vars and defaults to the host's later tasks. nil when
--- t is no include_role. inherited: the when/tags of a role around it.
function M.include(ctx, r, t, label, inherited)
  local key = key_of(t, "include_role")
  if not key then return nil end
  if type(t.name) == "string" then label = label .. " (" .. S.quote(t.name) .. ")" end
  for _, k in ipairs(yaml.ordered_keys(t)) do
    if k ~= key and not INCLUDE_KEYWORDS[k] then
      ctx.raise(ctx.where(r, t, k) .. label .. ": " .. rk.not_include(k, "include_role"))
    end
  end
  local a, at, imp = role_args(ctx, r, t, key, label, "include_role")
  if imp.allow_duplicates == nil then imp.allow_duplicates = true end
  ctx.st.n_includes = (ctx.st.n_includes or 0) + 1 -- each include_role its own tree (play/include.lua's cache)
  local node = { include = "role " .. tostring(a.name) .. " #" .. ctx.st.n_includes, dir = r.dir, role = a.name,
    name = t.name,
    public = imp.public, ignore_errors = t.ignore_errors }
  local rd = require "luasible.play.playbook_read"
  for _, k in ipairs({ "when", "tags", "vars", "ignore_errors" }) do
    if t[k] ~= nil and not yaml.is_null(t[k]) then node[k] = rd.keyword_value(k, t[k]) end
  end
  if node.vars ~= nil and not is_mapping(node.vars) then
    ctx.raise(ctx.where(r, t, "vars") .. label .. ": vars must be a mapping, got " .. S.show(node.vars))
  end
  local loop = t.loop
  if loop == nil then loop = t.with_items or t.with_list end
  if loop ~= nil then
    if not (type(loop) == "string" and loop:find("{{", 1, true) or type(loop) == "table" and S.is_list(loop)) then
      ctx.raise(ctx.where(r, t, "loop") .. label .. ": loop must be a list or a \"{{ expression }}\", got "
        .. S.show(loop))
    end
    node.loop = loop
  end
  local lc = t.loop_control
  if lc ~= nil then
    if not is_mapping(lc) then
      ctx.raise(ctx.where(r, t, "loop_control") .. label .. ": loop_control must be a mapping")
    end
    for _, k in ipairs(yaml.ordered_keys(lc)) do
      if k == "loop_var" and type(lc[k]) == "string" then node.loop_var = lc[k]
      else
        ctx.raise(ctx.where(r, lc, k) .. label .. ": loop_control." .. tostring(k)
          .. " is not supported with include_role yet")
      end
    end
  end
  if inherited then -- the when and tags of a role around it
    node.when = concat(inherited.when or {}, listed(node.when))
    node.tags = concat(inherited.tags or {}, listed(node.tags))
  end
  if node.when ~= nil then
    local _, cerr = require("luasible.play.conditions").compile(node.when, "when")
    if cerr then ctx.raise(ctx.where(r, t, "when") .. label .. ": " .. cerr) end
  end
  -- the role read: its tasks (apply: a block of its keywords around them; its environment and check_mode
  -- while they are read), their maps, and what public: leaves (the vars and defaults its own tasks see)
  local function read_role(name)
    local sink = { tasks = {}, maps = {} }
    local outer_scope = ctx.scope
    if imp.apply then
      ctx.scope = { environment = rk.merge_env(outer_scope.environment, imp.apply_env), check_mode =
        imp.apply.check_mode == nil and outer_scope.check_mode or imp.apply.check_mode }
    end
    apply(ctx, ctx.st, { role = name }, at, label, { when = {}, tags = {}, dynamic = true,
      vars = inherited and inherited.vars, defaults = inherited and inherited.defaults }, sink, imp)
    ctx.scope = outer_scope
    local first, pub = sink.tasks[1], {}
    if imp.apply and next(imp.apply) ~= nil and #sink.tasks > 0 then
      sink.tasks = { rk.block(sink.tasks, imp.apply) }
    end
    if first and first.role_vars then
      pub.role_vars, pub.role_defaults = json.object(), first.role_defaults
      for k, v in pairs(first.role_vars) do
        if k ~= "role_name" and k ~= "role_path" then pub.role_vars[k] = v end
      end
    end
    return sink.tasks, sink.maps, pub
  end
  if type(a.name) == "string" and a.name:find("{{", 1, true) then
    -- a templated name: rendered per host and loop item, the role read then (play/include.lua), as Ansible's
    local terr = rd.template_error(a.name)
    if terr then ctx.raise(ctx.where(r, a, "name") .. label .. ": include_role: name: " .. terr) end
    local scope_at, st = ctx.scope, ctx.st
    node.dynamic_role, node.role_template, node.public_of = true, a.name, {}
    local n_at = ctx.st.n_includes
    node.role_key = function(name) return "role " .. name .. " #" .. n_at end
    --- (ok, tasks, maps, handlers, handler maps) of the role `name`, or false, message
    node.load = function(name, file)
      local saved, nh = ctx.scope, #st.handlers
      ctx.scope = scope_at
      local ok, tasks, maps, pub = pcall(read_role, name)
      ctx.scope = saved
      local hs, hm = {}, {}
      for i = #st.handlers, nh + 1, -1 do -- its handlers: the play's from now on (play/include.lua)
        table.insert(hs, 1, table.remove(st.handlers, i))
        table.insert(hm, 1, table.remove(st.hmaps, i))
      end
      if not ok then
        if type(tasks) == "table" and tasks.playbook_error then return false, tasks.playbook_error end
        error(tasks, 0)
      end
      node.public_of[file] = pub
      return true, tasks, maps, hs, hm
    end
    return node
  end
  local pub
  node.role_tasks, node.role_maps, pub = read_role(a.name)
  node.role_vars, node.role_defaults = pub.role_vars, pub.role_defaults
  return node
end

--- A task `import_role: { name: R, tasks_from: F, ... }` (static, as
--- Ansible's) at its place in a task list: the role's tasks appended to tasks/maps (its
--- handlers to the play's), `when`, `tags` and `vars` given to each.
--- false when t is no import_role. ctx: the play's (M.context).
function M.import(ctx, r, t, label, tasks, maps, inherited)
  local key = key_of(t, "import_role")
  if not key then return false end
  inherited = inherited or { when = {}, tags = {} }
  if type(t.name) == "string" then label = label .. " (" .. S.quote(t.name) .. ")" end
  local entry = { role = nil, when = t.when, tags = t.tags }
  for _, k in ipairs(yaml.ordered_keys(t)) do
    if k ~= key and not IMPORT_KEYWORDS[k] then
      if not (rk.is_keyword(k) or k == "module_defaults") then
        ctx.raise(ctx.where(r, t, k) .. label .. ": " .. (rk.not_yet(k, "import_role") or ("the keyword "
          .. S.quote(k) .. " cannot be used with import_role (a static import; include_role takes it)")))
      end
      entry[k] = t[k] -- given to each of the role's tasks, as a role entry's (play/role_keywords.lua)
    end
  end
  local a, at, imp = role_args(ctx, r, t, key, label, "import_role")
  if imp.public then -- its vars are seen by its own tasks only (docs/TASKS.md, Roles)
    ctx.raise(ctx.where(r, a, "public") .. label .. ": import_role takes no public (as ansible-core 2.14's:"
      .. " \"Invalid options for import_role: public\"); include_role takes it")
  end
  if t.vars ~= nil and not yaml.is_null(t.vars) then
    if not is_mapping(t.vars) then ctx.raise(ctx.where(r, t, "vars") .. label .. ": vars must be a mapping") end
    imp.vars = t.vars
  end
  entry.role = a.name
  imp.what = "import_role"
  apply(ctx, ctx.st, entry, at, label, inherited, { tasks = tasks, maps = maps }, imp)
  return true
end

return M
