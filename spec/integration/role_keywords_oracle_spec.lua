-- The keywords of a role entry (`roles:`), of import_role, include_role's
-- and include_tasks' `apply:`, force_handlers and templated role names,
-- against Debian's ansible-playbook (#oracle). The same playbook is run by
-- ansible-playbook and by `luasible run` on h1 h2 h3 (the local connection,
-- as root; become_user nobody), each task logging "HOST WHAT"; compared by
-- spec/helpers/play_oracle.lua: the log per host, the recap counts, the exit
-- status, and what both refuse before running anything.
local files = require "spec.helpers.files"
local oracle = require "spec.helpers.play_oracle"

local TMP = files.tmpdir()
local INV = oracle.inventory(TMP)
local L = oracle.log_task
-- a task logging as root (the log is root's) whatever the role's become
local function LR(what) return L(what) .. "\n  become: false" end

local HEAD = "- hosts: web\n  gather_facts: false\n"

local ROLE_A = {
  ["roles/ra/meta/main.yml"] = "dependencies: [rd]\n",
  ["roles/ra/tasks/main.yml"] = [[
- shell: echo "$(whoami)-$FOO-$PLAYV"
  register: w
- ]] .. LR("ra-{{ w.stdout }}") .. [[

- command: "false"
- ]] .. LR("after-fail") .. [[

- block:
    - command: whoami
      register: bw
    - command: whoami
      become_user: root
      register: bw2
  become: false
- ]] .. LR("block-{{ bw.stdout }}-{{ bw2.stdout }}") .. [[

- command: whoami
  notify: [h1, h2]
]],
  ["roles/ra/handlers/main.yml"] = [[
- name: h1
  command: whoami
  register: hw
- name: h2
  ]] .. L("handler-{{ hw.stdout }}") .. "\n  become: false\n",
  ["roles/rd/tasks/main.yml"] = "- shell: echo \"$(whoami)-$FOO\"\n  register: dw\n- " .. LR("rd-{{ dw.stdout }}")
    .. "\n",
}
local function with(t, more)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(more or {}) do out[k] = v end
  return out
end

local ROLES_PLAY = HEAD .. [[
  environment: { PLAYV: play }
  roles:
    - role: ra
      become: true
      become_user: nobody
      environment: { FOO: role }
      ignore_errors: true
      when: inventory_hostname != 'h3'
      tags: [rt]
  tasks:
    - ]] .. L("after") .. "\n"

-- h1 fails in pre_tasks, h2 in the role, h3 in tasks; each notified a handler before
local FORCE = HEAD .. [[
  force_handlers: true
  pre_tasks:
    - command: "true"
      notify: hp
    - command: "false"
      when: inventory_hostname == 'h1'
  roles:
    - rh
  tasks:
    - command: "true"
      notify: ht
    - command: "false"
      when: inventory_hostname == 'h3'
    - ]] .. L("tasks-done") .. [[

  post_tasks:
    - command: "true"
      notify: hp
  handlers:
    - name: hp
      ]] .. L("handler-pre") .. [[

    - name: ht
      ]] .. L("handler-tasks") .. "\n"
local FORCE_FILES = { ["roles/rh/tasks/main.yml"] = "- command: \"true\"\n  notify: hr\n- command: \"false\"\n"
    .. "  when: inventory_hostname == 'h2'\n",
  ["roles/rh/handlers/main.yml"] = "- name: hr\n  " .. L("handler-role") .. "\n" }

local CASES = {
  { "a role entry's become, become_user, environment, ignore_errors, when, tags: its tasks, its dependency's,"
    .. " its handlers; a task's and a block's own win", ROLES_PLAY, files = ROLE_A },
  { "the same selected with -t (the role's tags)", ROLES_PLAY, files = ROLE_A, args = "-t rt" },

  { "a role entry's run_once, no_log, check_mode, any_errors_fatal", HEAD .. [[
  roles:
    - role: once
      run_once: true
    - role: quiet
      no_log: true
    - role: dry
      check_mode: true
    - role: fatal
      any_errors_fatal: true
  tasks:
    - ]] .. L("after") .. "\n",
    files = { ["roles/once/tasks/main.yml"] = "- " .. L("once") .. "\n",
      ["roles/quiet/tasks/main.yml"] = "- debug: { msg: the-secret-text }\n- " .. L("quiet") .. "\n",
      ["roles/dry/tasks/main.yml"] = "- file: { path: \"{{ out }}/{{ inventory_hostname }}-dry\", state: touch }\n"
        .. "- " .. L("dry-$(test -e {{ out }}/{{ inventory_hostname }}-dry && echo made || echo none)")
        .. "\n  check_mode: false\n",
      ["roles/fatal/tasks/main.yml"] = "- command: \"false\"\n  when: inventory_hostname == 'h2'\n- "
        .. L("fatal-next") .. "\n" },
    hidden = { "the-secret-text" } },

  { "a role entry's delegate_to: its tasks run on the delegate with the host's variables", HEAD .. [[
  roles:
    - role: del
      delegate_to: h3
]], files = { ["roles/del/tasks/main.yml"] = "- " .. L("del-{{ inventory_hostname }}-$(hostname)")
    .. "\n" } },

  { "import_role with become, become_user, environment, when (and tags) given to its tasks", HEAD .. [[
  tasks:
    - import_role: { name: ri }
      become: true
      become_user: nobody
      environment: { FOO: imp }
      when: inventory_hostname == 'h1'
      tags: [it]
    - ]] .. L("after") .. "\n",
    files = { ["roles/ri/tasks/main.yml"] = "- shell: echo \"$(whoami)-$FOO\"\n  register: w\n- "
      .. LR("ri-{{ w.stdout }}") .. "\n" } },

  { "include_role's apply: (become, environment, tags) and include_tasks' apply:; a block's keywords"
    .. " (environment too) reach an included file's tasks; the play's environment too", HEAD .. [[
  environment: { PLAYV: play }
  tasks:
    - include_role:
        name: ri
        apply: { become: true, become_user: nobody, environment: { FOO: applied }, tags: [x] }
      tags: [x]
    - include_tasks:
        file: inc.yml
        apply: { become: true, become_user: nobody, vars: { v: from-apply } }
      when: inventory_hostname != 'h2'
    - block:
        - include_tasks: inc.yml
          vars: { v: in-block }
      become: true
      become_user: nobody
      environment: { FOO: block }
    - include_tasks: inc.yml
      vars: { v: plain }
]], files = { ["roles/ri/tasks/main.yml"] = "- shell: echo \"$(whoami)-$FOO\"\n  register: w\n- "
      .. LR("ri-{{ w.stdout }}") .. "\n",
    ["inc.yml"] = "- shell: echo \"$(whoami)-$FOO-$PLAYV\"\n  register: w\n- " .. LR("inc-{{ v }}-{{ w.stdout }}")
      .. "\n" } },
  { "include_role's apply: with -t (its tags select the role's tasks)", HEAD .. [[
  tasks:
    - include_role:
        name: ri
        apply: { become: true, become_user: nobody, tags: [x] }
      tags: [x]
    - ]] .. L("untagged") .. "\n",
    files = { ["roles/ri/tasks/main.yml"] = "- shell: echo \"$(whoami)-$FOO\"\n  register: w\n- "
      .. LR("ri-{{ w.stdout }}") .. "\n" }, args = "-t x" },

  { "force_handlers: a failed host's notified handlers still run (pre_tasks, roles and tasks; not post_tasks it"
    .. " never reached)", FORCE, files = FORCE_FILES },
  { "--force-handlers on the command line", FORCE:gsub("  force_handlers: true\n", ""), files = FORCE_FILES,
    args = "--force-handlers" },
  { "without force_handlers a failed host's handlers do not run", FORCE:gsub("  force_handlers: true\n", ""),
    files = FORCE_FILES },
  { "force_handlers: false in the play wins over --force-handlers", FORCE:gsub("force_handlers: true",
    "force_handlers: false"), files = FORCE_FILES, args = "--force-handlers" },
  { "the force_handlers setting (ANSIBLE_FORCE_HANDLERS)", FORCE:gsub("  force_handlers: true\n", ""),
    files = FORCE_FILES, env = "ANSIBLE_FORCE_HANDLERS=1" },

  { "templated role names: roles: from the play's vars and -e, a dependency's, import_role's; include_role's per"
    .. " host and loop item (its handlers, public:)", HEAD .. [[
  vars: { first: ta, dep: tc, pub: th }
  roles:
    - role: "{{ first }}"
    - role: "{{ second }}"
      tags: [two]
  tasks:
    - import_role: { name: "{{ 'tc' }}" }
    - include_role: { name: "{{ item }}" }
      loop: [ta, tb]
    - include_role:
        name: "{{ pub }}"
        public: true
    - include_role: { name: "{{ 'ta' if inventory_hostname == 'h1' else 'tb' }}" }
    - ]] .. L("public-{{ hv | default('none') }}") .. "\n",
    args = "-e second=tb",
    files = { ["roles/ta/tasks/main.yml"] = "- " .. L("ta-{{ role_name }}") .. "\n",
      ["roles/tb/meta/main.yml"] = "dependencies: [\"{{ dep }}\"]\n",
      ["roles/tb/tasks/main.yml"] = "- " .. L("tb") .. "\n",
      ["roles/tc/tasks/main.yml"] = "- " .. L("tc") .. "\n",
      ["roles/th/tasks/main.yml"] = "- command: \"true\"\n  notify: th handler\n",
      ["roles/th/vars/main.yml"] = "hv: from-th\n",
      ["roles/th/handlers/main.yml"] = "- name: th handler\n  " .. L("th-handler") .. "\n" } },
  { "refused by both, nothing run: a templated role name in roles: naming an undefined variable",
    HEAD .. "  roles:\n    - role: \"{{ nosuch }}\"\n  tasks:\n    - " .. L("ran") .. "\n",
    refusal = "'nosuch' is undefined" },
  { "refused by both, nothing run: become on include_role (its keywords are the include's: apply: takes them)",
    HEAD .. "  tasks:\n    - " .. L("ran") .. "\n    - include_role: { name: ri }\n      become: true\n",
    files = { ["roles/ri/tasks/main.yml"] = "- debug: msg=ri\n" },
    refusal = "'become' is not a keyword of include_role" },
  { "refused by both, nothing run: become_user on include_tasks",
    HEAD .. "  tasks:\n    - " .. L("ran") .. "\n    - include_tasks: inc.yml\n      become_user: nobody\n",
    files = { ["inc.yml"] = "- debug: msg=inc\n" }, refusal = "'become_user' is not a keyword of include_tasks" },
}

for _, c in ipairs(CASES) do
  if c.files == ROLE_A then c.files = with(ROLE_A) end
end

describe("#oracle role keywords, apply:, force_handlers, templated role names against ansible-playbook", function()
  if not oracle.have_ansible() then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end
  for i, c in ipairs(CASES) do
    it(c[1], function() oracle.check(c, i, { inventory = INV, tmp = TMP }) end)
  end
end)
