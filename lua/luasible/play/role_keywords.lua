--- luasible.play.role_keywords: the task keywords of a role entry (`roles:`
-- `- role: a` with `become: true`, ...) and of an import_role, given to
-- every task of the role as Ansible's role keywords are (docs/TASKS.md,
-- "Roles"): a block of those keywords around the role's tasks (and its
-- dependencies' tasks: the dependency's own keywords nearer, as Ansible's
-- dep chain), so a task's own value wins, then its blocks', then the role's,
-- then the roles depending on it, then the play's; the role's handlers get
-- them where they set none. `environment` is merged into the tasks when they
-- are read (play/playbook_task.lua: the role's over the play's, a task's own
-- over both), `check_mode` given where a task says nothing. `when`, `tags`,
-- `vars` and `module_defaults` stay play/roles.lua's.
local yaml = require "luasible.yaml"
local json = require "luasible.json"
local S = require "luasible.util.schema"
local rd = require "luasible.play.playbook_read"
local fields = require "luasible.play.fields"

local M = {}

-- Given to each task as a block's keyword (play/blocks.lua's M.KEYWORDS).
M.GIVEN = { "become", "become_user", "become_method", "ignore_errors", "no_log", "check_mode", "run_once", "diff",
  "any_errors_fatal", "ignore_unreachable", "throttle", "delegate_to", "delegate_facts", "timeout" }
local GIVEN_SET = {}
for _, k in ipairs(M.GIVEN) do GIVEN_SET[k] = true end
M.GIVEN_SET = GIVEN_SET
-- Ansible's role keywords a luasible task does not take yet either.
local NOT_YET = { become_flags = true, become_exe = true, connection = true, remote_user = true, port = true,
  debugger = true, collections = true }
-- Task keywords that are no role keyword: Ansible takes them as variables of the role (params).
local TASK_ONLY = { register = true, loop = true, loop_control = true, notify = true, listen = true, args = true,
  action = true, local_action = true, ["until"] = true, retries = true, delay = true, changed_when = true,
  failed_when = true, async = true, poll = true }

--- Is k a keyword of a role entry read here (given to its tasks)?
function M.is_keyword(k) return GIVEN_SET[k] or k == "environment" end

--- The refusal of k when it is a role keyword a luasible task does not take yet either, or nil.
function M.not_yet(k, what)
  if NOT_YET[k] then
    return "the keyword " .. S.quote(k) .. " on " .. what .. " is not supported yet (nor on a task)"
  end
end

--- The refusal of key k on a role entry (`what`: "a role", "import_role"), or nil when k is no task keyword.
function M.refusal(k, what)
  if NOT_YET[k] then return M.not_yet(k, what) end
  if TASK_ONLY[k] or k:match("^with_.") then
    return "the task keyword " .. S.quote(k) .. " is not one of " .. what .. "'s (Ansible would take it as a"
      .. " variable of the role named " .. S.quote(k) .. "; give variables under vars:)"
  end
end

--- The keywords of entry e given to the role's tasks, read and checked:
--- kw (keyword -> value, nil when none), env (its environment, nil when none).
--- at/label: where messages point.
function M.read(ctx, e, at, label)
  if type(e) ~= "table" then return nil, nil end
  local kw
  for _, k in ipairs(M.GIVEN) do
    local v = e[k]
    if v ~= nil and not yaml.is_null(v) then
      kw = kw or {}
      kw[k] = rd.keyword_value(k, v)
    end
  end
  if kw then
    local msg = S.check(fields.TASK, kw)
    if msg then ctx.raise(at .. label .. ": " .. msg) end
  end
  local env = e.environment
  if env ~= nil and yaml.is_null(env) then env = nil end
  if env ~= nil and not (type(env) == "string" or (type(env) == "table" and json.is_object(env))) then
    ctx.raise(at .. label .. ": environment must be a mapping of names to values or a \"{{ expression }}\", got "
      .. S.show(env))
  end
  return kw, env
end

--- An environment under another (Ansible merges them, the inner names winning;
--- a "{{ expression }}" replaces what is outside it).
function M.merge_env(outer, inner)
  if inner == nil then return outer end
  if type(outer) ~= "table" or type(inner) ~= "table" then return inner end
  local m = json.object()
  for k, v in pairs(outer) do m[k] = v end
  for k, v in pairs(inner) do m[k] = v end
  return m
end

--- The keywords of kw under those of outer (a handler's: the nearer role's win).
function M.merge(outer, kw)
  if not outer then return kw end
  if not kw then return outer end
  local m = {}
  for k, v in pairs(outer) do m[k] = v end
  for k, v in pairs(kw) do m[k] = v end
  return m
end

--- A block node of tasks with the keywords kw (play/blocks.lua gives them down).
function M.block(tasks, kw)
  local node = { block = tasks }
  for k, v in pairs(kw or {}) do node[k] = v end
  return node
end

--- A handler given the keywords it does not set itself.
function M.give(task, kw)
  for k, v in pairs(kw or {}) do
    if task[k] == nil then task[k] = v end
  end
end

-- Keywords Ansible takes on an include (TaskInclude's VALID_INCLUDE_KEYWORDS) luasible does not yet.
local INCLUDE_NOT_YET = { register = true, no_log = true, run_once = true, timeout = true, collections = true,
  debugger = true }

--- The refusal of keyword k on an include (`what`: include_tasks, include_role).
function M.not_include(k, what)
  if type(k) == "string" and (INCLUDE_NOT_YET[k] or k:match("^with_.")) then
    return "the keyword " .. S.quote(k) .. " with " .. what .. " is not supported yet"
  end
  return S.quote(tostring(k)) .. " is not a keyword of " .. what .. " (as Ansible's: an include's keywords are its"
    .. " own; give those of the included tasks under apply:)"
end

-- What `apply:` takes: a block's keywords (play/blocks.lua) and environment.
local APPLY = { when = true, tags = true, vars = true, module_defaults = true, environment = true }
for _, k in ipairs(M.GIVEN) do APPLY[k] = true end

--- The `apply:` of an include_tasks / include_role (`what`), read and
--- checked: a block's keywords for the included tasks (blocks.lua's), and
--- its environment apart (merged when they are read). raise(msg), at(node, key): "file:line: ".
function M.read_apply(raise, at, a, label, what)
  if not (type(a) == "table" and json.is_object(a)) and not (type(a) == "table" and next(a) == nil) then
    raise(at() .. label .. ": " .. what .. ": apply must be a mapping of keywords, got " .. S.show(a))
  end
  local kw, env = {}, nil
  for _, k in ipairs(yaml.ordered_keys(a)) do
    if not APPLY[k] then
      raise(at(a, k) .. label .. ": " .. what .. ": apply: " .. (type(k) == "string" and NOT_YET[k]
        and ("the keyword " .. S.quote(k) .. " is not supported yet (nor on a task)")
        or ("the keyword " .. S.quote(tostring(k)) .. " is not one a block takes")))
    end
    local v = a[k]
    if v ~= nil and not yaml.is_null(v) then
      if k == "environment" then
        if not (type(v) == "string" or (type(v) == "table" and json.is_object(v))) then
          raise(at(a, k) .. label .. ": " .. what .. ": apply: environment must be a mapping of names to values or"
            .. " a \"{{ expression }}\", got " .. S.show(v))
        end
        env = v
      else kw[k] = rd.keyword_value(k, v) end
    end
  end
  local msg, bad = S.check(fields.TASK, kw)
  if msg then raise(at(a, bad) .. label .. ": " .. what .. ": apply: " .. msg) end
  if kw.when ~= nil then
    local _, cerr = require("luasible.play.conditions").compile(kw.when, "when")
    if cerr then raise(at(a, "when") .. label .. ": " .. what .. ": apply: " .. cerr) end
  end
  return kw, env
end

return M
