--- luasible.play.playbook_list: a list of tasks of a YAML playbook as the
-- model's: blocks (block/rescue/always: play/blocks.lua runs them),
-- import_tasks (read now), include_tasks (play/include.lua reads it when
-- reached), import_role (play/roles.lua), and the tasks themselves
-- (playbook_task.lua).
local yaml = require "luasible.yaml"
local path = require "luasible.util.path"
local json = require "luasible.json"
local S = require "luasible.util.schema"
local rd = require "luasible.play.playbook_read"
local task = require "luasible.play.playbook_task"
local roles = require "luasible.play.roles"
local rk = require "luasible.play.role_keywords"
local raise, where, keys_of, is_map, is_seq = rd.raise, rd.where, rd.keys_of, rd.is_map, rd.is_seq
local keyword_value, module_name, template_error = rd.keyword_value, rd.module_name, rd.template_error

local M = {}

local ROLES = setmetatable({}, { __mode = "k" }) -- play mapping -> its roles context (import_role)

--- The roles context of play p (YAML), for the import_role tasks of its lists.
function M.set_roles(p, rctx) ROLES[p] = rctx end

-- The keywords of a block (and of an import_tasks), given to its tasks (play/blocks.lua).
local BLOCK_KEYS = { name = true, when = true, tags = true, vars = true, become = true, become_user = true,
  ignore_errors = true, no_log = true, check_mode = true, run_once = true, diff = true, become_method = true,
  any_errors_fatal = true, ignore_unreachable = true, throttle = true, -- (play/rolling.lua)
  delegate_to = true, delegate_facts = true, -- (play/delegate.lua)
  module_defaults = true, timeout = true } -- (play/module_defaults.lua; timeout: play/host_task.lua)

local convert_list

-- The sections of a block (or an import_tasks) with `environment:` t.environment (over the one
-- around it: a role's, the play's) in effect while its tasks are read: convert() with the p to read them with.
local function with_env(r, t, what, p, convert)
  local env = t.environment
  if env == nil or yaml.is_null(env) then return convert(p) end
  if not (type(env) == "string" or (type(env) == "table" and json.is_object(env))) then
    raise(where(r, t, "environment") .. what .. ": environment must be a mapping of names to values or a"
      .. " \"{{ expression }}\", got " .. S.show(env))
  end
  local rc = ROLES[p]
  local sc = rc and rc.scope or p
  local inner = { environment = rk.merge_env(sc.environment, env), check_mode = sc.check_mode }
  if not rc then return convert(inner) end
  rc.scope = inner
  local out = convert(p)
  rc.scope = sc
  return out
end

-- `import_tasks: FILE`: its tasks read now (relative to the file naming
-- it), as a block node without rescue: its keywords go to every task.
local function import_tasks(r, t, key, what, handler, p, maps, stack)
  local f = t[key]
  local at = where(r, t, key) .. what .. ": import_tasks: "
  if type(f) ~= "string" or f == "" then raise(at .. "must be a file name, got " .. S.show(f)) end
  if f:find("{{", 1, true) then raise(at .. "a templated file name is not supported yet") end
  local file = path.is_abs(f) and f or path.join(r.tasks_dir or r.dir, f) -- (a role's: its tasks/, play/roles.lua)
  local norm = rd.tidy(file)
  for _, s in ipairs(stack) do
    if s == norm then raise(at .. "circular import: " .. S.escape(table.concat(stack, " -> ") .. " -> " .. norm)) end
  end
  if #stack >= 64 then raise(at .. "imports nested more than 64 deep") end
  local doc, r2 = rd.read_list(file, "a task file must be a list of tasks", { at = at })
  local node = {}
  for _, k in ipairs(keys_of(t)) do
    if BLOCK_KEYS[k] then
      if not yaml.is_null(t[k]) then node[k] = keyword_value(k, t[k]) end
    elseif k ~= key and k ~= "environment" then
      raise(where(r, t, k) .. what .. ": the keyword " .. S.quote(k) .. " is not supported with import_tasks")
    end
  end
  stack[#stack + 1] = norm
  node.block = with_env(r, t, what, p, function(pp)
    return convert_list(r2, doc, what .. " (" .. S.escape(f) .. "), task", handler, pp, maps, stack)
  end)
  stack[#stack] = nil
  return node
end

-- `include_tasks: FILE` (play/include.lua reads it when it is reached):
-- its file name (a template), the folder it is relative to, its keywords.
local INCLUDE_KEYS = { name = true, when = true, tags = true, vars = true, loop = true, loop_control = true,
  ignore_errors = true }
local function include_tasks(r, t, key, what, p, handler)
  local f = t[key]
  local at = where(r, t, key) .. what .. ": include_tasks: "
  local apply, apply_env
  if type(f) == "table" and json.is_object(f) then -- { file: F, apply: { keywords } }
    for _, k in ipairs(keys_of(f)) do
      if k == "apply" then
        apply, apply_env = rk.read_apply(raise, function(n, k2) return where(r, n or f, n and k2 or k) end, f[k],
          what, "include_tasks")
      elseif k ~= "file" and k ~= "_raw_params" then
        raise(where(r, f, k) .. what .. ": include_tasks: " .. S.quote(tostring(k)) .. " is not one of its"
          .. " arguments (file, apply)")
      end
    end
    f = f.file == nil and f._raw_params or f.file
  end
  if type(f) ~= "string" or f == "" then raise(at .. "must be a file name, got " .. S.show(f)) end
  local terr = template_error(f)
  if terr then raise(at .. terr) end
  -- the environment and check_mode where it stands (a role's, the play's): its tasks' when they are read
  local sc = ROLES[p] and ROLES[p].scope or p
  local node = { include = f, dir = r.tasks_dir or r.dir, -- (a role's: relative to its tasks/)
    scope = { environment = rk.merge_env(sc.environment, apply_env), check_mode = sc.check_mode } }
  if apply and apply.check_mode ~= nil then node.scope.check_mode = apply.check_mode end
  if apply and next(apply) ~= nil then node.apply = apply end
  for _, k in ipairs(keys_of(t)) do
    if INCLUDE_KEYS[k] or (handler and k == "listen") then -- (a handler: notified by its name or listen)
      if not yaml.is_null(t[k]) then node[k] = keyword_value(k, t[k]) end
    elseif k ~= key then
      raise(where(r, t, k) .. what .. ": " .. rk.not_include(k, "include_tasks"))
    end
  end
  if node.vars ~= nil and not is_map(node.vars) then
    raise(where(r, t, "vars") .. what .. ": vars must be a mapping, got " .. S.show(node.vars))
  end
  if node.loop ~= nil and not (type(node.loop) == "string" and node.loop:find("{{", 1, true)
    or type(node.loop) == "table" and S.is_list(node.loop)) then
    raise(where(r, t, "loop") .. what .. ": loop must be a list or a \"{{ expression }}\", got " .. S.show(node.loop))
  end
  local lc = node.loop_control
  node.loop_control = nil
  if lc ~= nil then
    if type(lc) ~= "table" then raise(where(r, t, "loop_control") .. what .. ": loop_control must be a mapping") end
    for _, k in ipairs(keys_of(lc)) do
      if k == "loop_var" and type(lc[k]) == "string" then node.loop_var = lc[k]
      elseif k == "index_var" and type(lc[k]) == "string" then node.index_var = lc[k]
      elseif k == "extended" then node.loop_extended = keyword_value("become", lc[k]) == true
      else
        raise(where(r, lc, k) .. what .. ": loop_control." .. tostring(k) .. " is not supported with include_tasks yet")
      end
    end
  end
  if node.when ~= nil then
    local _, cerr = require("luasible.play.conditions").compile(node.when, "when")
    if cerr then raise(where(r, t, "when") .. what .. ": " .. cerr) end
  end
  return node
end

--- The tasks of a task file (include_tasks), as the model's list, and the
--- source of each leaf ({ file =, line = }, depth first); or nil, "file:line: what".
--- scope: { environment =, check_mode = } where the include stands (the play's, a role's).
function M.task_file(file, scope)
  local ok, res, maps = pcall(function()
    local doc, r = rd.read_list(file, "a task file must be a list of tasks")
    local m = {}
    local p = { environment = scope and scope.environment, check_mode = scope and scope.check_mode }
    local list = convert_list(r, doc, S.escape(path.basename(file)) .. ", task", false, p, m, { rd.tidy(file) })
    return list, m
  end)
  if ok then return res, maps end
  if type(res) == "table" and res.playbook_error then return nil, res.playbook_error end
  error(res, 0)
end

-- A list of tasks of the YAML (blocks and import_tasks in it) as the
-- model's; the leaves' source maps appended to maps depth first (block,
-- rescue, always: the order play/blocks.lua flattens them in).
local handler_block -- (converting the block of a block in handlers)
function convert_list(r, l, label, handler, p, maps, stack)
  local tasks = {}
  for j, t in ipairs(l) do
    local what = label .. " " .. j
    local imp, inc -- the key naming import_tasks / include_tasks (short or qualified)
    if is_map(t) then
      for k in pairs(t) do
        local m = type(k) == "string" and module_name(k)
        if m == "import_tasks" then imp = k elseif m == "include_tasks" then inc = k end
      end
    end
    local rctx, imported = not handler and ROLES[p], {}
    local included = rctx and roles.include(rctx, r, t, what) -- include_role (play/roles.lua, play/include.lua)
    if included then
      tasks[j] = included
    elseif imp then
      tasks[j] = import_tasks(r, t, imp, what, handler, p, maps, stack)
    elseif rctx and roles.import(rctx, r, t, what, imported, maps) then -- import_role (play/roles.lua)
      tasks[j] = { block = imported } -- its tasks as a block of no keywords
    elseif inc then
      tasks[j] = include_tasks(r, t, inc, what, p, handler)
      if handler then -- a handler itself: its place in the handlers' maps (prepare's messages)
        tasks[j].handler = true
        maps[#maps + 1] = { node = t, keys = {}, line = yaml.line(l, j), file = r.file }
      end
    elseif is_map(t) and (t.block ~= nil or t.rescue ~= nil or t.always ~= nil) then
      if type(t.name) == "string" then what = what .. " (" .. S.quote(t.name) .. ")" end
      -- a block in handlers: each task of its block: a handler with its keywords; a block in it is
      -- refused and its rescue and always never run, as Ansible's (they are no handlers)
      if handler and handler_block then
        raise(where(r, l, j) .. what .. ": a block inside a block of handlers (Ansible: \"Using a block as a"
          .. " handler is not supported\")")
      end
      if t.block == nil then raise(where(r, l, j) .. what .. ": rescue and always need a block:") end
      local node = {}
      for _, k in ipairs(keys_of(t)) do
        if BLOCK_KEYS[k] then
          if not yaml.is_null(t[k]) then node[k] = keyword_value(k, t[k]) end
        elseif k ~= "block" and k ~= "rescue" and k ~= "always" and k ~= "environment" then
          raise(where(r, t, k) .. what .. ": the keyword " .. S.quote(tostring(k)) .. " is not supported on a block")
        end
      end
      if node.vars ~= nil and not is_map(node.vars) then
        raise(where(r, t, "vars") .. what .. ": vars must be a mapping, got " .. S.show(node.vars))
      end
      with_env(r, t, what, p, function(pp)
        for _, sec in ipairs({ "block", "rescue", "always" }) do
          local v = t[sec]
          if yaml.is_null(v) then v = nil end
          if v ~= nil and not is_seq(v) then
            raise(where(r, t, sec) .. what .. ": " .. sec .. " must be a list of tasks, got " .. S.show(v))
          end
          local outer = handler_block
          handler_block = handler and true or nil
          local ok, res = pcall(convert_list, r, v or {}, what .. ", " .. sec, handler, pp,
            (handler and sec ~= "block") and {} or maps, stack)
          handler_block = outer
          if not ok then error(res, 0) end
          node[sec] = (handler and sec ~= "block") and {} or res
        end
      end)
      tasks[j] = node
    else
      local sc = ROLES[p] and ROLES[p].scope or p -- (a role being read: its environment and check_mode)
      local tk, keymap = task.convert(r, t, what, handler, l, j, sc.environment)
      if sc.check_mode ~= nil and tk.check_mode == nil then tk.check_mode = sc.check_mode end
      tasks[j] = tk
      maps[#maps + 1] = { node = t, keys = keymap, line = yaml.line(l, j), file = r.file }
    end
  end
  return tasks
end

--- A task list of play p (YAML) as the model's: convert(r, list, label, handler, p, maps, stack).
M.convert = convert_list

return M
