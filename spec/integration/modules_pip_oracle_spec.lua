--- #hosts #oracle pip against Ansible's own module: the same playbook by
-- ansible-playbook on "a-py" and by luasible on "l-py"; wheels written on
-- both hosts (spec/integration/modules_pip_spec.lua's builder), installed
-- with --no-index --find-links into a `python3 -m venv` virtualenv. The
-- changed flags, statuses, recaps and the packages left must agree, twice
-- and under --check.
local twins = require "spec.helpers.twins"

describe("#hosts #oracle pip", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t
  lazy_setup(function()
    t = twins.start { names = { "py" } }
    local src = assert(io.open("spec/integration/modules_pip_spec.lua")):read("a")
    local builder = src:match("local WHEELS = %[%[\n(.-)%]%]")
    for _, h in ipairs { t.ansible[1], t.luasible[1] } do
      h:write("/srv/mkwheels.py", builder)
      assert(select(2, h:exec("/usr/bin/python3 /srv/mkwheels.py")))
    end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  local PLAY = [[
- hosts: py
  gather_facts: false
  tasks:
    - name: a version
      pip: { name: hello-lsb, version: "1.0", virtualenv: /srv/venv, virtualenv_command: python3 -m venv,
             extra_args: --no-index --find-links=/srv/wheels }
    - name: a specifier it meets
      pip: { name: "hello-lsb>=0.9", virtualenv: /srv/venv, extra_args: --no-index --find-links=/srv/wheels }
    - name: latest
      pip: { name: other-lsb, state: latest, virtualenv: /srv/venv, extra_args: --no-index --find-links=/srv/wheels }
    - name: absent
      pip: { name: other-lsb, state: absent, virtualenv: /srv/venv }
]]

  it("the same changes and packages, twice and under --check", function()
    t:agree(t:run(PLAY, { check = true }), "check on fresh hosts")
    for round = 1, 2 do
      t:agree(t:run(PLAY), "round " .. round)
      local a, l = t:both("/srv/venv/bin/pip list --format=freeze 2>/dev/null | grep lsb")
      assert.are.equal(a, l)
      assert.are.equal("hello-lsb==1.0\n", l)
    end
    -- the one deliberate difference (docs/modules/pip.md): under --check Ansible's pip
    -- reports changed for any task with extra_args (it cannot tell); luasible asks the
    -- host's Python and says the packages are already right
    local c = t:run(PLAY, { check = true })
    assert.are.same({ py = true }, c.ansible.changed["a version"])
    assert.are.same({ py = true }, c.ansible.changed["a specifier it meets"])
    assert.are.same({ py = false }, c.luasible.changed["a version"])
    assert.are.same({ py = false }, c.luasible.changed["a specifier it meets"])
    assert.are.same(c.ansible.changed.latest, c.luasible.changed.latest)
    assert.are.same(c.ansible.changed.absent, c.luasible.changed.absent)
  end)
end)
