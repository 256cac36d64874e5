--- spec/helpers/testhosts_net.lua: the network side of spec/helpers/testhosts.lua:
-- a free 10.x.y.0/24, the bridge, namespaces and veth pairs of a run, the
-- script that removes a run, and the sweep of runs whose process died.
local C = require "spec.helpers.sshd_common"
local files = require "spec.helpers.files"
local q, run = C.q, C.run
local write_file = files.write

local N = {}

local function must(cmd, what) return C.must(cmd, what, "testhosts") end

---------------------------------------------------------------------------
-- leftovers of runs whose process died (the watchdog normally removes them)

local swept = false
--- Remove (once per process) the namespaces, links and dirs of test-host
--- runs whose process is dead.
function N.sweep()
  if swept then return end
  swept = true
  local dead = {}
  local function is_dead(pid)
    pid = tonumber(pid)
    if dead[pid] == nil then dead[pid] = not C.alive(pid) end
    return dead[pid]
  end
  local cmds, kills, dirs = {}, {}, {}
  for name in (run("ip netns list")):gmatch("(lsbt%-%d+%-%d+)") do
    if is_dead(name:match("^lsbt%-(%d+)")) then
      kills[#kills + 1] = "kill -9 $(ip netns pids " .. name .. ") 2>/dev/null"
      cmds[#cmds + 1] = "netns del " .. name
    end
  end
  for link in (run("ip -o link show")):gmatch("%d+: (lsbt%d+[bv]%d+)[@:]") do
    if is_dead(link:match("^lsbt(%d+)")) then cmds[#cmds + 1] = "link del " .. link end
  end
  for d in (run("ls -d /tmp/lsbt-*.* 2>/dev/null")):gmatch("(/tmp/lsbt%-%d+%-%d+%.%w+)") do
    if is_dead(d:match("^/tmp/lsbt%-(%d+)")) then dirs[#dirs + 1] = q(d) end
  end
  if #kills > 0 then os.execute(table.concat(kills, "; ") .. "; sleep 0.2") end
  if #cmds > 0 then
    local f = os.tmpname()
    write_file(f, table.concat(cmds, "\n") .. "\n")
    run("ip -force -batch " .. q(f))
    os.remove(f)
  end
  if #dirs > 0 then os.execute("rm -rf " .. table.concat(dirs, " ")) end
end

---------------------------------------------------------------------------
-- a /24 nobody here uses

local function ip_num(a)
  local b1, b2, b3, b4 = a:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  return ((tonumber(b1) * 256 + tonumber(b2)) * 256 + tonumber(b3)) * 256 + tonumber(b4)
end

-- every IPv4 prefix of the controller's addresses and routes: { {num, len} }
local function used_prefixes()
  local out = run("ip -4 -o addr show; ip -4 route show table all")
  local used = {}
  for a, len in out:gmatch("(%d+%.%d+%.%d+%.%d+)/?(%d*)") do
    len = tonumber(len) or 32
    if len >= 8 then used[#used + 1] = { ip_num(a), len } end
  end
  return used
end

local function overlaps(net, used)
  for _, u in ipairs(used) do
    local bits = math.min(24, u[2])
    local div = 1 << (32 - bits)
    if net // div == u[1] // div then return true end
  end
  return false
end

-- 10.160.0.0/24 .. 10.223.255.0/24 (16384 nets), starting at one the pid gives
local function pick_subnet(pid, k, avoid)
  local used = used_prefixes()
  local h = (pid * 40503 + k * 977) % 16384
  for _ = 1, 200 do
    local net = ip_num(string.format("10.%d.%d.0", 160 + h // 256, h % 256))
    if not overlaps(net, used) and not avoid[net] then return net end
    h = (h + math.random(1, 16383)) % 16384
  end
  error("testhosts: no free 10.x.y.0/24 found for the test hosts")
end

local function ip_str(n)
  return string.format("%d.%d.%d.%d", n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)
end

--- A free 10.x.y.0/24 (as a number; avoid: { [net] = true } to skip) and
--- the dotted text of an address number: for helpers that route more /24s
--- into a run's hosts (spec/helpers/fleet_netns.lua).
N.pick_subnet, N.ip_str, N.ip_num = pick_subnet, ip_str, ip_num

-- `ip -batch` lines deleting the run's links and namespaces
local function network_deletes(hosts)
  local dels = {}
  for _, h in ipairs(hosts) do dels[#dels + 1] = "link del " .. h.veth end
  dels[#dels + 1] = "link del " .. hosts.bridge
  for _, h in ipairs(hosts) do dels[#dels + 1] = "netns del " .. h.netns end
  return table.concat(dels, "\n") .. "\n"
end

--- The shell text that removes everything of a run (stop() and the
--- watchdog run it): kill what is in its namespaces, delete the veths, the
--- bridge, the namespaces, the dir; exits 0 when nothing is left.
function N.cleanup_script(hosts)
  local names = {}
  for _, h in ipairs(hosts) do names[#names + 1] = h.netns end
  local ns = table.concat(names, " ")
  local inits = {}
  for _, h in ipairs(hosts) do
    inits[#inits + 1] = "p=$(cat " .. q(h.dir .. "/pid") .. " 2>/dev/null) && [ \"$(ip netns identify $p)\" = "
      .. h.netns .. " ] && kill -9 $p"
  end
  return table.concat({
    "# written by spec/helpers/testhosts.lua: removes the test hosts of " .. hosts.dir,
    "in_ns() { for n in " .. ns .. "; do ip netns pids $n 2>/dev/null; done; }",
    -- SIGKILL to a PID 1 kills its whole PID namespace, and its parent
    -- (unshare, in the network namespace) reaps it and exits; what is still
    -- in a network namespace after a moment is killed too
    table.concat(inits, "\n"),
    "i=0",
    "while pids=$(in_ns) && [ -n \"$pids\" ] && [ $i -lt 500 ]; do",
    "  [ $i -ge 20 ] && kill -9 $pids 2>/dev/null; sleep 0.01; i=$((i + 1))",
    "done",
    "ip -force -batch - 2>/dev/null <<'EOF'",
    network_deletes(hosts) .. "EOF",
    "rm -rf " .. q(hosts.dir),
    "[ -z \"$(in_ns)\" ]",
  }, "\n") .. "\n"
end

-- The hosts behind another one (opts.behind of testhosts.start: h.behind
-- is the host it hides behind): their eth0 is a veth whose other end is on
-- a bridge "lsbtpriv" inside that host's namespace, in a second /24 that
-- the controller has no interface, address or route in: only that host
-- reaches them. Returns the `ip -batch` lines of the controller's
-- namespace and { [netns] = lines } of the hosts in front, or nil.
local function private_network(hosts, pid, k, avoid)
  local gw, lines, inner, any = {}, {}, {}, false
  for _, h in ipairs(hosts) do if h.behind then any = true end end
  if not any then return nil end
  local pnet = pick_subnet(pid, k + 7, avoid)
  hosts.private_subnet = ip_str(pnet) .. "/24"
  local n = 0
  for _, h in ipairs(hosts) do
    if h.behind then
      local b = h.behind
      if not gw[b] then
        n = n + 1
        gw[b] = ip_str(pnet + n)
        b.private_address = gw[b]
        inner[b.netns] = { "link add lsbtpriv type bridge", "addr add " .. gw[b] .. "/24 dev lsbtpriv",
          "link set lsbtpriv up" }
      end
    end
  end
  for _, h in ipairs(hosts) do
    if h.behind then
      n = n + 1
      h.address = ip_str(pnet + n)
      lines[#lines + 1] = "netns add " .. h.netns
      lines[#lines + 1] = "link add " .. h.veth .. " netns " .. h.behind.netns .. " type veth peer name eth0 netns "
        .. h.netns
      local il = inner[h.behind.netns]
      il[#il + 1] = "link set " .. h.veth .. " master lsbtpriv up"
    end
  end
  return lines, inner
end

--- The network of a run: namespaces, bridge with the controller's address,
--- veth pairs; sets hosts.subnet, hosts.controller, host.address (and, for
--- hosts behind another, hosts.private_subnet and their address in it).
--- Retried on another /24 when a concurrent run took the same. pid, k:
--- this process and its run counter (they choose the first /24 tried).
function N.make(hosts, pid, k)
  local avoid = {}
  for _ = 1, 10 do
    local net = pick_subnet(pid, k, avoid)
    hosts.subnet = ip_str(net) .. "/24"
    hosts.controller = ip_str(net + 1)
    local b = { "link add " .. hosts.bridge .. " type bridge",
      "addr add " .. hosts.controller .. "/24 dev " .. hosts.bridge,
      "link set " .. hosts.bridge .. " up" }
    for i, h in ipairs(hosts) do
      if not h.behind then
        h.address = ip_str(net + 1 + i)
        b[#b + 1] = "netns add " .. h.netns
        b[#b + 1] = "link add " .. h.veth .. " type veth peer name eth0 netns " .. h.netns
        b[#b + 1] = "link set " .. h.veth .. " master " .. hosts.bridge .. " up"
      end
    end
    local private, inner = private_network(hosts, pid, k, { [net] = true })
    for _, l in ipairs(private or {}) do b[#b + 1] = l end
    write_file(hosts.dir .. "/network", table.concat(b, "\n") .. "\n")
    must("ip -batch " .. q(hosts.dir .. "/network"), "creating the network")
    for ns, il in pairs(inner or {}) do
      write_file(hosts.dir .. "/network-" .. ns, table.concat(il, "\n") .. "\n")
      must("ip -n " .. ns .. " -batch " .. q(hosts.dir .. "/network-" .. ns), "creating the private network")
    end
    -- another interface in our /24 (a run that picked it at the same time)?
    local clash = false
    for dev, a in (run("ip -4 -o addr show")):gmatch("%d+:%s+(%S+)%s+inet%s+(%d+%.%d+%.%d+%.%d+)") do
      if dev ~= hosts.bridge and ip_num(a) // 256 == net // 256 then clash = true end
    end
    if not clash then return end
    avoid[net] = true
    write_file(hosts.dir .. "/network", network_deletes(hosts))
    run("ip -force -batch " .. q(hosts.dir .. "/network"))
  end
  error("testhosts: every /24 tried was taken concurrently")
end

return N
