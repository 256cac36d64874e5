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

  -- (spec/helpers/twins.lua: the same compare for every twin oracle)
  local registered = twins.registered
  local function compare(r, label) return t:agree(r, label) end
  local function state(cmd) return t:same(cmd) end
  local function refused(play, words) return t:refused(play, words) end

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

  it("assemble: fragments of the host and of files/, delimiter, regexp, hidden, validate: same files, twice", function()
    t:both("rm -rf /opt/frag /opt/asm && mkdir -p /opt/frag/sub /opt/asm && cd /opt/frag"
      .. " && printf 'a1\\na2\\n' > 01-a && printf 'b' > 02-b && printf 'hidden\\n' > .h && : > 05-empty"
      .. " && printf 'c = 1\\n' > 10-c.conf && printf 'x\\n' > sub/inner && ln -s 01-a 03-link")
    local tree = {
      ["files/frags/1.txt"] = "local one\n", ["files/frags/2.txt"] = "local two", ["files/frags/.x"] = "hidden\n",
      ["site.yml"] = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: plain
      assemble: src=/opt/frag dest=/opt/asm/plain
    - name: delimited
      assemble: { src: /opt/frag, dest: /opt/asm/delim, delimiter: "### part" }
    - name: escaped delimiter, hidden left out
      assemble: { src: /opt/frag, dest: /opt/asm/esc, delimiter: '--\\t--\\n', ignore_hidden: true }
    - name: by regexp, a mode
      assemble: { src: /opt/frag, dest: /opt/asm/conf, regexp: '\.conf$', mode: "0600" }
    - name: from files/
      assemble: { src: frags, dest: /opt/asm/local, remote_src: false }
    - name: validated
      assemble: { src: /opt/frag, dest: /opt/asm/valid, validate: "grep -q c %s" }
    - name: refused by validate
      assemble: { src: /opt/frag, dest: /opt/asm/bad, validate: "grep -q nothing-like-it %s" }
      ignore_errors: true
    - name: no such folder
      assemble: { src: /opt/nofrag, dest: /opt/asm/none }
      ignore_errors: true
]] }
    local show = "cd /opt/asm && for f in *; do echo \"== $f $(stat -c %a $f)\"; cat $f; done"
    for round = 1, 2 do
      local r = t:run(tree)
      compare(r, "round " .. round)
      if round == 2 then assert.are.equal(0, r.luasible.recap.box.changed, r.luasible.out) end
      local s = state(show)
      assert.truthy(s:find("== plain 644\nhidden\na1\na2\nb\na1\na2\n\nc = 1\n", 1, true), s)
      assert.truthy(s:find("== conf 600\nc = 1\n", 1, true), s)
      local a, l = registered(r, "refused by validate")
      assert.are.same(a.msg, l.msg)
      a, l = registered(r, "no such folder")
      assert.are.same(a.msg, l.msg)
    end
    -- --check: Ansible's assemble does not support it (skipped); luasible's neither
    t:both("printf 'new\\n' > /opt/frag/99-new")
    local before = state(show)
    local r = t:run(tree, { check = true })
    compare(r, "--check")
    assert.are.same({ box = "skipped" }, r.luasible.status.plain)
    assert.are.equal(before, state(show))
  end)

  it("assemble: a missing dest is refused before anything runs", function()
    refused([[
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      assemble: src=/opt/frag
]], { "assemble", "'dest'" })
  end)

  it("systemd_service is systemd: fails alike where systemd does not run; a bad state refused", function()
    if (t.luasible[1]:exec("test -d /run/systemd/system && echo yes")) == "yes\n" then
      return pending("systemd runs on the test host")
    end
    local r = t:run([[
- hosts: all
  gather_facts: false
  tasks:
    - name: started
      ansible.builtin.systemd_service: name=ssh state=started
      ignore_errors: true
]])
    compare(r, "systemd_service")
    assert.are.same({ box = "ignored" }, r.luasible.status.started)
    refused([[
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      systemd_service: name=ssh state=sleeping
]], { "systemd_service", "'state'" })
  end)
end)
