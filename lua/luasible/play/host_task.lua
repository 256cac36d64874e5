--- luasible.play.host_task: one task on one host: its loop items, each
-- item's when, the module run with its rendered and checked arguments,
-- changed_when / failed_when, until with retries, and the result shaped as
-- a registered value (one meaning per field: `stdout_lines` is the list of
-- lines, a count is `stdout_line_count`).
local inventory = require "luasible.inventory"
local template = require "luasible.template"
local modules = require "luasible.module"
local conditions = require "luasible.play.conditions"
local connect = require "luasible.play.connect"
local delegate = require "luasible.play.delegate"
local async = require "luasible.play.async"
local md = require "luasible.play.module_defaults"
local vars = require "luasible.play.vars"
local is_interrupt = require("luasible.util.errors").is_interrupt
local S = require "luasible.util.schema"

local M = {}

--- "unreachable", "failed", "skipped", "changed" or "ok".
function M.status_of(res)
  if res.unreachable then return "unreachable" end
  if res.failed then return "failed" end
  if res.skipped then return "skipped" end
  return res.changed and "changed" or "ok"
end

-- The lines of s, empty lines kept, "\r\n" as one line end.
local function lines_of(s)
  local lines = {}
  if s ~= "" then
    for l in (s:sub(-1) == "\n" and s or s .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = l end
  end
  return lines
end

--- A module's result as a task result: booleans for changed/failed, the
--- duration to the millisecond, stdout_lines/stderr_lines the lists of
--- lines of stdout/stderr (a count a module passed on from the core, such
--- as execute's result, moves to stdout_line_count/stderr_line_count).
function M.tidy(res)
  if type(res) ~= "table" then res = { failed = true, msg = "module returned " .. type(res) .. ", not a table" } end
  res.changed = res.changed and true or false
  res.failed = res.failed and true or false
  if math.type(res.duration) == "float" then res.duration = math.floor(res.duration * 1000 + 0.5) / 1000 end
  for _, k in ipairs({ "stdout", "stderr" }) do
    local key = k .. "_lines"
    if type(res[key]) == "number" then
      if res[k .. "_line_count"] == nil then res[k .. "_line_count"] = res[key] end
      res[key] = nil
    end
    if type(res[k]) == "string" and res[key] == nil then res[key] = lines_of(res[k]) end
  end
  return res
end

-- The become settings of a task: the task's, else the play's, else the host's.
local function become_of(run, task, hvars)
  local play = run.play.raw
  local become = task.become
  if become == nil then become = play.become end
  return inventory.become(setmetatable({ ansible_become = become,
    ansible_become_user = task.become_user or play.become_user,
    ansible_become_method = task.become_method or play.become_method }, { __index = hvars }))
end

--- The task's arguments with the module_defaults of its play, blocks, role
--- and its own under them (play/module_defaults.lua); not rendered yet.
function M.with_defaults(run, task, ivars)
  local list = md.concat(run.play.module_defaults, task.module_defaults)
  if not list then return task.args end
  local d = md.for_module(list, task.module)
  if type(d) == "string" then -- module: "{{ its_defaults }}"
    local v = template.render_value(d, ivars)
    d = type(v) == "table" and v or nil
  end
  return md.merge(d, task.args)
end

--- What a task's templates read files from (lookup('file'), ...), as
--- Ansible's search path: its role's folder (files/, then the role), then
--- the play's (files/, then the folder itself).
function M.lookup_opts(run, task)
  local path = require "luasible.util.path"
  local base = run.base_dir or "."
  local dirs = {}
  if task.role_path then dirs[1], dirs[2] = path.join(task.role_path, "files"), task.role_path end
  dirs[#dirs + 1] = path.join(base, "files")
  dirs[#dirs + 1] = base
  return { base_dir = base, search_dirs = dirs }
end

-- Run the module once for one host (one loop item). Returns a result table.
local function run_module(run, host, task, ivars, emit)
  local args, err = template.render_value(M.with_defaults(run, task, ivars), ivars, nil, M.lookup_opts(run, task))
  if err then return { failed = true, msg = task.module .. ": " .. err } end
  local vargs, verr = modules.validate(task.mod, args)
  if not vargs then return { failed = true, msg = verr } end
  -- check_mode = true: always in check mode, as Ansible; false: never
  local check = task.check_mode == true or (run.check and task.check_mode ~= false)
  if task.async and task.async > 0 and check then
    return { failed = true, msg = "check mode and async cannot be used on same task." } -- Ansible's words
  end
  if check and not task.mod.check_mode then
    return { skipped = true, changed = false, msg = "skipped in check mode: " .. task.module .. " cannot check" }
  end
  -- delegate_to: the delegated host's connection, this host's variables (play/delegate.lua)
  local dhost, derr = delegate.target(run, task, ivars)
  if derr then return { failed = true, msg = derr } end
  if dhost then
    local e = emit
    emit = function(ev, from) ev.delegated_to = dhost; e(ev, from) end
  end
  local conn, cerr = connect.open(run, dhost or host)
  if not conn then return { unreachable = true, msg = cerr, delegated_to = dhost } end
  local luasible = run.luasible
  local bvars = dhost and delegate.become_vars(run, dhost, ivars) or ivars
  local b = become_of(run, task, bvars)
  if b.become and b.method ~= "sudo" and b.method ~= "su" then
    return { failed = true, msg = "become_method '" .. tostring(b.method) .. "' is not supported (sudo and su are)" }
  end
  -- timeout (the task's, its block's, its play's): every command of the module gets what is left of it
  local limit = require("luasible.play.rolling").keyword(run, task, "timeout")
  local now = luasible and luasible.now or os.clock
  local deadline = limit and limit > 0 and now() + limit or nil
  -- environment (a task's, its blocks', role's, play's): every command the module runs gets it
  local environment
  if task.environment ~= nil then
    local e, eerr = template.render_value(task.environment, ivars)
    if eerr then return { failed = true, msg = "environment: " .. eerr } end
    if type(e) ~= "table" then
      return { failed = true, msg = "environment must be a mapping of names to values, got " .. S.show(e) }
    end
    environment = e
  end
  local ctx = modules.context({
    conn = conn, host = host, vars = ivars, emit = emit, check_mode = check, become = b, deadline = deadline,
    environment = environment,
    diff = vars.diff_mode(run, task) and not task.no_log, -- no_log: no diff made (the result is hidden too)
    task = task.name, base_dir = run.base_dir, role_path = task.role_path,
    module_path = run.play.path, -- ctx:module searches where the play found its modules
    now = luasible and luasible.now or os.clock,
    sleep = luasible and luasible.sleep or function() end,
  })
  require("luasible.module.home").expand(ctx, task.mod, vargs) -- `~` in path arguments, as Ansible's modules
  local job = task.async and task.async > 0 and async.job(task) or nil -- async (play/async.lua)
  if job then ctx.async = async.runner(job) end
  local ok, res = pcall(task.mod.run, ctx, vargs)
  if not ok then
    if is_interrupt(res) then error(res, 0) end
    if type(res) == "table" and res.unreachable then res = { unreachable = true, msg = res.msg }
    elseif type(res) == "table" and res.failed then res = { failed = true, changed = false, msg = res.msg }
    else res = { failed = true, msg = "module " .. task.module .. " raised an error: " .. tostring(res) } end
  else
    res = M.tidy(res)
  end
  if job then res = M.tidy(async.result(job, res)) end
  if deadline and now() >= deadline then -- Ansible's words (TaskTimeoutError)
    res = { failed = true, changed = false, msg = string.format("The %s action failed to execute in the"
      .. " expected time frame (%d) and was terminated", task.module, limit) }
  end
  res.delegated_to = dhost
  return res, dhost
end

-- changed_when and failed_when applied to a result (res.changed/failed/msg).
local function judge(task, scope, res)
  if task.changed_when ~= nil and not res.skipped then
    local c, e = conditions.eval(task.changed_when, scope, res)
    if e then res.failed, res.msg = true, "changed_when: " .. e else res.changed = c end
  end
  if task.failed_when ~= nil and not res.skipped then
    local f, e = conditions.eval(task.failed_when, scope, res)
    if e then res.failed, res.msg = true, "failed_when: " .. e
    else
      -- the module's own verdict no longer holds: do not show it as the message
      if res.failed and not f and type(res.msg) == "string" and res.msg:match("^non%-zero return code") then
        res.msg = nil
      end
      if f and not res.failed then
        -- failed only because of failed_when: say so (no empty message)
        res.msg = "failed_when condition was true: " .. conditions.text(task.failed_when)
        res.failed_when_result = true
      end
      res.failed = f
    end
  end
end

-- One loop item (or the task without a loop): when, then the module until
-- `until` holds or the retries are spent. Returns the result.
local function run_item(run, host, task, ivars, emit)
  local go, werr = conditions.eval(task.when, ivars)
  if werr then return { failed = true, msg = "when: " .. werr } end
  if not go then return { skipped = true, changed = false, msg = "condition was false" } end
  local attempt, res, dhost = 0
  while true do
    attempt = attempt + 1
    res, dhost = run_module(run, host, task, ivars, emit)
    if res.unreachable then break end
    local scope = setmetatable({}, { __index = ivars })
    if task.register then scope[task.register] = res end
    judge(task, scope, res)
    if task["until"] == nil or res.skipped then break end
    local done, e = conditions.eval(task["until"], scope, res)
    if e then res.failed, res.msg = true, "until: " .. e break end
    res.attempts = attempt
    if done then break end
    if attempt > task.retries then
      res.failed = true
      res.msg = (res.msg and (res.msg .. "; ") or "") .. "still not done after " .. attempt .. " attempts"
      break
    end
    emit({ type = "retry", data = string.format("retrying (%d of %d)", attempt, task.retries),
      delegated_to = dhost })
    if run.luasible then run.luasible.sleep(task.delay) end
  end
  return res, dhost
end

-- The items of a task's loop, and whether they are unsafe (computed from
-- host data: `{{ item }}` never renders them again); or nil, err.
local function loop_items(run, task, hvars)
  local list, lerr, unsafe = task.loop, nil, false
  if type(list) == "function" then
    local ok, v = pcall(list, hvars)
    if not ok then
      if is_interrupt(v) then error(v, 0) end
      list, lerr = nil, tostring(v)
    else list = v end
    unsafe = true -- code of the play's own that may read anything
  elseif type(list) == "string" then
    unsafe, list, lerr = template.tainted(template.render_value, list, hvars, M.lookup_opts(run, task))
  elseif type(list) == "table" then
    -- a list written in the play: its items rendered, as Ansible renders the
    -- whole loop value (`loop: ["{{ root }}/a", b]`: item and label rendered)
    unsafe, list, lerr = template.tainted(template.render_value, list, hvars, M.lookup_opts(run, task))
  end
  if lerr then return nil, "loop: " .. lerr end
  if type(list) ~= "table" then
    -- a "{{ expression }}" giving no list, known only here (as Ansible's "Invalid data passed to 'loop'")
    return nil, "loop: must be a list, got " .. S.show(list)
  end
  return list, unsafe
end

-- The result of a looped task from its items' results.
local function loop_result(results)
  -- an empty loop is a skipped task, as in Ansible
  local res = { changed = false, failed = false, skipped = true, results = results }
  if #results == 0 then res.msg, res.skipped_reason = "No items in the list", "No items in the list" end
  for _, r in ipairs(results) do
    res.changed = res.changed or r.changed
    res.failed = res.failed or r.failed
    res.skipped = res.skipped and r.skipped
    if r.unreachable then res.unreachable, res.msg = true, r.msg end
    if r.failed and not res.msg then res.msg = r.msg end
  end
  return res
end

--- loop_control's index_var, extended (ansible_loop) and pause for the
--- i-th of `items`, in the item's variables `ivars`.
function M.loop_control(run, task, ivars, items, i)
  if task.index_var then ivars[task.index_var] = i - 1 end
  if task.loop_extended then
    local n = #items
    ivars.ansible_loop = { index = i, index0 = i - 1, revindex = n - i + 1, revindex0 = n - i,
      first = i == 1, last = i == n, length = n, allitems = items,
      previtem = items[i - 1], nextitem = items[i + 1] }
  end
  if task.loop_pause and task.loop_pause > 0 and i > 1 and run.luasible then run.luasible.sleep(task.loop_pause) end
end

--- One host, one task (all its loop items, retries). Registers the result
--- and the facts it gathered; returns the result.
function M.run(run, host, task)
  local st = run.state[host]
  local emit = run.events:for_host(host, task)
  run.events:emit({ type = "host_task_start", host = host, task = task.name })
  local hvars = vars.host_vars(run, host, task)
  local items, items_unsafe = { false }, false
  if task.loop ~= nil then
    local list, unsafe = loop_items(run, task, hvars)
    if not list then return { failed = true, msg = unsafe } end
    items, items_unsafe = list, unsafe
  end
  local results = {}
  for i, item in ipairs(items) do
    local ivars = hvars
    if task.loop ~= nil then
      local name = task.loop_var or "item"
      ivars = setmetatable({ [name] = item }, { __index = hvars })
      if items_unsafe then template.mark_unsafe(ivars, { name }) end
      M.loop_control(run, task, ivars, items, i)
    end
    local res, dhost = run_item(run, host, task, ivars, emit)
    if task.mod.changes_inventory then require("luasible.play.inventory_changes").apply(run, host, res) end
    -- the facts of the task: the host's, or the delegated host's with delegate_facts
    local fst = delegate.facts_state(run, host, task, dhost)
    -- set_fact: the host's variables from now on (each item's in turn)
    if task.mod.sets_facts and type(res.ansible_facts) == "table" and not res.failed then
      fst.set_facts = fst.set_facts or {}
      for k, v in pairs(res.ansible_facts) do fst.set_facts[k] = v end
    elseif task.mod.sets_include_vars and type(res.ansible_facts) == "table" and not res.failed then
      st.included_vars = st.included_vars or {} -- include_vars: below set_fact (play/vars.lua)
      for k, v in pairs(res.ansible_facts) do st.included_vars[k] = v end
    end
    -- facts gathered (the play's Gathering Facts, a setup task)
    if (task.facts or task.module == "setup") and type(res.ansible_facts) == "table" and not res.failed then
      fst.facts = fst.facts or {} -- merged into the facts the host has, as Ansible's (meta: clear_facts clears)
      for k, v in pairs(res.ansible_facts) do -- (setup's ansible_local: one name, as Ansible's)
        fst.facts[k:match("^ansible_") and k or "ansible_" .. k] = v; fst.facts[k] = v
      end
    elseif task.mod.returns_facts and type(res.ansible_facts) == "table" and not res.failed then
      -- a module's facts (package_facts, service_facts, getent, hostname): the host's facts, as
      -- Ansible's: ansible_facts.packages and `packages`; ansible_hostname is also ansible_facts.hostname
      fst.facts = fst.facts or {}
      for k, v in pairs(res.ansible_facts) do
        fst.facts[k] = v
        if type(k) == "string" and k:find("^ansible_.") then fst.facts[k:sub(9)] = v end
      end
    end
    if task.loop ~= nil then
      res.item = item
      -- each item's result as it comes, as Ansible shows `ok: [h] => (item=x)`
      local label
      if task.loop_label then
        local l, lerr = template.render(task.loop_label, ivars)
        label = l or ("loop_label: " .. tostring(lerr))
      end
      emit({ type = "item_result", status = M.status_of(res), item = item, label = label, result = res,
        delegated_to = dhost })
    end
    results[#results + 1] = res
    if res.unreachable then break end
  end
  local res = task.loop == nil and results[1] or loop_result(results)
  if task.loop ~= nil and results[1] then res.delegated_to = results[1].delegated_to end
  if task.register then st.registered[task.register] = res end
  return res
end

return M
