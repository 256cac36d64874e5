--- delegate_to and async in Lua plays and YAML playbooks on this machine
-- (local connection, several inventory names): the Lua fields, their type
-- checks with file:line, loops over delegates, streaming_shell and stdin as
-- async jobs, async under --check, and the YAML forms that are refused.
local plays = require "luasible.play"
local files = require "spec.helpers.files"
local cli = require "spec.helpers.cli"
local cjson = require "cjson"

local TMP = files.tmpdir()

local function inv()
  return { all = { hosts = {
    h1 = { ansible_connection = "local", color = "red" },
    h2 = { ansible_connection = "local", color = "blue" },
    lb = { ansible_connection = "local", color = "green" },
  } } }
end

local function play(p, opts)
  local events = {}
  opts = opts or {}
  opts.inventory = opts.inventory or inv()
  opts.on_event = function(ev) events[#events + 1] = ev end
  local recap, details = plays.play(p, opts)
  return recap, events, details
end

describe("delegate_to and async in Lua plays", function()
  it("delegate_to in a Lua play: the delegating host's vars, a loop over delegates, delegated_to on events", function()
    local recap, events = play({ hosts = "h1:h2", tasks = {
      { name = "each", shell = "echo {{ inventory_hostname }} {{ color }} >> " .. TMP .. "/to-{{ item }}",
        loop = { "lb", "localhost" }, delegate_to = "{{ item }}" },
    } })
    assert.equal(1, recap.h1.changed)
    assert.equal("h1 red\nh2 blue\n", (files.sh("sort " .. TMP .. "/to-lb")) .. "\n")
    assert.equal("h1 red\nh2 blue\n", (files.sh("sort " .. TMP .. "/to-localhost")) .. "\n")
    local items = {}
    for _, ev in ipairs(events) do
      if ev.type == "item_result" and ev.host == "h1" then items[#items + 1] = ev.delegated_to end
    end
    assert.same({ "lb", "localhost" }, items)
  end)

  it("a block's delegate_to and delegate_facts reach its tasks (YAML and Lua); a task's own wins", function()
    files.write(TMP .. "/block.yml", [[
- hosts: h1:h2
  gather_facts: false
  tasks:
    - block:
        - shell: echo {{ inventory_hostname }} {{ color }} > ]] .. TMP .. [[/blk-{{ inventory_hostname }}
        - set_fact: { tagged: "by-{{ inventory_hostname }}" }
          run_once: true
        - command: echo own
          delegate_to: h2
          register: own
      delegate_to: lb
      delegate_facts: true
    - debug: msg="{{ inventory_hostname }} {{ own.delegated_to }} {{ tagged | default('none') }}"
- hosts: lb
  gather_facts: false
  tasks:
    - debug: msg="lb {{ tagged }}"
]])
    files.write(TMP .. "/inv3.ini", "h1 ansible_connection=local color=red\nh2 ansible_connection=local color=blue\n"
      .. "lb ansible_connection=local color=green\n")
    local out, code = cli.luasible("run " .. TMP .. "/block.yml -i " .. TMP .. "/inv3.ini")
    assert.equal(0, code, out)
    assert.equal("h1 red\n", files.read(TMP .. "/blk-h1"))
    assert.matches("changed: [h1 -> lb]", out, 1, true)
    assert.matches("h1 h2 none", out, 1, true)
    assert.matches("h2 h2 none", out, 1, true) -- run_once's facts not shared: they went to lb alone
    assert.matches("lb by-h1", out, 1, true)
    local _, events = play({ hosts = "h1", tasks = { { block = { { name = "b", command = "true" } },
      delegate_to = "localhost" } } })
    local d
    for _, ev in ipairs(events) do if ev.type == "host_task_result" then d = ev.delegated_to end end
    assert.equal("localhost", d)
  end)

  it("async: a streaming_shell job streams its lines; stdin reaches the job; --check refuses async", function()
    -- (run with HOME in the temp folder: the jobs live under ~/.luasible_async, not in this machine's home)
    local home = TMP .. "/home"
    os.execute("mkdir -p " .. home)
    files.write(TMP .. "/async.yml", [[
- hosts: h1
  gather_facts: false
  tasks:
    - streaming_shell: echo a; sleep 1.2; echo b
      async: 10
      poll: 1
      register: s
    - shell: cat
      args: { stdin: from stdin }
      async: 10
      poll: 1
      register: c
    - debug: msg="{{ s.stdout_lines }} {{ c.stdout }}"
]])
    files.write(TMP .. "/inv.ini", "h1 ansible_connection=local\n")
    local out, code = cli.luasible("run " .. TMP .. "/async.yml -i " .. TMP .. "/inv.ini --json", "HOME=" .. home)
    assert.equal(0, code, out)
    local lines, msg = {}, nil
    for l in out:gmatch("[^\n]+") do
      local ev = cjson.decode(l)
      if ev.type == "stdout" then lines[#lines + 1] = ev.data end
      if ev.type == "host_task_result" and ev.module == "debug" then msg = ev.result.msg end
    end
    assert.same({ "a", "b", "from stdin" }, lines)
    assert.equal("['a', 'b'] from stdin", msg)
    assert.equal("", files.sh("ls " .. home .. "/.luasible_async")) -- polled jobs are removed once read
    local _, events2, d2 = play({ hosts = "h1", tasks = { { name = "c", shell = "true", async = 5, poll = 1 } } },
      { check = true })
    assert.equal("check mode and async cannot be used on same task.", d2.hosts.h1[1].result.msg)
    for _, ev in ipairs(events2) do assert.not_equal("stdout", ev.type) end
  end)

  it("refuses bad delegate_to / async / poll values and async on other modules, with file:line", function()
    local f = TMP .. "/site.lua"
    for _, case in ipairs({
      { "{ name = 't', shell = 'true', delegate_to = 5 }",
        ":3: play 'site.lua', task 2 ('t'): delegate_to must be a host name (or a \"{{ expression }}\"),"
          .. " got a number (5)" },
      { "{ name = 't', shell = 'true', async = 'x' }",
        ":3: play 'site.lua', task 2 ('t'): async must be a non-negative integer, got a string ('x')" },
      { "{ name = 't', shell = 'true', async = 3, poll = -2 }",
        ":3: play 'site.lua', task 2 ('t'): poll must be a non-negative integer, got a number (-2)" },
      { "{ name = 't', copy = { content = 'x', dest = '/tmp/x' }, async = 3 }",
        ":3: play 'site.lua', task 2 ('t'): async is not supported with the module 'copy': it cannot run as a"
          .. " remote job (command, shell and streaming_shell can)" },
      { "{ name = 't', shell = 'true', delegate_facts = 'yes' }",
        ":3: play 'site.lua', task 2 ('t'): delegate_facts must be true or false, got a string ('yes')" },
    }) do
      files.write(f, "return { hosts = 'all', tasks = {\n  { name = 'first', shell = 'touch " .. TMP .. "/ran' },\n  "
        .. case[1] .. ",\n} }\n")
      local recap, err = plays.play(dofile(f), { inventory = inv(), play_file = f })
      assert.is_nil(recap)
      assert.equal(f .. case[2], err)
      assert.is_nil(files.read(TMP .. "/ran"))
    end
  end)

  it("YAML: local_action beside delegate_to or action is refused with file:line", function()
    local f = TMP .. "/bad.yml"
    for _, case in ipairs({
      { "    - local_action: command true\n      delegate_to: lb\n",
        ":5: play 'bad.yml', task 1: local_action and delegate_to are mutually exclusive" },
      { "    - local_action: command true\n      action: command true\n",
        ":4: play 'bad.yml', task 1: action and local_action are mutually exclusive" },
    }) do
      files.write(f, "- hosts: all\n  gather_facts: false\n  tasks:\n" .. case[1])
      local out, ok = files.run("bin/luasible run " .. f .. " 2>&1")
      assert.is_falsy(ok)
      assert.equal("luasible: error: " .. f .. case[2] .. "\n", out)
    end
  end)
end)
