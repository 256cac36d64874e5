-- become_method su with a password against Debian's ansible-playbook
-- (#hosts #oracle): on twin test hosts where root has a password and the
-- play connects as alice, the same playbook (the password as
-- ansible_become_password, -e on both sides) runs a command and a copy as
-- root through su; then a wrong password. Compared: each task's status and
-- changed flag, the printed messages, the file left and its owner, the recaps.
local twins = require "spec.helpers.twins"
local cli = require "spec.helpers.cli"

-- the recaps without rescued=0 (Ansible always prints it, luasible when there is one)
local function recaps(side)
  local out = {}
  for h, c in pairs(side.recap) do
    out[h] = {}
    for k, v in pairs(c) do if not (k == "rescued" and v == 0) then out[h][k] = v end end
  end
  return out
end

describe("#hosts #oracle become_method su with a password against ansible-playbook", function()
  local ok, missing = twins.available()
  if not ok then pending("no oracle: " .. missing) return end
  local t
  lazy_setup(function()
    t = twins.start { names = { "box" } }
    for _, h in ipairs({ t.ansible[1], t.luasible[1] }) do
      local _, made = h:exec("useradd -m -s /bin/sh alice && printf 'root:R00t-pw\\nalice:A1ice-pw\\n' | chpasswd")
      assert(made, "useradd/chpasswd on " .. h.name)
    end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  local PLAY = [[
- hosts: all
  gather_facts: false
  become: true
  become_method: su
  tasks:
    - command: id -un
      register: who
    - debug: { msg: "as {{ who.stdout }}" }
    - copy: { content: "made as root\n", dest: /root/by-su }
]]

  it("runs the tasks as root through su, as Ansible does", function()
    local r = t:run(PLAY, { vars = { ansible_user = "alice", ansible_python_interpreter = "/usr/bin/python3" },
      args = { "-e", "ansible_become_password=R00t-pw" } })
    local why = "\nansible:\n" .. r.ansible.out .. r.ansible.err .. "\nluasible:\n" .. r.luasible.out .. r.luasible.err
    assert.equal(0, r.ansible.code, why)
    assert.equal(r.ansible.code, r.luasible.code, why)
    assert.same(r.ansible.status, r.luasible.status, why)
    assert.same(r.ansible.changed, r.luasible.changed, why)
    assert.same({ "as root" }, cli.msgs(r.ansible.out))
    assert.same(cli.msgs(r.ansible.out), cli.msgs(r.luasible.out), why)
    local a, l = t:both("stat -c %U:%a /root/by-su; cat /root/by-su")
    assert.equal("root:644\nmade as root\n", a)
    assert.equal(a, l)
    assert.same(recaps(r.ansible), recaps(r.luasible), why)
  end)

  it("fails the task on a wrong password, as Ansible does", function()
    local r = t:run(PLAY, { vars = { ansible_user = "alice", ansible_python_interpreter = "/usr/bin/python3" },
      args = { "-e", "ansible_become_password=wrong" } })
    local why = "\nansible:\n" .. r.ansible.out .. r.ansible.err .. "\nluasible:\n" .. r.luasible.out .. r.luasible.err
    assert.equal(2, r.ansible.code, why)
    assert.equal(r.ansible.code, r.luasible.code, why)
    assert.same(recaps(r.ansible), recaps(r.luasible), why)
    -- (Ansible says "Incorrect su password"; luasible shows su's own words)
    assert.matches("Authentication failure", r.luasible.out)
    assert.is_nil((r.luasible.out .. r.luasible.err):find("wrong", 1, true))
  end)
end)
