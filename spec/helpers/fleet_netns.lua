--- spec/helpers/fleet_netns.lua: the default kind of spec/helpers/fleet.lua
-- (issue 13, "test fleets made of real machines on this one"): the test
-- hosts of spec/helpers/testhosts.lua scaled out. N namespaces (20 for
-- 1,000 hosts), each a test host (veth on the run's bridge, its own sshd on
-- port 22 of all its addresses, overlay root, PID/mount/UTS namespaces),
-- and each holding PER (50) more addresses: a /24 of its own (picked free
-- like the bridge's), the addresses on the namespace's lo, routed from here
-- through the namespace's eth0 address. Host i is address (i - 1) // N + 1
-- of namespace (i - 1) % N + 1, so the hosts of a run spread over the
-- servers. Traffic goes only to addresses inside the namespaces of the run.
--
-- Used through fleet.start { hosts = 1000 } (kind = "netns", the default);
-- the fleet object has the fields and methods of fleet.lua's plus:
--   f.testhosts         the testhosts run (f.testhosts[k] = namespace k)
--   f.hosts[i].ns       the namespace index of host i (f.servers[ns])
--   f:sshd(k, how)      make namespace k's sshd "kill"ed (its addresses refuse
--                       connections), "stop"ped (SIGSTOP: the kernel still
--                       completes the TCP handshake, nothing answers) or "cont"
--   f:unrouted(k, n)    n more addresses routed into namespace k that nothing
--                       there holds (SYNs to them are dropped): a list of them
local th = require "spec.helpers.testhosts"
local net = require "spec.helpers.testhosts_net"
local C = require "spec.helpers.sshd_common"
local files = require "spec.helpers.files"

local M = {}

local function must(cmd, what) return C.must(cmd, what, "fleet") end

-- ip -batch lines run in the controller's namespace (routes) or a host's
local function batch(lines, file, ns)
  files.write(file, table.concat(lines, "\n") .. "\n")
  must("ip " .. (ns and ("-n " .. ns .. " ") or "") .. "-batch " .. C.q(file), "ip -batch " .. file)
end

-- a free /24 routed through namespace host h; returns its base number
local function route_subnet(f, h)
  local base = net.pick_subnet(C.lua_pid(), #f.subnets + 101, f.avoid)
  f.avoid[base] = true
  f.subnets[#f.subnets + 1] = base
  batch({ ("route add %s/24 via %s dev %s"):format(net.ip_str(base), h.address, f.testhosts.bridge) },
    f.testhosts.dir .. "/fleet-route-" .. #f.subnets)
  return base
end

--- Start the fleet: opts.hosts (1000), opts.per (50 addresses a namespace,
--- at most 250), opts.config (more sshd_config lines), opts.start_timeout.
--- f.servers[k] (one per namespace) has user, key, port, host_key_fingerprint
--- like sshd.lua's servers.
function M.start(opts, Fleet)
  local n, per = opts.hosts or 1000, opts.per or 50
  assert(per >= 1 and per <= 250, "fleet helper: per must be 1..250")
  local k = (n + per - 1) // per
  assert(n >= 1 and k <= 200, "fleet helper: hosts must be 1..200 namespaces of per addresses")
  local names = {}
  for s = 1, k do names[s] = ("fleet%02d"):format(s) end
  local config = { "MaxStartups 2000:30:4000" }
  for _, l in ipairs(opts.config or {}) do config[#config + 1] = l end
  local hosts = th.start { names = names, group = "fleetns", config = config,
    start_timeout = opts.start_timeout or math.max(20, k) }
  local f = setmetatable({ kind = "netns", testhosts = hosts, servers = {}, hosts = {}, subnets = {},
    avoid = {}, unrouted_count = 0 }, Fleet)
  local ok, err = pcall(function()
    -- the bridge's /24 must not be picked again
    f.avoid[net.ip_num(hosts.subnet:match("^[%d.]+"))] = true
    for s, h in ipairs(hosts) do
      f.servers[s] = { user = h.user, key = h.key, port = 22, host_key_fingerprint = h.host_key_fingerprint,
        testhost = h, name = h.name }
      local base = route_subnet(f, h)
      local lines = {}
      local count = (n - s) // k + 1
      for j = 1, count do lines[#lines + 1] = ("addr add %s/32 dev lo"):format(net.ip_str(base + j)) end
      f.servers[s].base, f.servers[s].count = base, count
      batch(lines, hosts.dir .. "/fleet-addr-" .. s, h.netns)
    end
  end)
  if not ok then
    pcall(hosts.stop, hosts)
    error(err, 2)
  end
  for i = 1, n do
    local s = (i - 1) % k + 1
    local srv = f.servers[s]
    f.hosts[i] = { name = ("f%04d"):format(i), address = net.ip_str(srv.base + (i - 1) // k + 1), port = 22,
      server = srv, ns = s }
  end
  return f
end

local Methods = {}

function Methods:sshd(k, how)
  local h = self.testhosts[k]
  local sig = ({ kill = "KILL", stop = "STOP", cont = "CONT" })[how]
  assert(h and sig, "fleet:sshd(k, kill|stop|cont)")
  local _, ok, _, err = h:exec("kill -" .. sig .. " $(cat /run/sshd.pid)")
  assert(ok, "fleet: kill -" .. sig .. " sshd of " .. h.name .. ": " .. tostring(err))
end

function Methods:unrouted(k, n)
  local h = self.testhosts[k]
  local base = route_subnet(self, h)
  local out = {}
  for j = 1, n do out[j] = net.ip_str(base + j) end
  return out
end

function Methods:stop()
  if self.testhosts then
    local hosts = self.testhosts
    self.testhosts = nil
    -- SIGKILL ends a stopped sshd too; the routes go with the bridge, the
    -- addresses with the namespaces
    hosts:stop()
  end
  self.servers = {}
end

M.methods = Methods

return M
