-- bench/modules_sys_bench.lua: issue 14's iptables and unarchive (zip from
-- the controller, zip and tar.gz from a URL), a play run twice (the first
-- run changes everything, the second finds nothing to do) by luasible and by
-- ansible-playbook with pipelining, on test hosts of their own (twins: the
-- same names, each side its own machines), one side after the other. The
-- URLs are served by an HTTP server on one more test host ("srv", not in the
-- play). modprobe is left out: Ansible's community.general.modprobe fails on
-- a kernel without /proc/modules (this machine's), see docs/modules/modprobe.md.
--
--   make && lua5.4 bench/modules_sys_bench.lua [HOSTS]     (root: test hosts; default 10 per side)
--
-- Target (issue 14): luasible >= 10x faster than ansible-playbook with
-- pipelining, both runs.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local webhost = require "spec.helpers.webhost"
local files = require "spec.helpers.files"
local common = require "bench.common"

local N = tonumber(arg[1]) or 10

common.with_twins("modules_sys_bench", "b", N, { "srv" }, function(t)
  local web = webhost.start(t.ansible[N + 1])
  local dir = files.tmpdir()
  assert(select(2, files.run("cd " .. dir .. " && mkdir -p s/d && for i in 1 2 3 4 5 6 7 8; do"
    .. " head -c 20000 /dev/urandom > s/d/f$i.bin; done && echo a > s/a.txt && touch -d 2020-01-01 s/a.txt s/d s/d/*"
    .. " && (cd s && zip -qr ../a.zip a.txt d) && tar czf a.tgz -C s a.txt d")))
  local zip = assert(files.read(dir .. "/a.zip"))
  web:put("a.zip", zip)
  web:put("a.tgz", assert(files.read(dir .. "/a.tgz")))
  local play = {
    ["site.yml"] = [[
- hosts: b*
  gather_facts: false
  tasks:
    - name: folders
      file: path=/opt/u/{{ item }} state=directory
      loop: [z1, z2, z3]
    - name: ssh from the lan
      iptables: chain=INPUT protocol=tcp destination_port=22 source=10.0.0.0/8 jump=ACCEPT comment=ssh
    - name: web ports
      iptables: { chain: INPUT, protocol: tcp, destination_ports: ["80", "443"], ctstate: [NEW], jump: ACCEPT }
    - name: established first
      iptables: chain=INPUT ctstate=ESTABLISHED,RELATED jump=ACCEPT action=insert
    - name: a chain with a rule
      iptables: chain=APP chain_management=true protocol=tcp destination_port=8080 jump=ACCEPT
    - name: forward policy
      iptables: chain=FORWARD policy=DROP
    - name: v6
      iptables: ip_version=ipv6 chain=INPUT source=fd00::/8 jump=DROP
    - name: zip from the controller
      unarchive: src=a.zip dest=/opt/u/z1
    - name: zip from a URL
      unarchive: src=]] .. web.url .. [[/files/a.zip dest=/opt/u/z2 remote_src=true
    - name: tar.gz from a URL
      unarchive: src=]] .. web.url .. [[/files/a.tgz dest=/opt/u/z3 remote_src=true
]],
    ["files/a.zip"] = zip,
  }
  print(os.date("!%Y-%m-%d %H:%M UTC") .. "  lua5.4 bench/modules_sys_bench.lua " .. N)
  common.twin_report("issue 14 iptables/unarchive", 10, N, common.twin_race(t, play, "sys", N))
end)
