-- A play's roles show their vars and defaults to the whole play (Ansible's
-- private_role_vars false): pre_tasks before the roles ran, the play's
-- tasks, later import_roles' too; a role entry's `vars:` (not its bare
-- params); dependencies' under the role's own; never a later play's; an
-- include_role's only when public. Against Debian's ansible-playbook
-- (#oracle) through spec/helpers/play_oracle.lua (the log per host, recaps).
local files = require "spec.helpers.files"
local oracle = require "spec.helpers.play_oracle"

local TMP = files.tmpdir()
local INV = oracle.inventory(TMP)
local L = oracle.log_task

local ROLES = {
  ["roles/r1/meta/main.yml"] = "dependencies: [r0]\n",
  ["roles/r1/vars/main.yml"] = "rv1: r1-vars\nshared: r1\n",
  ["roles/r1/defaults/main.yml"] = "rd1: r1-defaults\nover: r1-default\n",
  ["roles/r1/tasks/main.yml"] = "- " .. L("in-r1-{{ rv1 }}-{{ rd0 }}-{{ shared }}") .. "\n",
  ["roles/r0/defaults/main.yml"] = "rd0: r0-defaults\n",
  ["roles/r0/vars/main.yml"] = "rv0: r0-vars\nshared: r0\n",
  ["roles/r0/tasks/main.yml"] = "- " .. L("r0") .. "\n",
  ["roles/r2/vars/main.yml"] = "rv2: r2-vars\n",
  ["roles/r2/tasks/main.yml"] = "- " .. L("r2") .. "\n",
  ["roles/r3/vars/main.yml"] = "rv3: r3-vars\n",
  ["roles/r3/tasks/main.yml"] = "- " .. L("r3") .. "\n",
}

local CASES = {
  { "roles: and import_role export their vars and defaults to the play; include_role only when public", [[
- hosts: web
  gather_facts: false
  vars: { over: play }
  pre_tasks:
    - ]] .. L("pre-{{ rv1 | default('none') }}-{{ rd0 | default('none') }}-{{ rv2 | default('none') }}") .. [[

  roles:
    - role: r1
      vars: { p1: entry-var }
      bare: bare-param
  tasks:
    - ]] .. L("task-{{ rv1 }}-{{ rd1 }}-{{ rv0 }}-{{ shared }}-{{ over }}-{{ p1 | default('none') }}-"
      .. "{{ bare | default('none') }}-{{ rv3 | default('none') }}") .. [[

    - import_role: { name: r2 }
    - include_role: { name: r3 }
    - ]] .. L("after-{{ rv3 | default('none') }}") .. [[

    - include_role: { name: r3, public: true }
    - ]] .. L("public-{{ rv3 | default('none') }}") .. [[

- hosts: web
  gather_facts: false
  tasks:
    - ]] .. L("play2-{{ rv1 | default('none') }}") .. "\n", files = ROLES },
}

describe("#oracle role vars and defaults shown to the play, against ansible-playbook", function()
  if not oracle.have_ansible() then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end
  for i, c in ipairs(CASES) do
    it(c[1], function() oracle.check(c, i, { inventory = INV, tmp = TMP }) end)
  end
end)
