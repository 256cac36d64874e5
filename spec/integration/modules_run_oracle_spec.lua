-- command, shell, script, raw, wait_for_connection: Ansible as the oracle
-- on twin test hosts. The same playbook by ansible-playbook and by
-- luasible: the files the commands leave, their output and the
-- changed/skipped status of each task must agree, on both runs and under
-- --check.
local twins = require "spec.helpers.twins"

describe("#hosts #oracle command/shell/script/raw/wait_for_connection", function()
  local ok, why = twins.available()
  if not ok then
    pending("no oracle: " .. why)
    return
  end
  local t
  lazy_setup(function() t = twins.start { names = { "box" } } end)
  lazy_teardown(function() if t then t:stop() end end)

  local PLAY = {
    ["site.yml"] = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: a folder by command
      command: mkdir -p /srv/run
      args:
        creates: /srv/run
    - name: a file, once
      shell: echo made > made.txt
      args:
        chdir: /srv/run
        creates: made.*
    - name: removes an absent file
      command: rm /srv/run/none.txt
      args:
        removes: /srv/run/none.txt
    - name: stdin
      command: cat
      args:
        stdin: from stdin
      register: c
      changed_when: false
    - name: a script with arguments, once
      script: files/make.sh /srv/run/script.txt "a b"
      args:
        creates: /srv/run/script.txt
    - name: raw
      raw: echo raw > /srv/run/raw.txt
      changed_when: false
    - name: still here
      wait_for_connection: timeout=10
    - name: what they said
      debug: msg="{{ c.stdout }}|{{ c.rc }}|{{ c.cmd | join(' ') }}"
]],
    ["files/make.sh"] = "#!/bin/sh\nprintf '%s\\n' \"$2\" > \"$1\"\n",
  }

  it("the same files, output and statuses, twice and under --check", function()
    for round = 1, 3 do
      local r = t:run(PLAY, { check = round == 3 })
      assert.are.equal(0, r.ansible.code, r.ansible.out .. r.ansible.err)
      assert.are.equal(0, r.luasible.code, r.luasible.out .. r.luasible.err)
      assert.are.same(r.ansible.changed, r.luasible.changed, "round " .. round)
      assert.are.same(r.ansible.status, r.luasible.status, "round " .. round)
      if round < 3 then assert.is_truthy(r.luasible.out:find("from stdin|0|cat", 1, true), r.luasible.out) end
      local a, l = t:both("cd /srv/run && ls && cat made.txt script.txt raw.txt")
      assert.are.equal(a, l)
      if round == 1 then
        assert.is_true(r.luasible.changed["a file, once"].box)
        assert.are.equal("made.txt\nraw.txt\nscript.txt\nmade\na b\nraw\n", l)
      else
        assert.is_false(r.luasible.changed["a file, once"].box)
      end
    end
  end)
end)
