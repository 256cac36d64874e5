-- A test fleet of network namespaces (spec/helpers/fleet.lua, kind netns)
-- and what one `luasible exec` on it reports per host when some of its
-- machines fail: refused (no sshd), a server that accepts TCP and never
-- answers (a stopped sshd), addresses nothing holds (SYNs dropped). Each
-- host ends unreachable with its reason, in bounded time; the others run.
-- The 1,000-host version is fleet_slow_spec.lua (#slow).
local fleet = require "spec.helpers.fleet"
local fleet_run = require "spec.helpers.fleet_run"
local th = require "spec.helpers.testhosts"
local C = require "spec.helpers.sshd_common"

describe("#hosts #ssh a fleet of namespaces", function()
  local ok, why = th.available()
  if not ok then
    pending("test hosts unavailable: " .. why)
    return
  end
  local f, tmp
  lazy_setup(function()
    f = fleet.start { hosts = 100, per = 5 }
    tmp = os.tmpname()
    os.remove(tmp)
    assert(os.execute("mkdir -p " .. tmp))
  end)
  lazy_teardown(function()
    if f then f:stop() end
    if tmp then os.execute("rm -rf " .. tmp) end
  end)

  it("is 100 distinct addresses over 20 namespaces, each its own sshd", function()
    assert.are.equal(20, #f.servers)
    local seen, fps = {}, {}
    for _, h in ipairs(f.hosts) do
      assert.is_nil(seen[h.address], h.address)
      seen[h.address] = true
      fps[h.server.host_key_fingerprint] = true
    end
    local n = 0
    for _ in pairs(fps) do n = n + 1 end
    assert.are.equal(20, n)
    -- an address of namespace 3 is served by namespace 3's sshd (its own hostname)
    local h = f.hosts[3]
    assert.are.equal(3, h.ns)
    local out = C.run(("ssh -F none -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
      .. " -o LogLevel=ERROR -i %s root@%s hostname"):format(C.q(h.server.key), h.address))
    assert.are.equal("fleet03\n", out)
  end)

  it("runs on every host at once", function()
    local inv = f:inventory(tmp .. "/inv.ini")
    local names, want = {}, {}
    for _, h in ipairs(f.hosts) do names[#names + 1], want[h.name] = h.name, "hi" end
    local n = fleet_run.check(fleet_run.exec(inv, tmp, "echo hi", 100, 60), names, want)
    assert.are.equal(100, n.ok)
  end)

  -- last: it breaks two of the namespaces' servers
  it("reports refused, silent and unrouted hosts as unreachable with the reason, never a stall", function()
    local inv = f:inventory(tmp .. "/inv.ini", { "ansible_timeout=3" })
    local all, want = fleet_run.break_some(f, inv, 5)
    local r = fleet_run.exec(inv, tmp, "echo hi", 200, 60)
    local n = fleet_run.check(r, all, want)
    assert.are.equal(15, n.unreachable)
    assert.are.equal(90, n.ok)
    assert.are.equal(4, r.rc)
    -- the silent ones cost the connect timeout (3 s), not more
    assert.is_true(r.wall < 12, "took " .. r.wall .. " s")
    f:sshd(2, "cont")
  end)
end)
