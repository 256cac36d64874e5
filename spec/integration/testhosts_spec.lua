-- The test hosts of spec/helpers/testhosts.lua: throwaway machines in
-- namespaces, each with its own address, hostname, root filesystem (an
-- overlay) and sshd. What a host changes stays in it; stop() leaves nothing.
local luasible = require "luasible"
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local read, write = files.read, files.write

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok == true, code
end

local function now() return luasible.now() end

-- "net:[4026532...]" -> list of the live processes (no zombies) in that
-- namespace, for every namespace of every process here
local function all_namespaces()
  local found = {}
  local out = sh("find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/*' -printf '%p %l\\n'")
  for pid, ns in out:gmatch("/proc/(%d+)/ns/%S+ (%S+)") do
    found[ns] = found[ns] or {}
    table.insert(found[ns], tonumber(pid))
  end
  for ns, pids in pairs(found) do
    local live = {}
    for _, pid in ipairs(pids) do
      if require("spec.helpers.proc").alive(pid) then live[#live + 1] = pid end
    end
    found[ns] = #live > 0 and live or nil
  end
  return found
end

local ok_hosts, why = th.available()

describe("#hosts test hosts", function()
  if not ok_hosts then
    pending("test hosts unavailable here: " .. why)
    return
  end

  local hosts, start_time
  local NAMES = { "alpha", "beta", "gamma" }
  local MARK = "lsbt-spec-" .. require("spec.helpers.proc").self_pid()

  local conns = {}
  lazy_setup(function()
    local t0 = now()
    hosts = th.start { names = NAMES }
    start_time = now() - t0
  end)
  lazy_teardown(function()
    for _, c in pairs(conns) do c:close() end
    if hosts then hosts:stop() end
  end)

  -- cmd over SSH (one luasible connection per host), asserting success
  local function ssh(h, cmd)
    local conn = conns[h.name]
    if not conn then
      conn = assert(luasible.connect(h:connect_args()))
      conns[h.name] = conn
    end
    local res = assert(conn:execute(cmd))
    assert(res.rc == 0, ("%s: %s: exit %s: %s"):format(h.name, cmd, tostring(res.rc), res.stderr))
    return res.stdout
  end

  it("start all hosts at once, fast", function()
    assert.equal(3, #hosts)
    assert.is_true(start_time < 5, "3 hosts took " .. start_time .. " s to start")
  end)

  it("each host has its own hostname, address and machine id", function()
    local seen = {}
    for i, h in ipairs(hosts) do
      assert.equal(NAMES[i], h.name)
      assert.equal(hosts:get(h.name), h)
      assert.equal(h.name .. "\n", ssh(h, "hostname"))
      assert.equal(h.name .. "\n", (h:exec("cat /etc/hostname")))
      assert.truthy(h.address:match("^10%.%d+%.%d+%.%d+$"))
      assert.equal(hosts.subnet:match("^(%d+%.%d+%.%d+)%."), h.address:match("^(%d+%.%d+%.%d+)%."))
      local addrs = ssh(h, "ip -4 -o addr show")
      assert.truthy(addrs:find(" eth0%s+inet " .. h.address:gsub("%.", "%%.") .. "/24"), addrs)
      assert.truthy(addrs:find(" lo%s+inet 127%.0%.0%.1/8"), addrs)
      local id = assert(h:read("/etc/machine-id"))
      assert.is_nil(seen[h.address])
      assert.is_nil(seen[id])
      seen[h.address], seen[id] = true, true
    end
    -- the controller is .1 on the run's bridge, and hosts reach each other by name
    assert.truthy(sh("ip -4 -o addr show dev " .. hosts.bridge):find(hosts.controller, 1, true))
    local _, ok = hosts[1]:exec("timeout 5 bash -c 'exec 3<>/dev/tcp/beta/22 && head -c 4 <&3'")
    assert.is_true(ok)
  end)

  it("luasible.connect reaches every host with strict host key checking", function()
    for _, h in ipairs(hosts) do
      local args = h:connect_args()
      assert.equal("strict", args.host_key_check)
      local conn = assert(luasible.connect(args))
      local res = assert(conn:execute("hostname; id -un"))
      assert.equal(0, res.rc)
      assert.equal(h.name .. "\nroot\n", res.stdout)
      conn:close()
    end
    -- alpha's address with beta's host key: refused
    local wrong = hosts.dir .. "/known_hosts.wrong"
    write(wrong, hosts[1].address .. " " .. hosts[2].host_key .. "\n")
    local args = hosts[1]:connect_args()
    args.known_hosts = wrong
    local conn, err = luasible.connect(args)
    assert.is_nil(conn)
    assert.truthy(tostring(err):match("EHOSTKEY"), tostring(err))
  end)

  it("a file written to /etc on one host is on no other host and not here", function()
    local path = "/etc/" .. MARK
    ssh(hosts[1], "echo one > " .. path .. " && echo sub > /usr/" .. MARK)
    assert.equal("one\n", hosts[1]:read(path))
    assert.equal("one\n", (hosts[1]:exec("cat " .. path)))
    for i = 2, 3 do
      assert.is_nil(hosts[i]:read(path))
      local _, ok = hosts[i]:exec("test -e " .. path)
      assert.is_false(ok)
    end
    assert.is_nil(read(path))
    assert.is_nil(read("/usr/" .. MARK))
    -- the host's /tmp is its own, and the controller's files are hidden there
    ssh(hosts[2], "echo two > /tmp/" .. MARK)
    assert.is_nil(hosts[1]:read("/tmp/" .. MARK))
    assert.is_nil(read("/tmp/" .. MARK))
    local _, seen = hosts[2]:exec("test -e " .. hosts.dir)
    assert.is_false(seen)
  end)

  it("useradd on a host changes neither the real /etc/passwd nor the other hosts", function()
    local passwd, shadow = read("/etc/passwd"), read("/etc/shadow")
    local user = "lsbtuser"
    -- (-p '*': with UsePAM no, sshd refuses accounts whose password is locked)
    ssh(hosts[1], "useradd -m -p '*' -s /bin/sh " .. user)
    assert.truthy(ssh(hosts[1], "id -u " .. user):match("^%d+\n$"))
    assert.truthy(hosts[1]:read("/etc/passwd"):find("\n" .. user .. ":", 1, true))
    assert.equal(passwd, read("/etc/passwd"))
    assert.equal(shadow, read("/etc/shadow"))
    assert.is_false(select(2, hosts[2]:exec("id -u " .. user)))
    assert.is_false(select(2, sh("id -u " .. user)))
    -- the run's key logs in as any user of the host, new ones too
    local out, ok = hosts[1]:ssh("id -un; pwd", { user = user })
    assert.is_true(ok)
    assert.equal(user .. "\n/home/" .. user .. "\n", out)
  end)

  it("a package installed on a host is installed only there", function()
    local deb = hosts.dir .. "/pkg"
    assert(os.execute("mkdir -p " .. deb .. "/DEBIAN " .. deb .. "/usr/share/" .. MARK))
    write(deb .. "/DEBIAN/control", "Package: " .. MARK .. "\nVersion: 1.0\nArchitecture: all\n"
      .. "Maintainer: luasible <spec@luasible>\nDescription: test host package\n")
    write(deb .. "/usr/share/" .. MARK .. "/hello", "hi\n")
    local out, ok = sh("dpkg-deb --root-owner-group --build " .. deb .. " " .. deb .. ".deb")
    assert(ok, out)
    hosts[1]:write("/root/pkg.deb", assert(read(deb .. ".deb")))
    local status = read("/var/lib/dpkg/status")
    ssh(hosts[1], "dpkg -i /root/pkg.deb >/dev/null")
    assert.truthy(ssh(hosts[1], "dpkg-query -W -f '${Status}' " .. MARK):find("install ok installed", 1, true))
    assert.equal("hi\n", hosts[1]:read("/usr/share/" .. MARK .. "/hello"))
    assert.is_false(select(2, hosts[2]:exec("dpkg-query -W " .. MARK)))
    assert.equal(status, read("/var/lib/dpkg/status"))
    assert.is_nil(read("/usr/share/" .. MARK .. "/hello"))
  end)

  it("sysctls, addresses and mounts changed on a host stay inside it", function()
    local ttl = read("/proc/sys/net/ipv4/ip_default_ttl")
    -- (/proc/sys/net shows the reader's network namespace: read it inside)
    local function host_ttl(h) return (h:exec("cat /proc/sys/net/ipv4/ip_default_ttl")) end
    local ttl2 = host_ttl(hosts[2])
    ssh(hosts[1], "sysctl -q -w net.ipv4.ip_default_ttl=42")
    assert.equal("42\n", host_ttl(hosts[1]))
    assert.equal(ttl2, host_ttl(hosts[2]))
    assert.equal(ttl, read("/proc/sys/net/ipv4/ip_default_ttl"))
    -- sysctls that are not per network namespace are read-only on a host
    local swappiness = read("/proc/sys/vm/swappiness")
    assert.is_false(select(2, hosts[1]:exec("sysctl -q -w vm.swappiness=7")))
    assert.equal(swappiness, read("/proc/sys/vm/swappiness"))

    ssh(hosts[1], "ip addr add 10.254.254.1/32 dev lo")
    assert.truthy(ssh(hosts[1], "ip -o addr show dev lo"):find("10.254.254.1/32", 1, true))
    assert.falsy(sh("ip -o addr show"):find("10.254.254.1/", 1, true))
    assert.falsy((hosts[2]:exec("ip -o addr show")):find("10.254.254.1/", 1, true))

    ssh(hosts[1], "mount -t tmpfs " .. MARK .. " /mnt && touch /mnt/inside")
    assert.truthy((hosts[1]:exec("cat /proc/mounts")):find(MARK, 1, true))
    assert.falsy((hosts[2]:exec("cat /proc/mounts")):find(MARK, 1, true))
    assert.falsy(read("/proc/mounts"):find(MARK, 1, true))
    assert.is_nil(read("/mnt/inside"))
    -- the hosts' own mounts (the overlay root) are not in this namespace either
    assert.falsy(read("/proc/mounts"):find(hosts.dir, 1, true))
  end)

  it("a host sees only its own processes", function()
    ssh(hosts[1], "setsid sleep 997 </dev/null >/dev/null 2>&1 &")
    assert.truthy(ssh(hosts[1], "ps -eo args"):find("sleep 997", 1, true))
    assert.falsy((hosts[2]:exec("ps -eo args")):find("sleep 997", 1, true))
    -- PID 1 of a host is its own init, not this machine's
    assert.truthy(hosts[1]:read("/proc/1/cmdline"):find("init.sh", 1, true))
  end)

  it("runs a play across the hosts, from a Lua and from an INI inventory", function()
    local ini = hosts.dir .. "/inventory.ini"
    write(ini, hosts:inventory_ini())
    for _, inv in ipairs { hosts:inventory(), ini } do
      local events = {}
      local recap, details = luasible.play({ hosts = "testhosts", tasks = {
        { name = "dir", file = { path = "/etc/" .. MARK .. ".d", state = "directory" } },
        { name = "write", copy = { content = "I am {{ inventory_hostname }}\n", dest = "/etc/" .. MARK .. ".d/who" } },
        { name = "name", command = "hostname" },
      } }, { inventory = inv, on_event = function(ev) events[#events + 1] = ev end })
      assert(recap, details)
      for _, h in ipairs(hosts) do
        local r = recap[h.name]
        assert.same({ 0, 0 }, { r.failed, r.unreachable })
        assert.equal(3, r.ok)
        local tasks = details.hosts[h.name]
        assert.equal("name", tasks[3].task)
        assert.equal(h.name, tasks[3].result.stdout)
        assert.equal("I am " .. h.name .. "\n", h:read("/etc/" .. MARK .. ".d/who"))
      end
    end
    assert.is_nil(read("/etc/" .. MARK .. ".d/who"))
  end)
end)

describe("#hosts test hosts stop()", function()
  if not ok_hosts then
    pending("test hosts unavailable here: " .. why)
    return
  end

  it("leaves no namespace, link, mount, process or temp dir behind, and can run twice", function()
    local hosts = th.start { n = 2 }
    local h1 = hosts[1]
    -- a daemon on a host: it must go too
    assert.is_true(select(2, h1:ssh("setsid sleep 998 </dev/null >/dev/null 2>&1 &")))
    local inside = all_namespaces()[h1.namespaces.pid]
    assert.is_true(#inside >= 3)   -- PID 1, sshd, sleep
    local mounts = read("/proc/mounts")
    assert.truthy(mounts:find("/run/netns/" .. h1.netns, 1, true))
    local t0 = now()
    assert.is_true(hosts:stop())
    local took = now() - t0
    assert.is_true(took < 3, "stop took " .. took .. " s")

    assert.same({}, hosts:leftovers())
    local netns = sh("ip netns list")
    local links = sh("ip -o link show")
    mounts = read("/proc/mounts")
    local namespaces = all_namespaces()
    for _, h in ipairs(hosts) do
      assert.falsy(netns:find(h.netns, 1, true))
      assert.falsy(links:find(h.veth, 1, true))
      assert.falsy(mounts:find(h.netns, 1, true))
      for kind, id in pairs(h.namespaces) do
        assert.is_nil(namespaces[id], "processes still in the " .. kind .. " namespace of " .. h.name)
      end
    end
    assert.falsy(links:find(hosts.bridge, 1, true))
    assert.falsy(mounts:find(hosts.dir, 1, true))
    for _, pid in ipairs(inside) do
      assert.is_false(require("spec.helpers.proc").alive(pid), "pid " .. pid .. " survived")
    end
    assert.is_false(select(2, sh("test -e " .. hosts.dir)))
    assert.is_true(hosts:stop())   -- again: nothing to do
  end)

  it("fails start() with a clear message when not root or without network namespaces", function()
    local lua = "lua5.4 -e " .. "'package.path = \"./?.lua;\" .. package.path"
      .. "; local th = require \"spec.helpers.testhosts\"; print(th.available())"
      .. "; local ok, err = pcall(th.start); print(ok, err)'"
    local out = sh("setpriv --reuid=65534 --regid=65534 --clear-groups " .. lua)
    assert.truthy(out:find("false\tnot root", 1, true), out)
    assert.truthy(out:find("false\ttesthosts: unavailable: not root", 1, true), out)
    -- an `ip` that cannot make a network namespace
    local fake = files.tmpdir()
    write(fake .. "/ip", "#!/bin/sh\necho 'mount --make-shared /run/netns failed: Operation not permitted' >&2\n"
      .. "exit 1\n")
    assert(os.execute("chmod +x " .. fake .. "/ip"))
    out = sh("PATH=" .. fake .. ":$PATH " .. lua)
    assert.truthy(out:find("false\ttesthosts: unavailable: network namespaces unavailable: mount", 1, true), out)
  end)
end)
