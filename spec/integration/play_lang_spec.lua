-- The play language of issue 12 run by bin/luasible: add_host and group_by
-- (the later plays see the hosts and groups; #oracle: the same messages and
-- recap as ansible-playbook), pause, vars_prompt, -K, --list-tags,
-- --start-at-task, --step and the exit codes. A terminal, where one is
-- needed, is a real pseudo-terminal (script(1)) typed into.
local files = require "spec.helpers.files"
local cli = require "spec.helpers.cli"
local shell = require "luasible.util.shell"
local cjson = require "cjson"
local write, read = files.write, files.read

local TMP = files.tmpdir()

local run = cli.run

-- cmd run on a pseudo-terminal; `lines` typed one by one, 0.7 s apart
local function on_tty(cmd, lines)
  local typed = { "sleep 1" }
  for _, l in ipairs(lines) do typed[#typed + 1] = "printf '%s\\r' " .. shell.quote(l) .. "; sleep 0.7" end
  typed[#typed + 1] = "sleep 2"
  local out = run("(" .. table.concat(typed, "; ") .. ") | script -qec " .. shell.quote(cmd .. " --no-color")
    .. " /dev/null")
  return (out:gsub("\r", ""))
end

local msgs = cli.msgs

local function recaps(out)
  local r = {}
  for h, line in out:gmatch("\n(%S+)%s*:(%s+ok=[^\n]*)") do
    local c = {}
    for k, v in line:gmatch("(%a+)=(%d+)") do if k ~= "rescued" then c[k] = tonumber(v) end end
    r[h] = c
  end
  return r
end

local INV = TMP .. "/inv.ini"
write(INV, "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")
local LUASIBLE = "bin/luasible run -i " .. INV .. " "
local ANSIBLE = "ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP="
  .. TMP .. "/at ANSIBLE_REMOTE_TEMP=" .. TMP .. "/at ansible-playbook -i " .. INV .. " "

local INVENTORY_PLAY = [[
- name: make
  hosts: localhost
  gather_facts: false
  tasks:
    - add_host: { name: "h{{ item }}", groups: [added, "g{{ item }}"], ansible_connection: local, myvar: "v{{ item }}" }
      loop: [1, 2]
    - add_host: { name: h1, groups: added }
    - group_by: { key: "os_{{ 'linux' }}", parents: [family] }
    - group_by: { key: "os_linux" }
    - debug: { msg: "{{ groups.added }} {{ group_names }} {{ groups.family | default('none') }}" }
- name: use
  hosts: added
  gather_facts: false
  tasks:
    - debug: { msg: "{{ inventory_hostname }} {{ myvar }} {{ group_names }}" }
- name: family
  hosts: family:&os_linux
  gather_facts: false
  tasks:
    - debug: { msg: "fam {{ inventory_hostname }}" }
]]

describe("add_host and group_by", function()
  write(TMP .. "/inv_play.yml", INVENTORY_PLAY)
  local EXPECTED = { "['h1', 'h2'] ['family', 'os_linux'] ['localhost']", "h1 v1 ['added', 'g1']",
    "h2 v2 ['added', 'g2']", "fam localhost" }

  it("add hosts and groups that the later plays run on", function()
    -- (-f 1: h1's line before h2's, as both print them when one host runs at a time)
    local out, code, err = run(LUASIBLE .. TMP .. "/inv_play.yml -f 1")
    assert.equal(0, code, out .. err)
    assert.same(EXPECTED, msgs(out))
    local r = recaps(out)
    -- the new hosts, the add_host with groups (always a change in Ansible's count), the new group
    assert.equal(3, r.localhost.changed)
    assert.equal(1, r.h1.ok)
  end)

  it("#oracle as ansible-playbook: the same messages and recap", function()
    local aout, acode, aerr = run(ANSIBLE .. TMP .. "/inv_play.yml -f 1")
    assert.equal(0, acode, aout .. aerr)
    local lout = run(LUASIBLE .. TMP .. "/inv_play.yml -f 1")
    assert.same(msgs(aout), msgs(lout))
    assert.same(recaps(aout), recaps(lout))
  end)

  it("--limit still holds for the added hosts", function()
    local out, code, err = run(LUASIBLE .. TMP .. "/inv_play.yml -l localhost")
    assert.equal(0, code, out .. err)
    assert.same({ EXPECTED[1], EXPECTED[4] }, msgs(out))
  end)
end)

describe("pause", function()
  it("waits the seconds, once for all hosts, and refuses a prompt without a terminal", function()
    write(TMP .. "/pause.yml", "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
      .. "    - pause: { seconds: 1 }\n      register: p\n    - debug: { msg: \"{{ p.stdout }}\" }\n"
      .. "    - pause: { prompt: Ready }\n")
    local t0 = os.time()
    local out, code = run(LUASIBLE .. TMP .. "/pause.yml </dev/null")
    assert.is_true(os.time() - t0 >= 1)
    assert.equal(2, code, out)
    assert.same({ "Paused for 1 seconds" }, msgs(out))
    assert.truthy(out:find("failed: [localhost] pause: no terminal to answer the prompt 'Ready' (stdin is not a"
      .. " terminal; give seconds: or minutes: to pause without one)", 1, true), out)
  end)

  it("reads the answer to its prompt on a terminal", function()
    write(TMP .. "/pause2.yml", "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
      .. "    - pause: { prompt: Your name }\n      register: p\n    - debug: { msg: \"got {{ p.user_input }}\" }\n")
    local out = on_tty(LUASIBLE .. TMP .. "/pause2.yml", { "bob" })
    assert.truthy(out:find("Your name:", 1, true), out)
    assert.truthy(out:find("ok: [localhost] => got bob", 1, true), out)
  end)
end)

describe("vars_prompt", function()
  local PLAY = "- hosts: localhost\n  gather_facts: false\n  vars_prompt:\n    - name: user\n      prompt: Your name\n"
    .. "      private: false\n      unsafe: true\n    - name: pw\n      prompt: Password\n      confirm: true\n"
    .. "  tasks:\n    - command: touch " .. TMP .. "/ran\n    - debug: { msg: \"{{ user }} {{ pw | length }}\" }\n"
    .. "    - debug: { msg: \"{{ pw }}\" }\n"
  write(TMP .. "/vp.yml", PLAY)

  it("with neither -e nor a terminal: one line naming the variable and file:line, nothing run", function()
    local out, code, err = run(LUASIBLE .. TMP .. "/vp.yml </dev/null")
    assert.equal(1, code, out)
    assert.equal("luasible: error: " .. TMP .. "/vp.yml:4: play 'vp.yml', vars_prompt 1: the variable 'user' needs an"
      .. " answer: no terminal to ask on (stdin is not a terminal) and no -e user=... nor default\n", err)
    assert.is_nil(read(TMP .. "/ran"))
  end)

  it("encrypt: the answer as a crypt(3) hash (salt, salt_size), as Ansible's; salt without encrypt refused", function()
    write(TMP .. "/vp3.yml", "- hosts: localhost\n  gather_facts: false\n  vars_prompt:\n    - name: a\n"
      .. "      default: hunter2\n      encrypt: sha512_crypt\n      salt: abcdefgh\n    - name: b\n"
      .. "      default: hunter2\n      encrypt: md5_crypt\n      salt_size: 4\n"
      .. "  tasks:\n    - debug: { msg: \"{{ a }} {{ b | regex_replace('^[$]1[$][./0-9A-Za-z]{4}[$].{22}$', 'md5') }}\""
      .. " }\n")
    local out, code, err = run(LUASIBLE .. TMP .. "/vp3.yml </dev/null")
    assert.equal(0, code, out .. err)
    -- (ansible-playbook 2.14 prints the same hash for this salt)
    assert.same({ "$6$abcdefgh$M/eYsB4rVXAm3ZNc88J.UD9rCKAT6FB1rahiwJCHtEndQNORCub5qhjxn50qbqVVthkM.9HpEwtf0t.iV9uH0/"
      .. " md5" }, msgs(out))
    write(TMP .. "/vp4.yml", "- hosts: localhost\n  gather_facts: false\n  vars_prompt:\n    - name: a\n"
      .. "      salt: abc\n  tasks:\n    - command: touch " .. TMP .. "/ran4\n")
    out, code, err = run(LUASIBLE .. TMP .. "/vp4.yml -e a=1")
    assert.equal(1, code, out)
    assert.equal("luasible: error: " .. TMP .. "/vp4.yml:5: play 'vp4.yml', vars_prompt 1: salt and salt_size go with"
      .. " encrypt:\n", err)
    assert.is_nil(read(TMP .. "/ran4"))
  end)

  it("takes -e answers, and a default without a terminal", function()
    write(TMP .. "/vp2.yml", "- hosts: localhost\n  gather_facts: false\n  vars_prompt:\n    - name: a\n"
      .. "    - name: b\n      default: dflt\n      private: no\n  tasks:\n    - debug: { msg: \"{{ a }} {{ b }}\" }\n")
    local out, code, err = run(LUASIBLE .. TMP .. "/vp2.yml -e a=given </dev/null")
    assert.equal(0, code, out .. err)
    assert.same({ "given dflt" }, msgs(out))
  end)

  it("asks on a terminal: echo off for private, confirm twice; the private answer never shown; unsafe", function()
    local out = on_tty(LUASIBLE .. TMP .. "/vp.yml --json", { "{{ bob }}", "hunter22pw", "hunter22pw" })
    assert.truthy(out:find("Your name: {{ bob }}", 1, true), out) -- echoed
    assert.truthy(out:find("Password: \n", 1, true), out)
    assert.truthy(out:find("confirm Password: \n", 1, true), out)
    assert.falsy(out:find("hunter22pw", 1, true), out) -- never echoed, never in an event
    local seen = {}
    for l in out:gmatch("[^\n]+") do
      if l:sub(1, 1) == "{" then
        local ev = cjson.decode(l)
        if ev.type == "host_task_result" and ev.module == "debug" then seen[#seen + 1] = ev.result.msg end
      end
    end
    assert.same({ "{{ bob }} 10", "********" }, seen) -- unsafe: the answer is data, never rendered
  end)
end)

describe("the CLI of ansible-playbook", function()
  local TAGS = "- name: first\n  hosts: localhost\n  gather_facts: false\n  tags: [p]\n  tasks:\n"
    .. "    - debug: { msg: a }\n      tags: [x, always]\n    - debug: { msg: b }\n      tags: y\n"
    .. "    - name: third\n      debug: { msg: c }\n- name: second\n  hosts: localhost\n  gather_facts: false\n"
    .. "  tasks:\n    - name: fourth\n      debug: { msg: d }\n"
  write(TMP .. "/tags.yml", TAGS)

  it("--list-tags (and --list-tasks) as ansible-playbook prints them", function()
    local expected = table.concat({ "", "playbook: " .. TMP .. "/tags.yml", "",
      "  play #1 (localhost): first\tTAGS: [p]", "      TASK TAGS: [always, p, x, y]", "",
      "  play #2 (localhost): second\tTAGS: []", "      TASK TAGS: []", "" }, "\n")
    local out, code = run(LUASIBLE .. TMP .. "/tags.yml --list-tags")
    assert.equal(0, code)
    assert.equal(expected, out)
    if os.execute("command -v ansible-playbook >/dev/null 2>&1") then -- #oracle where there is one
      for _, flags in ipairs({ "--list-tags", "--list-tags --list-tasks", "--list-tags -t y",
        "--list-tasks --skip-tags x" }) do
        local a = run(ANSIBLE .. TMP .. "/tags.yml " .. flags)
        local l = run(LUASIBLE .. TMP .. "/tags.yml " .. flags)
        assert.equal(a, l, flags)
      end
    end
  end)

  it("--start-at-task starts at the first task of that name or glob; none: refused", function()
    local out, code = run(LUASIBLE .. TMP .. "/tags.yml --start-at-task third")
    assert.equal(0, code, out)
    assert.same({ "c", "d" }, msgs(out))
    out = run(LUASIBLE .. TMP .. "/tags.yml --start-at-task 'fo*'")
    assert.same({ "d" }, msgs(out))
    local _, code2, err = run(LUASIBLE .. TMP .. "/tags.yml --start-at-task nosuch")
    assert.equal(1, code2)
    assert.truthy(err:find("--start-at-task: no task named 'nosuch'", 1, true), err)
  end)

  it("--step asks before each task: y runs it, n skips it, c runs the rest; no terminal: refused (5)", function()
    local out = on_tty(LUASIBLE .. TMP .. "/tags.yml --step", { "y", "n", "c" })
    assert.truthy(out:find("Perform task: TASK: debug (N)o/(y)es/(c)ontinue: y", 1, true), out)
    assert.same({ "a", "c", "d" }, msgs(out))
    local _, code, err = run(LUASIBLE .. TMP .. "/tags.yml --step </dev/null")
    assert.equal(5, code)
    assert.equal("luasible: error: --step needs a terminal to ask on (stdin is not a terminal)\n", err)
  end)

  it("-K asks the become password without echo; it is the hosts' ansible_become_password and never shown", function()
    write(TMP .. "/k.yml", "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
      .. "    - debug: { msg: \"{{ ansible_become_password }}\" }\n")
    local out, code, err = run("printf 'Sekr1tPass\\n' | " .. LUASIBLE .. TMP .. "/k.yml -K --json")
    assert.equal(0, code, out .. err)
    assert.falsy((out .. err):find("Sekr1tPass", 1, true))
    assert.truthy(out:find('"msg":"********"', 1, true), out)
    out = on_tty(LUASIBLE .. TMP .. "/k.yml -K", { "Sekr1tPass" })
    assert.truthy(out:find("BECOME password: ", 1, true), out)
    assert.falsy(out:find("Sekr1tPass", 1, true), out)
  end)

  it("exit codes: 5 for a bad option, 1 bad input, 2 a failed host", function()
    local _, code = run(LUASIBLE .. TMP .. "/tags.yml --no-such-flag")
    assert.equal(5, code)
    _, code = run(LUASIBLE .. TMP .. "/tags.yml -f 0")
    assert.equal(5, code)
    _, code = run(LUASIBLE .. TMP .. "/nosuch.yml")
    assert.equal(1, code)
    write(TMP .. "/fail.yml", "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - fail: { msg: no }\n")
    _, code = run(LUASIBLE .. TMP .. "/fail.yml")
    assert.equal(2, code)
  end)
end)

describe("become_method", function()
  it("su runs the task as become_user (no password needed: the connecting user is root)", function()
    if io.popen("id -u"):read("l") ~= "0" then
      pending("needs to run as root")
      return
    end
    write(TMP .. "/su.yml", "- hosts: localhost\n  gather_facts: false\n  become: true\n  become_method: su\n"
      .. "  tasks:\n    - command: id -un\n      become_user: nobody\n      register: r\n"
      .. "    - debug: { msg: \"{{ r.stdout }}\" }\n")
    local out, code, err = run(LUASIBLE .. TMP .. "/su.yml")
    assert.equal(0, code, out .. err)
    assert.same({ "nobody" }, msgs(out))
    -- -b --become-method su --become-user: for every play and task that says nothing else
    write(TMP .. "/b.yml", "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: id -un\n"
      .. "      register: a\n    - command: id -un\n      become: false\n      register: b\n"
      .. "    - debug: { msg: \"{{ a.stdout }} {{ b.stdout }}\" }\n")
    out, code, err = run(LUASIBLE .. TMP .. "/b.yml -b --become-method su --become-user nobody")
    assert.equal(0, code, out .. err)
    assert.same({ "nobody root" }, msgs(out))
    -- su that would need a password, none given (run as nobody, su to root): a clear failure
    -- (with one: spec/integration/become_su_hosts_spec.lua, su on a pty)
    os.execute("chmod 755 " .. TMP .. " && chmod 644 " .. TMP .. "/su.yml " .. INV)
    write(TMP .. "/su2.yml", "- hosts: localhost\n  gather_facts: false\n  become: true\n  become_method: su\n"
      .. "  tasks:\n    - command: id -un\n")
    os.execute("chmod 644 " .. TMP .. "/su2.yml")
    out, code = run("su nobody -s /bin/sh -c " .. shell.quote(LUASIBLE .. TMP .. "/su2.yml") .. " </dev/null")
    assert.equal(2, code, out)
    assert.truthy(out:find("failed: [localhost] EACCES: become_method su: su to 'root' needs a password (give it"
      .. " with -K or ansible_become_password), or connect as root", 1, true), out)
  end)

  it("a method luasible has not is refused by name with file:line, nothing run", function()
    write(TMP .. "/doas.yml", "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: touch "
      .. TMP .. "/ran_doas\n    - command: id -un\n      become: true\n      become_method: doas\n")
    local out, code, err = run(LUASIBLE .. TMP .. "/doas.yml")
    assert.equal(1, code, out)
    assert.equal("luasible: error: " .. TMP .. "/doas.yml:7: play 'doas.yml', task 2: become_method must be 'sudo' or"
      .. " 'su' (the become methods luasible has), got a string ('doas')\n", err)
    assert.is_nil(read(TMP .. "/ran_doas"))
    local _, code2, err2 = run(LUASIBLE .. TMP .. "/doas.yml --become-method doas")
    assert.equal(5, code2)
    assert.equal("luasible: error: --become-method 'doas' is not supported (sudo and su are)\n", err2)
  end)
end)
