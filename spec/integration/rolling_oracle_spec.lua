-- Rolling deploys against Debian's ansible-playbook (#oracle): the same
-- playbooks run by ansible-playbook and by `luasible run` over an INI of
-- several names on the local connection (and one unreachable host); each
-- task appends "host batch what time" to a log. Compared: the batches in
-- the order they ran, which hosts did what, the recap counts of every host
-- (rescued and ignored too), which hosts the recap lists, the exit status.
local files = require "spec.helpers.files"
local R = require "spec.helpers.rolling"
local cli = require "spec.helpers.cli"
local write = files.write

local TMP = files.tmpdir()
local INV = TMP .. "/inv.ini"
write(INV, "[web]\nh1\nh2\nh3\nh4\nh5\n[web:vars]\nansible_connection=local\n"
  .. "ansible_python_interpreter=/usr/bin/python3\n"
  .. "[gone]\nlost ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=1\n")

local L = R.log_line

local CASES = {
  { "serial as a list with a percentage, order, handlers at the end of each batch", [[
- name: roll
  hosts: web
  gather_facts: false
  serial: [1, "40%", 3]
  order: reverse_sorted
  tasks:
    - shell: ]] .. L("work") .. [[

      notify: restart
    - shell: ]] .. L("batch-{{ ansible_play_batch | length }}") .. [[

  handlers:
    - name: restart
      shell: ]] .. L("handler") .. "\n" },

  { "max_fail_percentage over: the run stops, later plays too", [[
- hosts: web
  gather_facts: false
  serial: 2
  max_fail_percentage: 49
  tasks:
    - shell: ]] .. L("one") .. [[

    - command: "false"
      when: inventory_hostname == 'h3'
    - shell: ]] .. L("two") .. [[

- hosts: web
  gather_facts: false
  tasks:
    - shell: ]] .. L("later") .. "\n" },

  { "max_fail_percentage not over, then a batch failing whole", [[
- hosts: web
  gather_facts: false
  serial: 2
  max_fail_percentage: 50
  tasks:
    - command: "false"
      when: inventory_hostname in ['h1', 'h3', 'h4']
    - shell: ]] .. L("two") .. "\n" },

  { "hosts failed in an earlier play: in the later play's batches, running nothing", [[
- hosts: web
  gather_facts: false
  tasks:
    - command: "false"
      when: inventory_hostname in ['h2', 'h4']
- hosts: web
  gather_facts: false
  serial: 2
  max_fail_percentage: 40
  tasks:
    - shell: ]] .. L("in-{{ ansible_play_hosts | length }}-{{ ansible_play_hosts_all | length }}") .. [[

    - command: "false"
      when: inventory_hostname == 'h5'
    - shell: ]] .. L("after") .. "\n" },

  { "any_errors_fatal on a task", [[
- hosts: web
  gather_facts: false
  tasks:
    - shell: ]] .. L("one") .. [[

    - command: "false"
      when: inventory_hostname == 'h4'
      any_errors_fatal: true
    - shell: ]] .. L("two") .. "\n" },

  { "any_errors_fatal and an unreachable host", [[
- hosts: web:gone
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - shell: ]] .. L("one") .. [[

    - shell: ]] .. L("two") .. "\n" },

  { "an unreachable host, no abort", [[
- hosts: web:gone
  gather_facts: false
  serial: 3
  tasks:
    - shell: ]] .. L("one") .. "\n" },

  { "a rescued failure under any_errors_fatal", [[
- hosts: web
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - block:
        - command: "false"
          when: inventory_hostname == 'h2'
      rescue:
        - shell: ]] .. L("rescue") .. [[

    - shell: ]] .. L("two") .. "\n" },

  { "any_errors_fatal on a block, throttle on a block", [[
- hosts: web
  gather_facts: false
  tasks:
    - block:
        - shell: ]] .. L("in") .. [[

        - command: "false"
          when: inventory_hostname == 'h2'
      any_errors_fatal: true
      throttle: 2
    - shell: ]] .. L("after") .. "\n" },

  { "meta end_host, end_batch, end_play", [[
- hosts: web
  gather_facts: false
  serial: 2
  tasks:
    - meta: end_host
      when: inventory_hostname == 'h2'
    - shell: ]] .. L("a") .. [[

    - meta: end_batch
      when: inventory_hostname == 'h3'
    - shell: ]] .. L("b") .. [[

    - meta: end_play
      when: inventory_hostname == 'h5'
    - shell: ]] .. L("c") .. [[

- hosts: h1:h2
  gather_facts: false
  tasks:
    - shell: ]] .. L("last") .. "\n" },

  { "meta clear_host_errors", [[
- hosts: web
  gather_facts: false
  tasks:
    - command: "false"
      when: inventory_hostname == 'h2'
    - meta: clear_host_errors
    - shell: ]] .. L("same") .. [[

- hosts: web
  gather_facts: false
  tasks:
    - shell: ]] .. L("next") .. "\n" },

  { "run_once in batches", [[
- hosts: web
  gather_facts: false
  serial: 2
  tasks:
    - shell: ]] .. L("once") .. [[

      register: r
      run_once: true
    - shell: ]] .. L("saw-{{ r.rc }}") .. "\n" },

  { "strategy free with throttle", [[
- hosts: web
  gather_facts: false
  strategy: free
  tasks:
    - shell: ]] .. L("first") .. [[

      throttle: 2
    - shell: ]] .. L("second") .. [[

      notify: h
  handlers:
    - name: h
      shell: ]] .. L("handler") .. "\n" },

  { "ignore_unreachable", [[
- hosts: web:gone
  gather_facts: false
  ignore_unreachable: true
  tasks:
    - shell: ]] .. L("one") .. [[

    - shell: ]] .. L("two") .. "\n" },
}

-- what a run left: { batches, by what: sorted hosts }
local function summary(dir)
  local log = R.log(dir)
  local whats, seen = {}, {}
  for _, e in ipairs(log) do
    if not seen[e.what] then seen[e.what], whats[#whats + 1] = true, e.what end
  end
  local by = {}
  for _, w in ipairs(whats) do by[w] = table.concat(R.hosts_of(log, w), ",") end
  return { batches = R.batches(log), by = by }
end

describe("#oracle rolling deploys against ansible-playbook", function()
  local have = os.execute("command -v ansible-playbook >/dev/null 2>&1")
  if not have then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end
  for i, c in ipairs(CASES) do
    it(c[1], function()
      local d = cli.case_dir(TMP, i, c[2])
      local A, Lu = cli.both { playbook = d .. "/site.yml", inventory = INV, out = d, tmp = TMP }
      local aout, acode, aerr, lout, lcode, lerr = A.out, A.code, A.err, Lu.out, Lu.code, Lu.err
      local why = "\nansible:\n" .. aout .. aerr .. "\nluasible:\n" .. lout .. lerr
      assert.equal(acode, lcode, "exit status" .. why)
      local a, l = summary(d .. "/ansible"), summary(d .. "/luasible")
      assert.is_true(#a.batches > 0, why)
      assert.same(a.batches, l.batches, why)
      assert.same(a.by, l.by, why)
      local hosts = R.recap_hosts(aout)
      assert.same(hosts, R.recap_hosts(lout), why)
      for _, h in ipairs(hosts) do
        assert.same(R.recap_of(aout, h), R.recap_of(lout, h), h .. why)
      end
    end)
  end
end)
