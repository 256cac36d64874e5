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
local basename = require("luasible.util.path").basename
local S = require "luasible.util.schema"
local gc = require "luasible.util.gc"
local md = require "luasible.play.module_defaults"

local M = {}

local F = require "luasible.play.fields"
M.PLAY, M.TASK, M.HANDLER, M.as_list = F.PLAY, F.TASK, F.HANDLER, F.as_list
local PLAY_ORDER, as_list = F.PLAY_ORDER, F.as_list

local pt = require "luasible.play.prepare_task"
local check_templates, field_name = pt.check_templates, pt.field_name
M.prepare_task, M.selected_by_tags = pt.prepare_task, pt.selected_by_tags -- (play/include.lua)
local batches = require "luasible.play.batches"

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
  -- a YAML play without a name is shown by its hosts, as ansible-playbook's
  -- `PLAY [web]` (a Lua play's by its file; the messages keep the file's)
  local header = pname
  if type(play.name) ~= "string" and file and file:find("%.ya?ml$") then
    local h = play.hosts
    if type(h) == "table" then
      local names = {}
      for i, x in ipairs(h) do names[i] = tostring(x) end
      h = table.concat(names, ",")
    end
    if type(h) == "string" then header = h end
  end
  local p = { base_dir = play.base_dir, name = header, raw = play, pre_tasks = {}, tasks = {}, post_tasks = {},
    handlers = {}, path = path, prepared = {}, module_defaults = pmd }
  local tags, skip = as_list(opts.tags), as_list(opts.skip_tags)
  p.tags, p.skip_tags = tags, skip -- for the tasks of include_tasks (play/include.lua)
  -- gathering = implicit / smart (the config file): facts unless the play says gather_facts = false
  local implicit = opts.gathering == "implicit" or opts.gathering == "smart"
  if play.gather_facts or (play.gather_facts == nil and implicit) then
    -- gather_subset: the setup module's (modules/setup.lua)
    local subset = play.gather_subset
    if type(subset) == "string" then subset = { subset } end -- ("!all,!min": split by setup, shown as given)
    local fargs = (subset or play.fact_path) and { gather_subset = subset, fact_path = play.fact_path } or nil
    local facts, gerr = M.prepare_task({ name = "Gathering Facts", module = "setup", tags = { "always" },
      args = fargs }, "gather_facts", path)
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
    local task, err
    if require("luasible.play.blocks").is_include(t) then -- include_tasks as a handler (play/handlers.lua)
      task = { name = t.name or ("include_tasks " .. t.include), module = "include_tasks", include_node = t,
        listen = F.name_list(t.listen), notify = {}, tags = {} }
    else task, err = M.prepare_task(t, place("handlers", i, t), path, nil, true, pmd) end
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
  p.serial, serr = batches.render_serial(play.serial, play.vars, opts.extra_vars)
  if serr then return nil, at(at_path(path_of("serial")) or pline) .. pshown .. ": serial: " .. serr end
  return p
end

return M
