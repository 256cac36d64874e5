-- debconf, assemble and systemd_service against Ansible's own modules: the
-- same playbook by ansible-playbook on "a-box" and by luasible on "l-box";
-- the state left (debconf-show, the assembled files), the changed flags and
-- statuses task by task, chosen registered fields and the recaps must agree,
-- first run, second run (nothing changed) and under --check. Bad arguments:
-- Ansible fails the task on the host, luasible refuses the playbook with one
-- line naming the module and the argument, and runs nothing.
local twins = require "spec.helpers.twins"

describe("#hosts #oracle debconf, assemble, systemd_service", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t
  lazy_setup(function() t = twins.start { names = { "box" } } end)
  lazy_teardown(function() if t then t:stop() end end)

  local function registered(r, name)
    local a, l
    for _, x in ipairs(r.ansible.results) do if x.task == name then a = x.result end end
    for _, x in ipairs(r.luasible.results) do if x.task == name then l = x.result end end
    return a or {}, l or {}
  end
  local function compare(r, label)
    assert.are.equal(0, r.ansible.code, r.ansible.out .. r.ansible.err)
    assert.are.equal(0, r.luasible.code, r.luasible.out .. r.luasible.err)
    assert.are.same(r.ansible.changed, r.luasible.changed, label)
    assert.are.same(r.ansible.status, r.luasible.status, label)
    for _, k in ipairs { "ok", "changed", "failed", "skipped", "ignored" } do
      assert.are.equal(r.ansible.recap.box[k], r.luasible.recap.box[k], k .. " in " .. label)
    end
  end
  local function state(cmd)
    local a, l = t:both(cmd)
    assert.are.equal(a, l)
    return a
  end
  local function refused(play, words)
    local r = t:run(play)
    assert.are_not.equal(0, r.ansible.code)
    assert.are.equal("failed", select(2, next(r.ansible.status["bad"] or {})), r.ansible.out)
    assert.are_not.equal(0, r.luasible.code)
    local err = r.luasible.err:gsub("\n$", "")
    assert.is_nil(err:find("\n"), err)
    for _, w in ipairs(words) do assert.truthy(err:find(w, 1, true), err) end
    assert.is_nil(r.luasible.out:find("PLAY RECAP", 1, true), r.luasible.out)
    assert.are.same({}, r.luasible.results)
  end

  it("debconf: select, boolean (any case), string, unseen, read only: the same answers, twice", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: a select
      debconf: name=tzdata question=tzdata/Areas vtype=select value=Europe
    - name: a boolean
      debconf: name=openssh-server question=openssh-server/password-authentication vtype=boolean value=False
    - name: a boolean as it is, other case
      debconf: name=openssh-server question=openssh-server/permit-root-login vtype=boolean value=TRUE
    - name: a string, unseen
      debconf: name=locales question=locales/default_environment_locale vtype=select value=C.UTF-8 unseen=true
    - name: read only
      debconf: name=openssh-server
      register: ssh
    - name: the answers read
      copy: dest=/tmp/debconf-read content="{{ ssh.current['openssh-server/password-authentication'] }}"
]]
    local show = "debconf-show tzdata openssh-server locales | sort; cat /tmp/debconf-read"
    for round = 1, 2 do
      local r = t:run(play, { diff = true })
      compare(r, "round " .. round)
      if round == 2 then assert.are.equal(0, r.luasible.recap.box.changed, r.luasible.out) end
      for _, task in ipairs { "a select", "a boolean", "a boolean as it is, other case", "a string, unseen" } do
        local a, l = registered(r, task)
        assert.are.same(a.current, l.current, task)
        assert.are.same(a.previous, l.previous, task)
      end
      local s = state(show)
      assert.truthy(s:find("tzdata/Areas: Europe", 1, true), s)
      assert.truthy(s:find("password-authentication: false", 1, true), s)
    end
    local before = state(show)
    local r = t:run([[
- hosts: all
  gather_facts: false
  tasks:
    - name: would set
      debconf: name=tzdata question=tzdata/Areas vtype=select value=Asia
    - name: as it is
      debconf: name=tzdata question=tzdata/Areas vtype=select value=Europe
]], { check = true })
    compare(r, "--check")
    assert.are.same({ box = true }, r.luasible.changed["would set"])
    assert.are.equal(before, state(show))
  end)

  it("debconf: a question without vtype and a bad vtype are refused before anything runs", function()
    refused([[
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      debconf: name=tzdata question=tzdata/Areas value=Asia
]], { "debconf", "'vtype'" })
    refused([[
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      debconf: name=tzdata question=tzdata/Areas vtype=choice value=Asia
]], { "debconf", "'vtype'" })
    state("debconf-show tzdata | grep Areas")
  end)
end)
