-- luasible.runner: runs plays. Each task runs on every host of the play at
-- once (at most `forks` at a time: a pool of worker coroutines on the one
-- loop), task by task; a failed host leaves the play, an unreachable one is
-- reported as such. Everything that happens is an event given to on_event.

local inventory = require "luasible.inventory"
local pattern = require "luasible.inventory.pattern"
local template = require "luasible.template"
local modules = require "luasible.module"

local M = {}

local PLAY_FIELDS = { name = true, hosts = true, vars = true, tasks = true, handlers = true, forks = true,
  gather_facts = true, become = true, become_user = true, module_path = true, tags = true, base_dir = true }
local TASK_FIELDS = { name = true, module = true, args = true, register = true, when = true,
  ignore_errors = true, loop = true, loop_var = true, become = true, become_user = true, notify = true,
  tags = true, changed_when = true, failed_when = true, ["until"] = true, retries = true, delay = true,
  run_once = true, vars = true, listen = true, no_log = true, check_mode = true }

local function as_list(v)
  if v == nil then return {} end
  if type(v) == "table" then return v end
  local out = {}
  for x in tostring(v):gmatch("[^,%s]+") do out[#out + 1] = x end
  return out
end
M.as_list = as_list

--- Is err the error of a caught signal (luasible.catch_signals())? It is
--- never a task's failure: it stops the whole run.
local is_interrupt = require("luasible.util.errors").is_interrupt
M.is_interrupt = is_interrupt

local function copy_into(dst, src)
  if src then for k, v in pairs(src) do dst[k] = v end end
  return dst
end

---------------------------------------------------------------------------
-- Preparing a play: everything is checked before any host is touched
---------------------------------------------------------------------------
local function compile_cond(v, what, where)
  if v == nil or type(v) == "function" or type(v) == "boolean" then return v end
  if type(v) == "table" then
    -- a list of conditions (Ansible's `when: [a, b]`): all must hold
    local n = #v
    for k in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 or k > n then
        return nil, where .. ": " .. what .. " must be a condition or a list of conditions"
      end
    end
    local list = {}
    for i, c in ipairs(v) do
      if type(c) == "table" then
        return nil, string.format("%s: %s: condition %d must be a string expression, a function or a boolean",
          where, what, i)
      end
      local cc, err = compile_cond(c, what .. " (condition " .. i .. ")", where)
      if err then return nil, err end
      list[i] = cc
    end
    return list
  end
  if type(v) ~= "string" then
    return nil, where .. ": " .. what .. " must be a string expression, a function or a list of them"
  end
  local ok, err = pcall(template.compile_expr, (v:gsub("^%s*{{(.-)}}%s*$", "%1")))
  if not ok then
    return nil, where .. ": bad " .. what .. ": " .. (type(err) == "table" and err.template_error or tostring(err))
  end
  return (v:gsub("^%s*{{(.-)}}%s*$", "%1"))
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

--- Normalise and validate one task. Returns the task or nil, err.
function M.prepare_task(t, where, path, play_tags)
  if type(t) ~= "table" then return nil, where .. ": a task must be a table" end
  if t.name and type(t.name) ~= "string" then return nil, where .. ": name must be a string" end
  if t.name then where = where .. " ('" .. t.name .. "')" end
  local vserr = vars_error(t.vars)
  if vserr then return nil, where .. ": " .. vserr end
  local task = {}
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
    local c, cerr = compile_cond(t[f], f, where)
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
  task.notify = type(t.notify) == "string" and { t.notify } or as_list(t.notify)
  task.retries = tonumber(t.retries) or (t["until"] and 3) or 0
  task.delay = tonumber(t.delay) or 1
  return task
end

local function selected_by_tags(task, tags, skip)
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

--- Where the tasks of a play file are: tables carry no line numbers, so
--- the file's source is scanned for each `name = "..."` in turn (a cursor
--- moves forward, so tasks of the same name get their own lines). Returns
--- locate(name) -> line or nil; nil without a readable file.
function M.locator(file)
  if type(file) ~= "string" then return nil end
  local text = require("luasible.util.fs").read(file)
  if not text then return nil end
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

--- The file name of a path, without its folders.
local basename = require("luasible.util.path").basename

--- Check a play and resolve its hosts. Returns a prepared play or nil, err.
--- opts.play_file (the file the play came from) and opts.locate (its
--- locator, shared by the plays of the file) put file:line in messages.
function M.prepare(play, opts, inv)
  if type(play) ~= "table" then return nil, "a play must be a table" end
  local file = opts.play_file
  local locate = opts.locate or M.locator(file)
  local pname = play.name
  if pname == nil then pname = file and basename(file) or "play" end
  local pline = locate and play.name and locate(play.name)
  -- "file:line: play 'x'" / "file: play 'x'" / "play 'x'"
  local function at(line)
    if not file then return "" end
    return line and string.format("%s:%d: ", file, line) or (file .. ": ")
  end
  local pwhere = at(pline) .. "play '" .. tostring(pname) .. "'"
  for k in pairs(play) do
    if not PLAY_FIELDS[k] then return nil, string.format("%s: unknown field '%s'", pwhere, tostring(k)) end
  end
  if play.tasks ~= nil and type(play.tasks) ~= "table" then
    return nil, pwhere .. ": tasks must be a list"
  end
  if play.hosts == nil or play.hosts == "" then return nil, pwhere .. " has no hosts" end
  if play.name ~= nil and type(play.name) ~= "string" then return nil, pwhere .. ": name must be a string" end
  local vserr = vars_error(play.vars)
  if vserr then return nil, pwhere .. ": " .. vserr end
  do
    local mp = play.module_path
    local ok = mp == nil or type(mp) == "string"
    if type(mp) == "table" then
      ok = true
      for k, d in pairs(mp) do
        if math.type(k) ~= "integer" or type(d) ~= "string" then ok = false end
      end
    end
    if not ok then return nil, pwhere .. ": module_path must be a folder or a list of folders (strings)" end
  end
  -- the play's own module_path is relative to the play's folder (as its library/ is)
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
  local path = modules.search_path(opts.module_path, mpath,
    opts.base_dir and (opts.base_dir .. "/library") or nil)
  local verr = check_templates(play.vars, "vars", 0)
  if verr then return nil, pwhere .. ": " .. verr end
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
    if selected_by_tags(task, tags, skip) then p.tasks[#p.tasks + 1] = task end
  end
  local names = {}
  for i, t in ipairs(play.handlers or {}) do
    local line = locate and type(t) == "table" and locate(t.name)
    local task, err = M.prepare_task(t, string.format("%splay '%s', handler %d", at(line), pname, i), path)
    if not task then return nil, err end
    p.handlers[#p.handlers + 1] = task
    all[#all + 1] = task
    names[task.name] = true
    for _, l in ipairs(type(task.listen) == "string" and { task.listen } or as_list(task.listen)) do
      names[l] = true
    end
  end
  -- a notify naming no handler (a typo) would be silently lost: refuse it
  for _, task in ipairs(all) do
    for _, h in ipairs(task.notify or {}) do
      if type(h) ~= "string" then
        return nil, string.format("%s: notify must name handlers (strings)", task.where)
      end
      if not names[h] and not modules.has_template(h) then
        return nil, string.format("%s: notifies the handler '%s', but the play has no handler of that name"
          .. " or listen", task.where, h)
      end
    end
  end
  local hosts, herr = pattern.select_limited(inv, play.hosts, opts.limit)
  if not hosts then return nil, string.format("%s: %s", pwhere, herr) end
  p.hosts = hosts
  return p
end

---------------------------------------------------------------------------
-- Running
---------------------------------------------------------------------------
local Run = {}
Run.__index = Run

-- Replace every secret (passwords of the inventory and extra vars) found
-- in strings of v; tables are copied only where something was replaced.
local function scrub(v, secrets, depth)
  local t = type(v)
  if t == "string" then
    for _, sec in ipairs(secrets) do
      if v:find(sec, 1, true) then
        local parts, i = {}, 1
        while true do
          local a, b = v:find(sec, i, true)
          if not a then break end
          parts[#parts + 1] = v:sub(i, a - 1)
          i = b + 1
        end
        parts[#parts + 1] = v:sub(i)
        v = table.concat(parts, "********")
      end
    end
    return v
  elseif t == "table" and depth < 16 then
    local copy
    for k, x in pairs(v) do
      local y = scrub(x, secrets, depth + 1)
      if y ~= x then
        copy = copy or copy_into({}, v)
        copy[k] = y
      end
    end
    return copy or v
  end
  return v
end
M.scrub = scrub

function Run:add_secrets(vars)
  for k in pairs(inventory.secret_vars) do
    local v = vars and vars[k]
    if v ~= nil and v ~= "" and not self.secret_set[tostring(v)] then
      self.secret_set[tostring(v)] = true
      self.secrets[#self.secrets + 1] = tostring(v)
    end
  end
end

function Run:emit(ev)
  if #self.secrets > 0 then
    for _, k in ipairs({ "data", "result", "progress", "error", "item" }) do
      if ev[k] ~= nil then ev[k] = scrub(ev[k], self.secrets, 0) end
    end
  end
  self.seq = self.seq + 1
  ev.seq = self.seq
  ev.timestamp = ev.timestamp or (self.wall0 + (self.now() - self.mono0))
  ev.play = ev.play or (self.play and self.play.name)
  if self.on_event then self.on_event(ev) end
end

--- Variables of a host for a task: inventory < facts < play vars < task vars
--- < registered < extra vars, plus the magic variables.
function Run:host_vars(host, task)
  local st = self.state[host]
  local v = copy_into({}, st.inv_vars)
  if st.facts then
    copy_into(v, st.facts)
    v.ansible_facts = st.facts
  end
  copy_into(v, self.play.raw.vars)
  if task then copy_into(v, task.vars) end
  copy_into(v, st.registered)
  copy_into(v, self.extra_vars)
  -- what came from the host (facts, registered results) is data, never a
  -- template to render again; a name set by the play or -e is not
  local unsafe = {}
  if st.facts then
    for k in pairs(st.facts) do unsafe[k] = true end
    unsafe.ansible_facts = true
  end
  for k in pairs(self.play.raw.vars or {}) do unsafe[k] = nil end
  if task and type(task.vars) == "table" then for k in pairs(task.vars) do unsafe[k] = nil end end
  for k in pairs(st.registered) do unsafe[k] = true end
  for k in pairs(self.extra_vars) do unsafe[k] = nil end
  if next(unsafe) then template.mark_unsafe(v, unsafe) end
  v.inventory_hostname = host
  v.groups = self.groups
  v.play_hosts = self.play.hosts
  -- a task's check_mode = true / false decides for it, as in Ansible
  if task and type(task.check_mode) == "boolean" then v.ansible_check_mode = task.check_mode
  else v.ansible_check_mode = self.check end
  v.hostvars = self.hostvars
  return v
end

-- A condition as text, for messages: the expression, or what it is.
local function cond_text(cond)
  if type(cond) == "string" then return cond end
  if type(cond) == "table" then
    local parts = {}
    for i, c in ipairs(cond) do parts[i] = type(c) == "string" and c or ("(" .. cond_text(c) .. ")") end
    return table.concat(parts, " and ")
  end
  if type(cond) == "function" then return "a function of the play" end
  return tostring(cond)
end

local function eval_cond(cond, vars, res)
  if cond == nil then return true end
  if type(cond) == "boolean" then return cond end
  if type(cond) == "table" then
    for i, c in ipairs(cond) do
      local v, err = eval_cond(c, vars, res)
      if err then return nil, #cond > 1 and ("condition " .. i .. ": " .. err) or err end
      if not v then return false end
    end
    return true
  end
  if type(cond) == "function" then
    local ok, v = pcall(cond, res ~= nil and res or vars, vars)
    if not ok then
      if is_interrupt(v) then error(v, 0) end
      return nil, tostring(v)
    end
    return v and true or false
  end
  if res ~= nil then vars = setmetatable({ result = res }, { __index = vars }) end
  return template.test(cond, vars)
end

-- The connection variables of a host with the whole precedence applied
-- (inventory < play vars < extra vars, so `-e ansible_user=x` works), their
-- {{ }} rendered.
function Run:connection_vars(host)
  local vars = self:host_vars(host)
  local out = {}
  for k, v in pairs(vars) do
    if type(k) == "string" and (k:match("^ansible_") or k:match("^luasible_")) then
      if type(v) == "string" and v:find("{{", 1, true) and not template.is_unsafe(vars, k) then
        local r, err = template.render_value(v, vars)
        if err then return nil, "host " .. host .. ": " .. k .. ": " .. err end
        v = r
      end
      out[k] = v
    end
  end
  return out
end

function Run:connection(host)
  local st = self.state[host]
  if st.conn then return st.conn end
  local conn, err
  if self.connect then
    conn, err = self.connect(st.inv_vars, host)
  else
    local cvars, verr = self:connection_vars(host)
    if not cvars then return nil, verr end
    local args, aerr = inventory.connect_args(host, cvars)
    if not args then return nil, aerr end
    local luasible = require "luasible"
    conn, err = luasible.connect(args)
  end
  if not conn then return nil, tostring(err or "could not connect") end
  st.conn = conn
  return conn
end

local function tidy(res)
  if type(res) ~= "table" then res = { failed = true, msg = "module returned " .. type(res) .. ", not a table" } end
  res.changed = res.changed and true or false
  res.failed = res.failed and true or false
  if math.type(res.duration) == "float" then res.duration = math.floor(res.duration * 1000 + 0.5) / 1000 end
  for _, k in ipairs({ "stdout", "stderr" }) do
    local s = res[k]
    if type(s) == "string" and res[k .. "_lines"] == nil then
      local lines = {}
      if s ~= "" then
        for l in (s:sub(-1) == "\n" and s or s .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = l end
      end
      res[k .. "_lines"] = lines
    end
  end
  return res
end

-- Run the module once for one host (one loop item). Returns a result table.
function Run:run_module(host, task, vars, emit)
  local args, err = template.render_value(task.args, vars)
  if err then return { failed = true, msg = task.module .. ": " .. err } end
  local vargs, verr = modules.validate(task.mod, args)
  if not vargs then return { failed = true, msg = verr } end
  -- check_mode = true: always in check mode, as Ansible; false: never
  local check = task.check_mode == true or (self.check and task.check_mode ~= false)
  if check and not task.mod.check_mode then
    return { skipped = true, changed = false, msg = "skipped in check mode: " .. task.module .. " cannot check" }
  end
  local conn, cerr = self:connection(host)
  if not conn then return { unreachable = true, msg = cerr } end
  local b = inventory.become(vars)
  local become = task.become
  if become == nil then become = self.play.raw.become end
  if become ~= nil then b.become = inventory.bool(become) end
  b.user = task.become_user or self.play.raw.become_user or b.user
  local luasible = self.luasible
  local ctx = modules.context({
    conn = conn, host = host, vars = vars, emit = emit, check_mode = check, become = b,
    task = task.name, base_dir = self.base_dir,
    now = luasible and luasible.now or os.clock,
    sleep = luasible and luasible.sleep or function() end,
  })
  local ok, res = pcall(task.mod.run, ctx, vargs)
  if not ok then
    if is_interrupt(res) then error(res, 0) end
    if type(res) == "table" and res.unreachable then return { unreachable = true, msg = res.msg } end
    if type(res) == "table" and res.failed then return { failed = true, changed = false, msg = res.msg } end
    return { failed = true, msg = "module " .. task.module .. " raised an error: " .. tostring(res) }
  end
  return tidy(res)
end

local function status_of(res)
  if res.unreachable then return "unreachable" end
  if res.failed then return "failed" end
  if res.skipped then return "skipped" end
  return res.changed and "changed" or "ok"
end

-- One host, one task (all its loop items, retries). Returns the result.
function Run:run_host_task(host, task)
  local st = self.state[host]
  local emit = function(ev)
    ev.host, ev.task = host, task.name
    if task.no_log then
      -- no_log hides what the task prints and moves too, not only its result
      if ev.type == "stdout" or ev.type == "stderr" then return end
      local p = ev.progress
      if type(p) == "table" then
        ev.progress = { stage = p.stage, percentage = p.percentage, bytes_done = p.bytes_done,
          bytes_total = p.bytes_total, timestamp = p.timestamp }
      end
      if ev.type ~= "retry" and ev.data ~= nil then ev.data = "output hidden by no_log" end
      ev.item = nil
      if ev.result ~= nil then ev.result = { msg = "output hidden by no_log" } end
      if ev.error ~= nil then ev.error = "output hidden by no_log" end
    end
    self:emit(ev)
  end
  self:emit({ type = "host_task_start", host = host, task = task.name })
  local vars = self:host_vars(host, task)
  local items = { false }
  -- loop items computed from host data (a registered result, facts) are
  -- unsafe: `{{ item }}` never renders them again
  local items_unsafe = false
  if task.loop ~= nil then
    local list, lerr = task.loop
    if type(list) == "function" then
      local ok, v = pcall(list, vars)
      if not ok then
        if is_interrupt(v) then error(v, 0) end
        list, lerr = nil, tostring(v)
      else list = v end
      items_unsafe = true -- code of the play's own that may read anything
    elseif type(list) == "string" then
      items_unsafe, list, lerr = template.tainted(template.render_value, list, vars)
    end
    if lerr or type(list) ~= "table" then
      return { failed = true, msg = "loop: " .. (lerr or "must be a list") }
    end
    items = list
  end
  local results = {}
  for _, item in ipairs(items) do
    local ivars = vars
    if task.loop ~= nil then
      ivars = setmetatable({ [task.loop_var or "item"] = item }, { __index = vars })
      if items_unsafe then template.mark_unsafe(ivars, { task.loop_var or "item" }) end
    end
    local go, werr = eval_cond(task.when, ivars)
    local res
    if werr then res = { failed = true, msg = "when: " .. werr }
    elseif not go then res = { skipped = true, changed = false, msg = "condition was false" }
    else
      local attempt = 0
      while true do
        attempt = attempt + 1
        res = self:run_module(host, task, ivars, emit)
        if res.unreachable then break end
        local scope = setmetatable({}, { __index = ivars })
        if task.register then scope[task.register] = res end
        if task.changed_when ~= nil and not res.skipped then
          local c, e = eval_cond(task.changed_when, scope, res)
          if e then res.failed, res.msg = true, "changed_when: " .. e else res.changed = c end
        end
        if task.failed_when ~= nil and not res.skipped then
          local f, e = eval_cond(task.failed_when, scope, res)
          if e then res.failed, res.msg = true, "failed_when: " .. e
          else
            -- the module's own verdict no longer holds: do not show it as the message
            if res.failed and not f and type(res.msg) == "string" and res.msg:match("^non%-zero return code") then
              res.msg = nil
            end
            if f and not res.failed then
              -- failed only because of failed_when: say so (no empty message)
              res.msg = "failed_when condition was true: " .. cond_text(task.failed_when)
              res.failed_when_result = true
            end
            res.failed = f
          end
        end
        if task["until"] == nil or res.skipped then break end
        local done, e = eval_cond(task["until"], scope, res)
        if e then res.failed, res.msg = true, "until: " .. e break end
        res.attempts = attempt
        if done then break end
        if attempt > task.retries then
          res.failed = true
          res.msg = (res.msg and (res.msg .. "; ") or "") .. "still not done after " .. attempt .. " attempts"
          break
        end
        emit({ type = "retry", data = string.format("retrying (%d of %d)", attempt, task.retries) })
        if self.luasible then self.luasible.sleep(task.delay) end
      end
    end
    if task.loop ~= nil then
      res.item = item
      -- each item's result as it comes, as Ansible shows `ok: [h] => (item=x)`
      emit({ type = "item_result", status = status_of(res), item = item, result = res })
    end
    results[#results + 1] = res
    if res.unreachable then break end
  end
  local res
  if task.loop == nil then res = results[1]
  else
    -- an empty loop is a skipped task, as in Ansible
    res = { changed = false, failed = false, skipped = true, results = results }
    if #results == 0 then res.msg, res.skipped_reason = "No items in the list", "No items in the list" end
    for _, r in ipairs(results) do
      res.changed = res.changed or r.changed
      res.failed = res.failed or r.failed
      res.skipped = res.skipped and r.skipped
      if r.unreachable then res.unreachable, res.msg = true, r.msg end
      if r.failed and not res.msg then res.msg = r.msg end
    end
  end
  if task.register then st.registered[task.register] = res end
  if task.facts and res.ansible_facts then
    st.facts = {}
    for k, v in pairs(res.ansible_facts) do st.facts["ansible_" .. k] = v; st.facts[k] = v end
  end
  return res
end

function Run:record(host, task, res)
  local st = self.state[host]
  local status = status_of(res)
  local r = self.recap[host]
  if status == "failed" and task.ignore_errors then
    res.ignored = true
    r.ignored = r.ignored + 1
  else
    r[status] = r[status] + 1
  end
  if status == "changed" then r.ok = r.ok + 1 end
  if status == "unreachable" then st.out = "unreachable"
  elseif status == "failed" and not task.ignore_errors then st.out = "failed" end
  if res.changed and not res.failed and task.notify then
    for _, h in ipairs(task.notify) do st.notified[h] = true end
  end
  local details = self.details[host]
  details[#details + 1] = { task = task.name, status = status, result = res }
  local ev = { type = "host_task_result", host = host, task = task.name, module = task.module,
    status = status, result = res }
  if task.no_log then ev.result = { changed = res.changed, failed = res.failed, msg = "output hidden by no_log" } end
  self:emit(ev)
end

-- Run fn(host) for each host, at most `forks` at once.
function Run:each_host(hosts, fn)
  local luasible = self.luasible
  if #hosts == 0 then return end
  if not luasible or #hosts == 1 then
    for _, h in ipairs(hosts) do fn(h) end
    return
  end
  local next_i = 0
  local function worker()
    while true do
      next_i = next_i + 1
      local h = hosts[next_i]
      if not h then return end
      fn(h)
    end
  end
  local workers = {}
  for i = 1, math.min(self.forks, #hosts) do
    workers[i] = luasible.spawn(worker)
    self.tasks[#self.tasks + 1] = workers[i]
  end
  for _, w in ipairs(workers) do w:wait() end
end

function Run:active_hosts()
  local out = {}
  for _, h in ipairs(self.play.hosts) do if not self.state[h].out then out[#out + 1] = h end end
  return out
end

function Run:run_task(task, hosts)
  self:emit({ type = "task_start", task = task.name, module = task.module, handler = task.handler or nil })
  if task.run_once and #hosts > 0 then
    local first = hosts[1]
    local res = self:run_host_task(first, task)
    self:record(first, task, res)
    if task.register then
      for _, h in ipairs(hosts) do self.state[h].registered[task.register] = res end
    end
    return
  end
  self:each_host(hosts, function(h)
    local ok, res = pcall(self.run_host_task, self, h, task)
    if not ok then
      if is_interrupt(res) then error(res, 0) end
      res = { failed = true, msg = "internal error: " .. tostring(res) }
    end
    self:record(h, task, res)
  end)
end

function Run:run_play()
  local play = self.play
  self:emit({ type = "play_start", hosts = play.hosts, check = self.check or nil })
  for _, task in ipairs(play.tasks) do
    local hosts = self:active_hosts()
    if #hosts == 0 then break end
    self:run_task(task, hosts)
  end
  for _, handler in ipairs(play.handlers) do
    local hosts = {}
    for _, h in ipairs(self:active_hosts()) do
      local n = self.state[h].notified
      local hit = n[handler.name]
      local listen = handler.listen
      for _, l in ipairs(type(listen) == "string" and { listen } or as_list(listen)) do hit = hit or n[l] end
      if hit then hosts[#hosts + 1] = h end
    end
    if #hosts > 0 then
      handler.handler = true
      self:run_task(handler, hosts)
    end
  end
  for _, h in ipairs(play.hosts) do
    local conn = self.state[h].conn
    if conn and conn.close then pcall(conn.close, conn) end
    self.state[h].conn = nil
  end
end

--- Stop everything the run holds: its tasks (closing a coroutine closes its
--- pending to-be-closed values: the streams of running commands, so their
--- process groups are killed), then the connections (an SSH connection
--- cancels its commands and sends their remote kills), and let the loop
--- turn a little so that those kills go out.
function Run:abort()
  local ok, core = pcall(require, "luasible.core")
  if not ok then core = nil end
  for i = #self.tasks, 1, -1 do
    local t = self.tasks[i]
    if not t.done then pcall(t.cancel, t, require("luasible.util.errors").interrupt()) end
  end
  self.tasks = {}
  local any = false
  for _, st in pairs(self.state or {}) do
    local conn = st.conn
    st.conn = nil
    if conn and conn.close then
      pcall(conn.close, conn)
      any = true
    end
  end
  if any and core then
    local deadline = core.now() + 5
    repeat
      local guard = core.timer(0.05) -- run_once blocks at most this long
      pcall(core.run_once)
      guard:close()
      local alive = core.run_once(true)
    until not alive or core.now() > deadline
  end
end

-- Seconds since the epoch (a float, from the core).
local function wall_clock(luasible)
  if luasible and luasible.wall then
    local t = luasible.wall()
    if t then return t end
  end
  return os.time()
end

local function load_inventory(src)
  if src == nil then return inventory.load(nil) end
  return inventory.load(src)
end

--- Run one play or a list of plays. Returns recap, details; or nil, err when
--- the play or its inventory is invalid (then nothing ran on any host).
function M.play(play, opts)
  opts = opts or {}
  local inv, ierr = load_inventory(opts.inventory)
  if not inv then return nil, ierr end
  local plays = { play }
  if type(play) == "table" and play.tasks == nil and type(play[1]) == "table" then plays = play end
  local prepared = {}
  local popts = setmetatable({ locate = M.locator(opts.play_file) }, { __index = opts })
  for i, p in ipairs(plays) do
    local pp, err = M.prepare(p, popts, inv)
    if not pp then return nil, err end
    prepared[i] = pp
  end
  -- group_vars/ and host_vars/ next to the play (Ansible's playbook folder),
  -- above the inventory's own; read once every play is prepared (a play may
  -- have added the implicit localhost)
  local play_dir = opts.play_vars_dir
  if play_dir == nil then play_dir = opts.base_dir end
  local play_layer
  if play_dir then
    local function norm(d) return (tostring(d):gsub("/+$", ""):gsub("^%./", "")) end
    local same = false
    for _, l in ipairs(inv.vars_layers or {}) do same = same or norm(l.dir) == norm(play_dir) end
    if not same then
      local lerr
      play_layer, lerr = inventory.vars_dir(play_dir)
      if not play_layer then return nil, lerr end
    end
  end
  local ok_l, luasible = pcall(require, "luasible")
  if not ok_l then
    if not opts.connect then return nil, "luasible core not available: " .. tostring(luasible) end
    luasible = nil
  end
  local extra = copy_into({}, opts.extra_vars)
  local recap, details = {}, {}
  local groups = {}
  for _, g in ipairs(inv.group_order) do groups[g] = inv:group_hosts(g) end
  -- hostvars: each host's vars, read when first used; a mapping (`{}` when
  -- printed, never `[]`) whose pairs() lists every host of the inventory
  local hostvars_cache = setmetatable({}, { __name = "luasible.object", __index = function(t, h)
    if not inv.hosts[h] then return nil end
    local v = inv:host_vars(h, play_layer)
    rawset(t, h, v)
    return v
  end, __pairs = function(t)
    for _, h in ipairs(inv.host_order) do local _ = t[h] end
    return next, t, nil
  end })
  local now = luasible and luasible.now or os.clock
  local run = setmetatable({
    seq = 0, on_event = opts.on_event, secrets = {}, secret_set = {},
    check = opts.check and true or false, connect = opts.connect,
    extra_vars = extra, recap = recap, details = details, groups = groups, hostvars = hostvars_cache,
    luasible = luasible, now = now, mono0 = now(), wall0 = wall_clock(luasible), base_dir = opts.base_dir or ".",
    tasks = {},
  }, Run)
  run:add_secrets(extra)
  local t0 = now()
  -- A host's state lives for the whole run, as in an Ansible playbook: its
  -- registered results and facts are there in the later plays, and a host
  -- that failed or was unreachable leaves the later plays too.
  run.state = {}
  local ok, err = pcall(function()
    for _, p in ipairs(prepared) do
      run.play = p
      run.forks = math.max(1, math.tointeger(tonumber(opts.forks or p.raw.forks or 10)) or 10)
      local left = {}
      for _, h in ipairs(p.hosts) do
        if not (run.state[h] and run.state[h].out) then left[#left + 1] = h end
      end
      p.hosts = left
      for _, h in ipairs(p.hosts) do
        local st = run.state[h]
        if not st then
          st = { inv_vars = inv:host_vars(h, play_layer), registered = {} }
          run.state[h] = st
          run:add_secrets(st.inv_vars)
        end
        st.notified = {}
        recap[h] = recap[h] or { ok = 0, changed = 0, failed = 0, unreachable = 0, skipped = 0, ignored = 0 }
        details[h] = details[h] or {}
      end
      if luasible and #p.hosts > 1 then
        local task = luasible.spawn(function() run:run_play() end)
        run.tasks[#run.tasks + 1] = task
        task:wait()
      else
        run:run_play()
      end
      -- every host of the play failed: the run stops there (Ansible's "NO
      -- MORE HOSTS LEFT"), the later plays depend on this one
      if #p.hosts > 0 and #run:active_hosts() == 0 then
        run:emit({ type = "no_hosts_left", data = "no more hosts left" })
        break
      end
    end
  end)
  if not ok then
    -- interrupted (a caught signal) or an internal error: stop every command
    -- and close every connection before the error goes on
    run:abort()
    if is_interrupt(err) then
      local sig = "SIG" .. (err.signal or "INT")
      run:emit({ type = "interrupted", signal = sig, data = "interrupted (" .. sig .. ")" })
      run.play = nil
      run:emit({ type = "recap", recap = recap, elapsed = now() - t0, interrupted = sig })
    end
    error(err, 0)
  end
  run.play = nil
  run:emit({ type = "recap", recap = recap, elapsed = now() - t0 })
  return recap, { hosts = details, elapsed = now() - t0 }
end

--- Exit status for a recap, like Ansible: 0 ok, 2 failures, 4 unreachable.
function M.exit_code(recap)
  local code = 0
  for _, r in pairs(recap) do
    if r.unreachable > 0 then code = 4 end
    if r.failed > 0 and code == 0 then code = 2 end
  end
  return code
end

return M
