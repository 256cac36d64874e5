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
local yaml = require "luasible.yaml"
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"
local template = require "luasible.template"
local S = require "luasible.util.schema"
local roles = require "luasible.play.roles"
local ROLES = setmetatable({}, { __mode = "k" }) -- play mapping -> its roles context (import_role)

local M = {}

--- Is this file name a YAML playbook (.yml / .yaml)?
function M.is_playbook(file)
  return type(file) == "string" and (file:match("%.ya?ml$") ~= nil)
end

-- Play keywords taken as they are (the model has the same field).
local PLAY_SAME = { name = true, hosts = true, vars = true, gather_facts = true, become = true,
  become_user = true, tags = true, handlers = true }
-- Play keywords read here into something else of the model.
local PLAY_READ = { tasks = true, pre_tasks = true, post_tasks = true, vars_files = true, remote_user = true,
  check_mode = true, collections = true, environment = true, roles = true }
-- Ansible's play keywords luasible does not run yet: refused by name.
local PLAY_NOT_YET = { "serial", "strategy", "any_errors_fatal", "max_fail_percentage",
  "ignore_errors", "ignore_unreachable", "connection", "become_method", "become_flags",
  "become_exe", "vars_prompt", "order", "throttle", "timeout", "module_defaults", "force_handlers",
  "gather_subset", "gather_timeout", "fact_path", "run_once", "debugger", "diff", "no_log", "port",
  "when" }

-- Task keywords taken as they are.
local TASK_SAME = { name = true, register = true, when = true, changed_when = true, failed_when = true,
  ignore_errors = true, notify = true, tags = true, become = true, become_user = true, no_log = true,
  vars = true, ["until"] = true, retries = true, delay = true, run_once = true, check_mode = true,
  loop = true }
local HANDLER_SAME = { listen = true }
-- Read here: args, loop_control and the with_ loops luasible runs.
local TASK_READ = { args = true, loop_control = true, environment = true, action = true }
local TASK_NOT_YET = { "delegate_to", "delegate_facts", "local_action", "async", "poll",
  "become_method", "become_flags", "become_exe", "connection", "remote_user",
  "any_errors_fatal", "throttle", "timeout", "module_defaults", "diff", "debugger", "collections",
  "ignore_unreachable", "port" }
-- Modules that are Ansible's playbook structure, not run by luasible yet.
local MODULE_NOT_YET = { "include_role", "import_role", "include_vars",
  "include", "add_host", "group_by", "pause", "set_stats" }

local function set_of(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end
local PLAY_NOT_YET_SET, TASK_NOT_YET_SET, MODULE_NOT_YET_SET = set_of(PLAY_NOT_YET), set_of(TASK_NOT_YET),
  set_of(MODULE_NOT_YET)

-- Commands whose free-form text Ansible splits k=v options out of: luasible
-- passes the whole text as the command, so such an option is refused here.
local COMMANDS = { command = true, shell = true, streaming_shell = true }
local COMMAND_OPTIONS = { chdir = true, creates = true, removes = true, executable = true, stdin = true,
  stdin_add_newline = true, strip_empty_ends = true, warn = true, argv = true }

-- `environment:` (of a task or its play) goes to the `env` argument of the
-- modules that start a process with it; modules that start no process of
-- the task's own take it as nothing changes for them. Any other module
-- (apt, service, ...) with an environment is refused: it would be ignored.
local ENV_TAKERS = { command = true, shell = true, streaming_shell = true }
local ENV_IRRELEVANT = { copy = true, template = true, file = true, lineinfile = true, fetch = true, debug = true,
  set_fact = true, assert = true, fail = true, meta = true, ping = true, wait_for = true }

-- The model's name of a module key: `copy`, `ansible.builtin.copy` and
-- `ansible.legacy.copy` are copy; another collection's name is kept whole
-- (and is no module luasible has).
local function module_name(key)
  return (key:gsub("^ansible%.builtin%.", ""):gsub("^ansible%.legacy%.", ""))
end

-- Keywords that are booleans: YAML's yes/no, and the strings Ansible's
-- boolean() takes ("yes", "on", "1", "true", ...), are true or false.
local BOOLEANS = { become = true, ignore_errors = true, no_log = true, run_once = true, check_mode = true,
  gather_facts = true }
local TRUE = { yes = true, on = true, ["1"] = true, ["true"] = true, y = true, t = true }
local FALSE = { no = true, off = true, ["0"] = true, ["false"] = true, n = true, f = true }
local function keyword_value(k, v)
  if BOOLEANS[k] and type(v) == "string" then
    local l = v:lower()
    if TRUE[l] then return true elseif FALSE[l] then return false end
  end
  return v
end

-- A load error: raised inside the loader, caught by M.load.
local function raise(msg) error({ playbook_error = msg }, 0) end

-- The keys of mapping t in the order of the text.
local function keys_of(t) return yaml.ordered_keys(t) end

-- The first templating problem in the strings of v, or nil.
local function template_error(v, depth)
  depth = depth or 0
  if type(v) == "string" then
    local ok, err = template.check(v)
    if not ok then return err end
  elseif type(v) == "table" and depth < S.MAX_DEPTH then
    for _, k in ipairs(keys_of(v)) do
      local err = template_error(v[k], depth + 1)
      if err then return err end
    end
  end
end

-- The items of `with_NAME: value` on a host: the value rendered, given to
-- the lookup NAME as its terms (lookup.loop: with_items flattens one level,
-- with_dict gives {key, value} items, with_fileglob the files, ...). A
-- function loop of the model: its items are data, never rendered again, as
-- Ansible marks a lookup's results unsafe. Files are found from `dir` (the
-- playbook's folder: DIR/files, DIR).
local function with_lookup(name, value, dir)
  local function render(text, vars) return template.render(text, vars) end
  return function(hvars)
    local v, err = template.render_value(value, hvars)
    if err then error(err, 0) end
    local env = { vars = hvars, base_dir = dir, search_dirs = { path.join(dir, "files"), dir }, render = render }
    local ok, items = pcall(require("luasible.lookup").loop, name, v, env)
    if not ok then error(type(items) == "table" and tostring(items.template_error) or tostring(items), 0) end
    return items
  end
end

-- One file being read: its name, its folder, the `at(...)` for messages.
local function reader(file)
  return { file = file, dir = path.dirname(file) }
end

-- "file:line: " for node t (key k of it), or "file: "
local function where(r, t, k)
  local line = t and yaml.line(t, k)
  if not line and t and k ~= nil then line = yaml.line(t) end
  return line and string.format("%s:%d: ", r.file, line) or (r.file .. ": ")
end

-- A play's name as the messages show it.
local function play_label(p, file)
  return "play " .. S.quote(type(p.name) == "string" and p.name or path.basename(file))
end

-- A task of the YAML (a mapping) as a model task, and the map from the
-- model's fields to the YAML's keys (for the locator).
local function convert_task(r, t, label, handler, list, j, play_env)
  if type(t) ~= "table" or S.is_list(t) and next(t) ~= nil then
    raise(where(r, list, j) .. label .. ": a task must be a mapping of keywords, got " .. S.show(t))
  end
  if type(t.name) == "string" then label = label .. " (" .. S.quote(t.name) .. ")" end
  local out, keymap = {}, {}
  local module_key
  for _, k in ipairs(keys_of(t)) do
    local v = t[k]
    local function bad(msg) raise(where(r, t, k) .. label .. ": " .. msg) end
    if type(k) ~= "string" then bad("a keyword must be a string, got " .. S.show(k)) end
    if (TASK_SAME[k] or (handler and HANDLER_SAME[k])) and yaml.is_null(v) then
      keymap[k] = k -- `when:` with nothing: no condition, as in Ansible
    elseif TASK_SAME[k] or (handler and HANDLER_SAME[k]) then
      out[k], keymap[k] = keyword_value(k, v), k
    elseif TASK_READ[k] then -- below
      local _ = k
    elseif k:match("^with_.") then -- a loop: below
      if not require("luasible.lookup").get(k:sub(6)) then
        bad("the loop " .. S.quote(k) .. " names no lookup luasible has (" .. S.quote(k:sub(6)) .. ")")
      end
    elseif TASK_NOT_YET_SET[k] or (not handler and k == "listen") then
      bad("the keyword " .. S.quote(k) .. (k == "listen" and " is for handlers only" or " is not supported yet"))
    elseif MODULE_NOT_YET_SET[module_name(k)] then
      bad("the module " .. S.quote(k) .. " is not supported yet")
    elseif module_key then
      bad("the task has two modules (or an unknown keyword): " .. S.quote(module_key) .. " and " .. S.quote(k))
    else
      module_key = k
    end
  end
  -- `action: copy src=a dest=b` or `action: { module: copy, src: a }`: the module named in it
  local action_args
  if t.action ~= nil then
    local a = t.action
    local at = where(r, t, "action") .. label .. ": action: "
    if module_key then raise(at .. "the task also names the module " .. S.quote(module_key) .. ": give one") end
    if type(a) == "string" then
      local m, rest = a:match("^%s*(%S+)%s*(.-)%s*$")
      if not m then raise(at .. "names no module") end
      module_key, action_args = m, rest ~= "" and rest or nil
    elseif type(a) == "table" and require("luasible.json").is_object(a) and type(a.module) == "string" then
      module_key = a.module
      action_args = require("luasible.json").object()
      for k, v in pairs(a) do if k ~= "module" then action_args[k] = v end end
    else
      raise(at .. "must be \"MODULE ARGS\" text or a mapping with module:, got " .. S.show(a))
    end
    if MODULE_NOT_YET_SET[module_name(module_key)] then
      raise(at .. "the module " .. S.quote(module_key) .. " is not supported yet")
    end
  end
  if not module_key then raise(where(r, t) .. label .. ": no module (a key naming one, as `copy:`)") end
  local mod = module_name(module_key)
  if not mod:match("^[%a_][%w_]*$") then
    raise(where(r, t, module_key) .. label .. ": the module " .. S.quote(module_key)
      .. " is not supported (luasible runs ansible.builtin's names it has: docs/TASKS.md)")
  end
  local args = t[module_key]
  if t.action ~= nil then args = action_args end
  if yaml.is_null(args) then args = nil end
  if type(args) == "table" and require("luasible.json").is_object(args) then
    -- an argument given as nothing (`mode:`) is not given, as in Ansible
    local copy = require("luasible.json").object()
    for k, v in pairs(args) do if not yaml.is_null(v) then copy[k] = v end end
    args = copy
  end
  if type(args) == "string" and COMMANDS[mod] then
    local words = require("luasible.module.kv").words(args, { templates = true }) or {}
    for _, w in ipairs(words) do
      local opt = w.text:match("^([%a_]+)=")
      if opt and COMMAND_OPTIONS[opt] and not w.quoted then
        raise(where(r, t, module_key) .. label .. ": " .. S.quote(opt .. "=")
          .. " inside the command text is not supported yet: give it under args:")
      end
    end
  elseif type(args) == "string" then
    -- k=v text (and free words: the module's free-form argument)
    local kv, kerr = require("luasible.module").parse_kv(args)
    if not kv then raise(where(r, t, module_key) .. label .. ": " .. module_key .. ": " .. kerr) end
    args = kv
  elseif args ~= nil and not (type(args) == "table" and require("luasible.json").is_object(args)) then
    raise(where(r, t, module_key) .. label .. ": " .. module_key .. ": the arguments must be a mapping or"
      .. " k=v text, got " .. S.show(args))
  end
  if t.args ~= nil then
    if type(t.args) ~= "table" or (S.is_list(t.args) and next(t.args) ~= nil) then
      raise(where(r, t, "args") .. label .. ": args must be a mapping, got " .. S.show(t.args))
    end
    local merged = type(args) == "table" and args or {}
    if type(args) == "string" then merged = { _raw = args } end
    local m = {}
    for k, v in pairs(t.args) do m[k] = v end
    for k, v in pairs(merged) do m[k] = v end -- the module's own text wins, as in Ansible
    args = m
  end
  -- environment: the task's over the play's, the module's own env over both
  local env, env_key = t.environment, "environment"
  if yaml.is_null(env) then env = nil end
  if env == nil and play_env ~= nil and not yaml.is_null(play_env) then env, env_key = play_env, nil
  elseif type(env) == "table" and type(play_env) == "table" and require("luasible.json").is_object(play_env) then
    local m = require("luasible.json").object() -- Ansible merges them, the task's names winning
    for k, v in pairs(play_env) do m[k] = v end
    for k, v in pairs(env) do m[k] = v end
    env = m
  end
  if env ~= nil then
    local at = env_key and where(r, t, env_key) or where(r, t)
    if not (type(env) == "string" or (type(env) == "table" and require("luasible.json").is_object(env))) then
      raise(at .. label .. ": environment must be a mapping of names to values or a \"{{ expression }}\", got "
        .. S.show(env))
    end
    if ENV_TAKERS[mod] then
      if type(args) == "string" then args = { _raw = args } end
      args = args or {}
      local own = args.env
      if own == nil then args.env = env
      elseif type(own) == "table" and type(env) == "table" then
        local m = require("luasible.json").object()
        for k, v in pairs(env) do m[k] = v end
        for k, v in pairs(own) do m[k] = v end
        args.env = m
      else
        raise(at .. label .. ": environment and the module's own env: give one of them (or both as mappings)")
      end
    elseif not ENV_IRRELEVANT[mod] then
      raise(at .. label .. ": environment is not supported with the module " .. S.quote(module_key)
        .. " yet (command, shell and streaming_shell take it)")
    end
  end
  out.module, out.args = mod, args
  keymap.module, keymap.args = t.action ~= nil and "action" or module_key, t.action ~= nil and "action" or module_key
  -- loops
  local loops = {}
  for _, k in ipairs(keys_of(t)) do
    if k == "loop" or (type(k) == "string" and k:match("^with_.")) then loops[#loops + 1] = k end
  end
  if #loops > 1 then
    raise(where(r, t, loops[2]) .. label .. ": " .. S.quote(loops[1]) .. " and " .. S.quote(loops[2])
      .. " are two loops: use one")
  end
  local lk = loops[1]
  if lk then
    local v = t[lk]
    local is_seq = type(v) == "table" and (S.is_list(v) and not require("luasible.json").is_object(v))
    local lname = lk:match("^with_(.+)$")
    if lname and lname ~= "list" and lname ~= "items" then
      -- another lookup's loop: its terms may be any value (with_dict a mapping, with_sequence k=v text)
      if yaml.is_null(v) then raise(where(r, t, lk) .. label .. ": " .. lk .. " has no value") end
    elseif not (type(v) == "string" or is_seq) then
      raise(where(r, t, lk) .. label .. ": " .. lk .. " must be a list or a \"{{ expression }}\", got " .. S.show(v))
    end
    if type(v) == "string" and not v:find("{{", 1, true) and not (lname and lname ~= "list" and lname ~= "items") then
      raise(where(r, t, lk) .. label .. ": " .. lk .. " must be a list or a \"{{ expression }}\", got "
        .. S.show(v))
    end
    local terr = template_error(v)
    if terr then raise(where(r, t, lk) .. label .. ": " .. lk .. ": " .. terr) end
    out.loop = (lname and lname ~= "list") and with_lookup(lname, v, r.dir) or v
    keymap.loop = lk
  end
  if t.loop_control ~= nil then
    local lc = t.loop_control
    if type(lc) ~= "table" or S.is_list(lc) and next(lc) ~= nil then
      raise(where(r, t, "loop_control") .. label .. ": loop_control must be a mapping, got " .. S.show(lc))
    end
    for _, k in ipairs(keys_of(lc)) do
      if k == "loop_var" then out.loop_var, keymap.loop_var = lc[k], "loop_control"
      elseif k == "label" then out.loop_label, keymap.loop_label = lc[k], "loop_control"
      else
        raise(where(r, lc, k) .. label .. ": loop_control." .. tostring(k) .. " is not supported yet"
          .. " (loop_var and label are)")
      end
    end
  end
  return out, keymap
end

-- vars_files of a play: each file's mapping, later files over earlier ones,
-- all over the play's vars (Ansible's precedence). Vault-encrypted files
-- and !vault values are read as -e @file reads them.
local function read_vars_files(r, p, vars, extra)
  local list = p.vars_files
  if type(list) == "string" then list = { list } end
  if type(list) ~= "table" or not S.is_list(list) then
    raise(where(r, p, "vars_files") .. "vars_files must be a file name or a list of them, got " .. S.show(list))
  end
  for i, f in ipairs(list) do
    if type(f) ~= "string" or f == "" then
      raise(where(r, list, i) .. "vars_files[" .. i .. "] must be a file name, got " .. S.show(f))
    end
    if f:find("{{", 1, true) then
      -- rendered with the play's vars (and the files read before) and the extra vars
      local scope = {}
      for k, v in pairs(vars) do scope[k] = v end
      for k, v in pairs(extra or {}) do scope[k] = v end
      local name, rerr = template.render(f, scope)
      if not name then
        raise(where(r, list, i) .. "vars_files[" .. i .. "]: " .. rerr .. " (a file name sees the play's vars and"
          .. " the extra vars; host variables are not read for it yet)")
      end
      f = name
    end
    local file = path.is_abs(f) and f or path.join(r.dir, f)
    local text, err = fs.read(file)
    if not text then
      raise(where(r, list, i) .. "vars_files: cannot read " .. S.escape(file) .. ": " .. S.escape(tostring(err)))
    end
    local v, yerr = yaml.load(text, file)
    if yerr then raise(where(r, list, i) .. "vars_files: " .. yerr) end
    if yaml.is_null(v) then v = {} end
    if type(v) ~= "table" or (S.is_list(v) and next(v) ~= nil) then
      raise(where(r, list, i) .. "vars_files: " .. S.escape(file) .. " must hold a mapping of variables")
    end
    for k, x in pairs(v) do vars[k] = x end
  end
end

-- "a/./b/../c" -> "a/c", textually (for finding a cycle of imports)
local function tidy(p)
  local out = {}
  for part in p:gmatch("[^/]+") do
    if part == ".." and #out > 0 and out[#out] ~= ".." then out[#out] = nil
    elseif part ~= "." then out[#out + 1] = part end
  end
  return (path.is_abs(p) and "/" or "") .. table.concat(out, "/")
end

-- The keywords of a block (and of an import_tasks), given to its tasks (play/blocks.lua).
local BLOCK_KEYS = { name = true, when = true, tags = true, vars = true, become = true, become_user = true,
  ignore_errors = true, no_log = true, check_mode = true, run_once = true }

local convert_list

-- `import_tasks: FILE`: its tasks read now (relative to the file naming
-- it), as a block node without rescue: its keywords go to every task.
local function import_tasks(r, t, key, what, handler, p, maps, stack)
  local f = t[key]
  local at = where(r, t, key) .. what .. ": import_tasks: "
  if type(f) ~= "string" or f == "" then raise(at .. "must be a file name, got " .. S.show(f)) end
  if f:find("{{", 1, true) then raise(at .. "a templated file name is not supported yet") end
  local file = path.is_abs(f) and f or path.join(r.dir, f)
  local norm = tidy(file)
  for _, s in ipairs(stack) do
    if s == norm then raise(at .. "circular import: " .. S.escape(table.concat(stack, " -> ") .. " -> " .. norm)) end
  end
  if #stack >= 64 then raise(at .. "imports nested more than 64 deep") end
  local text, err = fs.read(file)
  if not text then raise(at .. "cannot read " .. S.escape(file) .. ": " .. S.escape(tostring(err))) end
  local doc, yerr = yaml.load(text, file, { lines = true, column = true })
  if yerr then raise(yerr) end
  if yaml.is_null(doc) then doc = {} end
  local r2 = reader(file)
  if type(doc) ~= "table" or not S.is_list(doc) or (require("luasible.json").is_object(doc) and next(doc)) then
    raise(where(r2, doc) .. "a task file must be a list of tasks, got " .. S.show(doc))
  end
  local node = {}
  for _, k in ipairs(keys_of(t)) do
    if BLOCK_KEYS[k] then
      if not yaml.is_null(t[k]) then node[k] = keyword_value(k, t[k]) end
    elseif k ~= key then
      raise(where(r, t, k) .. what .. ": the keyword " .. S.quote(k) .. " is not supported with import_tasks")
    end
  end
  stack[#stack + 1] = norm
  node.block = convert_list(r2, doc, what .. " (" .. S.escape(f) .. "), task", handler, p, maps, stack)
  stack[#stack] = nil
  return node
end

-- `include_tasks: FILE` (play/include.lua reads it when it is reached):
-- its file name (a template), the folder it is relative to, its keywords.
local INCLUDE_KEYS = { name = true, when = true, tags = true, vars = true, loop = true, loop_control = true,
  ignore_errors = true }
local function include_tasks(r, t, key, what)
  local f = t[key]
  local at = where(r, t, key) .. what .. ": include_tasks: "
  if type(f) == "table" and require("luasible.json").is_object(f) and type(f.file) == "string" then f = f.file end
  if type(f) ~= "string" or f == "" then raise(at .. "must be a file name, got " .. S.show(f)) end
  local terr = template_error(f)
  if terr then raise(at .. terr) end
  local node = { include = f, dir = r.dir }
  for _, k in ipairs(keys_of(t)) do
    if INCLUDE_KEYS[k] then
      if not yaml.is_null(t[k]) then node[k] = keyword_value(k, t[k]) end
    elseif k ~= key then
      raise(where(r, t, k) .. what .. ": the keyword " .. S.quote(tostring(k)) .. " is not supported with"
        .. " include_tasks yet")
    end
  end
  if node.vars ~= nil and (type(node.vars) ~= "table" or (S.is_list(node.vars) and next(node.vars))) then
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
function M.task_file(file)
  local ok, res, maps = pcall(function()
    local text, err = fs.read(file)
    if not text then raise("cannot read " .. S.escape(file) .. ": " .. S.escape(tostring(err))) end
    local doc, yerr = yaml.load(text, file, { lines = true, column = true })
    if yerr then raise(yerr) end
    if yaml.is_null(doc) then doc = {} end
    local r = reader(file)
    if type(doc) ~= "table" or not S.is_list(doc) or (require("luasible.json").is_object(doc) and next(doc)) then
      raise(where(r, doc) .. "a task file must be a list of tasks, got " .. S.show(doc))
    end
    local m = {}
    local list = convert_list(r, doc, S.escape(path.basename(file)) .. ", task", false, {}, m, { tidy(file) })
    return list, m
  end)
  if ok then return res, maps end
  if type(res) == "table" and res.playbook_error then return nil, res.playbook_error end
  error(res, 0)
end

-- A list of tasks of the YAML (blocks and import_tasks in it) as the
-- model's; the leaves' source maps appended to maps depth first (block,
-- rescue, always: the order play/blocks.lua flattens them in).
function convert_list(r, l, label, handler, p, maps, stack)
  local tasks = {}
  for j, t in ipairs(l) do
    local what = label .. " " .. j
    local imp
    if type(t) == "table" and not (S.is_list(t) and next(t) ~= nil) then
      for k in pairs(t) do if type(k) == "string" and module_name(k) == "import_tasks" then imp = k end end
    end
    local inc
    if type(t) == "table" and not (S.is_list(t) and next(t) ~= nil) then
      for k in pairs(t) do if type(k) == "string" and module_name(k) == "include_tasks" then inc = k end end
    end
    local rctx, imported = not handler and ROLES[p], {}
    if imp then
      tasks[j] = import_tasks(r, t, imp, what, handler, p, maps, stack)
    elseif rctx and roles.import(rctx, r, t, what, imported, maps) then -- import_role (play/roles.lua)
      tasks[j] = { block = imported } -- its tasks as a block of no keywords
    elseif inc then
      if handler then raise(where(r, l, j) .. what .. ": include_tasks in handlers is not supported yet") end
      tasks[j] = include_tasks(r, t, inc, what)
    elseif type(t) == "table" and not (S.is_list(t) and next(t) ~= nil)
      and (t.block ~= nil or t.rescue ~= nil or t.always ~= nil) then
      if type(t.name) == "string" then what = what .. " (" .. S.quote(t.name) .. ")" end
      if handler then raise(where(r, l, j) .. what .. ": a block in handlers is not supported yet") end
      if t.block == nil then raise(where(r, l, j) .. what .. ": rescue and always need a block:") end
      local node = {}
      for _, k in ipairs(keys_of(t)) do
        if BLOCK_KEYS[k] then
          if not yaml.is_null(t[k]) then node[k] = keyword_value(k, t[k]) end
        elseif k ~= "block" and k ~= "rescue" and k ~= "always" then
          raise(where(r, t, k) .. what .. ": the keyword " .. S.quote(tostring(k)) .. " is not supported on a block")
        end
      end
      if node.vars ~= nil and (type(node.vars) ~= "table" or (S.is_list(node.vars) and next(node.vars))) then
        raise(where(r, t, "vars") .. what .. ": vars must be a mapping, got " .. S.show(node.vars))
      end
      for _, sec in ipairs({ "block", "rescue", "always" }) do
        local v = t[sec]
        if yaml.is_null(v) then v = nil end
        if v ~= nil and (type(v) ~= "table" or not S.is_list(v) or
          (require("luasible.json").is_object(v) and next(v) ~= nil)) then
          raise(where(r, t, sec) .. what .. ": " .. sec .. " must be a list of tasks, got " .. S.show(v))
        end
        node[sec] = convert_list(r, v or {}, what .. ", " .. sec, handler, p, maps, stack)
      end
      tasks[j] = node
    else
      local task, keymap = convert_task(r, t, what, handler, l, j, p.environment)
      if p.check_mode ~= nil and task.check_mode == nil then task.check_mode = p.check_mode end
      tasks[j] = task
      maps[#maps + 1] = { node = t, keys = keymap, line = yaml.line(l, j), file = r.file }
    end
  end
  return tasks
end

-- A play of the YAML as a model play, and its source map for the locator.
local function convert_play(r, p, opts)
  local label = play_label(p, r.file)
  local out, src = {}, { node = p, tasks = {}, handlers = {} }
  for _, k in ipairs(keys_of(p)) do
    local function bad(msg) raise(where(r, p, k) .. label .. ": " .. msg) end
    if type(k) ~= "string" then bad("a keyword must be a string, got " .. S.show(k))
    elseif PLAY_SAME[k] then
      if not yaml.is_null(p[k]) then out[k] = keyword_value(k, p[k]) end
    elseif PLAY_READ[k] then local _ = k
    elseif PLAY_NOT_YET_SET[k] then bad("the keyword " .. S.quote(k) .. " is not supported yet")
    else bad("unknown play keyword " .. S.quote(k)) end
  end
  if yaml.is_null(p.hosts) or p.hosts == nil then raise(where(r, p) .. label .. " has no hosts") end
  if type(out.vars) == "table" or p.vars_files ~= nil then
    local vars = require("luasible.json").object()
    if type(p.vars) == "table" then for k, v in pairs(p.vars) do vars[k] = v end
    elseif p.vars ~= nil and not yaml.is_null(p.vars) then
      raise(where(r, p, "vars") .. label .. ": vars must be a mapping, got " .. S.show(p.vars))
    end
    if p.vars_files ~= nil then read_vars_files(r, p, vars, opts.extra_vars) end
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
  local rctx = roles.context({ r = r, raise = raise, where = where, reader = reader, label = label,
    roles_path = opts.roles_path, check_mode = p.check_mode, convert_task = function(rr, t, what, h, list, j)
      return convert_task(rr, t, what, h, list, j, p.environment)
    end })
  ROLES[p] = rctx
  -- the task lists: pre_tasks, tasks, post_tasks (handlers flushed after each)
  for _, list in ipairs({ "pre_tasks", "tasks", "post_tasks", "handlers" }) do
    local l = p[list]
    if yaml.is_null(l) then l = nil end
    if l ~= nil then
      if type(l) ~= "table" or (not S.is_list(l)) or require("luasible.json").is_object(l) and next(l) ~= nil then
        raise(where(r, p, list) .. label .. ": " .. list .. " must be a list of tasks, got " .. S.show(l))
      end
      local maps = {}
      local what = string.format("%s, %s", label, list == "handlers" and "handler" or
        (list == "tasks" and "task" or list:gsub("s$", "")))
      out[list] = convert_list(r, l, what, list == "handlers", p, maps, { tidy(r.file) })
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

-- Read one playbook file into plays/sources; `stack` the files importing it.
local function read_file(file, plays, sources, stack, opts, from)
  local norm = tidy(file)
  if #stack >= 64 then raise(file .. ": import_playbook nested more than 64 deep") end
  for _, f in ipairs(stack) do
    if f == norm then raise(file .. ": import_playbook cycle: " .. table.concat(stack, " -> ") .. " -> " .. norm) end
  end
  local text, err = fs.read(file)
  if not text then
    raise((from or "") .. "cannot read playbook " .. S.escape(file) .. ": " .. S.escape(tostring(err)))
  end
  local doc, yerr = yaml.load(text, file, { lines = true, column = true })
  if yerr then raise(yerr) end
  local r = reader(file)
  if yaml.is_null(doc) then raise(file .. ": the playbook is empty (a list of plays is expected)") end
  if type(doc) ~= "table" or not S.is_list(doc) or (require("luasible.json").is_object(doc) and next(doc)) then
    raise(where(r, doc) .. "a playbook must be a list of plays, got " .. S.show(doc))
  end
  stack[#stack + 1] = norm
  for i, p in ipairs(doc) do
    if type(p) ~= "table" or (S.is_list(p) and next(p) ~= nil) then
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
  local plays, sources = {}, {}
  local ok, err = pcall(read_file, file, plays, sources, {}, opts or {})
  if not ok then
    if type(err) == "table" and err.playbook_error then return nil, err.playbook_error end
    error(err, 0)
  end
  if #plays == 0 then return nil, file .. ": the playbook has no plays" end
  return plays, sources
end

return M
