--- luasible.play.playbook_task: one task of a YAML playbook as a model task
-- (play/playbook.lua reads the plays, playbook_list.lua the task lists):
-- its keywords (taken, read, or refused by name when luasible does not run
-- them yet), its module (short or fully qualified, arguments as a mapping,
-- k=v text or under args:, or `action:`), environment, loops.
local yaml = require "luasible.yaml"
local path = require "luasible.util.path"
local json = require "luasible.json"
local template = require "luasible.template"
local S = require "luasible.util.schema"
local rd = require "luasible.play.playbook_read"
local raise, where, keys_of, is_map = rd.raise, rd.where, rd.keys_of, rd.is_map
local keyword_value, module_name, template_error = rd.keyword_value, rd.module_name, rd.template_error

local M = {}

-- Task keywords taken as they are.
local TASK_SAME = { name = true, register = true, when = true, changed_when = true, failed_when = true,
  ignore_errors = true, notify = true, tags = true, become = true, become_user = true, no_log = true,
  vars = true, ["until"] = true, retries = true, delay = true, run_once = true, check_mode = true,
  loop = true, delegate_to = true, delegate_facts = true, async = true, poll = true, diff = true,
  any_errors_fatal = true, throttle = true, ignore_unreachable = true, become_method = true,
  module_defaults = true, timeout = true } -- (play/module_defaults.lua; timeout: play/host_task.lua)
local HANDLER_SAME = { listen = true }
-- Read here: args, loop_control and the with_ loops luasible runs.
local TASK_READ = { args = true, loop_control = true, environment = true, action = true, local_action = true }
local TASK_NOT_YET = { "become_flags", "become_exe", "connection", "remote_user",
  "debugger", "collections",
  "port" }
-- Modules that are Ansible's playbook structure, not run by luasible yet (include_role and
-- import_role: read in task lists by play/roles.lua; refused here where they are not: handlers).
local MODULE_NOT_YET = { "include_role", "import_role",
  "include", "set_stats" }


local function set_of(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end
local TASK_NOT_YET_SET, MODULE_NOT_YET_SET = set_of(TASK_NOT_YET), set_of(MODULE_NOT_YET)
M.set_of = set_of


-- Commands whose free-form text Ansible splits k=v options out of: luasible
-- passes the whole text as the command, so such an option is refused here.
local kv = require "luasible.module.kv"

-- `environment:` (of a task, its blocks, role and play) goes to the `env`
-- argument of the modules that take one (command, shell, ...: their own env
-- over it); for every other module it is the task's `environment`, the
-- environment of each command the module runs on the host (apt-get behind a
-- proxy, pip, git ...), as Ansible gives it to every module
-- (play/host_task.lua, module/context.lua).
local ENV_TAKERS = { command = true, shell = true, streaming_shell = true }


-- The items of `with_NAME: value` on a host: the value rendered, given to
-- the lookup NAME as its terms (lookup.loop: with_items flattens one level,
-- with_dict gives {key, value} items, with_fileglob the files, ...). A
-- function loop of the model: its items are data, never rendered again, as
-- Ansible marks a lookup's results unsafe. Files are found from `dir` (the
-- playbook's folder: DIR/files, DIR).
local function with_lookup(name, value, dir)
  local function render(text, vars) return template.render(text, vars) end
  -- absolute, as Ansible's (with_fileglob's items are absolute paths)
  if not path.is_abs(dir) then dir = require("luasible.core").realpath(dir) or dir end
  return function(hvars)
    local v, err = template.render_value(value, hvars)
    if err then error(err, 0) end
    local env = { vars = hvars, base_dir = dir, search_dirs = { path.join(dir, "files"), dir }, render = render }
    local ok, items = pcall(require("luasible.lookup").loop, name, v, env)
    if not ok then error(type(items) == "table" and tostring(items.template_error) or tostring(items), 0) end
    return items
  end
end

-- A task of the YAML (a mapping) as a model task, and the map from the
-- model's fields to the YAML's keys (for the locator).
--- (label: how messages name it; handler: a handler's task; list, j: where
--- it stands; play_env: the play's environment.)
function M.convert(r, t, label, handler, list, j, play_env)
  if not is_map(t) then
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
  -- local_action: the same as action, delegated to localhost (as Ansible)
  local akey = t.action ~= nil and "action" or (t.local_action ~= nil and "local_action") or nil
  if t.action ~= nil and t.local_action ~= nil then
    raise(where(r, t, "local_action") .. label .. ": action and local_action are mutually exclusive")
  end
  if t.local_action ~= nil and t.delegate_to ~= nil then
    raise(where(r, t, "delegate_to") .. label .. ": local_action and delegate_to are mutually exclusive")
  end
  local action_args
  if akey then
    local a = t[akey]
    local at = where(r, t, akey) .. label .. ": " .. akey .. ": "
    if module_key then raise(at .. "the task also names the module " .. S.quote(module_key) .. ": give one") end
    if type(a) == "string" then
      local m, rest = a:match("^%s*(%S+)%s*(.-)%s*$")
      if not m then raise(at .. "names no module") end
      module_key, action_args = m, rest ~= "" and rest or nil
    elseif type(a) == "table" and json.is_object(a) and type(a.module) == "string" then
      module_key = a.module
      action_args = json.object()
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
  if akey then args = action_args end
  if akey == "local_action" then out.delegate_to, keymap.delegate_to = "localhost", "local_action" end
  if yaml.is_null(args) then args = nil end
  if type(args) == "table" and json.is_object(args) then
    -- an argument given as nothing (`mode:`) is not given, as in Ansible
    local copy = json.object()
    for k, v in pairs(args) do if not yaml.is_null(v) then copy[k] = v end end
    args = copy
  end
  if type(args) == "string" and kv.COMMANDS[mod] then
    -- `make creates=/x chdir=/src`: its options out, the rest the command as written
    local opts, cmd, oerr = kv.command_options(args)
    if oerr then raise(where(r, t, module_key) .. label .. ": " .. module_key .. ": " .. oerr) end
    if opts then
      args = json.object(opts)
      args.cmd = cmd
    end
  elseif type(args) == "string" then
    -- k=v text (and free words: the module's free-form argument)
    local pairs_kv, kerr = require("luasible.module").parse_kv(args)
    if not pairs_kv then raise(where(r, t, module_key) .. label .. ": " .. module_key .. ": " .. kerr) end
    args = pairs_kv
  elseif args ~= nil and not (type(args) == "table" and json.is_object(args)) then
    raise(where(r, t, module_key) .. label .. ": " .. module_key .. ": the arguments must be a mapping or"
      .. " k=v text, got " .. S.show(args))
  end
  if t.args ~= nil then
    if not is_map(t.args) then
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
  elseif type(env) == "table" and type(play_env) == "table" and json.is_object(play_env) then
    local m = json.object() -- Ansible merges them, the task's names winning
    for k, v in pairs(play_env) do m[k] = v end
    for k, v in pairs(env) do m[k] = v end
    env = m
  end
  if env ~= nil then
    local at = env_key and where(r, t, env_key) or where(r, t)
    if not (type(env) == "string" or (type(env) == "table" and json.is_object(env))) then
      raise(at .. label .. ": environment must be a mapping of names to values or a \"{{ expression }}\", got "
        .. S.show(env))
    end
    if ENV_TAKERS[mod] then
      if type(args) == "string" then args = { _raw = args } end
      args = args or {}
      local own = args.env
      if own == nil then args.env = env
      elseif type(own) == "table" and type(env) == "table" then
        local m = json.object()
        for k, v in pairs(env) do m[k] = v end
        for k, v in pairs(own) do m[k] = v end
        args.env = m
      else
        raise(at .. label .. ": environment and the module's own env: give one of them (or both as mappings)")
      end
    else
      out.environment = env
    end
  end
  out.module, out.args = mod, args
  keymap.module, keymap.args = akey or module_key, akey or module_key
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
    local is_seq = type(v) == "table" and (S.is_list(v) and not json.is_object(v))
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
    if not is_map(lc) then
      raise(where(r, t, "loop_control") .. label .. ": loop_control must be a mapping, got " .. S.show(lc))
    end
    for _, k in ipairs(keys_of(lc)) do
      if k == "loop_var" then out.loop_var, keymap.loop_var = lc[k], "loop_control"
      elseif k == "label" then out.loop_label, keymap.loop_label = lc[k], "loop_control"
      elseif k == "index_var" then out.index_var, keymap.index_var = lc[k], "loop_control"
      elseif k == "extended" then
        out.loop_extended, keymap.loop_extended = keyword_value("become", lc[k]), "loop_control"
      elseif k == "pause" then
        local n = lc[k]
        if type(n) == "string" and tonumber(n) then n = tonumber(n) end
        out.loop_pause, keymap.loop_pause = n, "loop_control"
      else
        raise(where(r, lc, k) .. label .. ": loop_control." .. tostring(k) .. " is not supported yet"
          .. " (loop_var, index_var, label, pause and extended are)")
      end
    end
  end
  return out, keymap
end

return M
