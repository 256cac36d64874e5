-- known_hosts and getent against Ansible's own modules: the same playbook by
-- ansible-playbook on "a-box" and by luasible on "l-box"; the known_hosts
-- files left (hashed host fields masked: their salt is random), the changed
-- flags and statuses task by task, the getent facts and the recaps must
-- agree, first run, second run and under --check. Bad arguments: Ansible
-- fails the task on the host, luasible refuses the playbook with one line
-- naming the module and the argument, and runs nothing.
local twins = require "spec.helpers.twins"
local files = require "spec.helpers.files"

describe("#hosts #oracle known_hosts, getent", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t, keys = nil, {}
  lazy_setup(function()
    t = twins.start { names = { "box" } }
    local dir = files.tmpdir()
    for _, k in ipairs { "e1:ed25519", "e2:ed25519", "r1:rsa" } do
      local n, ty = k:match("^(%w+):(%w+)$")
      assert(select(2, files.run("ssh-keygen -q -t " .. ty .. (ty == "rsa" and " -b 2048" or "")
        .. " -N '' -C '' -f " .. dir .. "/" .. n)))
      keys[n] = assert(files.read(dir .. "/" .. n .. ".pub")):match("^(%S+ %S+)")
    end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  -- (spec/helpers/twins.lua: the same compare for every twin oracle)
  local registered = twins.registered
  local function compare(r, label) return t:agree(r, label) end
  local function state(cmd) return t:same(cmd) end
  local function refused(play, words) return t:refused(play, words) end

  local function kh_play()
    return ([[
- hosts: all
  gather_facts: false
  tasks:
    - name: a folder
      file: path=/tmp/kh state=directory
    - name: a host
      known_hosts: path=/tmp/kh/known_hosts name=alpha.example.org key="alpha.example.org @E1"
    - name: a hashed host
      known_hosts: path=/tmp/kh/known_hosts name=beta key="beta @E1" hash_host=true
    - name: a host with a port
      known_hosts: { path: /tmp/kh/known_hosts, name: "[gamma]:2222", key: "[gamma]:2222 @R1" }
    - name: the same key again, the name in capitals
      known_hosts: path=/tmp/kh/known_hosts name=ALPHA.example.org key="alpha.example.org @E1"
    - name: a key of another type for the host
      known_hosts: path=/tmp/kh/known_hosts name=alpha.example.org key="alpha.example.org @R1"
    - name: a new key of the same type replaces its line
      known_hosts: path=/tmp/kh/known_hosts name=alpha.example.org key="alpha.example.org @E2"
    - name: the hashed host again, hashed
      known_hosts: path=/tmp/kh/known_hosts name=beta key="beta @E1" hash_host=true
    - name: a host removed, no key given
      known_hosts: path=/tmp/kh/known_hosts name=delta key="delta @E2"
    - name: removed
      known_hosts: path=/tmp/kh/known_hosts name=delta state=absent
    - name: a key not there is not removed
      known_hosts: { path: /tmp/kh/known_hosts, name: "[gamma]:2222", key: "[gamma]:2222 @E2", state: absent }
    - name: the user's folder
      file: path=/root/.ssh state=directory mode=0700
    - name: the default file
      known_hosts: name=epsilon key="epsilon @E2"
    - name: a key whose host is another
      known_hosts: path=/tmp/kh/known_hosts name=zeta key="eta @E1"
      ignore_errors: true
]]):gsub("@(%u%d)", { E1 = keys.e1, E2 = keys.e2, R1 = keys.r1 })
  end
  local KH = "sed 's/|1|[^ ]*/HASHED/' /tmp/kh/known_hosts; stat -c '%a' /tmp/kh/known_hosts; ls /tmp/kh;"
    .. " grep -c epsilon ~/.ssh/known_hosts"

  it("known_hosts: added, hashed, ports, replaced by type, removed: the same files and flags, twice", function()
    for round = 1, 2 do
      local r = t:run(kh_play(), { diff = round == 1 })
      compare(r, "round " .. round)
      local s = state(KH)
      assert.truthy(s:find("alpha.example.org " .. keys.e2 .. "\n", 1, true), s)
      assert.falsy(s:find("alpha.example.org " .. keys.e1, 1, true), s)
      assert.truthy(s:find("HASHED " .. keys.e1 .. "\n", 1, true), s)
      assert.truthy(s:find("known_hosts.old", 1, true), s) -- ssh-keygen -R's backup, as Ansible's
      local a, l = registered(r, "a key whose host is another")
      assert.are.equal(a.msg, l.msg)
      for _, task in ipairs { "a host with a port", "the same key again, the name in capitals",
        "a key not there is not removed" } do
        a, l = registered(r, task)
        for _, f in ipairs { "name", "key", "path", "hash_host", "state", "mode", "owner", "group", "uid", "gid",
          "size" } do
          assert.are.same(a[f], l[f], task .. ": " .. f)
        end
      end
      assert.are.same({ box = true }, r.luasible.changed["a host"]) -- its key was replaced by the end of the play
      assert.are.same({ box = false }, r.luasible.changed["the hashed host again, hashed"])
    end
    -- --check: nothing written, the same verdicts
    local before = state(KH)
    local r = t:run(([[
- hosts: all
  gather_facts: false
  tasks:
    - { name: would add, known_hosts: { path: /tmp/kh/known_hosts, name: new, key: "new @E1" } }
    - { name: would remove, known_hosts: { path: /tmp/kh/known_hosts, name: alpha.example.org, state: absent } }
    - name: is there
      known_hosts: { path: /tmp/kh/known_hosts, name: alpha.example.org, key: "alpha.example.org @E2" }
]]):gsub("@(%u%d)", { E1 = keys.e1, E2 = keys.e2 }), { check = true })
    compare(r, "--check")
    for _, task in ipairs { "would add", "would remove", "is there" } do
      local a, l = registered(r, task)
      assert.are.same(a.path, l.path, task) -- none: Ansible's module gives only changed and diff
      assert.are.same(a.name, l.name, task)
    end
    assert.are.same({ box = true }, r.luasible.changed["would add"])
    assert.are.same({ box = false }, r.luasible.changed["is there"])
    assert.are.equal(before, state(KH))
  end)

  it("known_hosts: a missing key and a bad state are refused before anything runs", function()
    refused([[
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      known_hosts: name=x path=/tmp/kh/nokey
]], { "known_hosts", "'key'" })
    refused([[
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      known_hosts: name=x key="x ssh-ed25519 AAAA" state=gone
]], { "known_hosts", "'state'" })
    state("test -e /tmp/kh/nokey || echo none")
  end)

  it("getent: keys, enumerations, split, a missing key with and without fail_key: the same facts", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: root
      getent: database=passwd key=root
    - name: a fact used
      copy: dest=/tmp/getent-home content="{{ getent_passwd.root[4] }} {{ ansible_facts.getent_passwd.root | length }}"
    - name: every group
      getent: database=group
    - name: hosts, split on blanks
      getent: database=hosts key=localhost
    - name: services, split on a slash
      getent: database=services key=ssh split=/
    - name: a missing key, not fatal
      getent: database=passwd key=lsbt-nobody fail_key=false
    - name: the null
      copy: dest=/tmp/getent-null content="{{ getent_passwd['lsbt-nobody'] is none }}"
    - name: a missing key
      getent: database=passwd key=lsbt-nobody
      ignore_errors: true
    - name: an unknown database
      getent: database=lsbt-nodb
      ignore_errors: true
]]
    for round = 1, 2 do
      local r = t:run(play)
      compare(r, "round " .. round)
      for _, task in ipairs { "root", "every group", "hosts, split on blanks", "services, split on a slash",
        "a missing key, not fatal", "a missing key", "an unknown database" } do
        local a, l = registered(r, task)
        local db = "getent_" .. (task == "every group" and "group" or task:find("^hosts") and "hosts"
          or task:find("^services") and "services" or task:find("database") and "lsbt-nodb" or "passwd")
        assert.are.same((a.ansible_facts or {})[db], (l.ansible_facts or {})[db], task)
        assert.are.same(a.msg, l.msg, task)
      end
      assert.are.equal("/root 6True", state("cat /tmp/getent-home; cat /tmp/getent-null"))
    end
    local r = t:run(play, { check = true })
    assert.are.same(r.ansible.status, r.luasible.status)
  end)

  it("getent: a missing database is refused before anything runs", function()
    refused([[
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      getent: key=root
]], { "getent", "'database'" })
  end)
end)
