-- Blocks, import_tasks and include_tasks in handlers (play/blocks.lua's
-- M.handlers, play/handlers.lua's M.include), against Debian's
-- ansible-playbook (#oracle), compared by spec/helpers/play_oracle.lua.
local files = require "spec.helpers.files"
local oracle = require "spec.helpers.play_oracle"

local TMP = files.tmpdir()
local INV = oracle.inventory(TMP)
local L = oracle.log_task

local HEAD = "- hosts: web\n  gather_facts: false\n"
local NOTIFY = "    - command: \"true\"\n      when: inventory_hostname != 'h3'\n      notify: "

local CASES = {
  { "a block in handlers: its tasks are handlers with its keywords (vars, when, listen)",
    HEAD .. "  tasks:\n" .. NOTIFY .. "[ha, hb, everyone]\n    - " .. L("task") .. "\n  handlers:\n"
      .. "    - block:\n        - name: ha\n          " .. L("ha {{ bv }}") .. "\n"
      .. "        - name: hb\n          " .. L("hb") .. "\n          when: inventory_hostname == 'h1'\n"
      .. "        - name: hc\n          " .. L("hc") .. "\n          listen: everyone\n"
      .. "      rescue:\n        - name: hr\n          " .. L("hr") .. "\n"
      .. "      vars: { bv: blockvar }\n      when: bv is defined\n"
      .. "    - name: hd\n      " .. L("hd") .. "\n      listen: everyone\n" },
  { "import_tasks in handlers: the file's tasks are handlers, notified by their names",
    HEAD .. "  tasks:\n" .. NOTIFY .. "[hi2, hz]\n  handlers:\n    - import_tasks: h.yml\n      vars: { iv: imp }\n"
      .. "    - name: hz\n      " .. L("hz") .. "\n",
    files = { ["h.yml"] = "- name: hi1\n  " .. L("hi1") .. "\n- name: hi2\n  " .. L("hi2 {{ iv }}") .. "\n" } },
  { "include_tasks as a handler: notified by its name or listen, its tasks run after it on those hosts",
    HEAD .. "  tasks:\n" .. NOTIFY .. "[go]\n    - " .. L("task") .. "\n  handlers:\n"
      .. "    - name: hinc\n      include_tasks: inc.yml\n      listen: go\n      vars: { iv: inc }\n"
      .. "    - name: go\n      " .. L("go") .. "\n",
    files = { ["inc.yml"] = "- " .. L("inc1 {{ iv }}") .. "\n- block:\n    - " .. L("inc2") .. "\n" } },
  { "refused by both, nothing run: a block inside a block of handlers",
    HEAD .. "  tasks:\n    - " .. L("ran") .. "\n  handlers:\n    - block:\n        - block:\n"
      .. "            - name: hx\n              " .. L("hx") .. "\n", refusal = "a block inside a block of handlers" },
}

describe("#oracle blocks, import_tasks and include_tasks in handlers against ansible-playbook", function()
  if not oracle.have_ansible() then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end
  for i, c in ipairs(CASES) do
    it(c[1], function() oracle.check(c, i, { inventory = INV, tmp = TMP }) end)
  end
end)
