--- luasible.play.prepare: a play checked and compiled before any host is
-- touched: its fields, every task's module and arguments, every template and
-- condition, tags, notify names, its hosts. Messages name the play file and
-- the task's line where they are known.
local pattern = require "luasible.inventory.pattern"
local template = require "luasible.template"
local modules = require "luasible.module"
local conditions = require "luasible.play.conditions"
local basename = require("luasible.util.path").basename

local M = {}

local PLAY_FIELDS = { name = true, hosts = true, vars = true, tasks = true, handlers = true, forks = true,
  gather_facts = true, become = true, become_user = true, module_path = true, tags = true, base_dir = true }
local TASK_FIELDS = { name = true, module = true, args = true, register = true, when = true,
  ignore_errors = true, loop = true, loop_var = true, become = true, become_user = true, notify = true,
  tags = true, changed_when = true, failed_when = true, ["until"] = true, retries = true, delay = true,
  run_once = true, vars = true, listen = true, no_log = true, check_mode = true }

--- A list from a list, or from a string of names separated by commas or
--- spaces ("a, b" -> { "a", "b" }); nil -> {}.
local function as_list(v)
  if v == nil then return {} end
  if type(v) == "table" then return v end
  local out = {}
  for x in tostring(v):gmatch("[^,%s]+") do out[#out + 1] = x end
  return out
end
M.as_list = as_list

-- notify and listen: one name as a string (spaces kept), or a list
local function names(v)
  if type(v) == "string" then return { v } end
  return as_list(v)
end

-- The first template problem in the strings of v (args, name, loop, vars):
-- "argument 'msg': unknown filter 'x' in expression: ...", or nil.
local function check_templates(v, label, depth)
  if type(v) == "string" then
    local ok, err = template.check(v)
    if not ok then return label .. ": " .. err end
  elseif type(v) == "table" and depth < 32 then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      local sub
      if depth == 0 and (label == "argument" or label == "vars") then
        sub = (label == "vars" and "variable" or label) .. " '" .. tostring(k) .. "'"
      else
        sub = label .. (type(k) == "number" and ("[" .. k .. "]") or ("." .. tostring(k)))
      end
      local err = check_templates(v[k], sub, depth + 1)
      if err then return err end
    end
  end
  return nil
end

-- nil when v is nil or a mapping of names to values, else what is wrong with it.
local function vars_error(v)
  if v == nil then return nil end
  if type(v) ~= "table" then return "vars must be a mapping of variable names to values, got a " .. type(v) end
  for k in pairs(v) do
    if type(k) ~= "string" then
      return "vars must be a mapping of variable names to values, got the key " .. tostring(k)
    end
  end
end

-- The module of a task and its arguments: `module = "x", args = ...` or the
-- short form `x = args`. Returns module, args, or nil, err.
local function module_of(t, task, where, path)
  local module, args = t.module, t.args
  if module ~= nil and type(module) ~= "string" then
    return nil, where .. ": module must be a string, not a " .. type(module)
  end
  local others = {}
  for k, v in pairs(t) do
    if TASK_FIELDS[k] then task[k] = v else others[#others + 1] = k end
  end
  table.sort(others, function(a, b) return tostring(a) < tostring(b) end)
  if not module and #others > 0 then
    -- the short form `shell = "..."`: the key that names a module
    local pick = #others == 1 and others[1] or nil
    for _, k in ipairs(others) do
      if type(k) == "string" and modules.load(k, path) then pick = k break end
    end
    if type(pick) == "string" then
      module, args = pick, t[pick]
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
      return nil, string.format("%s: task has two modules: %s", where,
        table.concat(mods, ", ", 1, #mods - 1) .. " and " .. mods[#mods])
    end
    return nil, string.format("%s: unknown task field '%s'", where, tostring(others[1]))
  end
  if not module then return nil, where .. ": no module (set module = \"...\")" end
  return module, args
end

--- Normalise and validate one task. Returns the task or nil, err.
function M.prepare_task(t, where, path, play_tags)
  if type(t) ~= "table" then return nil, where .. ": a task must be a table" end
  if t.name and type(t.name) ~= "string" then return nil, where .. ": name must be a string" end
  if t.name then where = where .. " ('" .. t.name .. "')" end
  local vserr = vars_error(t.vars)
  if vserr then return nil, where .. ": " .. vserr end
  local task = {}
  local module, args = module_of(t, task, where, path)
  if not module then return nil, args end
  local mod, err = modules.load(module, path)
  if not mod then return nil, where .. ": " .. err end
  if type(args) == "string" and not mod.free_form then
    local kv, kerr = modules.parse_kv(args)
    if not kv then return nil, where .. ": " .. kerr end
    args = kv
  elseif type(args) == "string" then
    -- free-form text is the free-form argument: `debug = "{{ item }}"` stays
    -- an argument when the item renders to a number or a list
    args = { [mod.free_form] = args }
  end
  if type(args) == "table" and args._raw then
    if not mod.free_form then
      return nil, where .. ": " .. module .. ": unexpected free-form argument '" .. args._raw .. "'"
    end
    args[mod.free_form], args._raw = args._raw, nil
  end
  local vargs, verr = modules.validate(mod, args, true)
  if not vargs then return nil, where .. ": " .. verr end
  -- every templated string of the task is checked now (syntax, filters,
  -- tests), not found broken on the first host that renders it
  local terr = check_templates(args, "argument", 0)
    or check_templates(t.name, "name", 0) or check_templates(t.loop, "loop", 0)
    or check_templates(t.vars, "vars", 0)
  if terr then return nil, where .. ": " .. terr end
  task.module, task.mod, task.args, task.where = module, mod, args, where
  task.name = t.name or module
  for _, f in ipairs({ "when", "changed_when", "failed_when", "until" }) do
    local c, cerr = conditions.compile(t[f], f, where)
    if cerr then return nil, cerr end
    -- as Ansible: an empty list is no changed_when/failed_when at all (an empty `when` holds)
    if (f == "changed_when" or f == "failed_when") and type(t[f]) == "table" and next(t[f]) == nil then c = nil end
    task[f] = c
  end
  if t.check_mode ~= nil and type(t.check_mode) ~= "boolean" then
    return nil, where .. ": check_mode must be true or false"
  end
  if t.register ~= nil and (type(t.register) ~= "string" or not t.register:match("^[%a_][%w_]*$")) then
    return nil, where .. ": register must be a variable name"
  end
  task.tags = as_list(t.tags)
  for _, tag in ipairs(as_list(play_tags)) do task.tags[#task.tags + 1] = tag end
  task.notify = names(t.notify)
  task.listen = names(t.listen)
  task.retries = tonumber(t.retries) or (t["until"] and 3) or 0
  task.delay = tonumber(t.delay) or 1
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

--- Where the tasks of a play file are: tables carry no line numbers, so the
--- file's source text is scanned for each `name = "..."` in turn (a cursor
--- moves forward, so tasks of the same name get their own lines). Returns
--- locate(name) -> line or nil.
function M.locator(text)
  local cursor = 1
  return function(name)
    if type(name) ~= "string" or name == "" then return nil end
    local lit = name:gsub("%p", "%%%0")
    local function find(from)
      local best, best_e
      for _, q in ipairs({ '"', "'" }) do
        local a, e = text:find("%f[%w_]name%s*=%s*" .. q .. lit .. q, from)
        if a and (not best or a < best) then best, best_e = a, e end
      end
      return best, best_e
    end
    local a, e = find(cursor)
    if not a then a, e = find(1) end
    if not a then return nil end
    cursor = e + 1
    return select(2, text:sub(1, a):gsub("\n", "")) + 1
  end
end

-- The module search path of a play: opts.module_path (-M), the play's own
-- module_path (relative to the play's folder, as its library/ is), library/.
local function search_path(play, opts)
  local mpath = play.module_path
  if opts.base_dir and mpath ~= nil then
    local list = {}
    for _, d in ipairs(type(mpath) == "string" and { mpath } or as_list(mpath)) do
      for dir in tostring(d):gmatch("[^:]+") do
        list[#list + 1] = dir:sub(1, 1) == "/" and dir or (opts.base_dir .. "/" .. dir)
      end
    end
    mpath = list
  end
  return modules.search_path(opts.module_path, mpath, opts.base_dir and (opts.base_dir .. "/library") or nil)
end

-- What is wrong with the play's own fields, in the order they are checked:
-- ": unknown field 'x'", " has no hosts", ...; or nil.
local function play_error(play)
  for k in pairs(play) do
    if not PLAY_FIELDS[k] then return string.format(": unknown field '%s'", tostring(k)) end
  end
  if play.tasks ~= nil and type(play.tasks) ~= "table" then return ": tasks must be a list" end
  if play.hosts == nil or play.hosts == "" then return " has no hosts" end
  if play.name ~= nil and type(play.name) ~= "string" then return ": name must be a string" end
  local vserr = vars_error(play.vars)
  if vserr then return ": " .. vserr end
  local mp = play.module_path
  local ok = mp == nil or type(mp) == "string"
  if type(mp) == "table" then
    ok = true
    for k, d in pairs(mp) do
      if math.type(k) ~= "integer" or type(d) ~= "string" then ok = false end
    end
  end
  if not ok then return ": module_path must be a folder or a list of folders (strings)" end
  local terr = check_templates(play.vars, "vars", 0)
  if terr then return ": " .. terr end
end

-- Every notify of the tasks names a handler (by name or listen): a typo
-- would be silently lost. Returns nil or what is wrong.
local function notify_error(all, handlers)
  local known = {}
  for _, h in ipairs(handlers) do
    known[h.name] = true
    for _, l in ipairs(h.listen) do known[l] = true end
  end
  for _, task in ipairs(all) do
    for _, h in ipairs(task.notify) do
      if type(h) ~= "string" then
        return string.format("%s: notify must name handlers (strings)", task.where)
      end
      if not known[h] and not modules.has_template(h) then
        return string.format("%s: notifies the handler '%s', but the play has no handler of that name"
          .. " or listen", task.where, h)
      end
    end
  end
end

--- Check a play and resolve its hosts. Returns a prepared play or nil, err.
--- opts.play_file (the file the play came from) and opts.locate (its
--- locator, shared by the plays of the file) put file:line in messages.
function M.prepare(play, opts, inv)
  if type(play) ~= "table" then return nil, "a play must be a table" end
  local file, locate = opts.play_file, opts.locate
  local pname = play.name
  if pname == nil then pname = file and basename(file) or "play" end
  -- "file:line: play 'x'" / "file: play 'x'" / "play 'x'"
  local function at(line)
    if not file then return "" end
    return line and string.format("%s:%d: ", file, line) or (file .. ": ")
  end
  local pwhere = at(locate and play.name and locate(play.name)) .. "play '" .. tostring(pname) .. "'"
  local perr = play_error(play)
  if perr then return nil, pwhere .. perr end
  local path = search_path(play, opts)
  local p = { name = pname, raw = play, tasks = {}, handlers = {}, path = path }
  local tags, skip = as_list(opts.tags), as_list(opts.skip_tags)
  if play.gather_facts then
    p.tasks[1] = assert(M.prepare_task({ name = "Gathering Facts", module = "setup", tags = { "always" } },
      "gather_facts", path))
    p.tasks[1].facts = true
  end
  local all = {}
  for i, t in ipairs(play.tasks or {}) do
    local line = locate and type(t) == "table" and locate(t.name)
    local task, err = M.prepare_task(t, string.format("%splay '%s', task %d", at(line), pname, i), path, play.tags)
    if not task then return nil, err end
    all[#all + 1] = task
    if M.selected_by_tags(task, tags, skip) then p.tasks[#p.tasks + 1] = task end
  end
  for i, t in ipairs(play.handlers or {}) do
    local line = locate and type(t) == "table" and locate(t.name)
    local task, err = M.prepare_task(t, string.format("%splay '%s', handler %d", at(line), pname, i), path)
    if not task then return nil, err end
    task.handler = true
    p.handlers[#p.handlers + 1] = task
    all[#all + 1] = task
  end
  local nerr = notify_error(all, p.handlers)
  if nerr then return nil, nerr end
  local hosts, herr = pattern.select_limited(inv, play.hosts, opts.limit)
  if not hosts then return nil, string.format("%s: %s", pwhere, herr) end
  p.hosts = hosts
  return p
end

return M
