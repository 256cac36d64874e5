-- community.general.ufw against Ansible's own module: the same playbook by
-- ansible-playbook on "a-box" and by luasible on "l-box", each its own
-- network namespace (its own firewall). ufw is not on this machine: the
-- .deb in build/oracle-cache/ (scripts/deps puts them in apt's cache; or `apt-get download ufw`) is installed on both
-- twins, else the spec is pending. The rules left (`ufw status verbose`,
-- the user rules files), the changed flags, statuses, the commands Ansible
-- reports and the recaps must agree, twice and under --check. Bad
-- arguments: refused by luasible with one line, nothing run.
local twins = require "spec.helpers.twins"
local files = require "spec.helpers.files"

describe("#hosts #oracle ufw", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t, has
  lazy_setup(function()
    t = twins.start { names = { "box" } }
    local p = io.popen("ls build/oracle-cache/ufw_*.deb /var/cache/apt/archives/ufw_*.deb 2>/dev/null | head -n 1")
    local deb = p:read("l"); p:close()
    has = select(2, t.ansible[1]:exec("command -v ufw"))
    if not has and deb then
      for _, h in ipairs { t.ansible[1], t.luasible[1] } do
        h:write("/tmp/ufw.deb", assert(files.read(deb)))
        h:exec("DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/ufw.deb >/dev/null 2>&1; rm -f /tmp/ufw.deb")
      end
      has = select(2, t.ansible[1]:exec("command -v ufw"))
    end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  -- (spec/helpers/twins.lua: the same compare for every twin oracle)
  local registered = twins.registered
  local function compare(r, label) return t:agree(r, label) end
  local function state(cmd) return t:same(cmd) end

  local PLAY = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: ssh first
      community.general.ufw: rule=allow port=22 proto=tcp
    - name: web from a network, commented
      community.general.ufw: { rule: allow, port: "80,443", proto: tcp, from: 10.0.0.0/8, comment: web }
    - name: a deny on an interface
      community.general.ufw: { rule: deny, direction: in, interface: lo, port: "9999", proto: udp }
    - name: limited
      community.general.ufw: rule=limit port=2222 proto=tcp
    - name: inserted first
      community.general.ufw: rule=reject port=23 proto=tcp insert=1
    - name: added then
      community.general.ufw: rule=allow port=7000 proto=tcp
    - name: deleted
      community.general.ufw: rule=allow port=7000 proto=tcp delete=true
    - name: outgoing allowed
      community.general.ufw: default=allow direction=outgoing
    - name: incoming denied
      community.general.ufw: policy=deny
    - name: logging
      community.general.ufw: logging=low
    - name: enabled
      community.general.ufw: state=enabled
    - name: enabled again
      community.general.ufw: state=enabled
]]
  local SHOW = "ufw status verbose; grep -h '^### tuple' /etc/ufw/user.rules /etc/ufw/user6.rules"

  it("rules, defaults, logging and state: the same firewall and verdicts, twice, then --check", function()
    if not has then pending("ufw missing on the host and not in build/oracle-cache/") return end
    for round = 1, 2 do
      local r = t:run(PLAY)
      compare(r, "round " .. round)
      for _, task in ipairs { "ssh first", "web from a network, commented", "deleted", "logging", "enabled" } do
        local a, l = registered(r, task)
        assert.are.same(a.commands, l.commands, task)
        assert.are.same(a.msg, l.msg, task)
      end
      local s = state(SHOW)
      assert.truthy(s:find("Status: active", 1, true), s)
    end
    local before = state(SHOW)
    local r = t:run([[
- hosts: all
  gather_facts: false
  tasks:
    - { name: a new rule, community.general.ufw: { rule: allow, port: "8080", proto: tcp } }
    - { name: a rule there, community.general.ufw: { rule: allow, port: "22", proto: tcp } }
    - { name: disabled, community.general.ufw: { state: disabled } }
    - { name: logging off, community.general.ufw: { logging: "off" } }
    - { name: routed denied, community.general.ufw: { default: deny, direction: routed } }
]], { check = true })
    compare(r, "--check")
    for _, task in ipairs { "a new rule", "a rule there", "disabled" } do
      local a, l = registered(r, task)
      assert.are.same(a.commands, l.commands, task)
    end
    assert.are.same({ box = true }, r.luasible.changed["a new rule"])
    assert.are.same({ box = false }, r.luasible.changed["a rule there"])
    assert.are.equal(before, state(SHOW))
  end)

  it("refuses a bad rule, interface without direction and proto with name, nothing run", function()
    if not has then pending("ufw missing on the host") return end
    for _, c in ipairs {
      { "community.general.ufw: rule=permit port=22", { "ufw", "'rule'" } },
      { "community.general.ufw: rule=allow interface=lo port=22", { "ufw", "'interface'", "'direction'" } },
      { "community.general.ufw: rule=allow name=OpenSSH proto=tcp", { "ufw", "name", "proto" } },
    } do
      local r = t:run("- hosts: all\n  gather_facts: false\n  tasks:\n    - name: bad\n      " .. c[1] .. "\n")
      assert.are_not.equal(0, r.ansible.code)
      assert.are_not.equal(0, r.luasible.code)
      local err = r.luasible.err:gsub("\n$", "")
      assert.is_nil(err:find("\n"), err)
      for _, w in ipairs(c[2]) do assert.truthy(err:find(w, 1, true), err) end
      assert.are.same({}, r.luasible.results)
    end
  end)
end)
