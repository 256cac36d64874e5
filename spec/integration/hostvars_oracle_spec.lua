-- hostvars against Debian's ansible-playbook (#oracle): another host's
-- facts, set_fact and registered results (in the same play and in a later
-- one), its inventory variables with their templates rendered with that
-- host's variables (not the reader's), extract over hostvars, what it does
-- not hold (the play's vars). The same playbook is run by both over an INI
-- of names on the local connection; each task appends "host what" to a log;
-- the logs and the recaps must be the same.
local files = require "spec.helpers.files"
local cli = require "spec.helpers.cli"
local write = files.write

local TMP = files.tmpdir()
local INV = TMP .. "/inv.ini"
write(INV, "[web]\nh1 own=one\nh2 own=two\nh3 own=three\n[web:vars]\nansible_connection=local\n"
  .. "ansible_python_interpreter=/usr/bin/python3\nurl=\"http://{{ own }}:80\"\n")

local function L(what)
  return "shell: echo \"{{ inventory_hostname }} " .. what .. "\" >> {{ out }}/log"
end

local PLAYBOOK = [[
- hosts: h1
  gather_facts: true
  tasks:
    - set_fact: { first: "from-{{ inventory_hostname }}" }
- hosts: web
  gather_facts: false
  vars: { pv: play-only }
  tasks:
    - set_fact: { sf: "sf-{{ inventory_hostname }}" }
    - command: echo out-{{ inventory_hostname }}
      register: reg
    - ]] .. L("{{ groups.web | map('extract', hostvars, 'sf') | join(',') }}") .. [[

    - ]] .. L("{{ hostvars['h2'].reg.stdout }} {{ hostvars.h3.reg.rc }} {{ hostvars['h1'].first }}") .. [[

    - ]] .. L("{{ hostvars['h1'].url }} {{ url }} {{ hostvars['h1'].pv | default('no-pv') }}") .. [[

    - ]] .. L("{{ hostvars['h1'].ansible_facts.hostname == ansible_hostname"
      .. " | default(hostvars['h1'].ansible_hostname) }}"
      .. " {{ hostvars['h2'].ansible_facts.hostname | default('no-facts') }}")
      .. [[

    - ]] .. L("{{ hostvars['h1'].group_names }} {{ hostvars['h2'].inventory_hostname }} "
      .. "{{ hostvars.h3.nothing | default('undef') }} {{ 'h2' in hostvars }} {{ hostvars['zz'] is defined }}") .. [[

    - ]] .. L("{{ item }}={{ hostvars[item]['reg']['stdout'] }}") .. [[

      loop: "{{ groups.web }}"
      when: inventory_hostname == 'h3'
- hosts: h2
  gather_facts: false
  tasks:
    - ]] .. L("{{ hostvars['h1'].sf }} {{ hostvars['h3'].reg.stdout }} {{ sf }}") .. "\n"

local function log_of(dir)
  local by = {}
  for line in (files.read(dir .. "/log") or ""):gmatch("[^\n]+") do
    local h, what = line:match("^(%S+) (.*)$")
    by[h] = by[h] or {}
    table.insert(by[h], what)
  end
  return by
end

describe("#oracle hostvars against ansible-playbook", function()
  if not os.execute("command -v ansible-playbook >/dev/null 2>&1") then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end
  it("shows another host's facts, set_fact, registered and inventory variables as Ansible does", function()
    write(TMP .. "/site.yml", PLAYBOOK)
    os.execute("mkdir -p " .. TMP .. "/ansible " .. TMP .. "/luasible")
    local env = "ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP="
      .. TMP .. "/at ANSIBLE_REMOTE_TEMP=" .. TMP .. "/at "
    local aout, acode, aerr = cli.run(env .. "ansible-playbook -f 1 -i " .. INV .. " " .. TMP .. "/site.yml -e out="
      .. TMP .. "/ansible")
    local lout, lcode, lerr = cli.run("bin/luasible run -f 1 " .. TMP .. "/site.yml -i " .. INV .. " -e out="
      .. TMP .. "/luasible")
    local why = "\nansible:\n" .. aout .. aerr .. "\nluasible:\n" .. lout .. lerr
    assert.equal(0, acode, why)
    assert.equal(0, lcode, why)
    local a, l = log_of(TMP .. "/ansible"), log_of(TMP .. "/luasible")
    -- what the playbook is there to show, as ansible-playbook printed it
    assert.same({ "sf-h1,sf-h2,sf-h3", "out-h2 0 from-h1", "http://one:80 http://one:80 no-pv",
      "True no-facts", "['web'] h2 undef True False" }, a.h1, why)
    assert.same(a, l, why)
    local ar, lr = cli.recaps(aout), cli.recaps(lout)
    for h, counts in pairs(ar) do
      for _, k in ipairs({ "ok", "changed", "unreachable", "failed", "skipped", "ignored" }) do
        assert.equal(counts[k], (lr[h] or {})[k], h .. " " .. k .. why)
      end
    end
  end)
end)
