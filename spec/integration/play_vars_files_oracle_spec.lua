-- A play's vars_files read per host (play/vars_files.lua): names rendered
-- with a host's inventory vars and gathered facts, an entry that is a list
-- (the first file found), precedence, a file missing for a host; against
-- Debian's ansible-playbook (#oracle), compared by spec/helpers/play_oracle.lua.
local files = require "spec.helpers.files"
local oracle = require "spec.helpers.play_oracle"

local TMP = files.tmpdir()
local INV = oracle.inventory(TMP)
local L = oracle.log_task

local VARS = {
  ["host_vars/h1.yml"] = "myos: Debian\n",
  ["host_vars/h2.yml"] = "myos: RedHat\n",
  ["host_vars/h3.yml"] = "myos: Other\n",
  ["vars/Debian.yml"] = "x: debian\ny: from-debian\n",
  ["vars/RedHat.yml"] = "x: redhat\n",
  ["vars/default.yml"] = "x: default\ny: from-default\n",
  ["vars/last.yml"] = "y: last\n",
  ["vars/unsafe.yml"] = "u: !unsafe '{{ raw }}'\n",
}

local CASES = {
  { "a name with a host's inventory var; a list: the first file found for the host",
    "- hosts: web\n  gather_facts: false\n  vars:\n    x: play\n    y: play\n  vars_files:\n"
      .. "    - [\"vars/{{ myos | default('none') }}.yml\", vars/default.yml]\n  tasks:\n"
      .. "    - " .. L("{{ x }} {{ y }}") .. "\n", files = VARS },
  { "a name from gathered facts; a later static file over it; !unsafe kept",
    "- hosts: web\n  gather_facts: true\n  vars_files:\n    - \"vars/{{ ansible_os_family }}.yml\"\n"
      .. "    - vars/last.yml\n    - [\"vars/{{ myos | default('x') }}-no.yml\", vars/unsafe.yml]\n  tasks:\n"
      .. "    - " .. L("{{ x }} {{ y }} {{ u }}") .. "\n", files = VARS },
  { "facts of an earlier play; role vars over vars_files, task vars over both",
    "- hosts: web\n  gather_facts: true\n  tasks:\n    - " .. L("one") .. "\n"
      .. "- hosts: web\n  gather_facts: false\n  vars_files: [\"vars/{{ ansible_os_family }}.yml\"]\n"
      .. "  roles: [r]\n  tasks:\n    - " .. L("{{ x }}") .. "\n    - " .. L("{{ x }}")
      .. "\n      vars: { x: task }\n",
    files = (function()
      local t = { ["roles/r/vars/main.yml"] = "y: role\n",
        ["roles/r/tasks/main.yml"] = "- " .. L("r {{ x }} {{ y }}") .. "\n" }
      for k, v in pairs(VARS) do t[k] = v end
      return t
    end)() },
  { "an undefined name before facts are gathered: the entry is skipped",
    "- hosts: web\n  gather_facts: false\n  vars_files: [\"vars/{{ nope }}.yml\"]\n  tasks:\n"
      .. "    - " .. L("{{ x | default('none') }}") .. "\n", files = VARS },
  { "facts of a setup task in the play count from the next task on",
    "- hosts: web\n  gather_facts: false\n  vars_files: [\"vars/{{ ansible_os_family }}.yml\"]\n  tasks:\n"
      .. "    - " .. L("{{ x | default('none') }}") .. "\n    - setup: gather_subset=!all\n"
      .. "    - " .. L("{{ x }}") .. "\n", files = VARS },
  { "an undefined name once facts are gathered: the run stops",
    "- hosts: web\n  gather_facts: true\n  vars_files: [\"vars/{{ nope }}.yml\"]\n  tasks:\n"
      .. "    - " .. L("ran") .. "\n", files = VARS, refusal = "'nope' is undefined" },
  { "a static file missing: refused, nothing run",
    "- hosts: web\n  gather_facts: false\n  vars_files: [vars/nope.yml]\n  tasks:\n    - " .. L("ran") .. "\n",
    files = VARS, refusal = "was not found" },
  { "a file missing for a host, no fallback: the run stops, nothing logged",
    "- hosts: web\n  gather_facts: false\n  vars_files: [\"vars/{{ myos }}.yml\"]\n  tasks:\n"
      .. "    - " .. L("ran") .. "\n", files = VARS, refusal = "was not found" },
}

describe("#oracle play vars_files per host against ansible-playbook", function()
  if not oracle.have_ansible() then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end
  for i, c in ipairs(CASES) do
    it(c[1], function() oracle.check(c, i, { inventory = INV, tmp = TMP }) end)
  end
end)
