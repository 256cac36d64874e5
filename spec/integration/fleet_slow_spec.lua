-- 1,000 hosts from one process (issue 13): one `luasible exec` on the
-- 1,000 distinct addresses of spec/helpers/fleet.lua (a netns fleet: 20
-- network namespaces, each a test host with its own sshd and 50
-- addresses), every host at once (-f 1000). Every host ends ok with the
-- command's output, or unreachable with a reason; never a crash, a stall
-- or a missing host; bounded in time. #slow: `make test-slow`.
local fleet = require "spec.helpers.fleet"
local fleet_run = require "spec.helpers.fleet_run"
local th = require "spec.helpers.testhosts"

local N = 1000

describe("#slow #ssh #hosts 1,000 hosts from one process", function()
  local ok, why = th.available()
  if not ok then
    pending("test hosts unavailable: " .. why)
    return
  end
  local f, tmp, names, want
  lazy_setup(function()
    f = fleet.start { hosts = N }
    tmp = os.tmpname()
    os.remove(tmp)
    assert(os.execute("mkdir -p " .. tmp))
    names, want = {}, {}
    for _, h in ipairs(f.hosts) do names[#names + 1], want[h.name] = h.name, "hi" end
  end)
  lazy_teardown(function()
    if f then f:stop() end
    if tmp then os.execute("rm -rf " .. tmp) end
  end)

  it("runs echo hi on all 1,000 at once (20 namespaces)", function()
    assert.are.equal(20, #f.servers)
    local seen = {}
    for _, h in ipairs(f.hosts) do seen[h.address] = true end
    local distinct = 0
    for _ in pairs(seen) do distinct = distinct + 1 end
    assert.are.equal(N, distinct)
    local inv = f:inventory(tmp .. "/inv.ini")
    fleet_run.check(fleet_run.exec(inv, tmp, "echo hi", N, 180), names, want)
  end)

  it("runs sleep 2; echo hi on all 1,000 at once", function()
    local inv = f:inventory(tmp .. "/inv.ini")
    fleet_run.check(fleet_run.exec(inv, tmp, "sleep 2; echo hi", N, 180), names, want)
  end)

  -- last: it breaks two of the namespaces' servers
  it("reports a killed sshd, a stopped one and unrouted addresses per host, in bounded time", function()
    local inv = f:inventory(tmp .. "/inv.ini", { "ansible_timeout=8" })
    local all, w = fleet_run.break_some(f, inv, 20)
    local r = fleet_run.exec(inv, tmp, "echo hi", N + 20, 180)
    local n = fleet_run.check(r, all, w)
    assert.is_true(n.unreachable >= 120, n.unreachable .. " unreachable")
    assert.is_true(r.wall < 90, "took " .. r.wall .. " s")
    f:sshd(2, "cont")
  end)
end)
