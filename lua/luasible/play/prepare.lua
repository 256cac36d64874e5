--- luasible.play.prepare: a play checked and compiled before any host is
-- touched: the type of every field of the play, its tasks and handlers
-- (the schemas of play/fields.lua: a new keyword is one entry), every task's module and
-- arguments, every template and condition, tags, notify names, its hosts.
-- A message names the play file and the line of the field concerned where
-- the file shows it (play/locate.lua), the play, the task, the field:
--   "site.lua:12: play 'web', task 3 ('cfg'): loop must be a string, a
--    function or a list of values, got a number (5)"
local pattern = require "luasible.inventory.pattern"
local template = require "luasible.template"
local modules = require "luasible.module"
local conditions = require "luasible.play.conditions"
local basename = require("luasible.util.path").basename
local S = require "luasible.util.schema"
local gc = require "luasible.util.gc"
local md = require "luasible.play.module_defaults"

local M = {}

local F = require "luasible.play.fields"
M.PLAY, M.TASK, M.HANDLER, M.as_list = F.PLAY, F.TASK, F.HANDLER, F.as_list
local PLAY_ORDER, TASK_ORDER, HANDLER_ORDER = F.PLAY_ORDER, F.TASK_ORDER, F.HANDLER_ORDER
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
  local werr = args ~= nil and S.why(M.TASK.args, args, key)
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
  local fields = handler and M.HANDLER or M.TASK
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

-- The module search path of a play: opts.module_path (-M), the play's own
-- module_path (relative to the play's folder, as its library/ is), library/.
local function search_path(play, opts)
  local mpath = play.module_path
  if opts.base_dir and mpath ~= nil then
    local list = {}
    for _, d in ipairs(type(mpath) == "string" and { mpath } or mpath) do
      for dir in d:gmatch("[^:]+") do
        list[#list + 1] = dir:sub(1, 1) == "/" and dir or (opts.base_dir .. "/" .. dir)
      end
    end
    mpath = list
  end
  return modules.search_path(opts.module_path, mpath, opts.base_dir and (opts.base_dir .. "/library") or nil)
end

-- What is wrong with the play's own fields: ": unknown field 'x'", " has no
-- hosts", ": tags must be ...", and the field; or nil.
local function play_error(play)
  local k = S.unknown(M.PLAY, play)
  if k ~= nil then return ": unknown field " .. field_name(k), k end
  if play.hosts == nil or play.hosts == "" then return " has no hosts", "hosts" end
  local serr, field = S.check(M.PLAY, play, PLAY_ORDER)
  if serr then return ": " .. serr, field end
  local terr = check_templates(play.vars, "vars", 0)
  if terr then return ": " .. terr, "vars" end
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
      if not known[h] and not modules.has_template(h) then
        return string.format("%s: notify names the handler %s, but the play has no handler of that name"
          .. " or listen", task.where, S.quote(h))
      end
    end
  end
end

--- Check a play and resolve its hosts. Returns a prepared play or nil, err.
--- opts.play_file (the file the play came from) and opts.locate (its
--- locator, shared by the plays of the file; opts.play_index: this play's
--- place in the file's list of plays) put file:line in messages.
function M.prepare(play, opts, inv)
  local _ <close> = gc.loading() -- (fewer collections while checking: util/gc.lua)
  local file, locate = opts.play_file, opts.locate
  local at_path = type(locate) == "table" and locate.at or function() return nil end
  local prefix = opts.play_index and { opts.play_index } or {}
  local function path_of(...)
    local p = { table.unpack(prefix) }
    for _, k in ipairs({ ... }) do p[#p + 1] = k end
    return p
  end
  -- "file:line: " / "file: " / ""
  local function at(line, in_file)
    if not file then return "" end
    if type(in_file) ~= "string" then in_file = nil end -- (at(at_path(...)) passes `exact` here)
    return line and string.format("%s:%d: ", in_file or file, line) or (file .. ": ")
  end
  if type(play) ~= "table" then
    return nil, at(at_path(prefix)) .. "a play must be a table, got " .. S.show(play)
  end
  local pname = play.name
  if type(pname) ~= "string" then pname = file and basename(file) or "play" end
  local pshown = "play " .. S.quote(pname)
  local pline = at_path(path_of("name")) or (locate and type(play.name) == "string" and locate(play.name))
  local perr, pfield = play_error(play)
  if perr then
    return nil, at((pfield and at_path(path_of(pfield))) or pline or at_path(prefix)) .. pshown .. perr
  end
  local ferr -- blocks: flat lists of tasks, the tree beside them (play/blocks.lua)
  play, ferr = require("luasible.play.blocks").flatten(play, pshown)
  if not play then return nil, at(at_path(prefix)) .. ferr end
  -- a play's own base_dir (an imported playbook's folder) for its library/, templates and files
  if play.base_dir then opts = setmetatable({ base_dir = play.base_dir }, { __index = opts }) end
  local path = search_path(play, opts)
  local pmd, pmderr = md.normalize(play.module_defaults, function(n) return modules.load(n, path) end)
  if pmderr then return nil, at(at_path(path_of("module_defaults")) or pline) .. pshown .. ": " .. pmderr end
  local p = { base_dir = play.base_dir, name = pname, raw = play, pre_tasks = {}, tasks = {}, post_tasks = {},
    handlers = {}, path = path, prepared = {}, module_defaults = pmd }
  local tags, skip = as_list(opts.tags), as_list(opts.skip_tags)
  p.tags, p.skip_tags = tags, skip -- for the tasks of include_tasks (play/include.lua)
  -- gathering = implicit / smart (the config file): facts unless the play says gather_facts = false
  local implicit = opts.gathering == "implicit" or opts.gathering == "smart"
  if play.gather_facts or (play.gather_facts == nil and implicit) then
    -- gather_subset: the setup module's (modules/setup.lua)
    local subset = play.gather_subset
    if type(subset) == "string" then subset = { subset } end -- ("!all,!min": split by setup, shown as given)
    local facts, gerr = M.prepare_task({ name = "Gathering Facts", module = "setup", tags = { "always" },
      args = subset and { gather_subset = subset } or nil }, "gather_facts", path)
    if facts and subset and facts.mod.subsets and not modules.has_template(subset) then
      local _, serr = facts.mod.subsets(subset)
      if serr then facts, gerr = nil, "gather_subset: " .. serr end
    end
    if not facts then return nil, at(at_path(path_of("gather_subset")) or pline) .. pshown .. ": " .. gerr end
    p.pre_tasks[1] = facts
    p.pre_tasks[1].facts = true
    if play.blocks and play.blocks.pre_tasks then -- blocks (play/blocks.lua): the facts first
      table.insert(play.blocks.pre_tasks, 1, { task = p.pre_tasks[1] })
      p.prepared[p.pre_tasks[1]] = p.pre_tasks[1]
    end
  end
  -- where(field) for task i of `list` ("tasks" or "handlers")
  local function place(list, i, t)
    local kind = list == "handlers" and "handler" or list == "tasks" and "task" or list:gsub("s$", "")
    local shown = string.format("%s, %s %d", pshown, kind, i)
    if type(t) == "table" and type(t.name) == "string" then shown = shown .. " (" .. S.quote(t.name) .. ")" end
    local tline, exact, tfile = at_path(path_of(list, i))
    if not exact then tline = nil end
    local by_name = locate and type(t) == "table" and locate(t.name) or nil
    -- the line of the part itself, else of the deepest part of it in the map
    -- below the task, else the task's
    return function(...)
      local line
      if select("#", ...) > 0 and tline then
        local l = at_path(path_of(list, i, ...))
        if l ~= tline then line = l end
      end
      return at(line or tline or by_name, (line or tline) and tfile) .. shown
    end
  end
  local all = {}
  for _, list in ipairs({ "pre_tasks", "tasks", "post_tasks" }) do
    for i, t in ipairs(play[list] or {}) do
      local task, err = M.prepare_task(t, place(list, i, t), path, play.tags, nil, pmd)
      if not task then return nil, err end
      all[#all + 1] = task
      if M.selected_by_tags(task, tags, skip) then p[list][#p[list] + 1] = task; p.prepared[t] = task end
    end
  end
  for i, t in ipairs(play.handlers or {}) do
    local task, err = M.prepare_task(t, place("handlers", i, t), path, nil, true, pmd)
    if not task then return nil, err end
    task.handler = true
    p.handlers[#p.handlers + 1] = task
    all[#all + 1] = task
  end
  local nerr = notify_error(all, p.handlers)
  if nerr then return nil, nerr end
  -- the play's hosts, then --limit (whose message starts with --limit); a
  -- `{{ }}` in them is rendered with the play's vars and the extra vars, as
  -- Ansible does (no host's variables: no host is chosen yet)
  local phosts = play.hosts
  local function render_hosts(h)
    if type(h) ~= "string" or not h:find("{{", 1, true) then return h end
    local scope = {}
    for k, v in pairs(play.vars or {}) do scope[k] = v end
    for k, v in pairs(opts.extra_vars or {}) do scope[k] = v end
    local r, rerr = template.render(h, scope)
    if not r then return nil, rerr end
    return r
  end
  if type(phosts) == "table" then
    local list = {}
    for i, h in ipairs(phosts) do
      local r, rerr = render_hosts(h)
      if not r then return nil, at(at_path(path_of("hosts")) or pline) .. pshown .. ": hosts: " .. rerr end
      list[i] = r
    end
    phosts = list
  else
    local r, rerr = render_hosts(phosts)
    if not r then return nil, at(at_path(path_of("hosts")) or pline) .. pshown .. ": hosts: " .. rerr end
    phosts = r
  end
  local hosts, herr = pattern.select(inv, phosts)
  if hosts and opts.limit then hosts, herr = pattern.select_limited(inv, phosts, opts.limit)
  elseif herr then herr = "hosts: " .. herr end
  -- after an add_host / group_by of an earlier play, a name may come to be (chosen again: play/strategy.lua)
  if not hosts and opts.dynamic_hosts and herr:find("matches no host or group", 1, true) then hosts = {} end
  if not hosts then return nil, at(at_path(path_of("hosts")) or pline) .. pshown .. ": " .. herr end
  p.hosts, p.host_pattern, p.host_limit = hosts, phosts, opts.limit
  -- serial: "{{ batch }}" (or a list with such entries): rendered as hosts are
  local serr
  p.serial, serr = M.render_serial(play.serial, play.vars, opts.extra_vars)
  if serr then return nil, at(at_path(path_of("serial")) or pline) .. pshown .. ": serial: " .. serr end
  return p
end

-- a serial entry as it is after rendering: a number of hosts or "N%"
local function batch_of(v)
  if math.type(v) == "float" and v == math.floor(v) then v = math.tointeger(v) end
  if math.type(v) == "integer" and v >= 0 then return v end
  if type(v) == "string" and v:match("^%s*%d+%s*%%?%s*$") then return v end
  return nil, "must render to a number of hosts or a percentage (\"30%\"), got " .. S.show(v)
end

--- The play's serial with its `{{ }}` rendered (the play's vars and the
--- extra vars, as Ansible templates it: no host is chosen yet). Returns
--- the value (nil when there is none), or nil, err.
function M.render_serial(serial, pvars, extra)
  local templated = type(serial) == "string" and serial:find("{{", 1, true)
  if type(serial) == "table" then
    for _, v in ipairs(serial) do if type(v) == "string" and v:find("{{", 1, true) then templated = true end end
  end
  if not templated then return serial end
  local scope = {}
  for k, v in pairs(pvars or {}) do scope[k] = v end
  for k, v in pairs(extra or {}) do scope[k] = v end
  local r, rerr = template.render_value(serial, scope)
  if rerr then return nil, rerr end
  local list = type(r) == "table" and r or { r }
  local out = {}
  -- a rendered "[1, 2]" / "1,2": Ansible takes a list there too
  if #list == 1 and type(list[1]) == "string" and list[1]:find(",", 1, true) then
    local parts = {}
    for x in list[1]:gsub("^%s*%[", ""):gsub("%]%s*$", ""):gmatch("[^,]+") do
      parts[#parts + 1] = (x:gsub("^%s*[\"']?", ""):gsub("[\"']?%s*$", ""))
    end
    list = parts
  end
  for i, v in ipairs(list) do
    local b, berr = batch_of(math.tointeger(tonumber(v)) or v)
    if not b then return nil, berr end
    out[i] = b
  end
  if type(r) ~= "table" and #out == 1 then return out[1] end
  return out
end

return M
