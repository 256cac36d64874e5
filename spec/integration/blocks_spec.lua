-- block / rescue / always and import_tasks in YAML playbooks (and blocks in
-- Lua plays), run by bin/luasible on the local connection: the recap counts
-- as Ansible's (rescued), ansible_failed_task / ansible_failed_result, the
-- keywords a block gives its tasks, imported task files read at load time;
-- bad input refused with file:line before anything runs. The #oracle case
-- runs the same playbooks with Debian's ansible-playbook and compares.
local files = require "spec.helpers.files"
local clih = require "spec.helpers.cli"

local write = files.write_p

local TMP = files.tmpdir()

local run, cli = clih.run, clih.luasible

local exists, recap_of = files.exists, clih.recap_of

-- the debug messages of a host, in order
local function says(out, host)
  local l = {}
  for m in out:gmatch("ok: %[" .. host .. "%] => ([^\n]*)") do l[#l + 1] = m end
  return l
end

local INV = TMP .. "/inv.ini"
write(INV, "[local]\nh1 ansible_connection=local\nh2 ansible_connection=local\n")

local RESCUE = [[
- hosts: local
  gather_facts: false
  tasks:
    - name: outer
      vars: { who: blockvar }
      block:
        - debug: msg="in block {{ who }}"
        - name: boom
          command: /bin/false
          when: inventory_hostname == 'h1'
        - debug: msg="after boom"
      rescue:
        - debug: msg="rescued {{ ansible_failed_task.name }} rc={{ ansible_failed_result.rc }}"
      always:
        - debug: msg="always"
    - debug: msg="next"
]]

-- nested blocks; a failing rescue; ignore_errors given by a block
local NESTED = [[
- hosts: local
  gather_facts: false
  tasks:
    - block:
        - block:
            - command: /bin/false
              when: inventory_hostname == 'h1'
          always:
            - debug: msg=inner-always
        - debug: msg=not-on-h1
      rescue:
        - debug: msg="outer rescue {{ ansible_failed_result.rc }}"
        - command: /bin/false
          when: inventory_hostname == 'h1'
      always:
        - debug: msg=outer-always
    - block:
        - command: /bin/false
      ignore_errors: true
    - debug: msg=after
]]

describe("blocks", function()
  it("a failed task in a block runs the rescue for that host, which counts as rescued and goes on;"
    .. " always runs", function()
    write(TMP .. "/r/site.yml", RESCUE)
    local out, code, err = cli("run -i " .. INV .. " " .. TMP .. "/r/site.yml")
    assert.equal(0, code, out .. err)
    assert.same({ "in block blockvar", "rescued boom rc=1", "always", "next" }, says(out, "h1"))
    assert.same({ "in block blockvar", "after boom", "always", "next" }, says(out, "h2"))
    -- h1: the failed task counts as rescued, not failed (as Ansible's recap)
    assert.same({ ok = 4, changed = 0, unreachable = 0, failed = 0, skipped = 0, rescued = 1, ignored = 0 },
      recap_of(out, "h1"))
    assert.same({ ok = 4, changed = 0, unreachable = 0, failed = 0, skipped = 1, rescued = 0, ignored = 0 },
      recap_of(out, "h2"))
  end)

  it("nested blocks: an inner failure goes to the outer rescue after the inner always; a failing"
    .. " rescue fails the host after always", function()
    write(TMP .. "/n/site.yml", NESTED)
    local out, code = cli("run -i " .. INV .. " " .. TMP .. "/n/site.yml")
    assert.equal(2, code, out)
    assert.same({ "inner-always", "outer rescue 1", "outer-always" }, says(out, "h1"))
    assert.same({ "inner-always", "not-on-h1", "outer-always", "after" }, says(out, "h2"))
    assert.same({ ok = 3, changed = 0, unreachable = 0, failed = 1, skipped = 0, rescued = 1, ignored = 0 },
      recap_of(out, "h1"))
    -- h2: the ignore_errors of its block holds for its command
    assert.same({ ok = 5, changed = 1, unreachable = 0, failed = 0, skipped = 1, rescued = 0, ignored = 1 },
      recap_of(out, "h2"))
  end)

  it("a block without rescue: always runs, then the host leaves the play", function()
    write(TMP .. "/a/site.yml", [[
- hosts: local
  gather_facts: false
  tasks:
    - block:
        - command: /bin/false
          when: inventory_hostname == 'h1'
      always:
        - file: { path: "{{ out_dir }}/always-{{ inventory_hostname }}", state: touch }
    - file: { path: "{{ out_dir }}/after-{{ inventory_hostname }}", state: touch }
]])
    local out, code = cli("run -i " .. INV .. " -e out_dir=" .. TMP .. "/a " .. TMP .. "/a/site.yml")
    assert.equal(2, code, out)
    assert.is_true(exists(TMP .. "/a/always-h1"))
    assert.is_true(exists(TMP .. "/a/always-h2"))
    assert.is_false(exists(TMP .. "/a/after-h1"))
    assert.is_true(exists(TMP .. "/a/after-h2"))
    assert.equal(1, recap_of(out, "h1").failed)
    assert.is_nil(recap_of(out, "h1").rescued) -- the column only when a host was rescued
  end)

  it("a block's when, tags, vars and become reach each of its tasks (the task's own vars win)", function()
    write(TMP .. "/k/site.yml", [[
- hosts: local
  gather_facts: false
  tasks:
    - name: only h2, tagged
      when: inventory_hostname == 'h2'
      tags: [web]
      vars: { a: block, b: block }
      block:
        - debug: msg="{{ a }} {{ b }}"
          vars: { b: task }
        - debug: msg="second"
          when: a == 'block'
    - debug: msg=untagged
]])
    local out, code = cli("run -i " .. INV .. " -t web " .. TMP .. "/k/site.yml")
    assert.equal(0, code, out)
    assert.same({ "block task", "second" }, says(out, "h2"))
    assert.same({}, says(out, "h1"))
    assert.same({ ok = 0, changed = 0, unreachable = 0, failed = 0, skipped = 2, ignored = 0 }, recap_of(out, "h1"))
    out = cli("run -i " .. INV .. " --list-tasks " .. TMP .. "/k/site.yml")
    local n = 0
    for _ in out:gmatch("\n%s+debug\tTAGS: %[web%]") do n = n + 1 end
    assert.equal(2, n, out)
  end)

  it("a Lua play takes blocks in the same shape", function()
    write(TMP .. "/lua/play.lua", [[
return { hosts = "local", tasks = {
  { block = {
      { name = "boom", command = "/bin/false", when = "inventory_hostname == 'h1'" },
    },
    rescue = { { debug = { msg = "rescued {{ ansible_failed_task.name }}" } } },
    always = { { debug = { msg = "always" } } } },
  { debug = { msg = "next" } },
} }
]])
    local out, code = cli("run -i " .. INV .. " " .. TMP .. "/lua/play.lua")
    assert.equal(0, code, out)
    assert.same({ "rescued boom", "always", "next" }, says(out, "h1"))
    assert.equal(1, recap_of(out, "h1").rescued)
  end)
end)

describe("import_tasks", function()
  it("reads the file at load time, relative to the file naming it, with its when, tags and vars on"
    .. " every task", function()
    write(TMP .. "/i/site.yml", [[
- hosts: local
  gather_facts: false
  tasks:
    - import_tasks: tasks/main.yml
      vars: { greeting: hello }
      when: inventory_hostname == 'h1'
      tags: [imp]
    - debug: msg=plain
]])
    write(TMP .. "/i/tasks/main.yml", [[
- debug: msg="{{ greeting }} one"
- ansible.builtin.import_tasks: sub.yml
]])
    write(TMP .. "/i/tasks/sub.yml", "- debug: msg=\"{{ greeting }} sub\"\n")
    local out, code = cli("run -i " .. INV .. " " .. TMP .. "/i/site.yml")
    assert.equal(0, code, out)
    assert.same({ "hello one", "hello sub", "plain" }, says(out, "h1"))
    assert.same({ "plain" }, says(out, "h2"))
    out = cli("run -i " .. INV .. " -t imp " .. TMP .. "/i/site.yml")
    assert.same({ "hello one", "hello sub" }, says(out, "h1"))
  end)
end)

local INCLUDE = [[
- hosts: local
  gather_facts: false
  tasks:
    - include_tasks: "t/{{ which }}.yml"
      vars: { which: one, extra: "x-{{ inventory_hostname }}" }
      loop: [a, b]
      loop_control: { loop_var: thing }
    - block:
        - include_tasks: t/fail.yml
      rescue:
        - debug: msg="rescued {{ ansible_failed_result.msg }}"
    - debug: msg=after
]]
local function include_files(dir)
  write(dir .. "/t/one.yml", "- debug: msg=\"one {{ thing }} {{ extra }}\"\n")
  write(dir .. "/t/fail.yml", "- fail: msg=boom\n  when: inventory_hostname == 'h2'\n")
end

describe("include_tasks", function()
  it("reads the file when reached, per host and loop item, with its vars and loop_var; a failure in it is rescued",
    function()
    include_files(TMP .. "/inc")
    write(TMP .. "/inc/site.yml", INCLUDE)
    local out, code = cli("run -i " .. INV .. " " .. TMP .. "/inc/site.yml")
    assert.equal(0, code, out)
    assert.same({ "one a x-h1", "one b x-h1", "after" }, says(out, "h1"))
    assert.same({ "one a x-h2", "one b x-h2", "rescued boom", "after" }, says(out, "h2"))
    -- each include counts ok, as in Ansible
    assert.same({ ok = 6, changed = 0, unreachable = 0, failed = 0, skipped = 1, rescued = 0, ignored = 0 },
      recap_of(out, "h1"))
    assert.same({ ok = 7, changed = 0, unreachable = 0, failed = 0, skipped = 0, rescued = 1, ignored = 0 },
      recap_of(out, "h2"))
  end)

  it("a block's when reaches an include in it", function()
    include_files(TMP .. "/incb")
    write(TMP .. "/incb/site.yml", [[
- hosts: local
  gather_facts: false
  tasks:
    - block:
        - include_tasks: t/one.yml
          vars: { thing: T, extra: E }
      when: inventory_hostname == 'h1'
]])
    local out, code = cli("run -i " .. INV .. " " .. TMP .. "/incb/site.yml")
    assert.equal(0, code, out)
    assert.same({ "one T E" }, says(out, "h1"))
    assert.same({ ok = 2, changed = 0, unreachable = 0, failed = 0, skipped = 0, ignored = 0 }, recap_of(out, "h1"))
    assert.same({ ok = 0, changed = 0, unreachable = 0, failed = 0, skipped = 1, ignored = 0 }, recap_of(out, "h2"))
  end)

  it("a circular include fails the host, naming the chain; a bad task in the file fails it with file:line", function()
    write(TMP .. "/cyc/site.yml", [[
- hosts: local
  gather_facts: false
  tasks:
    - include_tasks: loop1.yml
      when: inventory_hostname == 'h1'
    - include_tasks: bad.yml
      when: inventory_hostname == 'h2'
    - debug: msg=after
]])
    write(TMP .. "/cyc/loop1.yml", "- include_tasks: loop2.yml\n")
    write(TMP .. "/cyc/loop2.yml", "- debug: msg=in-loop2\n- include_tasks: loop1.yml\n")
    write(TMP .. "/cyc/bad.yml", "- debug: msg=fine\n- copy: { dest: /tmp/x, bogus_arg: 1 }\n")
    local out, code = cli("run -i " .. INV .. " " .. TMP .. "/cyc/site.yml")
    assert.equal(2, code, out)
    assert.truthy(out:find("failed: [h1] circular include: " .. TMP .. "/cyc/loop1.yml -> " .. TMP
      .. "/cyc/loop2.yml -> " .. TMP .. "/cyc/loop1.yml", 1, true), out)
    assert.truthy(out:find("failed: %[h2%] [^\n]*bad%.yml:2: "), out)
    assert.same({ "in-loop2" }, says(out, "h1")) -- nothing of bad.yml ran: it is checked whole first
    assert.same({}, says(out, "h2"))
    assert.equal(1, recap_of(out, "h1").failed)
    assert.equal(1, recap_of(out, "h2").failed)
  end)
end)

describe("bad blocks and imports", function()
  local function refused(name, files_, pattern)
    for f, text in pairs(files_) do write(TMP .. "/bad/" .. name .. "/" .. f, text) end
    local marker = TMP .. "/bad/" .. name .. "/ran"
    local out, code, err = cli("run -i " .. INV .. " -e marker=" .. marker .. " " .. TMP .. "/bad/" .. name
      .. "/site.yml")
    assert.are_not.equal(0, code)
    assert.is_false(exists(marker), "something ran")
    assert.equal("", out)
    local line = err:gsub("\n$", "")
    assert.falsy(line:find("\n"), "one line: " .. err)
    assert.truthy(line:find(pattern), line)
    return line
  end
  local RUN_FIRST = "    - file: { path: \"{{ marker }}\", state: touch }\n"
  local HEAD = "- hosts: local\n  gather_facts: false\n  tasks:\n" .. RUN_FIRST

  it("a circular import_tasks, naming the chain", function()
    local line = refused("cycle", {
      ["site.yml"] = HEAD .. "    - import_tasks: a.yml\n",
      ["a.yml"] = "- import_tasks: b.yml\n",
      ["b.yml"] = "- debug: msg=b\n- import_tasks: a.yml\n",
    }, "b%.yml:2: .*circular import: ")
    assert.truthy(line:find("site.yml -> ", 1, true) and line:find("a.yml -> ", 1, true), line)
  end)

  it("an unknown keyword on a block, a rescue without a block, a block that is not a list", function()
    refused("kw", { ["site.yml"] = HEAD .. "    - block:\n        - debug: msg=x\n      loop: [1, 2]\n" },
      "site%.yml:7: .*the keyword 'loop' is not supported on a block")
    refused("nob", { ["site.yml"] = HEAD .. "    - rescue:\n        - debug: msg=x\n" },
      "site%.yml:5: .*rescue and always need a block:")
    refused("notlist", { ["site.yml"] = HEAD .. "    - block: nope\n" },
      "site%.yml:5: .*block must be a list of tasks")
  end)

  it("a bad task inside an imported file names that file and line; a missing file names the import", function()
    refused("inner", {
      ["site.yml"] = HEAD .. "    - import_tasks: t.yml\n",
      ["t.yml"] = "- debug: msg=ok\n- copy: { dest: /tmp/x, bogus_arg: 1 }\n",
    }, "t%.yml:2: ")
    refused("missing", { ["site.yml"] = HEAD .. "    - import_tasks: nowhere.yml\n" },
      "site%.yml:5: .*import_tasks: cannot read ")
    refused("inblock", { ["site.yml"] = HEAD .. "    - block:\n        - bogus_module: {}\n" },
      "site%.yml:6: ")
  end)
end)

describe("blocks against ansible-playbook #oracle", function()
  it("gives the same recap counts", function()
    include_files(TMP .. "/o")
    for name, text in pairs({ rescue = RESCUE, nested = NESTED, include = INCLUDE }) do
      write(TMP .. "/o/" .. name .. ".yml", text)
      local mine = cli("run -i " .. INV .. " " .. TMP .. "/o/" .. name .. ".yml")
      local theirs = run("ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ansible-playbook -i " .. INV .. " "
        .. TMP .. "/o/" .. name .. ".yml")
      for _, h in ipairs({ "h1", "h2" }) do
        assert.same(recap_of(theirs, h), recap_of(mine, h), name .. " " .. h)
      end
    end
  end)
end)
