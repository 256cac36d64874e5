-- Play keywords against Debian's ansible-playbook (#oracle): module_defaults
-- (play, block, role entry, task, an action group), templated serial,
-- any_errors_fatal with rescue and always, the play's connection and
-- no_log, loop_control's index_var / extended / pause, playbook_dir and
-- inventory_dir, with_fileglob, --flush-cache, and what both refuse (a
-- play's `when`, import_role's `public`, an unknown module in
-- module_defaults). The same playbook is run by ansible-playbook and by
-- `luasible run` over an INI of names on the local connection; each task
-- appends "host what" to a log. Compared (spec/helpers/play_oracle.lua): the log's
-- lines per host (in order), the recap counts, the exit status (both 0, or both not).
local files = require "spec.helpers.files"
local oracle = require "spec.helpers.play_oracle"
local write = files.write

local TMP = files.tmpdir()
local INV = TMP .. "/inv.ini"
write(INV, "[web]\nh1\nh2\nh3\n[web:vars]\nansible_connection=local\n"
  .. "ansible_python_interpreter=/usr/bin/python3\n"
  -- no ansible_connection: a play's `connection: local` is what lets them run
  .. "[far]\nf1 ansible_host=127.0.0.1 ansible_port=1\n[far:vars]\nansible_python_interpreter=/usr/bin/python3\n")

local L = oracle.log_task -- a task logging "HOST WHAT" (WHAT: a template): spec/helpers/play_oracle.lua

local HEAD = "- hosts: web\n  gather_facts: false\n"

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

  { "any_errors_fatal: a failure in a rescue with an always goes on", HEAD .. [[
  any_errors_fatal: true
  tasks:
    - block:
        - command: "false"
          when: inventory_hostname == 'h1'
      rescue:
        - ]] .. L("rescued") .. [[

        - command: "false"
          when: inventory_hostname == 'h1'
        - ]] .. L("after-rescue") .. [[

      always:
        - ]] .. L("always") .. [[

    - ]] .. L("next") .. "\n" },

  { "any_errors_fatal: a failure in a block with an always (no rescue) goes on", HEAD .. [[
  any_errors_fatal: true
  tasks:
    - block:
        - command: "false"
          when: inventory_hostname == 'h1'
        - ]] .. L("b2") .. [[

      always:
        - ]] .. L("always") .. [[

    - ]] .. L("next") .. "\n" },

  { "any_errors_fatal: a failure in an inner block, the outer one's always takes it", HEAD .. [[
  any_errors_fatal: true
  tasks:
    - block:
        - block:
            - command: "false"
              when: inventory_hostname == 'h1'
            - ]] .. L("inner2") .. [[

        - ]] .. L("outer2") .. [[

      always:
        - ]] .. L("always") .. [[

    - ]] .. L("next") .. "\n" },

  { "any_errors_fatal: a failure in a rescue without always stops the play", HEAD .. [[
  any_errors_fatal: true
  tasks:
    - block:
        - command: "false"
          when: inventory_hostname == 'h1'
      rescue:
        - command: "false"
          when: inventory_hostname == 'h1'
        - ]] .. L("r2") .. [[

    - ]] .. L("next") .. "\n" },

  { "any_errors_fatal: a failure in an always with always tasks left goes on; in the last one stops", HEAD .. [[
  any_errors_fatal: true
  tasks:
    - block:
        - ]] .. L("b1") .. [[

      always:
        - command: "false"
          when: inventory_hostname == 'h1'
        - ]] .. L("a2") .. [[

    - ]] .. L("next") .. [[

    - block:
        - ]] .. L("c1") .. [[

      always:
        - command: "false"
          when: inventory_hostname == 'h2'
    - ]] .. L("last") .. "\n" },

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

describe("#oracle play keywords against ansible-playbook", function()
  if not oracle.have_ansible() then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end
  for i, c in ipairs(CASES) do
    it(c[1], function() oracle.check(c, i, { inventory = INV, tmp = TMP }) end)
  end
end)
