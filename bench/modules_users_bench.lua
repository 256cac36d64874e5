-- bench/modules_users_bench.lua: issue 14's modules, a play run twice (the first
-- run changes everything, the second finds nothing to do) by luasible and by
-- ansible-playbook with pipelining, on test hosts of their own (twins: the
-- same names, each side its own machines), one side after the other.
--
--   make && lua5.4 bench/modules_users_bench.lua [HOSTS]     (root: test hosts; default 10 per side)
--
-- Each helper adding modules to the issue adds its own function below and
-- a line in `main`. Target (issue 14): luasible >= 10x faster than
-- ansible-playbook with pipelining, both runs.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local twins = require "spec.helpers.twins"
local hosts_task = require "spec.helpers.hosts_task"
local files = require "spec.helpers.files"

local N = tonumber(arg[1]) or 10

local function q(s) return "'" .. tostring(s):gsub("'", [['\'']]) .. "'" end
local function now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("a"))
  p:close()
  return t
end

-- Run `cmd` in `dir`; returns seconds, exit status, output.
local function timed(dir, cmd)
  local t0 = now()
  local p = io.popen("cd " .. q(dir) .. " && " .. cmd .. " 2>&1")
  local out = p:read("a")
  local _, _, code = p:close()
  return now() - t0, code, out
end

local function changed_total(out)
  local n = 0
  for c in (out:match("PLAY RECAP.*$") or ""):gmatch("changed=(%d+)") do n = n + tonumber(c) end
  return n
end

-- One play on both sides, twice each: { { side, run, seconds, changed } ... }
local function race(t, play, label)
  local base = t.dir .. "/" .. label
  local rows = {}
  for _, side in ipairs({ "luasible", "ansible" }) do
    local dir = base .. "-" .. side
    assert(os.execute("mkdir -p " .. q(dir)))
    for rel, content in pairs(play) do
      local path = dir .. "/" .. rel
      assert(os.execute("mkdir -p " .. q(path:match("^(.*)/[^/]*$"))))
      files.write(path, content)
    end
    files.write(dir .. "/inv.ini", t:inventory(side))
    local cmd = side == "ansible"
      and ("env ANSIBLE_PIPELINING=True ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_NOCOLOR=1 ansible-playbook -f "
        .. N .. " -i inv.ini site.yml")
      or (q(t.root) .. "/bin/luasible run -f " .. N .. " -i inv.ini site.yml")
    for run = 1, 2 do
      local secs, code, out = timed(dir, cmd)
      if code ~= 0 then error(side .. " run " .. run .. " failed:\n" .. out) end
      rows[#rows + 1] = { side = side, run = run, secs = secs, changed = changed_total(out) }
    end
  end
  return rows
end

local function report(label, ntasks, rows)
  local by = {}
  for _, r in ipairs(rows) do by[r.side .. r.run] = r end
  print(string.format("\n%s: %d tasks on %d hosts per side", label, ntasks, N))
  print("| run | luasible | changed | ansible-playbook (pipelining) | changed | ratio | target >= 10x |")
  print("|---|---|---|---|---|---|---|")
  for run = 1, 2 do
    local l, a = by["luasible" .. run], by["ansible" .. run]
    local ratio = a.secs / l.secs
    print(string.format("| %d | %.2f s | %d | %.2f s | %d | %.1fx | %s |", run, l.secs, l.changed, a.secs, a.changed,
      ratio, ratio >= 10 and "met" or "NOT met"))
  end
end

-- Issue 14, users and system: user, group, authorized_key, hostname, cron,
-- sysctl, mount, command/shell/script/raw, wait_for_connection.
local function users_system_bench(t)
  local key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@bench"
  local play = {
    ["site.yml"] = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: group
      group: name=deploy gid=2500
    - name: user
      user: name=app uid=2500 group=deploy groups=users shell=/bin/sh comment="App user"
    - name: second user, system
      user: name=svc system=true create_home=false shell=/usr/sbin/nologin
    - name: key
      authorized_key: user=app key="]] .. key .. [["
    - name: hostname
      hostname: name={{ inventory_hostname }}.bench.example
    - name: cron job
      cron: name=backup user=app hour=2 minute=0 job=/usr/local/bin/backup
    - name: cron env
      cron: name=MAILTO user=app env=true job=ops@example.org
    - name: cron file
      cron: name=rotate user=root cron_file=bench hour=3 job=/usr/sbin/logrotate
    - name: sysctl
      sysctl: name=net.ipv4.ip_forward value=1 sysctl_file=/etc/sysctl.d/90-bench.conf
    - name: sysctl 2
      sysctl: name=net.ipv4.conf.all.rp_filter value=2 sysctl_file=/etc/sysctl.d/90-bench.conf
    - name: mount
      mount: path=/mnt/bench src=tmpfs fstype=tmpfs opts=size=1m state=mounted
    - name: command once
      command: touch /srv/bench.done
      args:
        creates: /srv/bench.done
    - name: script once
      script: files/setup.sh
      args:
        creates: /srv/setup.done
    - name: reachable
      wait_for_connection: timeout=10
]],
    ["files/setup.sh"] = "#!/bin/sh\ntouch /srv/setup.done\n",
  }
  return report("issue 14 users/system modules", 14, race(t, play, "users"))
end

local function main()
  local ok, why = twins.available()
  if not ok then error("modules_bench needs test hosts and ansible-playbook: " .. why) end
  local names = {}
  for i = 1, N do names[i] = string.format("b%02d", i) end
  local t = twins.start { names = names }
  t.root = (os.getenv("PWD") or ".")
  local okr, err = pcall(function()
    -- cron on every host (Ansible's cron module needs crontab too)
    for i = 1, N do
      assert(hosts_task.install_cron(t.ansible[i]))
      assert(hosts_task.install_cron(t.luasible[i]))
    end
    print(os.date("!%Y-%m-%d %H:%M UTC") .. "  lua5.4 bench/modules_users_bench.lua " .. N)
    users_system_bench(t)
  end)
  t:stop()
  if not okr then error(err, 0) end
end

main()
