-- community.general.timezone against Ansible's own module: the same playbook
-- by ansible-playbook on "a-box" and by luasible on "l-box" (test hosts run
-- no systemd: timedatectl does not answer, so both take the "no systemd"
-- way of a dpkg system: /etc/timezone, /etc/localtime, dpkg-reconfigure
-- tzdata; the clock in /etc/default/rcS and hwclock, which a test host
-- cannot set: both fail alike). The files left, the changed flags,
-- statuses, messages and recaps must agree, twice and under --check. Bad
-- arguments: Ansible fails the task on the host, luasible refuses the
-- playbook with one line naming the module and the argument.
local twins = require "spec.helpers.twins"

describe("#hosts #oracle timezone", function()
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

  it("sets the zone as Ansible does (files, link, messages), twice; an unknown zone fails alike", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: paris
      community.general.timezone: name=Europe/Paris
    - name: paris again
      community.general.timezone: name=Europe/Paris
    - name: an unknown zone
      community.general.timezone: name=Mars/Olympus
      ignore_errors: true
    - name: the clock
      community.general.timezone: hwclock=UTC
      ignore_errors: true
]]
    local show = "cat /etc/timezone; readlink /etc/localtime; cat /etc/default/rcS 2>/dev/null | grep UTC"
    for round = 1, 2 do
      local r = t:run(play, { diff = true })
      compare(r, "round " .. round)
      for _, task in ipairs { "paris", "paris again", "an unknown zone", "the clock" } do
        local a, l = registered(r, task)
        assert.are.same(a.msg, l.msg, task)
      end
      local s = state(show)
      assert.truthy(s:find("^Europe/Paris\n/usr/share/zoneinfo/Europe/Paris\n"), s)
    end
    -- another zone under --check: said alike, nothing changed
    local before = state(show)
    local r = t:run([[
- hosts: all
  gather_facts: false
  tasks:
    - { name: tokyo, community.general.timezone: { name: Asia/Tokyo } }
    - { name: paris, community.general.timezone: { name: Europe/Paris } }
]], { check = true })
    compare(r, "--check")
    assert.are.same({ box = true }, r.luasible.changed.tokyo)
    assert.are.equal(before, state(show))
  end)

  it("refuses no argument and a bad hwclock before anything runs", function()
    refused([[
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      community.general.timezone: {}
]], { "timezone", "hwclock", "name" })
    refused([[
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      community.general.timezone: hwclock=GMT
]], { "timezone", "'hwclock'" })
  end)
end)
