--- #hosts: a fleet that comes from an inventory script, with constructed on
-- top, runs the same plays: real test hosts (network namespaces, an sshd
-- each), an inventory script written by the spec that prints their
-- connection variables, groups made by constructed, patterns and limits on
-- those groups, through the CLI and luasible.play.
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local json = require "luasible.json"

describe("#hosts plays on hosts from an inventory script", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts
  local dir = files.tmpdir()
  local script, groups
  lazy_setup(function()
    hosts = th.start({ n = 3, names = { "web-a", "web-b", "db-a" } })
    -- the script prints what a CMDB would: groups, and each host's address and key
    local data = { fleet = { hosts = {} }, _meta = { hostvars = {} } }
    local inv = hosts:inventory()
    for name, vars in pairs(inv.all.children.testhosts.hosts) do
      table.insert(data.fleet.hosts, name)
      vars.role = name:match("^(%a+)")
      data._meta.hostvars[name] = vars
    end
    table.sort(data.fleet.hosts)
    files.write(dir .. "/list.json", json.encode(data))
    script = dir .. "/cmdb.sh"
    files.write(script, "#!/bin/sh\n[ \"$1\" = --list ] && exec cat '" .. dir .. "/list.json'\necho '{}'\n")
    files.sh("chmod +x '" .. script .. "'")
    groups = dir .. "/groups.yml"
    files.write(groups, "plugin: constructed\nkeyed_groups:\n  - key: role\n    prefix: role\n")
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  it("runs a command on the hosts of a constructed group, each answering with its own hostname", function()
    local out, rok = files.run("bin/luasible exec role_web -i " .. script .. " -i " .. groups
      .. " -a 'hostname' --json 2>&1")
    assert.is_true(rok, out)
    local seen = {}
    for line in out:gmatch("[^\n]+") do
      local ev = require("cjson").decode(line)
      if ev.type == "host_task_result" then seen[ev.host] = ev.result.stdout end
    end
    assert.same({ ["web-a"] = "web-a", ["web-b"] = "web-b" }, seen)
  end)

  it("luasible.play with the sources as a list, limited to one group", function()
    local recap, details = assert(require("luasible.play").play(
      { hosts = "all", tasks = { { name = "id", shell = "cat /etc/hostname" } } },
      { inventory = { script, groups }, limit = "role_db", on_event = function() end }))
    local ran = {}
    for h in pairs(recap) do ran[#ran + 1] = h end
    assert.same({ "db-a" }, ran)
    assert.equal("db-a", (details.hosts["db-a"][1].result.stdout:gsub("\n$", "")))
  end)
end)

describe("#hosts a luasible.cfg's ssh_args reach targets behind a bastion", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts
  local dir = files.tmpdir()
  lazy_setup(function()
    hosts = th.start({ names = { "bastion", "t1", "t2" }, behind = { t1 = "bastion", t2 = "bastion" } })
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  it("ProxyJump from [ssh_connection] ssh_args, ControlPersist dropped with a warning naming file:line", function()
    -- the inventory script knows the targets' addresses only: no jump in it
    local inv = hosts:inventory()
    local data = { targets = { hosts = { "t1", "t2" } }, _meta = { hostvars = {} } }
    for _, name in ipairs({ "t1", "t2" }) do data._meta.hostvars[name] = inv.all.children.testhosts.hosts[name] end
    files.write(dir .. "/list.json", json.encode(data))
    files.write(dir .. "/cmdb.sh", "#!/bin/sh\nexec cat '" .. dir .. "/list.json'\n")
    files.sh("chmod +x '" .. dir .. "/cmdb.sh'")
    files.write(dir .. "/luasible.cfg", "[defaults]\ninventory = cmdb.sh\nforks = 2\n\n[ssh_connection]\n"
      .. "ssh_args = -o ControlMaster=auto -o ControlPersist=60s\n    -o ProxyJump=root@"
      .. hosts:get("bastion").address .. "\n")
    local root = files.sh("pwd")
    local out, rok = files.run("cd '" .. dir .. "' && env -u LUASIBLE_CONFIG -u ANSIBLE_CONFIG '" .. root
      .. "/bin/luasible' exec targets -a 'echo $SSH_CONNECTION' --json 2>&1")
    assert.is_true(rok, out)
    local gw = hosts:get("bastion").private_address
    local seen = 0
    for line in out:gmatch("[^\n]+") do
      if line:sub(1, 1) == "{" then
        local ev = require("cjson").decode(line)
        if ev.type == "host_task_result" then
          assert.equal(gw, ev.result.stdout:match("^(%S+)"), line)
          seen = seen + 1
        end
      end
    end
    assert.equal(2, seen, out)
    assert.truthy(out:find("luasible: warning: " .. dir .. "/luasible.cfg:6: ssh_args: ControlPersist=60s ignored",
      1, true), out)
  end)
end)
