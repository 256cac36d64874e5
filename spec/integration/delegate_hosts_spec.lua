--- #hosts: delegate_to, delegate_facts, local_action, run_once with
-- delegation, and async/poll/async_status on real test hosts (network
-- namespaces, an sshd each): a web1/web2/lb fleet run by bin/luasible
-- (YAML playbooks) and by luasible.play (Lua plays).
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local cjson = require "cjson"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

describe("#hosts delegation and async", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, dir, inv
  lazy_setup(function()
    hosts = th.start({ names = { "web1", "web2", "lb" } })
    dir = files.tmpdir()
    inv = dir .. "/inv/hosts.ini"
    os.execute("mkdir -p " .. q(dir .. "/inv/host_vars") .. " " .. q(dir .. "/out"))
    files.write(inv, hosts:inventory_ini() .. "[web]\nweb1\nweb2\n[lb]\nlb\n")
    files.write(dir .. "/inv/host_vars/web1.yml", "color: red\n")
    files.write(dir .. "/inv/host_vars/web2.yml", "color: blue\n")
    files.write(dir .. "/inv/host_vars/lb.yml", "color: green\n")
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  -- run a playbook text with bin/luasible: output, exit code
  local function run(text, extra)
    local pb = dir .. "/pb.yml"
    files.write(pb, text)
    local out, _, code = files.run("bin/luasible run " .. q(pb) .. " -i " .. q(inv) .. " -e out=" .. q(dir .. "/out")
      .. " " .. (extra or "") .. " 2>&1")
    return out, code
  end
  local function events(out)
    local list = {}
    for l in out:gmatch("[^\n]+") do
      local okj, ev = pcall(cjson.decode, l)
      if okj and type(ev) == "table" then list[#list + 1] = ev end
    end
    return list
  end
  local function logins(h)
    local n = 0
    for _ in (files.read(h.dir .. "/log") or ""):gmatch("Accepted publickey") do n = n + 1 end
    return n
  end

  it("a task of web1/web2 delegated to lb runs on lb with web1's variables, over one lb connection", function()
    local lb = hosts:get("lb")
    local before = logins(lb)
    local out, code = run([[
- hosts: web
  gather_facts: false
  tasks:
    - name: join
      shell: echo "{{ inventory_hostname }} {{ color }} $(hostname)" > /tmp/member-{{ inventory_hostname }}
      delegate_to: lb
      register: joined
    - name: shown
      debug: msg="{{ inventory_hostname }} via {{ joined.delegated_to }} rc={{ joined.rc }}"
]], "--json")
    assert.equal(0, code, out)
    assert.equal("web1 red lb\n", lb:read("/tmp/member-web1"))
    assert.equal("web2 blue lb\n", lb:read("/tmp/member-web2"))
    assert.is_nil(hosts:get("web1"):read("/tmp/member-web1"))
    assert.equal(1, logins(lb) - before) -- both delegations share one connection to lb
    local seen = {}
    for _, ev in ipairs(events(out)) do
      if ev.type == "host_task_result" then seen[ev.host .. " " .. ev.task] = ev end
    end
    assert.equal("lb", seen["web1 join"].delegated_to)
    assert.equal("lb", seen["web2 join"].delegated_to)
    assert.equal("changed", seen["web1 join"].status)
    assert.equal("web1 via lb rc=0", seen["web1 shown"].result.msg)
    assert.is_nil(seen["web1 shown"].delegated_to)
    -- the terminal names both, as Ansible: [web1 -> lb]
    local text = run("- hosts: web\n  gather_facts: false\n  tasks:\n    - command: hostname\n      delegate_to: lb\n")
    assert.matches("changed: %[web1 %-> lb%]", text)
    assert.matches("changed: %[web2 %-> lb%]", text)
  end)

  it("delegate_to localhost / 127.0.0.1 writes on the controller; an inventory host's address finds it", function()
    local out, code = run([[
- hosts: web
  gather_facts: false
  tasks:
    - copy: content="{{ inventory_hostname }} {{ color }}" dest={{ out }}/local-{{ inventory_hostname }}
      delegate_to: localhost
    - shell: echo {{ color }} > {{ out }}/lo-{{ inventory_hostname }}
      delegate_to: 127.0.0.1
    - shell: echo {{ inventory_hostname }} > /tmp/by-address
      delegate_to: ]] .. hosts:get("lb").address .. [[

      when: inventory_hostname == 'web2'
]])
    assert.equal(0, code, out)
    assert.equal("web1 red", files.read(dir .. "/out/local-web1"))
    assert.equal("web2 blue", files.read(dir .. "/out/local-web2"))
    assert.equal("blue\n", files.read(dir .. "/out/lo-web2"))
    assert.is_nil(hosts:get("web1"):read(dir .. "/out/local-web1"))
    assert.equal("web2\n", hosts:get("lb"):read("/tmp/by-address"))
  end)

  it("delegate_facts puts gathered and set facts on the delegated host; without it they stay on the host", function()
    local out, code = run([[
- hosts: web1
  gather_facts: false
  tasks:
    - setup:
      delegate_to: lb
      delegate_facts: true
    - set_fact: { marker: from-web1 }
      delegate_to: lb
      delegate_facts: true
    - set_fact: { own: mine }
      delegate_to: lb
    - debug: msg="web1 sees {{ ansible_hostname | default('none') }} {{ marker | default('none') }} {{ own }}"
- hosts: lb
  gather_facts: false
  tasks:
    - debug: msg="lb sees {{ ansible_hostname }} {{ marker }} {{ own | default('none') }}"
]])
    assert.equal(0, code, out)
    assert.matches("web1 sees none none mine", out, 1, true)
    assert.matches("lb sees lb from%-web1 none", out)
  end)

  it("local_action in its string and mapping forms; run_once with delegate_to runs once, registered for all", function()
    local out, code = run([[
- hosts: web
  gather_facts: false
  tasks:
    - local_action: command echo "{{ inventory_hostname }} {{ color }}"
      register: la
    - local_action:
        module: copy
        content: "{{ la.stdout }}"
        dest: "{{ out }}/la-{{ inventory_hostname }}"
    - shell: echo {{ inventory_hostname }} >> /tmp/once; cat /tmp/once
      run_once: true
      delegate_to: lb
      register: once
    - debug: msg="{{ inventory_hostname }} got {{ once.stdout }} from {{ once.delegated_to }}"
]])
    assert.equal(0, code, out)
    assert.equal("web1 red", files.read(dir .. "/out/la-web1"))
    assert.equal("web2 blue", files.read(dir .. "/out/la-web2"))
    assert.equal("web1\n", hosts:get("lb"):read("/tmp/once"))
    assert.matches("web1 got web1 from lb", out, 1, true)
    assert.matches("web2 got web1 from lb", out, 1, true)
    assert.matches("changed: [web1 -> localhost]", out, 1, true)
  end)

  it("async with poll: the job's lines stream live while it runs past its channel", function()
    local luasible = require "luasible"
    local seen, t_line, t_end, res = {}, nil, nil, nil
    local recap = assert(require("luasible.play").play({ hosts = "web1", tasks = {
      { name = "job", shell = "echo start; sleep 2; echo end >&2; sleep 1.5; echo done", async = 20, poll = 1,
        register = "j" },
    } }, { inventory = hosts:inventory(), on_event = function(ev)
      if ev.type == "stdout" or ev.type == "stderr" then
        seen[#seen + 1] = ev.type .. ":" .. ev.data
        if ev.data == "start" then t_line = luasible.now() end
      elseif ev.type == "host_task_result" then t_end, res = luasible.now(), ev.result end
    end }))
    assert.equal(1, recap.web1.changed)
    assert.same({ "stdout:start", "stderr:end", "stdout:done" }, seen)
    assert.is_true(t_end - t_line >= 1.5, "the first line came " .. (t_end - t_line) .. " s before the end")
    assert.equal("start\ndone", res.stdout)
    assert.equal("end", res.stderr)
    assert.equal(0, res.rc)
    assert.equal(1, res.finished)
    assert.is_string(res.ansible_job_id)
    -- the job's folder is removed once a polled job has been read, as Ansible does
    assert.is_nil(hosts:get("web1"):read(res.results_file .. "/rc"))
    assert.matches("^/root/%.luasible_async/[%d.]+$", res.results_file)
  end)

  it("async with poll: the connection dropped while the job runs; the next poll reconnects, the job went on", function()
    local h = hosts:get("web1")
    local before, seen, res = logins(h), {}, nil
    assert(require("luasible.play").play({ hosts = "web1", tasks = {
      { name = "job", shell = "echo start; sleep 3; echo end", async = 30, poll = 1 },
    } }, { inventory = hosts:inventory(), on_event = function(ev)
      if ev.type == "stdout" then
        seen[#seen + 1] = ev.data
        -- the connection's sshd processes killed on the host (the listener stays): the link is gone
        if ev.data == "start" then h:exec("pkill -f 'sshd: root' || true") end
      elseif ev.type == "host_task_result" then res = ev.result end
    end }))
    assert.is_false(res.failed, res.msg)
    assert.same({ "start", "end" }, seen)
    assert.equal("start\nend", res.stdout)
    assert.equal(2, logins(h) - before) -- the first connection and the one the poll after the drop made
  end)

  it("async past its time: the job's process group is killed, the task fails with Ansible's message", function()
    local _, details = assert(require("luasible.play").play({ hosts = "web2", tasks = {
      { name = "long", shell = "sleep 61 & sleep 62", async = 2, poll = 1 },
    } }, { inventory = hosts:inventory(), on_event = function() end }))
    local r = details.hosts.web2[1].result
    assert.is_true(r.failed)
    assert.equal("async task did not complete within the requested time - 2s", r.msg)
    local h = hosts:get("web2")
    local left
    for _ = 1, 40 do
      left = (h:exec("pgrep -f 'sleep 6[12]' || true"))
      if left == "" then break end
      os.execute("sleep 0.1")
    end
    assert.equal("", left)
  end)

  it("poll 0 fires and forgets; async_status with until/retries reaps it, cleanup erases it", function()
    local out, code = run([[
- hosts: web
  gather_facts: false
  tasks:
    - shell: sleep 2; echo "finished {{ inventory_hostname }}"
      async: 30
      poll: 0
      register: job
    - debug: msg="started={{ job.started }} finished={{ job.finished }} changed={{ job is changed }}"
    - async_status:
        jid: "{{ job.ansible_job_id }}"
      register: st
      until: st.finished
      retries: 10
      delay: 1
    - debug: msg="{{ st.stdout }} rc={{ st.rc }} attempts={{ st.attempts > 1 }}"
    - async_status: jid={{ job.ansible_job_id }} mode=cleanup
      register: gone
    - debug: msg="erased {{ gone.erased is search(job.ansible_job_id) }}"
]])
    assert.equal(0, code, out)
    assert.matches("started=1 finished=0 changed=True", out, 1, true)
    assert.matches("finished web1 rc=0 attempts=True", out, 1, true)
    assert.matches("finished web2 rc=0 attempts=True", out, 1, true)
    assert.matches("erased True", out, 1, true)
    local left = hosts:get("web1"):exec("ls /root/.luasible_async/*/cmd 2>/dev/null | xargs -r grep -l 'finished'")
    assert.equal("", left, out)
  end)

  it("a job outlives the run and connection that started it: a later run reaps it", function()
    local out, code = run([[
- hosts: web1
  gather_facts: false
  tasks:
    - shell: sleep 3; echo survived
      async: 30
      poll: 0
      register: job
    - copy: content="{{ job.ansible_job_id }}" dest={{ out }}/jid
      delegate_to: localhost
]])
    assert.equal(0, code, out)
    local jid = files.read(dir .. "/out/jid")
    assert.matches("^[%d.]+$", jid)
    -- the run is over, its connection closed: the job still runs
    assert.matches("sleep 3", (hosts:get("web1"):exec("pgrep -af 'sleep 3' || true")))
    out, code = run([[
- hosts: web1
  gather_facts: false
  tasks:
    - async_status: jid={{ jid }}
      register: st
      until: st.finished
      retries: 20
      delay: 1
    - debug: msg="reaped {{ st.stdout }}"
]], "-e jid=" .. jid)
    assert.equal(0, code, out)
    assert.matches("reaped survived", out, 1, true)
  end)

  it("bad input: unknown delegate (a host addressed by its name, as Ansible), async on copy, poll < 0", function()
    local out, code = run("- hosts: web1\n  gather_facts: false\n  tasks:\n    - command: hostname\n"
      .. "      delegate_to: nosuch.invalid\n")
    assert.equal(4, code, out)
    assert.matches("unreachable: %[web1 %-> nosuch%.invalid%][^\n]*nosuch%.invalid", out)
    for _, case in ipairs({
      { "    - copy: content=x dest=/tmp/never\n      async: 10\n",
        "pb.yml:6: play 'pb.yml', task 2: async is not supported with the module 'copy': it cannot run as a"
          .. " remote job (command, shell and streaming_shell can)" },
      { "    - command: hostname\n      async: 10\n      poll: -1\n",
        "pb.yml:7: play 'pb.yml', task 2: poll must be a non-negative integer, got a number (-1)" },
    }) do
      out, code = run("- hosts: web1\n  gather_facts: false\n  tasks:\n    - shell: touch /tmp/ran\n" .. case[1])
      assert.equal(1, code, out)
      assert.equal("luasible: error: " .. dir .. "/" .. case[2] .. "\n", out)
      assert.is_nil(hosts:get("web1"):read("/tmp/ran"))
    end
  end)
end)
