-- user, group, authorized_key, hostname: Ansible as the oracle on twin
-- test hosts (spec/helpers/twins.lua). The same playbook by ansible-playbook
-- on one host and by luasible on its twin; the accounts, groups, keys and
-- names they leave and the changed flags task by task must agree, on the
-- first run (everything changes) and the second (nothing does).
local twins = require "spec.helpers.twins"

describe("#hosts #oracle user/group/authorized_key/hostname", function()
  local ok, why = twins.available()
  if not ok then
    pending("no oracle: " .. why)
    return
  end
  local t
  lazy_setup(function() t = twins.start { names = { "box" } } end)
  lazy_teardown(function() if t then t:stop() end end)

  local K1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl one@x"
  local K2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 two"
  local K3 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBB3 three"

  -- churn: the tasks that change on every run (made, then removed or changed back), on both sides
  local function same(r, round, churn)
    t:agree(r, "round " .. round)
    -- the first run changes things, the second finds nothing to do
    if round == 1 then assert.is_true(r.luasible.recap.box.changed > 0)
    else assert.are.equal(churn or 0, r.luasible.recap.box.changed, r.luasible.out) end
  end

  it("groups and users: created, changed, removed as Ansible does, twice", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: a group with a gid
      group: name=devs gid=2345
    - name: a system group
      group: name=daemons system=true
    - name: a group to remove
      group: name=oldgrp gid=2400
    - name: removed
      group: name=oldgrp state=absent
    - name: a user
      user:
        name: bob
        uid: 1500
        comment: Bob Builder
        shell: /bin/sh
        groups: [devs, users]
        password: "$6$abcdefgh$0A8aVPR1oNmxo7Ymo/4ysmAgSNQQSkFqnmGG5u0KTXOR9E7o7LRzB2tXP5Xc8AzMPAyOx6iJTx6QF6FQgMR6Q."
        expires: 1893456000
    - name: one more group, appended
      user: name=bob groups=audio append=true
    - name: a system user without home
      user: name=svc system=true create_home=false shell=/usr/sbin/nologin
    - name: a locked user in a given group
      user: name=carol group=devs password_lock=true home=/srv/carol
    - name: a user moved
      user: name=dave
    - name: dave's new home
      user: name=dave home=/opt/dave move_home=true comment="Dave"
    - name: a user to remove
      user: name=eve
    - name: removed with its home
      user: name=eve state=absent remove=true
]]
    for round = 1, 2 do
      same(t:run(play), round, 6)
      local s = t:same("getent passwd bob svc carol dave eve;"
        .. " getent group devs daemons oldgrp audio users | cut -d: -f1,3,4;"
        .. " getent shadow bob carol | cut -d: -f1,2,8; ls -a /home/bob /opt/dave; test -e /home/eve || echo no-eve;"
        .. " test -e /home/dave || echo no-old-dave; id -Gn bob")
      assert.is_truthy(s:find("bob:x:1500:1500:Bob Builder:/home/bob:/bin/sh", 1, true))
      assert.is_truthy(s:find("no-eve", 1, true))
      assert.is_truthy(s:find("carol:!", 1, true))
    end
  end)

  it("generates the same kind of SSH key and reports it alike", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: a user with a key
      user: name=kim generate_ssh_key=true ssh_key_type=ed25519 ssh_key_comment=kim@box
      register: k
    - name: the key's fields
      debug: msg="{{ k.ssh_key_file }} {{ k.ssh_public_key.split()[0] }} {{ k.ssh_public_key.split()[2] }}"
]]
    for round = 1, 2 do
      local r = t:run(play)
      same(r, round)
      assert.is_truthy(r.luasible.out:find("/home/kim/.ssh/id_ed25519 ssh-ed25519 kim@box", 1, true))
      t:same("stat -c '%n %a %U' /home/kim/.ssh /home/kim/.ssh/id_ed25519 /home/kim/.ssh/id_ed25519.pub")
    end
  end)

  it("authorized keys: added, options, exclusive, absent; the same file", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: a user
      user: name=ann
    - name: two keys
      authorized_key:
        user: ann
        key: "]] .. K1 .. "\\n" .. K2 .. [["
    - name: options on one
      authorized_key:
        user: ann
        key: "]] .. K2 .. [["
        key_options: 'from="10.0.0.1,10.0.0.2",no-pty'
    - name: a third, then the second removed
      authorized_key: user=ann key="]] .. K3 .. [["
    - name: removed
      authorized_key: user=ann key="]] .. K2 .. [[" state=absent
    - name: a file at a path, exclusive
      authorized_key:
        user: ann
        path: /etc/ssh/keys-ann
        manage_dir: false
        exclusive: true
        key: "]] .. K3 .. [["
        comment: deploy
]]
    for round = 1, 2 do
      same(t:run(play), round, 3)
      local s = t:same("cat -A /home/ann/.ssh/authorized_keys /etc/ssh/keys-ann;"
        .. " stat -c '%n %a %U' /home/ann/.ssh /home/ann/.ssh/authorized_keys /etc/ssh/keys-ann")
      assert.is_truthy(s:find("three$", 1, true))
      assert.is_falsy(s:find(" two", 1, true))
    end
  end)

  it("hostname: the same /etc/hostname, changed once", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: a name
      hostname: name=web01.example.org
]]
    for round = 1, 2 do
      same(t:run(play), round)
      assert.are.equal("web01.example.org\n", t:same("cat /etc/hostname"))
    end
  end)

  it("changes nothing under --check and reports the same would-be changes", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: new user
      user: name=zed shell=/bin/sh
    - name: new group
      group: name=zgroup
    - name: existing user changed
      user: name=bob shell=/bin/bash
    - name: a new name
      hostname: name=other.example.org
]]
    local before = t:same("getent passwd bob zed; getent group zgroup; cat /etc/hostname")
    same(t:run(play, { check = true }), 1)
    assert.are.equal(before, t:same("getent passwd bob zed; getent group zgroup; cat /etc/hostname"))
  end)
end)
