-- #oracle: delegation and async, the same playbook run by Debian's
-- ansible-playbook (ansible-core) and by `luasible run`, on three inventory
-- names (web1, web2, lb) of this machine with the local connection, each
-- run into its own temp folder: the files written (by whom, with whose
-- variables), the values the playbook prints with debug, and the recap
-- counts must be the same.
local files = require "spec.helpers.files"
local cli = require "spec.helpers.cli"
local cjson = require "cjson"
local write = files.write
local run, tree = cli.run, cli.tree

local TMP = files.tmpdir()

-- a host's recap counts but `rescued` (ansible-playbook prints it always, luasible when a block rescued)
local function recap_of(out, host)
  local r = cli.recap_of(out, host)
  r.rescued = nil
  return r
end

local PLAYBOOK = [==[
- hosts: web
  gather_facts: false
  tasks:
    - name: delegated write
      copy:
        content: "{{ inventory_hostname }} {{ color }}\n"
        dest: "{{ out }}/member-{{ inventory_hostname }}"
      delegate_to: lb
      register: d
    - debug: msg="d {{ inventory_hostname }} changed={{ d.changed }}"
    - name: to localhost
      shell: echo {{ inventory_hostname }} {{ color }} > {{ out }}/local-{{ inventory_hostname }}
      delegate_to: localhost
    - name: local_action string
      local_action: command echo la-{{ inventory_hostname }}
      register: la
    - debug: msg="{{ la.stdout }} rc={{ la.rc }} changed={{ la.changed }}"
    - name: local_action mapping
      local_action:
        module: copy
        content: "{{ la.stdout }}"
        dest: "{{ out }}/la-{{ inventory_hostname }}"
    - name: once
      shell: echo {{ inventory_hostname }} {{ color }} >> {{ out }}/once
      run_once: true
      delegate_to: lb
      register: once
    - debug: msg="once {{ inventory_hostname }} {{ once.changed }} {{ once.rc }}"
    - name: fact for lb
      set_fact:
        marker: "from-{{ inventory_hostname }}"
      delegate_to: lb
      delegate_facts: true
      run_once: true
    - name: own fact
      set_fact: { own: "{{ inventory_hostname }}" }
      delegate_to: lb
    - debug: msg="{{ inventory_hostname }} own={{ own }} marker={{ marker | default('none') }}"
    - name: polled
      shell: echo one; sleep 1; echo two
      async: 20
      poll: 1
      register: p
    - debug: msg="polled {{ p.stdout_lines }} rc={{ p.rc }} finished={{ p.finished }} changed={{ p.changed }}"
    - name: fire
      shell: sleep 1; echo bg-{{ inventory_hostname }} > {{ out }}/bg-{{ inventory_hostname }}; echo bg
      async: 30
      poll: 0
      register: j
    - debug: msg="fired started={{ j.started }} finished={{ j.finished }} changed={{ j.changed }}"
    - name: reap
      async_status: jid={{ j.ansible_job_id }}
      register: s
      until: s.finished
      retries: 20
      delay: 1
    - debug: msg="reaped {{ s.stdout }} rc={{ s.rc }} finished={{ s.finished }} changed={{ s.changed }}"
    - name: cleanup
      async_status:
        jid: "{{ j.ansible_job_id }}"
        mode: cleanup
    - name: too long
      shell: sleep 30
      async: 2
      poll: 1
      ignore_errors: true
      register: t
    - debug: msg="{{ t.msg }} failed={{ t.failed }}"
- hosts: lb
  gather_facts: false
  tasks:
    - debug: msg="lb marker={{ marker }} own={{ own | default('none') }}"
]==]

-- the debug messages of a run per host, in order: ansible-playbook's
-- `ok: [h] => {\n    "msg": "..."\n}` and luasible's --json results
local function ansible_msgs(out)
  local m = {}
  for h, s in out:gmatch('ok: %[([^%]]+)%] => {\n%s*"msg": ("[^\n]*")\n}') do
    m[h] = m[h] or {}
    table.insert(m[h], cjson.decode(s))
  end
  return m
end
local function luasible_msgs(out)
  local m = {}
  for line in out:gmatch("[^\n]+") do
    local ok, ev = pcall(cjson.decode, line)
    if ok and type(ev) == "table" and ev.type == "host_task_result" and ev.module == "debug" then
      m[ev.host] = m[ev.host] or {}
      table.insert(m[ev.host], ev.result.msg)
    end
  end
  return m
end

-- web1, web2 (group web) and lb: three names of this machine, the local connection
local function write_inv()
  local hostline = " ansible_connection=local ansible_python_interpreter=/usr/bin/python3"
  write(TMP .. "/inv.ini", "[web]\nweb1 color=red" .. hostline .. "\nweb2 color=blue" .. hostline
    .. "\n[lb]\nlb color=green" .. hostline .. "\n")
end

describe("#oracle delegation and async against ansible-playbook", function()
  local have = os.execute("command -v ansible-playbook >/dev/null 2>&1")
  if not have then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end

  it("writes the same files with the same variables, prints the same values, counts the same recap", function()
    for _, d in ipairs({ "home", "pb", "ansible", "luasible", "luasible2" }) do
      os.execute("mkdir -p " .. TMP .. "/" .. d)
    end
    write(TMP .. "/pb/site.yml", PLAYBOOK)
    write_inv()
    -- HOME in the temp folder: both keep their async jobs under it (~/.ansible_async, ~/.luasible_async),
    -- not in this machine's home
    local home = "HOME=" .. TMP .. "/home "
    local env = home .. "ANSIBLE_ASYNC_DIR=" .. TMP .. "/home/.ansible_async ANSIBLE_NOCOLOR=1 "
      .. "ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_RETRY_FILES_ENABLED=0 "
      .. "ANSIBLE_FORKS=5 "
      .. "ANSIBLE_LOCAL_TEMP=" .. TMP .. "/ansible-tmp ANSIBLE_REMOTE_TEMP=" .. TMP .. "/ansible-tmp "
    local aout, acode, aerr = run(env .. "ansible-playbook -i " .. TMP .. "/inv.ini " .. TMP .. "/pb/site.yml -e out="
      .. TMP .. "/ansible")
    assert.equal(0, acode, aout .. aerr)
    local lout, lcode, lerr = run(home .. "bin/luasible run " .. TMP .. "/pb/site.yml -i " .. TMP .. "/inv.ini -e out="
      .. TMP .. "/luasible --json")
    assert.equal(0, lcode, lout .. lerr)
    local a, l = tree(TMP .. "/ansible"), tree(TMP .. "/luasible")
    assert.equal("web1 red\n", a["./member-web1"]) -- the delegating host's variables
    assert.equal("web1 red\n", a["./once"])
    assert.same(a, l)
    -- the timed-out jobs' folders stay (as Ansible may keep their files: how many it has left
    -- depends on how far its wrapper got, not compared); the reaped and cleaned ones are gone
    assert.equal("2\n", (run("ls " .. TMP .. "/home/.luasible_async | wc -l"))) -- web1 and web2
    local am, lm = ansible_msgs(aout), luasible_msgs(lout)
    assert.equal("lb marker=from-web1 own=none", am.lb[1])
    assert.same(am, lm)
    local tout = run(home .. "bin/luasible run " .. TMP .. "/pb/site.yml -i " .. TMP .. "/inv.ini -e out="
      .. TMP .. "/luasible2")
    for _, h in ipairs({ "web1", "web2", "lb" }) do
      assert.same(recap_of(aout, h), recap_of(tout, h))
    end
    -- the terminal names the delegate as ansible-playbook does
    assert.matches("changed: [web1 -> lb]", aout, 1, true)
    assert.matches("changed: [web1 -> lb]", tout, 1, true)
    assert.matches("changed: [web2 -> localhost]", tout, 1, true)
  end)

  it("a delegate that is no inventory host is a new host addressed by its name: unreachable, as in Ansible", function()
    write_inv()
    os.execute("mkdir -p " .. TMP .. "/pb")
    write(TMP .. "/pb/unknown.yml", "- hosts: web1\n  gather_facts: false\n  tasks:\n    - command: hostname\n"
      .. "      delegate_to: nosuch.invalid\n")
    local env = "ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_RETRY_FILES_ENABLED=0 "
    local aout = run(env .. "ansible-playbook -i " .. TMP .. "/inv.ini " .. TMP .. "/pb/unknown.yml")
    local lout, lcode = run("bin/luasible run " .. TMP .. "/pb/unknown.yml -i " .. TMP .. "/inv.ini")
    -- web1's own ansible_connection=local is not the delegate's: both try SSH to the name
    assert.matches("fatal: [web1 -> nosuch.invalid]: UNREACHABLE!", aout, 1, true)
    assert.matches("unreachable: [web1 -> nosuch.invalid]", lout, 1, true)
    assert.matches("nosuch.invalid", lout:match("unreachable: [^\n]*"), 1, true)
    assert.equal(4, lcode)
    assert.same(recap_of(aout, "web1"), recap_of(lout, "web1"))
  end)
end)
