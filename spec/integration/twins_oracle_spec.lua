-- The twin-host oracle (spec/helpers/twins.lua) on the modules luasible has
-- had longest: ansible-playbook on one test host, luasible on its twin, the
-- same playbook; the state they leave, the changed flags task by task and
-- the recaps must agree, first run and second.
local twins = require "spec.helpers.twins"

describe("#hosts #oracle twin hosts", function()
  local ok, why = twins.available()
  if not ok then
    pending("no oracle: " .. why)
    return
  end
  local t
  lazy_setup(function() t = twins.start { names = { "web" } } end)
  lazy_teardown(function() if t then t:stop() end end)

  local PLAY = {
    ["site.yml"] = [[
- hosts: all
  gather_facts: false
  vars:
    motd: "hello from {{ inventory_hostname }}"
  tasks:
    - name: a folder
      file: path=/srv/app state=directory mode=0750
    - name: a file from the controller
      copy: src=files/app.conf dest=/srv/app/app.conf mode=0640
    - name: a template
      template: src=templates/motd.j2 dest=/etc/motd
    - name: a line
      lineinfile: path=/srv/app/app.conf line="debug = false" regexp="^debug"
    - name: a command that changes nothing
      command: cat /srv/app/app.conf
      register: conf
      changed_when: false
    - name: what it read
      debug: var=conf.stdout_lines
]],
    ["files/app.conf"] = "port = 8080\ndebug = true\n",
    ["templates/motd.j2"] = "{{ motd }}\n{% for i in range(3) %}line {{ i }}\n{% endfor %}",
  }

  it("leaves the same files and reports the same changes, first run and second", function()
    for round = 1, 2 do
      local r = t:run(PLAY)
      assert.are.equal(0, r.ansible.code, r.ansible.out .. r.ansible.err)
      assert.are.equal(0, r.luasible.code, r.luasible.out .. r.luasible.err)
      assert.are.same(r.ansible.changed, r.luasible.changed, "round " .. round)
      assert.are.same(r.ansible.status, r.luasible.status, "round " .. round)
      for _, k in ipairs { "ok", "changed", "failed", "skipped", "unreachable" } do
        assert.are.equal(r.ansible.recap.web[k], r.luasible.recap.web[k], k .. " in round " .. round)
      end
      local a, l = t:both("cd /srv/app && stat -c '%n %a %U %s' . app.conf && cat app.conf /etc/motd")
      assert.are.equal(a, l)
      assert.is_truthy(a:find("debug = false", 1, true))
    end
  end)

  it("changes nothing under --check and says what would change alike", function()
    local tree = { ["site.yml"] = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: would write
      copy: content="x\n" dest=/tmp/check-only
]] }
    local r = t:run(tree, { check = true })
    assert.are.same(r.ansible.changed, r.luasible.changed)
    assert.is_true(r.luasible.changed["would write"].web)
    local a, l = t:both("test -e /tmp/check-only && echo there || echo absent")
    assert.are.equal("absent\n", a)
    assert.are.equal(a, l)
  end)
end)
