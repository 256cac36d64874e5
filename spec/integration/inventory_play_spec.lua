local plays = require "luasible.play"
local files = require "spec.helpers.files"

-- the inventory as a play sees it: !unsafe values (YAML inventories,
-- group_vars/, host_vars/) are data, never rendered, as in Ansible
describe("inventory values in a play", function()
  local dir = files.tmpdir()

  it("never renders an !unsafe value of the inventory or its vars folders; a play var taking the name is", function()
    files.write(dir .. "/hosts.yml", table.concat({
      "all:", "  vars:", "    ansible_connection: local", '    tmpl: !unsafe "{{ not_rendered }}"',
      '    safe: "{{ 1 + 1 }}"', '    nested: [!unsafe "{{ deep }}"]', "  hosts:", "    h1:", "    h2:",
    }, "\n") .. "\n")
    os.execute("mkdir -p " .. dir .. "/host_vars")
    files.write(dir .. "/host_vars/h1.yml", 'hv: !unsafe "{{ from_host_vars }}"\n')
    local out = {}
    local recap = assert(plays.play({ hosts = "all", tasks = {
      { name = "show", debug = { msg = "{{ tmpl }}|{{ safe }}|{{ nested | first }}|{{ hv | default('-') }}" } },
      { name = "play var", debug = { msg = "{{ tmpl }}" }, vars = { tmpl = "{{ safe }}" } },
    } }, { inventory = dir .. "/hosts.yml", on_event = function(ev)
      if ev.type == "host_task_result" then out[ev.task .. " " .. ev.host] = ev.result.msg end
    end }))
    assert.equal(0, recap.h1.failed)
    assert.equal("{{ not_rendered }}|2|{{ deep }}|{{ from_host_vars }}", out["show h1"])
    assert.equal("{{ not_rendered }}|2|{{ deep }}|-", out["show h2"])
    assert.equal("2", out["play var h1"])
  end)
end)
