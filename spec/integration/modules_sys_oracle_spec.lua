-- iptables, modprobe and unarchive (zip, URL) against Ansible's own modules
-- (issue 14): the same playbook by ansible-playbook on "a-web" and by
-- luasible on "l-web" (each its own network namespace: its own rules); the
-- rules or files left, the changed flags and statuses task by task, the
-- recaps and chosen registered fields must agree, first run, second run and
-- under --check. Downloads come from an HTTP server on the test host
-- "a-srv". modprobe never loads anything: Ansible's community.general
-- modprobe reads /proc/modules first, which a kernel without loadable
-- modules does not have (then Ansible fails and luasible reads the module
-- as built in: the documented difference, asserted as such).
local twins = require "spec.helpers.twins"
local webhost = require "spec.helpers.webhost"
local files = require "spec.helpers.files"

describe("#hosts #oracle iptables, modprobe, unarchive", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t, web, zipf
  lazy_setup(function()
    t = twins.start { names = { "web", "srv" } }
    web = webhost.start(t.ansible[2])
    local dir = files.tmpdir()
    assert(select(2, files.run("cd " .. dir .. " && mkdir -p s/d && echo a > s/a.txt && echo b > s/d/b.txt"
      .. " && echo c > s/c.log && chmod 640 s/d/b.txt && touch -d '2020-01-01 10:00' s/a.txt s/d/b.txt s/d s/c.log"
      .. " && (cd s && zip -qr ../a.zip a.txt d c.log) && tar czf a.tgz -C s a.txt d")))
    zipf = dir .. "/a.zip"
    web:put("a.zip", assert(files.read(zipf)))
    web:put("a.tgz", assert(files.read(dir .. "/a.tgz")))
  end)
  lazy_teardown(function() if t then t:stop() end end)

  it("iptables: the same rules, policies and chains, the same changed flags, twice and under --check", function()
    local play = [[
- hosts: web
  gather_facts: false
  tasks:
    - name: ssh from the lan
      iptables: chain=INPUT protocol=tcp destination_port=22 source=10.0.0.0/8 jump=ACCEPT comment="ssh"
    - name: web ports
      iptables:
        chain: INPUT
        protocol: tcp
        destination_ports: ["80", "443"]
        ctstate: [NEW]
        jump: ACCEPT
    - name: established first
      iptables: chain=INPUT ctstate=ESTABLISHED,RELATED jump=ACCEPT action=insert rule_num=1
    - name: a range dropped
      iptables: chain=INPUT src_range=192.168.1.10-192.168.1.20 jump=DROP
    - name: logged
      iptables: chain=INPUT protocol=udp destination_port=514 log_prefix="SYSLOG " limit=10/min
    - name: rejected
      iptables: chain=INPUT protocol=tcp destination_port=23 reject_with=tcp-reset
    - name: pings limited
      iptables: chain=INPUT protocol=icmp icmp_type=echo-request limit=1/sec jump=ACCEPT
    - name: a chain with a rule
      iptables: chain=APP chain_management=true protocol=tcp destination_port=8080 in_interface=eth0 jump=ACCEPT
    - name: owner
      iptables: chain=OUTPUT uid_owner=0 out_interface=lo jump=ACCEPT
    - name: redirect
      iptables: table=nat chain=PREROUTING protocol=tcp destination_port=80 jump=REDIRECT to_ports=8080
    - name: forward policy
      iptables: chain=FORWARD policy=DROP
    - name: v6
      iptables: ip_version=ipv6 chain=INPUT source=fd00::/8 jump=DROP
    - name: added then
      iptables: chain=INPUT source=10.9.9.9 jump=DROP
    - name: removed
      iptables: chain=INPUT source=10.9.9.9 jump=DROP state=absent
]]
    local dump = "iptables -S; iptables -t nat -S; ip6tables -S"
    for round = 1, 2 do
      local r = t:run(play)
      t:agree(r, "round " .. round)
      if round == 2 then assert.are.equal(2, r.luasible.recap.web.changed, r.luasible.out) end -- added, removed
      for _, task in ipairs { "ssh from the lan", "web ports", "logged", "rejected", "owner", "v6" } do
        local a, l = twins.registered(r, task)
        for _, f in ipairs { "rule", "chain", "table", "ip_version", "state", "changed" } do
          assert.are.same(a[f], l[f], task .. ": " .. f)
        end
      end
      local s = t:same(dump)
      assert.truthy(s:find("-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment ssh -j ACCEPT",
        1, true), s)
      assert.truthy(s:find("-P FORWARD DROP", 1, true), s)
    end
    -- --check: a policy back, a rule gone, a flush: said alike, done by neither
    local before = t:same(dump)
    local r = t:run([[
- hosts: web
  gather_facts: false
  tasks:
    - { name: policy back, iptables: { chain: FORWARD, policy: ACCEPT } }
    - { name: rule gone, iptables: { chain: INPUT, protocol: tcp, destination_port: "23", reject_with: tcp-reset,
        state: absent } }
    - { name: still there, iptables: { chain: OUTPUT, uid_owner: "0", out_interface: lo, jump: ACCEPT } }
    - { name: flushed, iptables: { chain: APP, flush: true } }
]], { check = true })
    t:agree(r, "--check")
    assert.are.same({ web = true }, r.luasible.changed["policy back"])
    assert.are.same({ web = false }, r.luasible.changed["still there"])
    assert.are.equal(before, t:same(dump))
  end)

  it("unarchive: zip from the controller and the host, URLs (zip, tar.gz): same files and changed flags", function()
    t:both("rm -rf /opt/u && mkdir -p /opt/u/z1 /opt/u/z2 /opt/u/z3 /opt/u/z4 /opt/u/z5 /opt/w"
      .. " && cp /dev/null /opt/w/.keep")
    t.ansible[1]:write("/opt/w/a.zip", assert(files.read(zipf)))
    t.luasible[1]:write("/opt/w/a.zip", assert(files.read(zipf)))
    t:both("touch -d '2020-01-01' /opt/w/a.zip")
    local tree = { ["site.yml"] = [[
- hosts: web
  gather_facts: false
  tasks:
    - { name: from controller, unarchive: { src: a.zip, dest: /opt/u/z1, list_files: true } }
    - { name: on host, unarchive: { src: /opt/w/a.zip, dest: /opt/u/z2, remote_src: true, mode: "0600" } }
    - { name: url zip, unarchive: { src: "]] .. web.url .. [[/files/a.zip", dest: /opt/u/z3, remote_src: true } }
    - { name: url tgz, unarchive: { src: "]] .. web.url .. [[/files/a.tgz", dest: /opt/u/z4, remote_src: true } }
    - name: excluded
      unarchive: { src: /opt/w/a.zip, dest: /opt/u/z5, remote_src: true, exclude: ["*.log"], list_files: true }
]], ["files/a.zip"] = assert(files.read(zipf)) }
    local show = "cd /opt/u && find . -printf '%p %y %m %s\\n' | sort && find . -type f -printf '%p %TY%Tm%Td%TH%TM\\n'"
      .. " | sort && cat z1/a.txt z3/d/b.txt"
    for round = 1, 2 do
      local r = t:run(tree)
      t:agree(r, "round " .. round)
      if round == 2 then assert.are.equal(0, r.luasible.recap.web.changed, r.luasible.out) end
      t:same(show)
      for task, fields in pairs { ["from controller"] = { "files", "handler" }, ["on host"] = { "handler", "src" },
        excluded = { "files", "handler" }, ["url tgz"] = { "handler" }, ["url zip"] = { "handler" } } do
        local a, l = twins.registered(r, task)
        for _, f in ipairs(fields) do assert.are.same(a[f], l[f], task .. ": " .. f .. " in round " .. round) end
      end
    end
    -- a member changed in content only, a mode changed: both put back, alike
    t:both("printf 'x\\n' > /opt/u/z1/a.txt && touch -d '2020-01-01 10:00' /opt/u/z1/a.txt"
      .. " && chmod 644 /opt/u/z2/a.txt")
    local r = t:run(tree)
    t:agree(r, "round 3")
    assert.are.same({ web = true }, r.luasible.changed["from controller"])
    assert.are.same({ web = true }, r.luasible.changed["on host"])
    t:same(show)
    -- --check on fresh folders: zip would change (changed), tar is skipped, nothing extracted; both alike
    t:both("rm -rf /opt/u/* && mkdir -p /opt/u/z1 /opt/u/z2 /opt/u/z3 /opt/u/z4 /opt/u/z5")
    r = t:run(tree, { check = true })
    t:agree(r, "--check")
    assert.are.same({ web = true }, r.luasible.changed["from controller"])
    assert.are.equal("skipped", r.luasible.status["url tgz"].web)
    assert.are.equal("./z1 d\n./z2 d\n./z3 d\n./z4 d\n./z5 d\n",
      t:same("cd /opt/u && find ./* -printf '%p %y\\n' | sort"))
  end)

  it("modprobe: a bogus module fails alike; a built-in module on a kernel without /proc/modules", function()
    local r = t:run([[
- hosts: web
  gather_facts: false
  tasks:
    - { name: bogus, modprobe: { name: lsbt_no_such_module }, ignore_errors: true }
    - { name: bogus checked, community.general.modprobe: { name: lsbt_no_such_module, state: present },
        ignore_errors: true,
        check_mode: true }
]])
    t:agree(r, "bogus")
    assert.are.equal("ignored", r.luasible.status.bogus.web)
    local _, l = twins.registered(r, "bogus")
    assert.truthy(tostring(l.msg):find("lsbt_no_such_module", 1, true), l.msg)
    r = t:run([[
- hosts: web
  gather_facts: false
  tasks:
    - { name: built in, modprobe: { name: bridge }, ignore_errors: true }
    - { name: built in checked, modprobe: { name: bridge }, ignore_errors: true, check_mode: true }
]])
    if (t.ansible[1]:exec("test -r /proc/modules && echo yes")) == "yes\n" then
      t:agree(r, "built in")
    else
      local a = twins.registered(r, "built in")
      assert.truthy(tostring(a.msg):find("/proc/modules", 1, true), a.msg)
      assert.are.same({ web = "ok" }, r.luasible.status["built in"])
      assert.are.same({ web = "ok" }, r.luasible.status["built in checked"])
    end
  end)
end)
