-- setup's fact_path and ansible_local (modules/setup.lua): *.fact files read
-- as JSON or INI, executable ones run; the play keyword fact_path and a
-- setup task's; against Debian's ansible-playbook (#oracle), compared by
-- spec/helpers/play_oracle.lua (a fact folder in the case's own folder).
local files = require "spec.helpers.files"
local oracle = require "spec.helpers.play_oracle"

local TMP = files.tmpdir()
local INV = oracle.inventory(TMP)
local L = oracle.log_task

local FACTS = {
  ["facts/j.fact"] = '{"a": 1, "b": [1, 2], "c": {"d": "e"}}\n',
  ["facts/i.fact"] = "[sec]\nKey = v1\nk2: v2\n# a comment\n[other]\nx=y\n",
  ["facts/x.fact"] = "#!/bin/sh\necho '{\"run\": \"yes\"}'\n",
}

local CASES = {
  { "the play's fact_path: JSON and INI files in ansible_local",
    "- hosts: web\n  gather_facts: true\n  fact_path: \"{{ playbook_dir }}/facts\"\n  tasks:\n"
      .. "    - " .. L("{{ ansible_local.j.a }} {{ ansible_local.j.c.d }} {{ ansible_local.i.sec.key }}"
      .. " {{ ansible_local.i.sec.k2 }} {{ ansible_local.i.other.x }} {{ ansible_facts.ansible_local.j.b | length }}")
      .. "\n", files = FACTS },
  { "a setup task's fact_path: an executable fact is run; no folder: ansible_local is empty",
    "- hosts: web\n  gather_facts: false\n  tasks:\n"
      .. "    - command: chmod 0755 {{ playbook_dir }}/facts/x.fact\n      run_once: true\n"
      .. "    - setup: fact_path={{ playbook_dir }}/facts gather_subset=!all\n"
      .. "    - " .. L("{{ ansible_local.x.run }} {{ ansible_local.j.a }}") .. "\n"
      .. "    - setup: fact_path={{ playbook_dir }}/none\n"
      .. "    - " .. L("{{ ansible_local | length }}") .. "\n", files = FACTS },
  { "a file neither JSON nor INI, a script that fails: Ansible's message as the value",
    "- hosts: web\n  gather_facts: false\n  tasks:\n"
      .. "    - command: chmod 0755 {{ playbook_dir }}/facts/f.fact\n      run_once: true\n"
      .. "    - setup: fact_path={{ playbook_dir }}/facts\n"
      .. "    - " .. L("{{ ansible_local.bad }}") .. "\n    - " .. L("{{ ansible_local.f | trim }}") .. "\n"
      .. "    - " .. L("{{ ansible_local.empty }}") .. "\n",
    files = { ["facts/bad.fact"] = "garbage [[\n", ["facts/f.fact"] = "#!/bin/sh\necho oops >&2\nexit 3\n",
      ["facts/empty.fact"] = "" } },
}

describe("#oracle setup fact_path / ansible_local against ansible-playbook", function()
  if not oracle.have_ansible() then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end
  for i, c in ipairs(CASES) do
    it(c[1], function() oracle.check(c, i, { inventory = INV, tmp = TMP }) end)
  end
end)
