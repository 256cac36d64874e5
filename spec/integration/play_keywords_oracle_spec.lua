-- Play keywords against Debian's ansible-playbook (#oracle): module_defaults
-- (play, block, role entry, task, an action group), templated serial,
-- any_errors_fatal with rescue and always, the play's connection and
-- no_log, loop_control's index_var / extended / pause, playbook_dir and
-- inventory_dir, with_fileglob, --flush-cache, and what both refuse (a
-- play's `when`, import_role's `public`, an unknown module in
-- module_defaults). The same playbook is run by ansible-playbook and by
-- `luasible run` over an INI of names on the local connection; each task
-- appends "host what" to a log. Compared: the log's lines per host (in
-- order), the recap counts, the exit status (both 0, or both not).
local files = require "spec.helpers.files"
local cli = require "spec.helpers.cli"
local write = files.write

local TMP = files.tmpdir()
local INV = TMP .. "/inv.ini"
write(INV, "[web]\nh1\nh2\nh3\n[web:vars]\nansible_connection=local\n"
  .. "ansible_python_interpreter=/usr/bin/python3\n"
  -- no ansible_connection: a play's `connection: local` is what lets them run
  .. "[far]\nf1 ansible_host=127.0.0.1 ansible_port=1\n[far:vars]\nansible_python_interpreter=/usr/bin/python3\n")

-- a task logging "HOST WHAT" (WHAT: a template)
local function L(what)
  return "shell: echo \"{{ inventory_hostname }} " .. what .. "\" >> {{ out }}/log"
end

local HEAD = "- hosts: web\n  gather_facts: false\n"

-- a task list as YAML at `indent`: "FAIL" (or "FAIL h2"): `command: "false"`
-- on h1 (h2); any other word: a task logging it; a table: a block with its
-- rescue and always (lists of the same)
local function tasks_yaml(list, indent)
  local out = {}
  for _, t in ipairs(list) do
    if type(t) == "table" then
      local dash = "- "
      for _, k in ipairs { "block", "rescue", "always" } do
        if t[k] then
          out[#out + 1] = indent .. dash .. k .. ":\n" .. tasks_yaml(t[k], indent .. "    ")
          dash = "  "
        end
      end
    elseif t:match("^FAIL") then
      out[#out + 1] = indent .. '- command: "false"\n' .. indent .. "  when: inventory_hostname == '"
        .. (t:match("^FAIL (%w+)$") or "h1") .. "'\n"
    else
      out[#out + 1] = indent .. "- " .. L(t) .. "\n"
    end
  end
  return table.concat(out)
end

-- a case: a play with any_errors_fatal and these tasks
local function any_errors_fatal(title, ...)
  return { "any_errors_fatal: " .. title,
    HEAD .. "  any_errors_fatal: true\n  tasks:\n" .. tasks_yaml({ ... }, "    ") }
end

local CASES = {
  { "module_defaults at play, block, role entry and task level, and group/testgroup (ping)", HEAD .. [[
  module_defaults:
    ansible.builtin.file: { state: touch, mode: "0600" }
    group/testgroup: { data: from-group }
  roles:
    - role: r1
      module_defaults: { file: { mode: "0601", state: touch } }
  tasks:
    - file: { path: "{{ out }}/{{ inventory_hostname }}-play" }
    - block:
        - file: { path: "{{ out }}/{{ inventory_hostname }}-block" }
        - file: { path: "{{ out }}/{{ inventory_hostname }}-task" }
          module_defaults: { file: { mode: "{{ task_mode }}", state: touch } }
          vars: { task_mode: "0640" }
        - file: { path: "{{ out }}/{{ inventory_hostname }}-own", mode: "0644" }
      module_defaults:
        - command: { chdir: /tmp }
        - file: { mode: "0604", state: touch }
    - ping:
      register: p
    - ]] .. L("ping-{{ p.ping }}") .. [[

    - ]] .. L("modes-$(cd {{ out }} && stat -c %n:%a {{ inventory_hostname }}-* | tr '\\n' ,)") .. "\n",
    files = { ["roles/r1/tasks/main.yml"] = "- file: { path: \"{{ out }}/{{ inventory_hostname }}-role\" }\n",
      ["roles/r1/meta/main.yml"] = "dependencies: [r0]\n",
      ["roles/r0/tasks/main.yml"] = "- file: { path: \"{{ out }}/{{ inventory_hostname }}-dep\" }\n" } },

  { "serial: \"{{ batch }}\" from the play's vars, and a list with an -e entry", HEAD .. [[
  vars: { batch: 2 }
  serial: "{{ batch }}"
  tasks:
    - ]] .. L("a-{{ ansible_play_batch | join('+') }}") .. [[

- hosts: web
  gather_facts: false
  serial: ["{{ first }}", "50%"]
  tasks:
    - ]] .. L("b-{{ ansible_play_batch | join('+') }}") .. "\n", args = "-e first=1" },

  any_errors_fatal("a failure in a rescue with an always goes on",
    { block = { "FAIL" }, rescue = { "rescued", "FAIL", "after-rescue" }, always = { "always" } }, "next"),
  any_errors_fatal("a failure in a block with an always (no rescue) goes on",
    { block = { "FAIL", "b2" }, always = { "always" } }, "next"),
  any_errors_fatal("a failure in an inner block, the outer one's always takes it",
    { block = { { block = { "FAIL", "inner2" } }, "outer2" }, always = { "always" } }, "next"),
  any_errors_fatal("a failure in a rescue without always stops the play",
    { block = { "FAIL" }, rescue = { "FAIL", "r2" } }, "next"),
  any_errors_fatal("a failure in an always with always tasks left goes on; in the last one stops",
    { block = { "b1" }, always = { "FAIL", "a2" } }, "next", { block = { "c1" }, always = { "FAIL h2" } }, "last"),

  { "the play's connection: local for hosts whose variables name none; no_log for every task", [[
- hosts: far
  gather_facts: false
  connection: local
  no_log: true
  tasks:
    - ]] .. L("local-SECRET1") .. [[

    - debug: msg="SECRET2 {{ inventory_hostname }}"
    - debug: msg="shown-{{ inventory_hostname }}"
      no_log: false
]], hidden = { "SECRET1", "SECRET2" }, shown = { "shown-f1" } },

  { "loop_control index_var, extended and pause", HEAD .. [[
  tasks:
    - ]] .. L("{{ item }}-{{ i }}-{{ ansible_loop.index }}-{{ ansible_loop.revindex0 }}-{{ ansible_loop.first }}"
      .. "-{{ ansible_loop.last }}-{{ ansible_loop.previtem | default('none') }}-{{ ansible_loop.length }}") .. [[

      loop: [x, y, z]
      loop_control: { index_var: i, extended: true, pause: 0.1, label: "L{{ item }}" }
    - include_tasks: inc.yml
      loop: [p, q]
      loop_control: { index_var: j, extended: true }
]], files = { ["inc.yml"] = "- " .. L("inc-{{ item }}-{{ j }}-{{ ansible_loop.first }}-{{ ansible_loop.nextitem"
  .. " | default('none') }}") .. "\n" } },

  { "playbook_dir, inventory_dir, inventory_file; with_fileglob's absolute paths; --flush-cache", HEAD .. [[
  tasks:
    - ]] .. L("{{ playbook_dir }}|{{ inventory_dir }}|{{ inventory_file }}") .. [[

    - ]] .. L("glob-{{ item }}") .. [[

      with_fileglob: ["files/*.txt"]
]], files = { ["files/a.txt"] = "a", ["files/b.txt"] = "b" }, args = "--flush-cache" },

  { "gather_subset: the facts of the subsets asked for, merged with those gathered before", (function()
    local facts = L("{{ ansible_distribution | default('none') }}-{{ ansible_memtotal_mb is defined }}-"
      .. "{{ ansible_default_ipv4 is defined }}-{{ ansible_hostname is defined }}-"
      .. "{{ ansible_facts.gather_subset | join('+') }}")
    local out = {}
    for _, subset in ipairs({ "['!all', 'network']", "min", "'!hardware,!network'", "[hardware]" }) do
      out[#out + 1] = "- hosts: h1\n  gather_facts: true\n  gather_subset: " .. subset .. "\n  tasks:\n    - "
        .. facts .. "\n    - meta: clear_facts\n"
    end
    return table.concat(out) .. "- hosts: h1\n  gather_facts: true\n  gather_subset: [network]\n  tasks:\n"
      .. "    - setup: { gather_subset: [hardware] }\n    - " .. facts .. "\n"
  end)() },

  { "timeout of a task, of a block and of the play: the task fails with Ansible's words", HEAD .. [[
  timeout: 6
  tasks:
    - command: sleep 6
      timeout: 1
      ignore_errors: true
      when: inventory_hostname == 'h1'
    - shell: sleep 12
      ignore_errors: true
      when: inventory_hostname == 'h2'
    - ]] .. L("between") .. [[

    - block:
        - block:
            - command: sleep 6
              when: inventory_hostname == 'h3'
          timeout: 1
      rescue:
        - ]] .. L("rescued-{{ ansible_failed_result.msg | regex_replace(' ', '_') }}") .. [[

    - ]] .. L("quick") .. [[

      timeout: 20
]], shown = { "The command action failed to execute in the expected time frame (1) and was terminated",
    "The shell action failed to execute in the expected time frame (6) and was terminated" } },

  { "a role's tasks with block / rescue / always, import_tasks and include_tasks (from its tasks/), -t",
    HEAD .. [[
  roles:
    - role: rb
      tags: [t1]
      vars: { rv: given }
]], files = { ["roles/rb/tasks/main.yml"] = "- " .. L("plain-{{ rv }}") .. "\n"
      .. "- block:\n    - " .. L("in-block-{{ role_name }}") .. "\n"
      .. "    - command: \"false\"\n      when: inventory_hostname == 'h2'\n"
      .. "  rescue:\n    - " .. L("rescued") .. "\n"
      .. "  always:\n    - " .. L("always") .. "\n"
      .. "  when: inventory_hostname != 'h3'\n"
      .. "- import_tasks: more.yml\n"
      .. "- include_tasks: inc.yml\n  when: rv == 'given'\n",
    ["roles/rb/tasks/more.yml"] = "- " .. L("more-{{ rv }}") .. "\n",
    ["roles/rb/tasks/inc.yml"] = "- " .. L("included-{{ rv }}-{{ role_name }}")
      .. "\n- include_tasks: nested.yml\n",
    ["roles/rb/tasks/nested.yml"] = "- " .. L("nested-{{ rv }}") .. "\n",
    ["roles/rb/defaults/main.yml"] = "rv: default\n" }, args = "-t t1" },

  { "refused by both, nothing run: a play's when", HEAD .. "  when: true\n  tasks:\n    - " .. L("ran") .. "\n" },
  { "refused by both, nothing run: import_role with public", HEAD .. [[
  tasks:
    - ]] .. L("ran") .. [[

    - import_role: { name: r1, public: true }
]], files = { ["roles/r1/tasks/main.yml"] = "- debug: msg=r1\n" } },
  { "refused by both, nothing run: an unknown module in module_defaults", HEAD .. [[
  module_defaults: { nosuchmodule: { a: 1 } }
  tasks:
    - ]] .. L("ran") .. "\n" },
}

-- the log's lines, host by host in order: { host = { what, ... } }
local function log_of(dir)
  local by = {}
  for line in (files.read(dir .. "/log") or ""):gmatch("[^\n]+") do
    local h, what = line:match("^(%S+) (.*)$")
    by[h] = by[h] or {}
    local at = what:find(dir, 1, true)
    while at do
      what = what:sub(1, at - 1) .. "OUT" .. what:sub(at + #dir)
      at = what:find(dir, 1, true)
    end
    table.insert(by[h], what)
  end
  return by
end

describe("#oracle play keywords against ansible-playbook", function()
  local have = os.execute("command -v ansible-playbook >/dev/null 2>&1")
  if not have then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end
  for i, c in ipairs(CASES) do
    it(c[1], function()
      local d = cli.case_dir(TMP, i, c[2], c.files)
      local A, Lu = cli.both { playbook = d .. "/site.yml", inventory = INV, out = d, tmp = TMP, args = c.args }
      local aout, acode, aerr, lout, lcode, lerr = A.out, A.code, A.err, Lu.out, Lu.code, Lu.err
      local why = "\nansible:\n" .. aout .. aerr .. "\nluasible:\n" .. lout .. lerr
      assert.equal(acode == 0, lcode == 0, "exit status" .. why)
      if acode ~= 0 and not aout:find("PLAY RECAP", 1, true) then -- refused before running
        assert.is_nil(files.read(d .. "/luasible/log"), why)
        assert.is_nil(files.read(d .. "/ansible/log"), why)
        -- one line, naming the file and line
        assert.matches("^luasible: error: " .. d:gsub("%p", "%%%0") .. "/site%.yml:%d+: [^\n]+\n$", lerr)
        return
      end
      assert.equal(acode, lcode, "exit status" .. why)
      local a, l = log_of(d .. "/ansible"), log_of(d .. "/luasible")
      assert.is_true(next(cli.recaps(aout)) ~= nil, why)
      assert.same(a, l, why)
      local ar, lr = cli.recaps(aout), cli.recaps(lout)
      for h, counts in pairs(ar) do
        local mine = lr[h] or {}
        for _, k in ipairs({ "ok", "changed", "unreachable", "failed", "skipped", "ignored" }) do
          assert.equal(counts[k], mine[k], h .. " " .. k .. why)
        end
        assert.equal(counts.rescued or 0, mine.rescued or 0, h .. " rescued" .. why)
      end
      for _, s in ipairs(c.hidden or {}) do
        assert.is_nil(aout:find(s, 1, true), "ansible shows " .. s .. why)
        assert.is_nil(lout:find(s, 1, true), "luasible shows " .. s .. why)
      end
      for _, s in ipairs(c.shown or {}) do
        assert.truthy(aout:find(s, 1, true), "ansible hides " .. s .. why)
        assert.truthy(lout:find(s, 1, true), "luasible hides " .. s .. why)
      end
    end)
  end
end)
