--- luasible.play.vars_files: a play's `vars_files` read per host, as
-- Ansible's VariableManager.get_vars reads them: an entry whose name needs
-- a host's variables (`vars/{{ ansible_os_family }}.yml`) and an entry that
-- is a list (the first of its files that exists for the host) are rendered
-- with the host's variables of the moment (its inventory vars, its facts,
-- the play's vars, the files read before it, the extra vars, the magic
-- names), so facts gathered in the play count from the next task on.
-- play/playbook.lua reads the entries that need no host at load time and
-- gives the play the rest (`vars_files_host`, from the first such entry on:
-- { data = vars } for a file already read, { names =, where =, label = }).
-- The layer is between the play's vars and the roles' vars (play/vars.lua).
-- A name with an undefined variable is skipped before the host's facts are
-- gathered and an error after; a file missing for a host (none of a list's)
-- stops the run: "file:line: vars file X was not found", as Ansible's ERROR!
-- (checked for each host before each task's banner: M.check).
local yaml = require "luasible.yaml"
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"
local json = require "luasible.json"
local template = require "luasible.template"
local errors = require "luasible.util.errors"
local S = require "luasible.util.schema"

local M = {}

--- Read one vars file: its mapping (vault files and !vault values as -e
--- @file reads them, !unsafe marks kept); nil when it does not exist; raises
--- fail(msg) for a file that is no mapping of variables.
function M.read(file, fail)
  local fh = io.open(file, "r")
  if not fh then return nil end
  fh:close()
  local text, err = fs.read(file)
  if not text then fail("vars_files: cannot read " .. S.escape(file) .. ": " .. S.escape(tostring(err))) end
  local v, yerr = yaml.load(text, file)
  if yerr then fail("vars_files: " .. yerr) end
  if yaml.is_null(v) then v = {} end
  if type(v) ~= "table" or (S.is_list(v) and next(v) ~= nil) then
    fail("vars_files: " .. S.escape(file) .. " must hold a mapping of variables")
  end
  return v
end

-- the run stops (play/init.lua returns nil, run.fatal)
local function fatal(run, msg)
  run.fatal = run.fatal or msg
  error(errors.new("FATAL", msg), 0)
end

-- a file's vars, read once a run (by its path)
local function cached(run, file, where)
  run.vars_files_cache = run.vars_files_cache or {}
  local c = run.vars_files_cache[file]
  if c == nil then
    c = M.read(file, function(msg) fatal(run, where .. msg) end) or false
    run.vars_files_cache[file] = c
  end
  return c or nil
end

--- The vars_files layer of a host: a mapping (with its !unsafe marks), or
--- nil when the play has no per-host entry. `sofar`: the host's variables
--- under the play's vars_files (inventory, facts, play vars); `task`: nil
--- when no task asks (an undefined name is skipped then).
function M.layer(run, host, sofar, task)
  local entries = run.play and run.play.raw.vars_files_host
  if not entries then return nil end
  local st = run.state[host]
  local out = json.object()
  local scope = setmetatable({ inventory_hostname = host, groups = run.groups, hostvars = run.hostvars,
    playbook_dir = run.playbook_dir }, { __index = function(_, k)
      local x = run.extra_vars[k]
      if x ~= nil then return x end
      x = out[k]
      if x ~= nil then return x end
      return sofar[k]
    end })
  for _, e in ipairs(entries) do
    if e.data then yaml.merge_marked(out, e.data)
    else
      local found, skipped = false, false
      for _, name in ipairs(e.names) do
        local f, rerr = template.render(name, scope)
        if not f then
          if tostring(rerr):find("undefined") and not (task and st and st.facts and st.facts.module_setup) then
            skipped = true
            break
          end
          fatal(run, e.where .. "vars_files: " .. tostring(rerr) .. " (in " .. e.label .. ", for " .. host .. ")")
        end
        f = tostring(f)
        local data = cached(run, path.is_abs(f) and f or path.join(e.dir, f), e.where)
        if data then
          yaml.merge_marked(out, data)
          found = true
          break
        end
      end
      -- (no task: a delegated host's or a connection's variables, where Ansible ignores a missing file)
      if not found and not skipped and task then
        fatal(run, e.where .. "vars file " .. e.label .. " was not found (for " .. host .. ")")
      end
    end
  end
  return out
end

--- Check the layer of each host before a task starts on them (Ansible
--- reads the vars before the task's banner): raises the run's error.
function M.check(run, hosts, task)
  if not (run.play and run.play.raw.vars_files_host) then return end
  local vars = require "luasible.play.vars"
  for _, h in ipairs(hosts) do vars.host_vars(run, h, task) end
end

return M
