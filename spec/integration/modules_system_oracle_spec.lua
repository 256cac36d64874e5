-- cron, sysctl and mount: Ansible as the oracle on twin test hosts. The same
-- playbook by ansible-playbook on one host and by luasible on its twin; the
-- crontabs, cron files, sysctl files and running values must be the same
-- text, the changed flags the same, first run and second. A crontab written
-- by Ansible is then edited by luasible (and the other way round): the
-- `#Ansible: NAME` markers are shared.
local twins = require "spec.helpers.twins"
local hosts_task = require "spec.helpers.hosts_task"

describe("#hosts #oracle cron/sysctl/mount", function()
  local ok, why = twins.available()
  if not ok then
    pending("no oracle: " .. why)
    return
  end
  local t
  lazy_setup(function()
    t = twins.start { names = { "box" } }
    for _, h in ipairs({ t.ansible[1], t.luasible[1] }) do assert(hosts_task.install_cron(h)) end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  -- churn: the tasks that change on every run (added, then removed)
  local function same(r, round, churn)
    assert.are.equal(0, r.ansible.code, r.ansible.out .. r.ansible.err)
    assert.are.equal(0, r.luasible.code, r.luasible.out .. r.luasible.err)
    assert.are.same(r.ansible.changed, r.luasible.changed, "round " .. round)
    assert.are.same(r.ansible.status, r.luasible.status, "round " .. round)
    if round == 1 then assert.is_true(r.luasible.recap.box.changed > 0)
    else assert.are.equal(churn or 0, r.luasible.recap.box.changed, r.luasible.out) end
  end

  it("cron: jobs, special times, env, cron_file, disabled, absent: the same crontabs, twice", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: a user
      user: name=app
    - name: a job
      cron: name="check dirs" minute=0 hour="5,2" job="ls -alh > /dev/null"
    - name: a job at reboot
      cron: name=boot special_time=reboot job=/usr/local/bin/boot.sh
    - name: a variable
      cron: name=PATH env=true job=/bin:/usr/bin
    - name: another after it
      cron: name=MAILTO env=true job=ops@example.org insertafter=PATH
    - name: a user's job, disabled
      cron: name=sync user=app minute=*/5 job="rsync -a /a /b" disabled=true
    - name: a job in a cron file
      cron: name=rotate user=root cron_file=luasible-test hour=3 minute=30 weekday=1 job=/usr/sbin/logrotate
    - name: a job to remove
      cron: name=tmp job="rm -rf /tmp/x"
    - name: removed
      cron: name=tmp state=absent
    - name: a cron file emptied
      cron: name=once user=root cron_file=gone job=/bin/true
    - name: and removed
      cron: name=once cron_file=gone state=absent
]]
    for round = 1, 2 do
      same(t:run(play), round, 4)
      local s = t:same("crontab -l; echo ==; crontab -u app -l; echo ==; cat /etc/cron.d/luasible-test;"
        .. " stat -c '%a %U' /etc/cron.d/luasible-test; test -e /etc/cron.d/gone || echo no-gone")
      assert.is_truthy(s:find("#Ansible: check dirs\n0 5,2 * * * ls -alh > /dev/null\n", 1, true))
      assert.is_truthy(s:find("no-gone", 1, true))
    end
  end)

  it("cron: a crontab written by Ansible is changed by luasible without a duplicate", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: shared
      cron: name=shared hour={{ h }} job=/usr/bin/shared
]]
    -- Ansible writes it on its host; the same crontab is put on the twin
    local r = t:run(play, { args = { "-e", "h=1" } })
    assert.are.equal(0, r.ansible.code)
    local text = t.ansible[1]:exec("crontab -l")
    t.luasible[1]:exec("printf '%s' '" .. text:gsub("'", "'\\''") .. "' | crontab -")
    r = t:run(play, { args = { "-e", "h=4" } })
    same(r, 1)
    assert.are.equal("PATH=\"/bin:/usr/bin\"\nMAILTO=\"ops@example.org\"\n", t:same("crontab -l | grep '='"))
    local s = t:same("crontab -l | grep -c '#Ansible: shared'; crontab -l | grep shared")
    assert.are.equal("1\n#Ansible: shared\n* 4 * * * /usr/bin/shared\n", s)
  end)

  it("sysctl: the file and the running value (net.* in the host's own network namespace), twice", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: forwarding on, in a file, reloaded
      sysctl: name=net.ipv4.ip_forward value=1 sysctl_file=/etc/sysctl.d/90-test.conf
    - name: a second key in the same file, set
      sysctl: name=net.ipv4.conf.all.rp_filter value=2 sysctl_file=/etc/sysctl.d/90-test.conf sysctl_set=true
    - name: a boolean value
      sysctl: name=net.ipv4.tcp_syncookies value=yes sysctl_file=/etc/sysctl.d/90-test.conf reload=false
    - name: a key then removed
      sysctl: name=net.ipv4.ip_default_ttl value=77 sysctl_file=/etc/sysctl.d/91-gone.conf
    - name: removed from the file
      sysctl: name=net.ipv4.ip_default_ttl state=absent sysctl_file=/etc/sysctl.d/91-gone.conf
]]
    for round = 1, 2 do
      same(t:run(play), round, 2)
      local s = t:same("cat /etc/sysctl.d/90-test.conf /etc/sysctl.d/91-gone.conf; sysctl -n net.ipv4.ip_forward"
        .. " net.ipv4.conf.all.rp_filter net.ipv4.ip_default_ttl")
      assert.is_truthy(s:find("net.ipv4.ip_forward=1\n", 1, true))
    end
  end)

  it("mount: a tmpfs in each host's own mount namespace, fstab alike, twice", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: mounted
      mount: path=/mnt/data src=tmpfs fstype=tmpfs opts=size=1m,mode=0755 state=mounted
    - name: only in fstab
      mount: path=/mnt/later src=tmpfs fstype=tmpfs state=present boot=false
    - name: another mounted then unmounted
      mount: path=/mnt/tmp2 src=tmpfs fstype=tmpfs state=mounted
    - name: unmounted
      mount: path=/mnt/tmp2 state=unmounted
    - name: a third, mounted and removed
      mount: path=/mnt/gone src=tmpfs fstype=tmpfs state=mounted
    - name: absent
      mount: path=/mnt/gone state=absent
]]
    for round = 1, 2 do
      -- round 2: mounted again after unmounted, mounted and removed again
      same(t:run(play), round, 4)
      local s = t:same("cat /etc/fstab; awk '$5 ~ /^\\/mnt\\// { print $5, $(NF-2), $NF }' /proc/self/mountinfo;"
        .. " ls -d /mnt/*")
      assert.is_truthy(s:find("tmpfs /mnt/data tmpfs size=1m,mode=0755 0 0\n", 1, true), s)
      assert.is_truthy(s:find("/mnt/data tmpfs rw,size=1024k", 1, true), s)
    end
  end)

  it("changes nothing under --check, alike", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: would add
      cron: name=never job=/bin/false
    - name: would set
      sysctl: name=net.ipv4.ip_forward value=0 sysctl_file=/etc/sysctl.d/90-test.conf
]]
    local cmd = "crontab -l; cat /etc/sysctl.d/90-test.conf; sysctl -n net.ipv4.ip_forward"
    local before = t:same(cmd)
    same(t:run(play, { check = true }), 1)
    assert.are.equal(before, t:same(cmd))
  end)
end)
