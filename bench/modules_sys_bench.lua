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

local twins = require "spec.helpers.twins"
local webhost = require "spec.helpers.webhost"
local files = require "spec.helpers.files"

local N = tonumber(arg[1]) or 10

local function q(s) return "'" .. tostring(s):gsub("'", [['\'']]) .. "'" end
local function now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("a"))
  p:close()
  return t
end

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

local function race(t, play)
  local rows = {}
  for _, side in ipairs({ "luasible", "ansible" }) do
    local dir = t.dir .. "/sys-" .. side
    assert(os.execute("mkdir -p " .. q(dir .. "/files")))
    for rel, content in pairs(play) do files.write(dir .. "/" .. rel, content) end
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

local function main()
  local ok, why = twins.available()
  if not ok then error("modules_sys_bench needs test hosts and ansible-playbook: " .. why) end
  local names = {}
  for i = 1, N do names[i] = string.format("b%02d", i) end
  names[#names + 1] = "srv"
  local t = twins.start { names = names }
  t.root = (os.getenv("PWD") or ".")
  local okr, err = pcall(function()
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
    report("issue 14 iptables/unarchive", 10, race(t, play))
  end)
  t:stop()
  if not okr then error(err, 0) end
end

main()
