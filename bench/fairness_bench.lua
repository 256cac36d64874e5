--- Fairness (issue 8, finding 7): how late a 10 ms ticker task wakes while
-- many streams pour output into their tasks beside it.
--   make && lua5.4 bench/fairness_bench.lua [ssh|local] [streams] [lines]
--   NICE_SERVER=1 ...: the sshd (and the commands it runs) at nice 19
-- Without a mode both run: 50 SSH connections to one loopback sshd
-- (spec/helpers/sshd.lua), then 50 local commands, each streaming
-- `seq 1 <lines>` (100,000) into a task that counts its events; the ticker
-- sleeps 10 ms in a loop and records how much later than asked it woke.
-- Printed: the ticker's lateness p50 / p99 / max (also without the time the
-- OS kept this process waiting for a CPU, from /proc/self/schedstat: the
-- servers and commands share this machine's CPUs), and the events per second
-- of all the streams together (the throughput the bound must not cost), per
-- wall second and per CPU second of this process (os.clock: what a loaded
-- machine does not skew).
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local luasible = require "luasible"

local M = {}

-- Seconds this process has waited on a run queue (runnable, not running:
-- the OS held it back), from /proc/self/schedstat; 0 where there is none.
local function queued_s()
  local f = io.open("/proc/self/schedstat")
  if not f then return 0 end
  local _, wait = f:read("n", "n")
  f:close()
  return (wait or 0) / 1e9
end

local function pct(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, math.ceil(#sorted * p))]
end

--- Runs `streams` streams of `lines` lines on the connections conns(i)
-- gives, beside a 10 ms ticker; returns { p50, p99, max, ticks, events,
-- seconds } (lateness in ms).
function M.measure(conn_for, streams, lines, period)
  period = period or 0.01
  local late, net, events, dt, cpu = {}, {}, 0, 0, 0
  luasible.run(function()
    local conns = {}
    for i = 1, streams do conns[i] = conn_for(i) end
    local running = true
    local ticker = luasible.spawn(function()
      while running do
        local t0, q0 = luasible.now(), queued_s()
        luasible.sleep(period)
        local l = (luasible.now() - t0 - period) * 1000
        late[#late + 1] = l
        -- what the OS's run queue does not explain: this process's own delay
        net[#net + 1] = math.max(0, l - (queued_s() - q0) * 1000)
      end
    end)
    local t0, c0 = luasible.now(), os.clock()
    local tasks = {}
    for i = 1, streams do
      tasks[i] = luasible.spawn(function()
        local n = 0
        for ev in conns[i]:stream("seq 1 " .. lines) do
          if ev.type == "stdout" then n = n + 1 end
        end
        assert(n == lines, ("stream %d: %d of %d lines"):format(i, n, lines))
        events = events + n
      end)
    end
    for i = 1, streams do tasks[i]:wait() end
    dt, cpu = luasible.now() - t0, os.clock() - c0
    running = false
    ticker:wait()
  end)
  table.sort(late)
  table.sort(net)
  return { p50 = pct(late, 0.5), p99 = pct(late, 0.99), max = late[#late] or 0,
           net_p50 = pct(net, 0.5), net_p99 = pct(net, 0.99), net_max = net[#net] or 0,
           ticks = #late, events = events, seconds = dt, cpu = cpu }
end

function M.report(what, r)
  return ("%s: ticker lateness p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d ticks); without the "
    .. "time the OS kept this process waiting for a CPU: p50 %.1f, p99 %.1f, max %.1f ms; "
    .. "%d events in %.2f s = %.0f events/s, %.0f events per CPU second of this process")
    :format(what, r.p50, r.p99, r.max, r.ticks, r.net_p50, r.net_p99, r.net_max, r.events,
      r.seconds, r.events / r.seconds, r.events / r.cpu)
end

function M.ssh(streams, lines)
  local sshd = require "spec.helpers.sshd"
  local srv = sshd.start { config = { "MaxStartups 100:30:200", "MaxSessions 100" } }
  -- the servers share this machine's CPUs with the client: niced (their
  -- sessions inherit it), they stand for servers on machines of their own
  if os.getenv("NICE_SERVER") then os.execute(("renice -n 19 -p %d >/dev/null"):format(srv.pid)) end
  local spec = { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
    known_hosts = srv.known_hosts, agent = false, ssh_config = false }
  local all = {}
  local ok, r = pcall(M.measure, function(i)
    all[i] = assert(luasible.connect(spec))
    return all[i]
  end, streams, lines)
  for _, c in pairs(all) do c:close() end
  srv:stop()
  assert(ok, r)
  return r
end

function M.localhost(streams, lines)
  local conn = luasible.connect()
  return M.measure(function() return conn end, streams, lines)
end

if arg and arg[0] and arg[0]:match("fairness_bench%.lua$") then
  local mode, streams, lines = arg[1], tonumber(arg[2]) or 50, tonumber(arg[3]) or 100000
  if mode == nil or mode == "ssh" then
    print(M.report(("%d SSH streams x %d lines"):format(streams, lines), M.ssh(streams, lines)))
  end
  if mode == nil or mode == "local" then
    print(M.report(("%d local streams x %d lines"):format(streams, lines), M.localhost(streams, lines)))
  end
end

return M
