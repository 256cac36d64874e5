-- play/playbook_read.lua's module names: the short name, Ansible's builtin
-- and legacy prefixes, and the fully qualified names of the modules luasible
-- has from other collections (what published roles write); another
-- collection's module keeps its whole name (and is refused as no module).
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local rd = require "luasible.play.playbook_read"

describe("playbook_read.module_name", function()
  it("maps builtin, legacy and the other collections' names luasible has", function()
    assert.are.equal("copy", rd.module_name("copy"))
    assert.are.equal("copy", rd.module_name("ansible.builtin.copy"))
    assert.are.equal("copy", rd.module_name("ansible.legacy.copy"))
    assert.are.equal("authorized_key", rd.module_name("ansible.posix.authorized_key"))
    assert.are.equal("sysctl", rd.module_name("ansible.posix.sysctl"))
    assert.are.equal("npm", rd.module_name("community.general.npm"))
    assert.are.equal("gem", rd.module_name("community.general.gem"))
    assert.are.equal("ini_file", rd.module_name("community.general.ini_file"))
    assert.are.equal("ufw", rd.module_name("community.general.ufw"))
    assert.are.equal("timezone", rd.module_name("community.general.timezone"))
    assert.are.equal("community.general.nmcli", rd.module_name("community.general.nmcli"))
    assert.are.equal("ansible.posix.firewalld", rd.module_name("ansible.posix.firewalld"))
  end)
end)
