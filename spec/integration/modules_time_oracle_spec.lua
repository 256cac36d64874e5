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

  -- (spec/helpers/twins.lua: the same compare for every twin oracle)
  local registered = twins.registered
  local function compare(r, label) return t:agree(r, label) end
  local function state(cmd) return t:same(cmd) end
  local function refused(play, words) return t:refused(play, words) end

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
