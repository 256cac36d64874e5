-- Lookups that need a play (#oracle, against Debian's ansible-playbook):
-- inventory_hostnames over the play's groups, file and unvault of a
-- vault-encrypted file, random_choice. One deliberate difference: what a
-- vault file holds is a secret to luasible, shown as ******** in every
-- message (Ansible prints it).
local files = require "spec.helpers.files"
local cli = require "spec.helpers.cli"
local write = files.write

local TMP = files.tmpdir()
local INV = TMP .. "/inv.ini"
write(INV, "lone\n[web]\nw1\nw2\n[db]\nd1\n[prod:children]\nweb\n[all:vars]\nansible_connection=local\n"
  .. "ansible_python_interpreter=/usr/bin/python3\n")

local PLAYBOOK = [[
- hosts: lone
  gather_facts: false
  tasks:
    - debug: { msg: "{{ query('inventory_hostnames', 'all') | join(',') }}" }
    - debug: { msg: "{{ query('inventory_hostnames', 'prod:!w2') }} {{ lookup('inventory_hostnames', 'web', 'db') }}" }
    - debug: { msg: "{{ query('inventory_hostnames', 'nosuch*') }} {{ query('inventory_hostnames', 'all[1:2]') }}" }
    - debug: { msg: "{{ lookup('random_choice', 'a', 'b') in ['a', 'b'] }} {{ query('random_choice') }}" }
    - debug: { msg: "{{ lookup('unvault', 'plain.txt') | length }}|{{ lookup('file', 'plain.txt') }}" }
    - debug: { msg: "{{ lookup('file', 'vaulted.txt') }}|{{ lookup('unvault', 'vaulted.txt') }}" }
]]

describe("#oracle lookups in a play against ansible-playbook", function()
  if not os.execute("command -v ansible-playbook >/dev/null 2>&1") then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end
  it("inventory_hostnames, file and unvault of a vault file, random_choice", function()
    write(TMP .. "/site.yml", PLAYBOOK)
    write(TMP .. "/pw", "the-vault-pw\n")
    write(TMP .. "/plain.txt", "plain text\n")
    write(TMP .. "/vaulted.txt", "the vaulted text\n")
    local _, vcode, verr = cli.run("ansible-vault encrypt --vault-password-file " .. TMP .. "/pw " .. TMP
      .. "/vaulted.txt")
    assert.equal(0, vcode, verr)
    local args = " -i " .. INV .. " " .. TMP .. "/site.yml --vault-password-file " .. TMP .. "/pw"
    local aout, acode, aerr = cli.run(cli.ansible_env(TMP) .. "ansible-playbook" .. args)
    local lout, lcode, lerr = cli.run("bin/luasible run" .. args)
    local why = "\nansible:\n" .. aout .. aerr .. "\nluasible:\n" .. lout .. lerr
    assert.equal(0, acode, why)
    assert.equal(0, lcode, why)
    local a, l = cli.msgs(aout), cli.msgs(lout)
    assert.equal(6, #a, why)
    -- the vault file's text: Ansible's shown, luasible's a secret
    assert.equal("the vaulted text|the vaulted text\\n", a[6], why)
    assert.equal("********|********", l[6], why)
    a[6], l[6] = nil, nil
    assert.same(a, l, why)
    assert.equal("lone,d1,w1,w2", l[1])
    assert.equal("11|plain text", l[5]) -- unvault keeps the newline, file strips it
  end)
end)
