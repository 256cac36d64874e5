--- luasible.play.prepare_task: one task (or handler) checked and compiled
-- before any host is touched, for play/prepare.lua and include_tasks
-- (play/include.lua): its fields' types (play/fields.lua), its module and
-- arguments (module_defaults under them), its templates and conditions,
-- tags, notify names; and whether --tags / --skip-tags select it.
local template = require "luasible.template"
local modules = require "luasible.module"
local conditions = require "luasible.play.conditions"
local S = require "luasible.util.schema"
local md = require "luasible.play.module_defaults"
local F = require "luasible.play.fields"

local M = {}

local TASK_ORDER, HANDLER_ORDER = F.TASK_ORDER, F.HANDLER_ORDER
local as_list, name_list = F.as_list, F.name_list

-- Is every string of v (data, no cycles) a good template? (The common
-- case, without sorting keys or making labels.)
local function templates_fine(v, depth)
  if type(v) == "string" then return template.check(v) == true end
  if type(v) == "table" and depth < S.MAX_DEPTH then
    for _, x in pairs(v) do
      if not templates_fine(x, depth + 1) then return false end
    end
  end
  return true
end

-- The first template problem in the strings of v (args, name, loop, vars),
-- v being data (no cycles): "argument 'msg': unknown filter 'x' ...", or nil.
local function check_templates(v, label, depth)
  if depth == 0 and templates_fine(v, 0) then return nil end
  if type(v) == "string" then
    local ok, err = template.check(v)
    if not ok then return label .. ": " .. err end
  elseif type(v) == "table" and depth < S.MAX_DEPTH then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      local sub
      if depth == 0 and (label == "argument" or label == "vars") then
        sub = (label == "vars" and "variable" or label) .. " " .. S.quote(k)
      else
        sub = type(k) == "number" and (label .. "[" .. k .. "]") or (label .. "." .. tostring(k))
      end
      local err = check_templates(v[k], sub, depth + 1)
      if err then return err end
    end
  end
  return nil
end

-- A field's name as a message shows it: 'x', or [1] for a key that is no string.
local function field_name(k) return type(k) == "string" and S.quote(k) or S.sub("", k) end
M.check_templates, M.field_name = check_templates, field_name -- (the play's fields too: play/prepare.lua)

-- The module of a task and its arguments: `module = "x", args = ...` or the
-- short form `x = args`. Returns module, args, key (the field that holds the
-- arguments); or nil, err, field.
local function module_of(t, fields, path)
  local module, args, key = t.module, t.args, "args"
  local others = {}
  for k in pairs(t) do
    if fields[k] == nil then others[#others + 1] = k end
  end
  table.sort(others, function(a, b) return tostring(a) < tostring(b) end)
  if not module and #others > 0 then
    -- the short form `shell = "..."`: the key that names a module
    local pick = #others == 1 and others[1] or nil
    for _, k in ipairs(others) do
      if type(k) == "string" and modules.load(k, path) then pick = k break end
    end
    if type(pick) == "string" then
      module, args, key = pick, t[pick], pick
      for i, k in ipairs(others) do if k == pick then table.remove(others, i) break end end
    end
  end
  if #others > 0 then
    -- two module keys (`debug = ..., shell = ...`): say so, not "unknown field"
    local mods = { module } -- module = ... or the short form's key
    for _, k in ipairs(others) do
      if type(k) == "string" and modules.load(k, path) then mods[#mods + 1] = k end
    end
    if #mods > 1 then
      table.sort(mods)
      return nil, "task has two modules: " .. table.concat(mods, ", ", 1, #mods - 1) .. " and " .. mods[#mods],
        mods[2]
    end
    return nil, "unknown task field " .. field_name(others[1]), others[1]
  end
  if not module then return nil, "no module (set module = \"...\")" end
  return module, args, key
end

-- The arguments of a task for its module, checked. Returns args (nil for
-- none), or nil, err and the argument concerned.
local function module_args(mod, module, args, key, defaults)
  local werr = args ~= nil and S.why(F.TASK.args, args, key)
  if werr then return nil, werr end
  if type(args) == "string" and not mod.free_form then
    local kv, kerr = modules.parse_kv(args)
    if not kv then return nil, kerr end
    args = kv
  elseif type(args) == "string" then
    -- free-form text is the free-form argument: `debug = "{{ item }}"` stays
    -- an argument when the item renders to a number or a list
    args = { [mod.free_form] = args }
  end
  if type(args) == "table" and args._raw then
    if not mod.free_form then return nil, module .. ": unexpected free-form argument " .. S.quote(args._raw) end
    args[mod.free_form], args._raw = args._raw, nil
  end
  local vargs, verr, bad = modules.validate(mod, defaults and md.merge(defaults, args) or args, true)
  if not vargs then return nil, verr, bad end
  -- every templated string of the task is checked now (syntax, filters,
  -- tests), not found broken on the first host that renders it
  local terr = check_templates(vargs, "argument", 0)
  if terr then return nil, terr end
  return args
end

--- Normalise and validate one task (a handler with `handler`).
--- `where(field, ...)` gives the text that starts a message about that
--- field (or part of it): "file:line: play 'p', task 3 ('n')". Returns the
--- task or nil, err.
function M.prepare_task(t, where, path, play_tags, handler, play_md)
  if type(where) == "string" then local w = where; where = function() return w end end
  if type(t) ~= "table" then return nil, where() .. ": a " .. (handler and "handler" or "task")
    .. " must be a table, got " .. S.show(t) end
  local fields = handler and F.HANDLER or F.TASK
  local function fail(msg, ...) return nil, where(...) .. ": " .. msg end
  local serr, sfield = S.check(fields, t, handler and HANDLER_ORDER or TASK_ORDER)
  if serr then return fail(serr, sfield) end
  local module, args, key = module_of(t, fields, path)
  if not module then return fail(args, key) end
  local mod, err = modules.load(module, path)
  if not mod then return fail(err, t.module and "module" or key) end
  if mod.play_action then -- meta: done by the play on no host, so nothing per host applies
    for _, f in ipairs({ "loop", "register", "notify", "until", "changed_when", "failed_when" }) do
      if t[f] ~= nil then return fail(module .. ": " .. f .. " is not supported with it (yet)", f) end
    end
  end
  if t.async and t.async > 0 and not mod.async then -- play/async.lua: a command run as a remote job
    return fail("async is not supported with the module " .. S.quote(module) .. ": it cannot run as a remote job"
      .. " (command, shell and streaming_shell can)", "async")
  end
  -- module_defaults: checked; the play's and the task's under its arguments for the check
  local tmd, mderr = md.normalize(t.module_defaults, function(n) return modules.load(n, path) end)
  if mderr then return fail(mderr, "module_defaults") end
  local defaults = md.for_module(md.concat(play_md, tmd), module)
  local aerr, bad
  args, aerr, bad = module_args(mod, module, args, key, type(defaults) == "table" and defaults or nil)
  if aerr then return fail(aerr, key, bad) end
  local action = mod.play_action and type(args) == "table" and args.free_form
  if action and mod.not_yet and mod.not_yet[action] then -- meta (play/rolling.lua)
    return fail(module .. ": " .. action .. " is not supported yet", key)
  end
  if action == "noop" and t.when ~= nil then return fail(module .. ": noop does not take when", "when") end
  local terr = check_templates(t.name, "name", 0) or check_templates(t.loop, "loop", 0)
    or check_templates(t.loop_label, "loop_label", 0)
    or check_templates(t.vars, "vars", 0)
  if terr then return fail(terr, terr:match("^(%a+)")) end
  local task = {}
  for k in pairs(fields) do task[k] = t[k] end
  task.module, task.mod, task.args, task.where = module, mod, args, where()
  task.module_defaults = tmd
  task.name = t.name or module
  -- a module of the controller that runs once for all the hosts (pause), as Ansible's BYPASS_HOST_LOOP
  if mod.bypass_host_loop and task.run_once == nil then task.run_once = true end
  for _, f in ipairs({ "when", "changed_when", "failed_when", "until" }) do
    local c, cerr = conditions.compile(t[f], f)
    if cerr then return fail(cerr, f) end
    -- as Ansible: an empty list is no changed_when/failed_when at all (an empty `when` holds)
    if (f == "changed_when" or f == "failed_when") and type(t[f]) == "table" and next(t[f]) == nil then c = nil end
    task[f] = c
  end
  task.tags = as_list(t.tags)
  for _, tg in ipairs(as_list(play_tags)) do task.tags[#task.tags + 1] = tg end
  task.notify = name_list(t.notify)
  task.listen = name_list(t.listen)
  task.retries = math.tointeger(t.retries) or (t["until"] and 3) or 0
  task.delay = t.delay or 1
  return task
end

--- Does --tags / --skip-tags select this task?
function M.selected_by_tags(task, tags, skip)
  local has = {}
  for _, t in ipairs(task.tags) do has[t] = true end
  for _, t in ipairs(skip or {}) do if has[t] then return false end end
  if tags and #tags > 0 then
    if has.always then return true end
    for _, t in ipairs(tags) do if has[t] or t == "all" then return not has.never or has[t] end end
    return false
  end
  return not has.never
end

return M
