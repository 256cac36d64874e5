--- luasible.play.playbook: an Ansible playbook (YAML) read into the play
-- model the Lua plays use (docs/TASKS.md): one model, one runner. The
-- playbook is a list of plays and `import_playbook`s (relative to the file
-- that imports them; a cycle is refused). Each YAML keyword becomes the
-- model's field; a keyword or module luasible does not run yet is refused
-- here, naming it and its file:line, before any host is touched (the table
-- of what is supported: docs/TASKS.md, "Playbooks in YAML"). What is left
-- (types, module arguments, templates, notify names, hosts) is checked by
-- play/prepare.lua as for a Lua play, its messages given the YAML lines
-- (luasible.yaml's M.line) by the locator made here.
--
--   local plays, sources = M.load(path)   -- or nil, "file:line: message"
--   plays[i]    a play of the model
--   sources[i]  { play_file =, locate =, play_index = } for prepare
-- Here the plays and import_playbook; a task list is playbook_list.lua's,
-- one task playbook_task.lua's, what they share playbook_read.lua's.
local yaml = require "luasible.yaml"
local path = require "luasible.util.path"
local json = require "luasible.json"
local template = require "luasible.template"
local S = require "luasible.util.schema"
local roles = require "luasible.play.roles"
local rd = require "luasible.play.playbook_read"
local task = require "luasible.play.playbook_task"
local list_mod = require "luasible.play.playbook_list"
local raise, where, reader, keys_of, is_map, is_seq = rd.raise, rd.where, rd.reader, rd.keys_of, rd.is_map, rd.is_seq

local M = {}

--- Is this file name a YAML playbook (.yml / .yaml)?
function M.is_playbook(file)
  return type(file) == "string" and (file:match("%.ya?ml$") ~= nil)
end

-- Play keywords taken as they are (the model has the same field).
local PLAY_SAME = { name = true, hosts = true, vars = true, gather_facts = true, become = true,
  become_user = true, tags = true, handlers = true, diff = true, become_method = true,
  serial = true, max_fail_percentage = true, any_errors_fatal = true, strategy = true, order = true,
  ignore_unreachable = true, run_once = true, throttle = true, -- rolling deploys (play/rolling.lua)
  connection = true, port = true, no_log = true, module_defaults = true, -- (play/connect.lua, module_defaults.lua)
  gather_subset = true, fact_path = true, timeout = true, -- (the facts task: play/prepare.lua)
  force_handlers = true } -- (play/strategy.lua)
-- Play keywords read here into something else of the model.
local PLAY_READ = { tasks = true, pre_tasks = true, post_tasks = true, vars_files = true, remote_user = true,
  check_mode = true, collections = true, environment = true, roles = true, vars_prompt = true }
-- Ansible's play keywords luasible does not run yet: refused by name.
local PLAY_NOT_YET = {
  "ignore_errors", "become_flags",
  "become_exe",
  "gather_timeout", "debugger" }
local PLAY_NOT_YET_SET = task.set_of(PLAY_NOT_YET)

-- A play's name as the messages show it.
local function play_label(p, file)
  return "play " .. S.quote(type(p.name) == "string" and p.name or path.basename(file))
end

-- vars_files of a play: each file's mapping, later files over earlier ones,
-- all over the play's vars (Ansible's precedence). Vault-encrypted files
-- and !vault values are read as -e @file reads them. An entry that needs a
-- host's variables (its name does not render with the play's vars and the
-- extra vars) or is a list (the first file found) is read per host
-- (play/vars_files.lua): it and every entry after it go in `host`, the
-- entries without `{{ }}` read here.
local function read_vars_files(r, p, vars, extra)
  local vf = require "luasible.play.vars_files"
  local list = p.vars_files
  if type(list) == "string" then list = { list } end
  if type(list) ~= "table" or not S.is_list(list) then
    raise(where(r, p, "vars_files") .. "vars_files must be a file name or a list of them, got " .. S.show(list))
  end
  local host
  for i, f in ipairs(list) do
    local function bad(msg) raise(where(r, list, i) .. msg) end
    local names = type(f) == "table" and S.is_list(f) and next(f) ~= nil and f or { f }
    for _, n in ipairs(names) do
      if type(n) ~= "string" or n == "" then
        bad("vars_files[" .. i .. "] must be a file name or a list of them, got " .. S.show(f))
      end
      local _, terr = template.check(n)
      if terr then bad("vars_files[" .. i .. "]: " .. terr) end
    end
    local file
    if #names == 1 and type(f) == "string" and (host == nil or not f:find("{{", 1, true)) then
      file = f
      if f:find("{{", 1, true) then
        -- rendered with the play's vars (and the files read before) and the extra vars
        local scope = {}
        for k, v in pairs(vars) do scope[k] = v end
        for k, v in pairs(extra or {}) do scope[k] = v end
        file = template.render(f, scope)
        if file then file = tostring(file) end
      end
    end
    if file then
      file = path.is_abs(file) and file or path.join(r.dir, file)
      local v = vf.read(file, bad)
      if not v then bad("vars file " .. S.escape(f) .. " was not found (" .. S.escape(file) .. ")") end
      if host then host[#host + 1] = { data = v } else yaml.merge_marked(vars, v) end
    else
      local shown = {}
      for k, n in ipairs(names) do shown[k] = "'" .. n .. "'" end
      host = host or {}
      host[#host + 1] = { names = names, where = where(r, list, i), dir = r.dir,
        label = type(f) == "table" and ("[" .. table.concat(shown, ", ") .. "]") or f }
    end
  end
  return host
end

-- A play of the YAML as a model play, and its source map for the locator.
local function convert_play(r, p, opts)
  local label = play_label(p, r.file)
  local out, src = {}, { node = p, tasks = {}, handlers = {} }
  for _, k in ipairs(keys_of(p)) do
    local function bad(msg) raise(where(r, p, k) .. label .. ": " .. msg) end
    if type(k) ~= "string" then bad("a keyword must be a string, got " .. S.show(k))
    elseif PLAY_SAME[k] then
      if not yaml.is_null(p[k]) then out[k] = rd.keyword_value(k, p[k]) end
    elseif PLAY_READ[k] then local _ = k
    elseif PLAY_NOT_YET_SET[k] then bad("the keyword " .. S.quote(k) .. " is not supported yet")
    elseif k == "when" then -- as Ansible: a play has no condition (a task, a block, a role has)
      bad("'when' is not a play keyword (put it on the tasks, a block or a role; hosts: and --limit choose hosts)")
    else bad("unknown play keyword " .. S.quote(k)) end
  end
  if yaml.is_null(p.hosts) or p.hosts == nil then raise(where(r, p) .. label .. " has no hosts") end
  if type(out.vars) == "table" or p.vars_files ~= nil or p.vars_prompt ~= nil then
    local vars = json.object()
    if type(p.vars) == "table" then yaml.merge_marked(vars, p.vars)
    elseif p.vars ~= nil and not yaml.is_null(p.vars) then
      raise(where(r, p, "vars") .. label .. ": vars must be a mapping, got " .. S.show(p.vars))
    end
    -- vars_prompt's answers are play vars, under vars_files (play/vars_prompt.lua)
    if p.vars_prompt ~= nil then require("luasible.play.vars_prompt").read(rd, r, p, vars, label, opts) end
    if p.vars_files ~= nil then out.vars_files_host = read_vars_files(r, p, vars, opts.extra_vars) end
    out.vars = vars
  end
  if yaml.is_null(out.vars) then out.vars = nil end
  if p.remote_user ~= nil then
    if type(p.remote_user) ~= "string" or p.remote_user == "" then
      raise(where(r, p, "remote_user") .. label .. ": remote_user must be a user name, got " .. S.show(p.remote_user))
    end
    out.remote_user = p.remote_user
  end
  if p.check_mode ~= nil and type(p.check_mode) ~= "boolean" then
    raise(where(r, p, "check_mode") .. label .. ": check_mode must be true or false, got " .. S.show(p.check_mode))
  end
  if p.collections ~= nil and (type(p.collections) ~= "table" or not S.is_list(p.collections)) then
    raise(where(r, p, "collections") .. label .. ": collections must be a list of names, got "
      .. S.show(p.collections))
  end
  local rctx
  rctx = roles.context({ r = r, raise = raise, where = where, reader = reader, label = label,
    roles_path = opts.roles_path, check_mode = p.check_mode, environment = p.environment,
    name_vars = rd.scope(out.vars, opts.extra_vars), -- (templated role names: play/roles.lua)
    convert_task = function(rr, t, what, h, list, j) -- (the environment of the role being read: ctx.scope)
      return task.convert(rr, t, what, h, list, j, rctx.scope.environment)
    end, convert_list = function(rr, l, what, maps) -- a block / import_tasks of a role's tasks (play/roles.lua)
      return list_mod.convert(rr, l, what, false, p, maps, { rd.tidy(rr.file) })
    end })
  list_mod.set_roles(p, rctx)
  -- the task lists: pre_tasks, tasks, post_tasks (handlers flushed after each)
  for _, list in ipairs({ "pre_tasks", "tasks", "post_tasks", "handlers" }) do
    local l = p[list]
    if yaml.is_null(l) then l = nil end
    if l ~= nil then
      if not is_seq(l) then
        raise(where(r, p, list) .. label .. ": " .. list .. " must be a list of tasks, got " .. S.show(l))
      end
      local maps = {}
      local what = string.format("%s, %s", label, list == "handlers" and "handler" or
        (list == "tasks" and "task" or list:gsub("s$", "")))
      out[list] = list_mod.convert(r, l, what, list == "handlers", p, maps, { rd.tidy(r.file) })
      src[list] = maps
    end
  end
  roles.expand(rctx, p, out, src) -- play/roles.lua: the roles' tasks before `tasks`, their handlers before `handlers`
  return out, src
end

-- The locator prepare uses (play/locate.lua's face): at(path) with path =
-- { play_index, field, [task index, field, ...] } -> line, exact.
local function locator(src, play_index)
  local function at(p)
    if p[1] ~= play_index then return nil, false end
    local node = src.node
    local line = yaml.line(node)
    if #p == 1 then return line, true end
    local field = p[2]
    local maps = src[field]
    if type(maps) ~= "table" or p[3] == nil then
      local l = yaml.line(node, field)
      return l or line, l ~= nil
    end
    local tm = maps[p[3]]
    if not tm then return yaml.line(node, field) or line, false end
    local tline = tm.line or yaml.line(node[field], p[3]) or yaml.line(tm.node)
    if #p == 3 then return tline, true end
    local key = tm.keys[p[4]] or p[4]
    local l = yaml.line(tm.node, key)
    if not l then return tline, false end
    -- deeper (an argument of the module): its line in the YAML when it is there
    local v = tm.node[key]
    for d = 5, #p do
      if type(v) ~= "table" then return l, false end
      local dl = yaml.line(v, p[d])
      if not dl then return l, false end
      l, v = dl, v[p[d]]
    end
    return l, true
  end
  -- the file of the line too: a task of an imported task file is in its own
  local function at_file(p)
    local line, exact = at(p)
    local tm = p[1] == play_index and p[3] ~= nil and type(src[p[2]]) == "table" and src[p[2]][p[3]]
    return line, exact, tm and tm.file or nil
  end
  return setmetatable({ at = at_file }, { __call = function() return nil end })
end

M.locator = locator -- (play/lua_roles.lua: the role tasks of a Lua play)

-- Read one playbook file into plays/sources; `stack` the files importing it.
local function read_file(file, plays, sources, stack, opts, from)
  local norm = rd.tidy(file)
  if #stack >= 64 then raise(file .. ": import_playbook nested more than 64 deep") end
  for _, f in ipairs(stack) do
    if f == norm then raise(file .. ": import_playbook cycle: " .. table.concat(stack, " -> ") .. " -> " .. norm) end
  end
  local doc, r = rd.read_list(file, "a playbook must be a list of plays",
    { at = from, noun = "playbook ", empty = "the playbook is empty (a list of plays is expected)" })
  stack[#stack + 1] = norm
  for i, p in ipairs(doc) do
    if not is_map(p) then
      raise(where(r, doc, i) .. "play " .. i .. " must be a mapping of keywords, got " .. S.show(p))
    end
    if p.import_playbook ~= nil then
      for k in pairs(p) do
        if k ~= "import_playbook" and k ~= "name" then
          raise(where(r, p, k) .. "import_playbook: the keyword " .. S.quote(k) .. " is not supported with it yet")
        end
      end
      local f = p.import_playbook
      if type(f) ~= "string" or f == "" then
        raise(where(r, p, "import_playbook") .. "import_playbook must be a file name, got " .. S.show(f))
      end
      if f:find("{{", 1, true) then
        raise(where(r, p, "import_playbook") .. "import_playbook: a templated file name is not supported yet")
      end
      read_file(path.is_abs(f) and f or path.join(r.dir, f), plays, sources, stack, opts,
        where(r, p, "import_playbook") .. "import_playbook: ")
    else
      local play, src = convert_play(r, p, opts)
      -- an imported playbook's relative paths (src:, library/) are read from its own folder
      if #stack > 1 then play.base_dir = r.dir end
      plays[#plays + 1] = play
      sources[#plays] = { play_file = file, locate = locator(src, i), play_index = i }
    end
  end
  stack[#stack] = nil
end

--- Read a YAML playbook (opts.extra_vars: the run's, for `{{ }}` in
--- vars_files names). Returns plays, sources; or nil, "file:line: what".
function M.load(file, opts)
  local _ <close> = require("luasible.util.gc").loading() -- (fewer collections while reading: util/gc.lua)
  local plays, sources = {}, {}
  local ok, err = pcall(read_file, file, plays, sources, {}, opts or {})
  if not ok then
    if type(err) == "table" and err.playbook_error then return nil, err.playbook_error end
    error(err, 0)
  end
  if #plays == 0 then return nil, file .. ": the playbook has no plays" end
  return plays, sources
end

--- The tasks of a task file (include_tasks), as the model's list, and the
--- source of each leaf: playbook_list.task_file.
M.task_file = list_mod.task_file

return M
