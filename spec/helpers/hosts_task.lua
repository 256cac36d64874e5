--- spec/helpers/hosts_task.lua: one task (or a few) run by luasible.play on
-- test hosts (spec/helpers/testhosts.lua) over their real sshd, for the
-- module specs.
--
--   local task = require("spec.helpers.hosts_task").runner(hosts)
--   local r, status, events = task({ user = { name = "bob" } }, { check = true, diff = true })
--   -- r: the result on hosts[1] (opts.host = 2 for another), status "ok"/"changed"/"failed"/...
--   -- nil, "refused", err when the play is refused before it runs (a bad argument)
--   local details, events = task.all({ t1, t2 }, opts)  -- details.hosts[name]: { task, status, result }
--   local ok, why = hosts_task.install_cron(host)  -- cron's .deb from apt's cache, dpkg -i on the host
--   hosts_task.ssh_requests(host)  -- the exec and subsystem requests its sshd logged (LogLevel DEBUG1)
local luasible = require "luasible"
local files = require "spec.helpers.files"

local M = {}

local ARCHIVES = "/var/cache/apt/archives"

--- The exec and subsystem requests a test host's sshd has logged so far:
--- the round trips of its sessions (the host started with config
--- { "LogLevel DEBUG1" }).
function M.ssh_requests(host)
  local log = files.read(host.dir .. "/log") or ""
  local n = 0
  for _ in log:gmatch("req exec") do n = n + 1 end
  for _ in log:gmatch("subsystem request for") do n = n + 1 end
  return n
end

--- Install Debian's cron on a test host (its own root: nothing changes
--- here) from the .debs in apt's cache (scripts/deps downloads them).
--- Returns true, or nil and why.
function M.install_cron(host)
  local p = io.popen("ls " .. ARCHIVES .. "/cron-daemon-common_*.deb " .. ARCHIVES .. "/cron_*.deb 2>/dev/null")
  local list = p:read("a")
  p:close()
  local common, cron = list:match("(%S+/cron%-daemon%-common_%S+%.deb)"), list:match("(%S+/cron_%S+%.deb)")
  if not (common and cron) then return nil, "cron's .deb not in " .. ARCHIVES .. " (scripts/deps downloads it)" end
  for _, deb in ipairs({ common, cron }) do
    assert(os.execute("cp " .. deb .. " " .. host.root .. "/tmp/"))
    local out, ok = host:exec("DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/" .. deb:match("[^/]+$") .. " 2>&1")
    if not ok then return nil, "dpkg -i " .. deb .. ": " .. out end
  end
  return true
end

function M.runner(hosts)
  local function play(tasks, opts)
    opts = opts or {}
    local events = {}
    local recap, details = luasible.play({ hosts = opts.pattern or hosts.group or "testhosts", tasks = tasks,
      gather_facts = false },
      { inventory = hosts:inventory(), check = opts.check, diff = opts.diff, forks = opts.forks,
        on_event = function(ev) events[#events + 1] = ev end })
    if not recap then return nil, details end -- refused before any host was touched
    return details, events, recap
  end
  local run = {}
  function run.all(tasks, opts) return play(tasks, opts) end
  setmetatable(run, { __call = function(_, t, opts)
    opts = opts or {}
    local h = hosts[opts.host or 1]
    local details, events = play({ t }, setmetatable({ pattern = h.name }, { __index = opts }))
    if not details then return nil, "refused", events end
    local one = details.hosts[h.name][1]
    return one.result, one.status, events
  end })
  return run
end

return M
