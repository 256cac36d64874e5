-- The play keywords of play/module_defaults.lua, play/connect.lua,
-- play/prepare.lua (serial, gather_subset) and play/host_task.lua
-- (loop_control, timeout) in Lua plays (the same model as YAML's: the
-- oracle spec, play_keywords_oracle_spec.lua, runs the YAML), and bad input
-- of them in YAML: one line naming file:line, nothing run. bin/luasible on
-- the local connection.
local files = require "spec.helpers.files"
local cli = require "spec.helpers.cli"
local write, read = files.write, files.read

local TMP = files.tmpdir()
local LUASIBLE = (os.getenv("PWD") or ".") .. "/bin/luasible"
local INV = TMP .. "/inv.ini"
write(INV, "[web]\nh1\nh2\n[web:vars]\nansible_connection=local\n"
  .. "[far]\nf1 ansible_host=127.0.0.1 ansible_port=1\n")

describe("play keywords in a Lua play", function()
  it("module_defaults, connection, serial with {{ }}, loop_control, no_log and timeout", function()
    local out_dir = TMP .. "/lua"
    os.execute("mkdir -p " .. out_dir)
    write(TMP .. "/site.lua", [[
return {
  { name = "lua", hosts = "web", gather_facts = false, serial = "{{ n }}", vars = { n = 1 },
    module_defaults = { file = { mode = "0600", state = "touch" } },
    tasks = {
      { file = { path = "]] .. out_dir .. [[/{{ inventory_hostname }}" } },
      { block = {
          { file = { path = "]] .. out_dir .. [[/{{ inventory_hostname }}-b" } },
        }, module_defaults = { file = { mode = "0640", state = "touch" } } },
      { shell = "stat -c %a ]] .. out_dir .. [[/{{ inventory_hostname }}*", register = "r" },
      { debug = { msg = "{{ inventory_hostname }} {{ ansible_play_batch | join(',') }} {{ r.stdout_lines | join(',') }}"
          .. " {{ item }}{{ i }}{{ ansible_loop.last }}" },
        loop = { "a", "b" }, index_var = "i", loop_extended = true, loop_pause = 0 },
      { command = "sleep 5", timeout = 1, ignore_errors = true },
    } },
  { name = "far", hosts = "far", gather_facts = false, connection = "local", no_log = true,
    tasks = { { debug = { msg = "SECRET" } } } },
}
]])
    local out, code, err = cli.luasible("run " .. TMP .. "/site.lua -i " .. INV)
    assert.equal(0, code, out .. err)
    assert.same({ "(item=a) => h1 h1 600,640 a0False", "(item=b) => h1 h1 600,640 b1True",
      "(item=a) => h2 h2 600,640 a0False", "(item=b) => h2 h2 600,640 b1True", "output hidden by no_log" },
      cli.msgs(out))
    assert.truthy(out:find("The command action failed to execute in the expected time frame (1) and was terminated",
      1, true), out)
    assert.is_nil(out:find("SECRET", 1, true))
    assert.equal(1, cli.recap_of(out, "f1").ok)
  end)

  it("force_handlers (and roles with keywords) in a Lua play: a failed host's handlers still run", function()
    local d = TMP .. "/luaforce"
    os.execute("mkdir -p " .. d .. "/roles/r/tasks")
    write(d .. "/roles/r/tasks/main.yml", "- command: whoami\n  register: w\n- debug: { msg: \"r {{ w.stdout }}\" }\n")
    write(d .. "/site.lua", [[
return { hosts = "web", gather_facts = false, force_handlers = true,
  roles = { { role = "r", become = true, become_user = "nobody", when = "inventory_hostname == 'h1'" } },
  tasks = {
    { command = "true", notify = "h" },
    { command = "false", when = "inventory_hostname == 'h2'" },
  },
  handlers = { { name = "h", debug = { msg = "handler {{ inventory_hostname }}" } } } }
]])
    local out, code, err = cli.luasible("run " .. d .. "/site.lua -i " .. INV)
    assert.equal(2, code, out .. err)
    assert.same({ "r nobody", "handler h1", "handler h2" }, cli.msgs(out))
    assert.equal(1, cli.recap_of(out, "h2").failed)
  end)
end)

describe("play keywords: bad input", function()
  local CASES = {
    { "an unknown module in module_defaults", "  module_defaults:\n    nosuch: { a: 1 }\n",
      "site.yml:3: play 'site.yml': module_defaults: 'nosuch': unknown module 'nosuch'" },
    { "an action group there is not", "  module_defaults:\n    group/nosuch: { a: 1 }\n",
      "site.yml:3: play 'site.yml': module_defaults: 'group/nosuch': no such action group" },
    { "a templated key in module_defaults", "  module_defaults:\n    \"{{ m }}\": { a: 1 }\n",
      "module_defaults: '{{ m }}': the keys must be static module or group names" },
    { "module_defaults on a task naming a module of another collection",
      "  tasks:\n    - debug: msg=x\n      module_defaults: { community.general.x: { a: 1 } }\n",
      "site.yml:5: play 'site.yml', task 1: module_defaults: 'community.general.x': only ansible.builtin's" },
    { "serial rendering to no size", "  vars: { b: lots }\n  serial: \"{{ b }}\"\n",
      "site.yml:4: play 'site.yml': serial: must render to a number of hosts or a percentage" },
    { "serial with an undefined name", "  serial: \"{{ nope }}\"\n",
      "site.yml:3: play 'site.yml': serial: 'nope' is undefined" },
    { "a bad gather_subset", "  gather_facts: true\n  gather_subset: [network, bogus]\n",
      "site.yml:4: play 'site.yml': gather_subset: bad subset 'bogus'" },
    { "a play's when", "  when: true\n", "site.yml:3: play 'site.yml': 'when' is not a play keyword" },
    { "a bad port", "  port: 70000\n", "site.yml:3: play 'site.yml': port" },
    { "a bad timeout", "  timeout: soon\n", "site.yml:3: play 'site.yml': timeout" },
    { "a bad force_handlers", "  force_handlers: sometimes\n",
      "site.yml:3: play 'site.yml': force_handlers must be true or false, got a string ('sometimes')" },
    { "a role entry's become_user of the wrong type", "  roles:\n    - { role: r, become_user: [a] }\n",
      "site.yml:4: play 'site.yml', role 1: become_user must be a non-empty string, got a list" },
    { "loop_control.extended_allitems", "  tasks:\n    - debug: msg=x\n      loop: [1]\n"
      .. "      loop_control: { extended_allitems: false }\n",
      "site.yml:6: play 'site.yml', task 1: loop_control.extended_allitems is not supported yet" },
  }
  for i, c in ipairs(CASES) do
    it(c[1], function()
      local d = TMP .. "/bad" .. i
      os.execute("mkdir -p " .. d)
      local body = c[2]
      local tasks = body:find("  tasks:", 1, true) and "" or "  tasks:\n    - command: touch " .. d .. "/ran\n"
      write(d .. "/site.yml", "- hosts: web\n  gather_facts: false\n" .. body .. tasks)
      local out, code, err = cli.run("cd " .. d .. " && " .. LUASIBLE .. " run site.yml -i " .. INV)
      assert.equal(1, code, out .. err)
      assert.equal("", out)
      assert.matches("^luasible: error: [^\n]+\n$", err)
      assert.truthy(err:find(c[3], 1, true), err)
      assert.is_nil(read(d .. "/ran"))
    end)
  end
end)
