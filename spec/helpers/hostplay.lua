--- spec/helpers/hostplay.lua: run tasks on one test host (testhosts.lua)
-- through luasible.play, for the module specs.
--
--   local hp = require "spec.helpers.hostplay"
--   local r = hp.run(hosts, { { lineinfile = { ... } } }, { check = true, diff = true })
--   r[1].result, r[1].status         -- the first task's result and status
--   hp.task(hosts, task, opts)       -- one task: its result, its status
--   hp.prepare_error(hosts, task)    -- the error of a play refused before running
--   hp.refused(hosts, "web", task)   -- the error text of a play of task on "web", refused before running
--   local out, events, recap = hp.results(hosts, "web", tasks, { check = true, diff = true })
--                                    -- the tasks on the host named "web": each task's result, every event
local luasible = require "luasible"

local M = {}

local function play(tasks)
  return { name = "spec", hosts = "all", gather_facts = false, tasks = tasks }
end

function M.run(hosts, tasks, opts)
  opts = opts or {}
  local recap, details = luasible.play(play(tasks), { inventory = hosts:inventory(), check = opts.check,
    diff = opts.diff, on_event = opts.on_event or function() end })
  assert(recap, details)
  local name = hosts[opts.host or 1].name
  return details.hosts[name], recap
end

function M.task(hosts, task, opts)
  local r = M.run(hosts, { task }, opts)
  return r[1].result, r[1].status
end

--- The tasks on the host named `host` (a play of `hosts = host`; opts.check,
--- opts.diff): the list of each task's result on it, every event, the recap.
function M.results(hosts, host, tasks, opts)
  opts = opts or {}
  local events = {}
  local recap, details = luasible.play({ hosts = host, tasks = tasks },
    { inventory = hosts:inventory(), check = opts.check, diff = opts.diff,
      on_event = function(ev) events[#events + 1] = ev end })
  local out = {}
  for i, r in ipairs(details and details.hosts[host] or {}) do out[i] = r.result end
  return out, events, recap
end

--- The error text of a play of `task` on the host named `host` that must be
--- refused before it runs (raises when the play ran).
function M.refused(hosts, host, task)
  local recap, err = luasible.play({ hosts = host, tasks = { task } },
    { inventory = hosts:inventory(), on_event = function() end })
  assert(recap == nil, "the play ran: it should have been refused")
  return tostring(err)
end

--- The error of a play that is refused before it runs (nil when it runs).
function M.prepare_error(hosts, task)
  local recap, err = luasible.play(play({ task }), { inventory = hosts:inventory(), on_event = function() end })
  if recap then return nil end
  return err
end

return M
