--- luasible.play.fields: the schemas of the play language (field -> type
-- tables for luasible.util.schema): the fields of a play, a task, a handler,
-- the order they are checked in, and the name lists of tags/notify/listen.
-- play/prepare.lua checks plays and tasks with them: a new keyword is one entry.
local S = require "luasible.util.schema"

local M = {}

-- The types of the play language.
local nonempty = S.string({ nonempty = true })
local host_pattern = S.string({ pattern = "^[^%c]+$", desc = "a host pattern", plural = "host patterns" })
local names = S.either(nonempty, S.list(nonempty))                       -- notify, listen
local tag = S.either(S.string(), S.integer(), { desc = "a string or an integer", plural = "strings or integers" })
local tag_list = S.either(S.string(), S.integer(), S.list(tag),
  { desc = "a string, an integer or a list of them" })
local cond = S.either(S.string(), S.func, S.boolean,
  { desc = "an expression (a string), a function or a boolean", plural = "conditions" })
local condition = S.either(cond, S.list(cond), { desc = cond.desc .. ", or a list of them" })
local folder = S.string({ pattern = "^[^\0]+$", desc = "a folder (a non-empty string without NUL)",
  plural = "folders" })
local folders = S.either(folder, S.list(folder), { desc = "a folder or a list of folders (strings)" })
-- the become methods there are (remote.lua: sudo, su); another is refused by name
local become_method = S.either(S.string({ pattern = "^sudo$" }), S.string({ pattern = "^su$" }),
  { desc = "'sudo' or 'su' (the become methods luasible has)" })
-- rolling deploys (play/batches.lua, play/rolling.lua): serial, max_fail_percentage, strategy, order
local batch = S.either(S.integer({ min = 0 }), S.string({ pattern = "^%s*%d+%s*%%?%s*$" }),
  S.string({ pattern = "{{.*}}" }), -- "{{ batch }}": rendered before the play runs (play/prepare.lua)
  { desc = "a number of hosts or a percentage (\"30%\")", plural = "numbers of hosts or percentages" })
local serial = S.either(batch, S.list(batch), { desc = batch.desc .. ", or a list of them" })
local percent = S.either(S.number({ min = 0 }), S.string({ pattern = "^%s*%d+%.?%d*%s*%%?%s*$" }),
  { desc = "a percentage (0 to 100, or \"30%\")" })
local function one_of(desc, set)
  return { desc = desc, plural = "names", kind = "string",
    test = function(v) if type(v) ~= "string" or not set[v] then return false end end }
end
local strategy = one_of("\"linear\" or \"free\"", { linear = true, free = true })
local host_order = one_of("one of inventory, reverse_inventory, sorted, reverse_sorted, shuffle",
  { inventory = true, reverse_inventory = true, sorted = true, reverse_sorted = true, shuffle = true })

--- The fields of a play: field -> type.
M.PLAY = {
  name = S.string(),
  hosts = S.either(host_pattern, S.list(host_pattern, { nonempty = true }),
    { desc = "a host pattern (a string) or a list of them" }),
  vars = S.mapping(),
  tasks = S.list(S.any),         -- each entry a task (M.TASK)
  pre_tasks = S.list(S.any),     -- run before tasks, post_tasks after; handlers flushed after each
  post_tasks = S.list(S.any),
  remote_user = nonempty,        -- the user when the host's variables name none
  handlers = S.list(S.any),      -- each entry a handler (M.HANDLER)
  forks = S.integer({ min = 1 }),
  gather_facts = S.boolean,
  become = S.boolean,
  become_user = nonempty,
  become_method = become_method,
  module_path = folders,
  tags = tag_list,
  base_dir = folder,
  diff = S.boolean,              -- --diff for the play's tasks (a task's own diff wins)
  serial = serial, max_fail_percentage = percent, strategy = strategy, order = host_order,
  any_errors_fatal = S.boolean, ignore_unreachable = S.boolean, run_once = S.boolean,
  throttle = S.integer({ min = 0 }),
  force_handlers = S.boolean,    -- a failed host's notified handlers still run (play/strategy.lua)
  -- the play's connection keywords: under the hosts' ansible_connection / ansible_port (play/connect.lua)
  connection = S.string({ pattern = "^[%w_.%-]+$", desc = "a connection kind (ssh, local, ...)" }),
  port = S.integer({ min = 1, max = 65535 }),
  no_log = S.boolean,            -- for every task of the play that says nothing itself
  timeout = S.integer({ min = 0 }), -- seconds a task may run (a task's own wins; 0: none)
  gather_subset = S.either(S.string(), S.list(S.string()), -- the facts gathered (modules/setup.lua)
    { desc = "a subset name (\"min\", \"!hardware\", ...) or a list of them" }),
  module_defaults = S.either(S.mapping(), S.list(S.mapping()), -- (play/module_defaults.lua)
    { desc = "a mapping (module -> arguments) or a list of them" }),
  fact_path = nonempty,          -- the folder of the local facts the facts task reads (modules/setup.lua)
  vars_files_host = S.list(S.any), -- a YAML play's vars_files read per host (play/vars_files.lua)
  role_exports = S.mapping(), -- the vars and defaults of its roles and import_roles, for every task (play/roles.lua)
}

--- The fields of a task (besides its module, named by `module` or by a
--- key: `shell = "..."`): field -> type.
M.TASK = {
  name = S.string(),
  module = S.string({ pattern = "^[%a_][%w_]*$", desc = "a module name" }),
  args = S.either(S.string(), S.data({ functions = true }), { desc = "a string or a table of arguments" }),
  register = S.identifier,
  when = condition, changed_when = condition, failed_when = condition, ["until"] = condition,
  ignore_errors = S.boolean,
  loop = S.either(S.string(), S.func, S.list(S.data()), { desc = "a list, a \"{{ expression }}\" or a function" }),
  loop_var = S.identifier,
  loop_label = S.string(),       -- what a loop item is shown as (loop_control.label), a template
  index_var = S.identifier,      -- loop_control.index_var: the item's index (0, 1, ...)
  loop_extended = S.boolean,     -- loop_control.extended: ansible_loop (index, first, last, ...)
  loop_pause = S.number({ min = 0 }), -- loop_control.pause: seconds between items
  become = S.boolean,
  become_user = nonempty,
  become_method = become_method,
  notify = names,
  tags = tag_list,
  retries = S.integer({ min = 0 }),
  delay = S.number({ min = 0 }),
  run_once = S.boolean,
  vars = S.mapping(),
  role_path = folder, role_vars = S.mapping(), role_defaults = S.mapping(), -- a role's task (play/roles.lua)
  no_log = S.boolean,
  check_mode = S.boolean,
  diff = S.boolean,              -- show what the task changes (--diff), or not
  -- delegation and async (play/delegate.lua, play/async.lua)
  delegate_to = S.string({ nonempty = true, desc = "a host name (or a \"{{ expression }}\")" }),
  delegate_facts = S.boolean,
  async = S.integer({ min = 0 }),  -- seconds the job may run (0: not async)
  poll = S.integer({ min = 0 }),   -- seconds between polls (0: fire and forget)
  any_errors_fatal = S.boolean, ignore_unreachable = S.boolean, throttle = S.integer({ min = 0 }), -- (play/rolling.lua)
  timeout = S.integer({ min = 0 }), -- seconds the task may run, each loop item (0: no limit; play/host_task.lua)
  module_defaults = S.either(S.mapping(), S.list(S.mapping()), -- its blocks' and role's too
    { desc = "a mapping (module -> arguments) or a list of them" }),
  -- the environment of every command the module runs (its own `env` wins; play/host_task.lua)
  environment = S.either(S.string(), S.mapping(), { desc = "a mapping of names to values or a \"{{ expression }}\"" }),
}

--- A handler: a task that also answers to `listen` names.
M.HANDLER = { listen = names }
for k, v in pairs(M.TASK) do M.HANDLER[k] = v end
-- (roles, when they come, are one more table here and one entry in M.PLAY)

-- The order fields are checked in: the name first (messages show it).
local function order(fields)
  local list = {}
  for k in pairs(fields) do if k ~= "name" then list[#list + 1] = k end end
  table.sort(list)
  table.insert(list, 1, "name")
  return list
end
local PLAY_ORDER, TASK_ORDER, HANDLER_ORDER = order(M.PLAY), order(M.TASK), order(M.HANDLER)

--- A list of names from a list, a name, or a string of names separated by
--- commas or spaces ("a, b" -> { "a", "b" }); nil -> {}. A new table.
local function as_list(v)
  local out = {}
  if type(v) == "table" then
    for i, x in ipairs(v) do out[i] = tostring(x) end
  elseif v ~= nil then
    for x in tostring(v):gmatch("[^,%s]+") do out[#out + 1] = x end
  end
  return out
end
M.as_list = as_list

-- notify and listen: one name as a string (spaces kept), or a list
local function name_list(v)
  if type(v) == "string" then return { v } end
  return as_list(v)
end
M.name_list = name_list
M.PLAY_ORDER, M.TASK_ORDER, M.HANDLER_ORDER = PLAY_ORDER, TASK_ORDER, HANDLER_ORDER

return M
