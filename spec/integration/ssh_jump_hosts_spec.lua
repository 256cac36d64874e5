-- A bastion as a real sshd on its own test host, and targets in a second
-- network that only the bastion joins (spec/helpers/testhosts.lua, opts.behind):
-- the controller has no route to them; plays reach them through ProxyJump.
local luasible = require "luasible"
local plays = require "luasible.play"
local jump = require "luasible.ssh.jump"
local th = require "spec.helpers.testhosts"

describe("#hosts #ssh a bastion test host and targets only it can reach", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts
  lazy_setup(function()
    hosts = th.start { names = { "bastion", "db1", "db2" }, behind = { db1 = "bastion", db2 = "bastion" } }
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  it("has no route from the controller to the targets", function()
    local db1 = hosts:get("db1")
    assert.equal(hosts.private_subnet:match("^(%d+%.%d+%.%d+)%."), db1.address:match("^(%d+%.%d+%.%d+)%."))
    local args = db1:connect_args()
    args.connect_timeout = 2
    -- no interface of ours is in its network: the route (if any) is the
    -- machine's default one, not the run's bridge
    local route = require("spec.helpers.files").sh("ip -4 route get " .. db1.address .. " 2>&1")
    assert.is_falsy(route:find(hosts.bridge, 1, true), route)
    local c, err = luasible.connect(args)
    assert.is_nil(c, "the controller reached db1 directly")
    assert.is_string(err) -- unreachable, refused, or whatever the default route leads to: never db1's sshd
    -- the bastion does reach it
    local out = hosts:get("bastion"):exec("ssh-keyscan -T 3 -t ed25519 " .. db1.address .. " 2>/dev/null")
    assert.truthy(out:find(db1.host_key, 1, true), out)
  end)

  it("runs a play on the targets through the bastion (-o ProxyJump in the inventory)", function()
    local events = {}
    local recap = assert(plays.play({ hosts = "db1,db2", gather_facts = false,
      tasks = { { name = "where", shell = "hostname; echo $SSH_CONNECTION" } } }, {
      inventory = hosts:inventory { jump = true },
      on_event = function(ev) events[#events + 1] = ev end }))
    assert.equal(1, recap.db1.ok)
    assert.equal(1, recap.db2.ok)
    local out = {}
    for _, ev in ipairs(events) do
      if ev.type == "stdout" then out[ev.host] = (out[ev.host] or "") .. ev.data .. "\n" end
    end
    -- each target saw its connection come from the bastion's private address
    local gw = hosts:get("bastion").private_address
    for _, name in ipairs { "db1", "db2" } do
      local h = hosts:get(name)
      assert.equal(name .. "\n" .. gw .. " ", out[name]:sub(1, #name + 2 + #gw))
      assert.truthy(out[name]:find(" " .. h.address .. " 22\n", 1, true), out[name])
    end
    assert.equal(0, jump.count()) -- the play closed its connections, and the bastion's
  end)

  it("shares one bastion session between the targets, closed with the last one", function()
    local b = hosts:get("bastion")
    local function spec(name)
      local a = hosts:get(name):connect_args()
      a.jump = "root@" .. b.address
      return a
    end
    local c1 = assert(luasible.connect(spec("db1")))
    local c2 = assert(luasible.connect(spec("db2")))
    assert.equal(1, jump.count())
    assert.equal("db1\n", assert(c1:execute("hostname")).stdout)
    assert.equal("db2\n", assert(c2:execute("hostname")).stdout)
    -- one SSH connection on the bastion from the controller
    local conns = b:exec("cat /proc/net/tcp")
    local n = 0
    local hexport = string.format("%04X", 22)
    for line in conns:gmatch("[^\n]+") do
      local l, st = line:match("^%s*%d+:%s+%x+:(%x+)%s+%x+:%x+%s+(%x%x)")
      if l == hexport and st == "01" then n = n + 1 end
    end
    assert.equal(1, n)
    c1:close()
    c2:close()
    assert.equal(0, jump.count())
  end)

  it("refuses a bastion whose host key is not known, and names a bastion that is down", function()
    local b, db1 = hosts:get("bastion"), hosts:get("db1")
    local kh = hosts.dir .. "/kh_without_bastion"
    local f = assert(io.open(hosts.known_hosts))
    local lines = {}
    for line in f:lines() do if not line:find("^bastion,") then lines[#lines + 1] = line end end
    f:close()
    f = assert(io.open(kh, "w"))
    f:write(table.concat(lines, "\n"), "\n")
    f:close()
    local a = db1:connect_args()
    a.jump, a.known_hosts = "root@" .. b.address, kh
    local c, err, name = luasible.connect(a)
    assert.is_nil(c)
    assert.equal("EHOSTKEY", name)
    assert.truthy(err:find("jump host root@" .. b.address .. ":22: host key of " .. b.address .. ":22 is unknown", 1,
      true), err)
    -- the bastion's sshd stops
    b:exec("kill $(cat /run/sshd.pid)")
    a.known_hosts = hosts.known_hosts
    a.connect_timeout = 3
    c, err, name = luasible.connect(a)
    assert.is_nil(c)
    assert.equal("ECONNREFUSED", name)
    assert.equal("ECONNREFUSED: jump host root@" .. b.address .. ":22: cannot connect to root@" .. b.address
      .. ":22: Connection refused", err)
  end)
end)
