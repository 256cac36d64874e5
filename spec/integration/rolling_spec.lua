-- Rolling deploys (docs/TASKS.md, "Rolling deploys: serial, strategies,
-- throttle"): real playbooks, YAML and Lua, run by bin/luasible over
-- several inventory hosts on the local connection (distinct names, one
-- machine: what each host does lands in one log, in the order it happened).
local files = require "spec.helpers.files"
local R = require "spec.helpers.rolling"
local cjson = require "cjson"
local write = files.write

local TMP = files.tmpdir()
local INV = TMP .. "/inv.ini"
write(INV, "[web]\nh1\nh2\nh3\nh4\nh5\n[web:vars]\nansible_connection=local\n"
  .. "[gone]\nlost ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=1\n")

local n = 0
-- a playbook in a fresh folder; returns its path and the folder its hosts write to
local function book(text, ext)
  n = n + 1
  local d = TMP .. "/case" .. n
  os.execute("mkdir -p " .. d .. "/out")
  local f = d .. "/site." .. (ext or "yml")
  write(f, text)
  return f, d .. "/out"
end

local function luasible(f, out, extra)
  return R.run("bin/luasible run " .. f .. " -i " .. INV .. " -e out=" .. out .. " " .. (extra or ""), TMP)
end

describe("rolling deploys", function()
  it("serial: a list of sizes and a percentage, as Ansible computes the batches; handlers end each batch", function()
    local f, out = book([[
- name: roll
  hosts: web
  gather_facts: false
  serial: [1, "40%", 3]
  tasks:
    - name: work
      shell: ]] .. R.log_line("work") .. [[

      changed_when: true
      notify: restart
    - name: play hosts
      shell: >-
        echo "{{ inventory_hostname }} {{ play_hosts | join(',') }}
        {{ ansible_play_hosts | join(',') }}" >> {{ out }}/magic
  handlers:
    - name: restart
      shell: ]] .. R.log_line("handler") .. "\n")
    local o, code, e = luasible(f, out)
    assert.equal(0, code, o .. e)
    local log = R.log(out)
    -- 40% of 5 is 2; the last size (3) repeats for what is left
    assert.same({ "h1", "h2,h3", "h4,h5" }, R.batches(log))
    -- each batch's handlers run before the next batch starts
    local order = {}
    for _, en in ipairs(log) do order[#order + 1] = en.batch .. ":" .. en.what end
    assert.same({ "h1:work", "h1:handler", "h2,h3:work", "h2,h3:work", "h2,h3:handler", "h2,h3:handler",
      "h4,h5:work", "h4,h5:work", "h4,h5:handler", "h4,h5:handler" }, order)
    -- play_hosts is the batch, ansible_play_hosts the play's
    local magic = files.read(out .. "/magic")
    assert.matches("h1 h1 h1,h2,h3,h4,h5\n", magic, 1, true)
    assert.matches("h4 h4,h5 h1,h2,h3,h4,h5\n", magic, 1, true)
    -- a PLAY header a batch, as ansible-playbook prints it
    assert.equal(3, select(2, o:gsub("PLAY %[roll%]", "")))
  end)

  it("order: sorted, reverse_sorted, reverse_inventory; the Lua play form is the same model", function()
    for _, c in ipairs({ { "reverse_inventory", "h5 h4 h3 h2 h1" }, { "reverse_sorted", "h5 h4 h3 h2 h1" },
      { "sorted", "h1 h2 h3 h4 h5" }, { "inventory", "h1 h2 h3 h4 h5" } }) do
      local f, out = book("return { name = 'o', hosts = 'web', order = '" .. c[1] .. "', serial = 1, tasks = {\n"
        .. "  { name = 'w', shell = [[" .. R.log_line("w") .. "]] } } }\n", "lua")
      local o, code, e = luasible(f, out)
      assert.equal(0, code, o .. e)
      local hs = {}
      for _, en in ipairs(R.log(out)) do hs[#hs + 1] = en.host end
      assert.equal(c[2], table.concat(hs, " "), c[1])
    end
  end)

  it("max_fail_percentage: a batch over it stops the play and the run; exit status 2", function()
    local f, out = book([[
- name: roll
  hosts: web
  gather_facts: false
  serial: 2
  max_fail_percentage: 49
  tasks:
    - name: one
      shell: ]] .. R.log_line("one") .. [[

    - name: break h3
      command: "false"
      when: inventory_hostname == 'h3'
    - name: two
      shell: ]] .. R.log_line("two") .. [[

- name: later
  hosts: web
  gather_facts: false
  tasks:
    - shell: ]] .. R.log_line("later") .. "\n")
    local o, code, e = luasible(f, out)
    assert.equal(2, code, o .. e)
    local log = R.log(out)
    assert.same({ "h1,h2", "h3,h4" }, R.batches(log))
    -- 1 of 2 failed (50% > 49%): h4 runs no more, the third batch and the later play never start
    assert.same({ "h1", "h2" }, R.hosts_of(log, "two"))
    assert.same({}, R.hosts_of(log, "later"))
    assert.same({ "h1", "h2", "h3", "h4" }, R.recap_hosts(o))
    assert.equal(1, R.recap_of(o, "h3").failed)
    assert.equal(0, R.recap_of(o, "h4").failed)
    assert.matches("NO MORE HOSTS LEFT", o, 1, true)
  end)

  it("max_fail_percentage not passed, and a batch that fails whole stops the run", function()
    local f, out = book([[
- hosts: web
  gather_facts: false
  serial: 2
  max_fail_percentage: 50
  tasks:
    - name: break some
      command: "false"
      when: inventory_hostname in ['h1', 'h3', 'h4']
    - name: two
      shell: ]] .. R.log_line("two") .. "\n")
    local o, code, e = luasible(f, out)
    assert.equal(2, code, o .. e)
    -- batch 1: 1 of 2 failed, not over 50%: h2 goes on; batch 2 fails whole: batch 3 never runs
    assert.same({ "h2" }, R.hosts_of(R.log(out), "two"))
    assert.same({ "h1", "h2", "h3", "h4" }, R.recap_hosts(o))
  end)

  it("any_errors_fatal (play, and task): one failure stops every host of the batch, exit 2", function()
    for _, where in ipairs({ "play", "task" }) do
      local f, out = book("- hosts: web\n  gather_facts: false\n"
        .. (where == "play" and "  any_errors_fatal: true\n" or "")
        .. "  tasks:\n    - name: break h2\n      command: \"false\"\n      when: inventory_hostname == 'h2'\n"
        .. (where == "task" and "      any_errors_fatal: true\n" or "")
        .. "    - name: two\n      shell: " .. R.log_line("two") .. "\n  handlers: []\n"
        .. "- hosts: web\n  gather_facts: false\n  tasks:\n    - shell: " .. R.log_line("later") .. "\n")
      local o, code, e = luasible(f, out)
      assert.equal(2, code, where .. ": " .. o .. e)
      assert.same({}, R.hosts_of(R.log(out), "two"), where)
      assert.same({}, R.hosts_of(R.log(out), "later"), where)
      assert.equal(1, R.recap_of(o, "h2").failed)
      assert.equal(0, R.recap_of(o, "h1").failed)
    end
  end)

  it("any_errors_fatal on an unreachable host: exit 2 (the batch aborted), not 4", function()
    local f, out = book([[
- hosts: web:gone
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - shell: ]] .. R.log_line("one") .. [[

    - shell: ]] .. R.log_line("two") .. "\n")
    local o, code, e = luasible(f, out)
    assert.equal(2, code, o .. e)
    assert.same({}, R.hosts_of(R.log(out), "two"))
    assert.equal(1, R.recap_of(o, "lost").unreachable)
  end)

  it("a failure a block rescues is not fatal and is counted rescued (recap, --json, the dashboard's state)", function()
    local f, out = book([[
- hosts: web
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - block:
        - command: "false"
          when: inventory_hostname == 'h2'
      rescue:
        - shell: ]] .. R.log_line("rescue") .. [[

    - shell: ]] .. R.log_line("two") .. "\n")
    local o, code, e = luasible(f, out, "--json")
    assert.equal(0, code, o .. e)
    assert.same({ "h1", "h2", "h3", "h4", "h5" }, R.hosts_of(R.log(out), "two"))
    local State = require "luasible.serve.state"
    local st = State.new()
    local recap
    for line in o:gmatch("[^\n]+") do
      local ev = cjson.decode(line)
      st:add(ev)
      if ev.type == "recap" then recap = ev.recap end
    end
    assert.equal(0, recap.h2.failed)
    assert.equal(1, recap.h2.rescued)
    local snap = st:snapshot()
    for _, h in ipairs(snap.hosts) do
      if h.name == "h2" then
        assert.equal(0, h.failed)
        assert.equal(1, h.rescued)
        assert.are_not.equal("failed", h.status)
      end
    end
  end)

  it("strategy free: a fast host runs all its tasks before a slow one ends its first", function()
    local f, out = book([[
- hosts: web
  gather_facts: false
  strategy: free
  tasks:
    - name: first
      shell: |
        sleep {{ 3 if inventory_hostname == 'h1' else 0 }}; ]] .. R.log_line("first") .. [[

    - name: second
      shell: ]] .. R.log_line("second") .. [[

      changed_when: true
      notify: h
  handlers:
    - name: h
      shell: ]] .. R.log_line("handler") .. "\n")
    local o, code, e = luasible(f, out)
    assert.equal(0, code, o .. e)
    local log = R.log(out)
    local when = {}
    for _, en in ipairs(log) do when[en.host .. ":" .. en.what] = en.t end
    for _, h in ipairs({ "h2", "h3", "h4", "h5" }) do
      assert.truthy(when[h .. ":handler"] < when["h1:first"], h)
    end
    assert.equal(15, #log)
    -- the task is shown once, not once a host
    assert.equal(1, select(2, o:gsub("TASK %[second%]", "")))
    -- and each host's events name the task it is on (the dashboard's task ids), hosts being on different ones
    local jo, jcode = luasible(f, out, "--json")
    assert.equal(0, jcode)
    local ids, results = {}, 0
    for line in jo:gmatch("[^\n]+") do
      local ev = cjson.decode(line)
      if ev.type == "task_start" then
        assert.is_nil(ids[ev.task], "one task_start a task")
        ids[ev.task] = ev.task_id
      elseif ev.type == "host_task_result" or ev.type == "host_task_start" then
        assert.equal(ids[ev.task], ev.task_id, ev.type .. " " .. ev.host .. " " .. ev.task)
        results = results + 1
      end
    end
    assert.equal(30, results)
  end)

  it("throttle (task and play) bounds the hosts at once; forks still caps them", function()
    local cases = {
      { "  tasks:\n    - shell: " .. R.count_line(0.8) .. "\n      throttle: 2\n", "", 2 },
      { "  throttle: 3\n  tasks:\n    - shell: " .. R.count_line(0.8) .. "\n", "", 3 },
      { "  tasks:\n    - shell: " .. R.count_line(0.8) .. "\n", "-f 2", 2 },
      { "  strategy: free\n  tasks:\n    - shell: " .. R.count_line(0.8) .. "\n      throttle: 1\n", "", 1 },
      { "  tasks:\n    - shell: " .. R.count_line(0.8) .. "\n", "", 5 },
    }
    for i, c in ipairs(cases) do
      local f, out = book("- hosts: web\n  gather_facts: false\n" .. c[1])
      local o, code, e = luasible(f, out, c[2])
      assert.equal(0, code, o .. e)
      assert.equal(c[3], R.max_count(out), "case " .. i)
    end
  end)

  it("run_once: the first host of each batch, its result registered on every host of it", function()
    local f, out = book([[
- hosts: web
  gather_facts: false
  serial: 2
  tasks:
    - name: once
      shell: ]] .. R.log_line("once") .. [[; echo {{ inventory_hostname }}
      register: who
      run_once: true
    - name: seen
      shell: echo "{{ inventory_hostname }} {{ who.stdout }}" >> {{ out }}/seen
]])
    local o, code, e = luasible(f, out)
    assert.equal(0, code, o .. e)
    assert.same({ "h1", "h3", "h5" }, R.hosts_of(R.log(out), "once"))
    local seen = {}
    for l in files.read(out .. "/seen"):gmatch("[^\n]+") do seen[#seen + 1] = l end
    table.sort(seen)
    assert.same({ "h1 h1", "h2 h1", "h3 h3", "h4 h3", "h5 h5" }, seen)
    -- the recap counts run_once's task on the host that ran it
    assert.equal(2, R.recap_of(o, "h1").changed)
    assert.equal(1, R.recap_of(o, "h2").changed)
  end)

  it("meta: end_host (with when), end_batch, end_play", function()
    local f, out = book([[
- hosts: web
  gather_facts: false
  serial: 2
  tasks:
    - meta: end_host
      when: inventory_hostname == 'h2'
    - shell: ]] .. R.log_line("a") .. [[

    - meta: end_batch
      when: inventory_hostname == 'h3'
    - shell: ]] .. R.log_line("b") .. [[

    - meta: end_play
      when: inventory_hostname == 'h5'
    - shell: ]] .. R.log_line("c") .. [[

- hosts: web
  gather_facts: false
  serial: 2
  tasks:
    - meta: end_play
    - shell: ]] .. R.log_line("never") .. [[

- hosts: h1
  gather_facts: false
  tasks:
    - shell: ]] .. R.log_line("last") .. "\n")
    local o, code, e = luasible(f, out)
    assert.equal(0, code, o .. e)
    local log = R.log(out)
    assert.same({ "h1", "h3", "h4", "h5" }, R.hosts_of(log, "a"))
    assert.same({ "h1", "h5" }, R.hosts_of(log, "b"))
    assert.same({ "h1" }, R.hosts_of(log, "c"))
    assert.same({}, R.hosts_of(log, "never"))
    assert.same({ "h1" }, R.hosts_of(log, "last"))
  end)

  it("meta: clear_host_errors takes failed hosts back for the later plays; clear_facts", function()
    local f, out = book([[
- hosts: web
  gather_facts: false
  tasks:
    - command: "false"
      when: inventory_hostname == 'h2'
    - meta: clear_host_errors
    - shell: ]] .. R.log_line("same") .. [[

- hosts: web
  gather_facts: true
  tasks:
    - meta: clear_facts
    - shell: echo "{{ ansible_facts.hostname | default('none') }}" >> {{ out }}/facts
      run_once: true
    - shell: ]] .. R.log_line("next") .. "\n")
    local o, code, e = luasible(f, out)
    assert.equal(0, code, o .. e)
    local log = R.log(out)
    assert.same({ "h1", "h3", "h4", "h5" }, R.hosts_of(log, "same"))
    assert.same({ "h1", "h2", "h3", "h4", "h5" }, R.hosts_of(log, "next"))
    assert.equal("none\n", files.read(out .. "/facts"))
    assert.equal(1, R.recap_of(o, "h2").failed)
  end)

  it("ignore_unreachable (play and task): counted ignored, the host goes on", function()
    for _, where in ipairs({ "play", "task" }) do
      local f, out = book("- hosts: gone\n  gather_facts: false\n"
        .. (where == "play" and "  ignore_unreachable: true\n" or "")
        .. "  tasks:\n    - ping:\n" .. (where == "task" and "      ignore_unreachable: true\n" or "")
        .. "    - ping:\n      ignore_unreachable: true\n")
      local o, code, e = luasible(f, out)
      assert.equal(0, code, where .. ": " .. o .. e)
      local r = R.recap_of(o, "lost")
      assert.same({ 2, 2, 0 }, { r.ignored, r.ok, r.unreachable }, where)
    end
  end)

  it("a Lua play through luasible.play: the same keywords, the abort in the details and the exit status", function()
    local out = TMP .. "/lua-api"
    os.execute("mkdir -p " .. out)
    local play = require "luasible.play"
    local recap, details = play.play({ name = "api", hosts = "web", serial = { 2, "60%" }, max_fail_percentage = 10,
      tasks = {
        { name = "one", shell = "echo {{ inventory_hostname }} {{ ansible_play_batch | join(',') }} >> "
          .. out .. "/log" },
        { name = "break h4", command = "false", when = "inventory_hostname == 'h4'" },
      } }, { inventory = INV })
    assert.truthy(recap, details)
    local lines = {}
    for l in files.read(out .. "/log"):gmatch("[^\n]+") do lines[#lines + 1] = l end
    local first = { lines[1], lines[2] } -- the first batch wrote first
    table.sort(first)
    assert.same({ "h1 h1,h2", "h2 h1,h2" }, first)
    table.sort(lines)
    assert.same({ "h1 h1,h2", "h2 h1,h2", "h3 h3,h4,h5", "h4 h3,h4,h5", "h5 h3,h4,h5" }, lines)
    assert.is_true(details.break_play)
    assert.equal(2, play.exit_code(recap, details))
    assert.equal(1, recap.h4.failed)
  end)

  it("bad input: one line with file:line, nothing run", function()
    for _, c in ipairs({
      { "  serial: abc\n", "site.yml:3: play 'site.yml': serial must be a number of hosts or a percentage" },
      { "  serial: \"-10%\"\n", "site.yml:3: play 'site.yml': serial must be a number of hosts or a percentage" },
      { "  serial: [1, -2]\n", "site.yml:3: play 'site.yml': serial[2] must be a number of hosts" },
      { "  strategy: bogus\n",
        "site.yml:3: play 'site.yml': strategy must be \"linear\" or \"free\", got a string ('bogus')" },
      { "  order: random\n", "site.yml:3: play 'site.yml': order must be one of inventory, reverse_inventory" },
      { "  max_fail_percentage: lots\n", "site.yml:3: play 'site.yml': max_fail_percentage must be a percentage" },
      { "  throttle: -1\n", "site.yml:3: play 'site.yml': throttle must be a non-negative integer" },
    }) do
      local f, out = book("- hosts: web\n  gather_facts: false\n" .. c[1] .. "  tasks:\n    - shell: "
        .. R.log_line("ran") .. "\n")
      local o, code, e = luasible(f, out)
      assert.equal(1, code, o .. e)
      assert.equal("", o)
      assert.matches(c[2], e, 1, true)
      assert.equal(1, select(2, e:gsub("\n", "")), "one line: " .. e)
      assert.is_nil(files.read(out .. "/log"), "nothing ran")
    end
    -- a task's keyword too, and a meta action not there yet
    local f = book("- hosts: web\n  tasks:\n    - ping:\n      throttle: x\n")
    local _, code, e = luasible(f, TMP)
    assert.equal(1, code)
    assert.matches("site.yml:4: play 'site.yml', task 1: throttle must be a non-negative integer, got a string ('x')",
      e, 1, true)
    local f2 = book("- hosts: web\n  tasks:\n    - meta: refresh_inventory\n")
    local _, code2, e2 = luasible(f2, TMP)
    assert.equal(1, code2)
    assert.matches("site.yml:3: play 'site.yml', task 1: meta: refresh_inventory is not supported yet", e2, 1, true)
  end)
end)
