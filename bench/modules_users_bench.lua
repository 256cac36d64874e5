-- bench/modules_users_bench.lua: issue 14's modules, a play run twice (the first
-- run changes everything, the second finds nothing to do) by luasible and by
-- ansible-playbook with pipelining, on test hosts of their own (twins: the
-- same names, each side its own machines), one side after the other.
--
--   make && lua5.4 bench/modules_users_bench.lua [HOSTS]     (root: test hosts; default 10 per side)
--
-- Each helper adding modules to the issue adds its own function below and
-- a line in the with_twins call at the end. Target (issue 14): luasible >= 10x faster than
-- ansible-playbook with pipelining, both runs.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local hosts_task = require "spec.helpers.hosts_task"
local common = require "bench.common"

local N = tonumber(arg[1]) or 10

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
  return common.twin_report("issue 14 users/system modules", 14, N, common.twin_race(t, play, "users", N))
end

common.with_twins("modules_users_bench", "b", N, nil, function(t)
  -- cron on every host (Ansible's cron module needs crontab too)
  for i = 1, N do
    assert(hosts_task.install_cron(t.ansible[i]))
    assert(hosts_task.install_cron(t.luasible[i]))
  end
  print(os.date("!%Y-%m-%d %H:%M UTC") .. "  lua5.4 bench/modules_users_bench.lua " .. N)
  users_system_bench(t)
end)
