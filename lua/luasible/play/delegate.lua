--- luasible.play.delegate: delegate_to (and local_action, its localhost
-- form) as Ansible does it. The task runs with the DELEGATING host's
-- variables (its templates, its `inventory_hostname`), on the connection of
-- the delegated host, made of that host's connection variables (its
-- ansible_host, port, user, connection, key, become ...). The delegated
-- host is found as Ansible's variable manager finds it: an inventory host
-- of that name, else the inventory host whose ansible_host is that address,
-- else localhost / 127.0.0.1 / ::1 as the implicit localhost (local
-- connection), else a new host of that name (the `all` group's variables,
-- addressed by the name). Its connection comes from the run's pool
-- (run.state[name].conn, play/connect.lua): opened once, shared by every
-- host delegating to it and by its own tasks. delegate_facts puts the facts
-- a task gathers or sets on the delegated host.
local template = require "luasible.template"

local M = {}

--- Ansible's names of this machine (C.LOCALHOST).
M.LOCALHOST = { localhost = true, ["127.0.0.1"] = true, ["::1"] = true }

-- The inventory host a delegate_to value names (see above), and whether it is new.
local function find(run, name)
  local inv = run.inv
  if not inv or inv.hosts[name] then return name, false end
  for _, h in ipairs(inv.host_order or {}) do
    local hv = inv.hosts[h] and inv.hosts[h].vars
    if hv and hv.ansible_host == name then return h, false end
  end
  return name, true
end

-- The run's state of host `name` (the pool's entry), made for a host that
-- is in no play (yet): its inventory variables (for a new name: the `all`
-- group's; for localhost the local connection).
local function state(run, name, new)
  local st = run.state[name]
  if st then return st end
  local iv = run.inv and run.inv:host_vars(name, run.layer) or {}
  if new and M.LOCALHOST[name] then
    iv.ansible_connection = "local"
  elseif new and iv.ansible_host == nil then
    iv.ansible_host = name
  end
  local from = require("luasible.play.connect").fill_defaults(run, iv)
  st = { inv_vars = iv, registered = {}, from_defaults = from }
  run.state[name] = st
  run.secrets:add(iv)
  return st
end

--- The host a task on `host` is delegated to (ivars: the delegating host's
--- variables, the loop item among them): its name in run.state; nil when
--- the task has no delegate_to; nil, err when its value renders to no name.
function M.target(run, task, ivars)
  local d = task.delegate_to
  if d == nil then return nil end
  local name, err = template.render(d, ivars)
  if err then return nil, "delegate_to: " .. tostring(err) end
  name = tostring(name):match("^%s*(.-)%s*$")
  if name == "" then return nil, "delegate_to: the host name is empty (" .. tostring(d) .. ")" end
  local h, new = find(run, name)
  state(run, h, new)
  return h
end

--- The variables a delegated task's become is read from: the delegating
--- host's, the delegated host's ansible_become* over them (as Ansible takes
--- the connection variables of the delegated host).
function M.become_vars(run, dhost, ivars)
  local dv = require("luasible.play.vars").host_vars(run, dhost)
  local out = setmetatable({}, { __index = ivars })
  for k, v in pairs(dv) do
    if type(k) == "string" and k:match("^ansible_become") then out[k] = v end
  end
  return out
end

--- The state that gets the facts of a task on `host` delegated to `dhost`:
--- the delegated host's with delegate_facts, else the host's own.
function M.facts_state(run, host, task, dhost)
  if dhost and task.delegate_facts then return run.state[dhost] end
  return run.state[host]
end

return M
