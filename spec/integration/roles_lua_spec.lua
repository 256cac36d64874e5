--- Roles written in Lua (issue 12): roles/NAME/{tasks,handlers,defaults,vars,
-- meta}/main.lua, each a chunk returning what the YAML file would hold (a
-- list of tasks, a mapping of variables, meta's dependencies), used by a
-- YAML playbook beside YAML roles, with templates/ and files/ found in the
-- role as for any role; tasks_from finds FROM.lua; a Lua error names the file.
local cli = require "spec.helpers.cli"
local files = require "spec.helpers.files"

local function write(path, text)
  assert(os.execute("mkdir -p '" .. path:match("^(.*)/") .. "'"))
  files.write(path, text)
end

describe("roles written in Lua", function()
  local dir
  before_each(function()
    dir = files.tmpdir()
    write(dir .. "/roles/web/tasks/main.lua", [[
local names = {}
for i = 1, 2 do names[#names + 1] = "f" .. i end -- tasks computed in Lua
return {
  { name = "write", copy = { content = "{{ greeting }} from {{ role_name }}\n", dest = "{{ out }}/hello" },
    notify = "done" },
  { name = "touch", file = { path = "{{ out }}/{{ item }}", state = "touch" }, loop = names },
  { name = "tmpl", template = { src = "t.j2", dest = "{{ out }}/t" } },
}
]])
    write(dir .. "/roles/web/tasks/extra.lua", [[return { { name = "extra", debug = { msg = "extra {{ level }}" } } }]])
    write(dir .. "/roles/web/handlers/main.lua", [[return { { name = "done", debug = { msg = "handler ran" } } }]])
    write(dir .. "/roles/web/defaults/main.lua", [[return { greeting = "hello", level = "default" }]])
    write(dir .. "/roles/web/vars/main.lua", [[return { level = "role-vars" }]])
    write(dir .. "/roles/web/meta/main.lua", [[return { dependencies = { { role = "base", mark = "from-meta" } } }]])
    write(dir .. "/roles/web/templates/t.j2", "template says {{ greeting }}\n")
    write(dir .. "/roles/base/tasks/main.yml", "- debug: msg=\"base {{ mark }}\"\n")
    write(dir .. "/site.yml", "- hosts: localhost\n  gather_facts: false\n  vars: { out: " .. dir .. "/out }\n"
      .. "  roles: [web]\n- hosts: localhost\n  gather_facts: false\n  tasks:\n"
      .. "    - include_role: { name: web, tasks_from: extra }\n")
    assert(os.execute("mkdir -p " .. dir .. "/out"))
  end)
  after_each(function() if os.getenv("KEEP") then print(dir) else files.run("rm -rf " .. dir) end end)

  it("run as YAML roles do: meta dependencies, defaults and vars, templates/, handlers, tasks_from", function()
    local out, code, err = cli.luasible("run " .. dir .. "/site.yml")
    assert.equal(0, code, out .. err)
    assert.same({ "base from-meta", "handler ran", "base from-meta", "extra role-vars" }, cli.msgs(out))
    assert.truthy(out:find("RUNNING HANDLER [web : done]", 1, true), out)
    assert.truthy(out:find("TASK [web : write]", 1, true), out)
    assert.equal("hello from web\n", files.read(dir .. "/out/hello"))
    assert.equal("template says hello\n", files.read(dir .. "/out/t"))
    assert.truthy(files.read(dir .. "/out/f1") and files.read(dir .. "/out/f2"))
    assert.same({ ok = 7, changed = 3, unreachable = 0, failed = 0, skipped = 0, ignored = 0 },
      cli.recap_of(out, "localhost"))
    -- a second run changes nothing
    out, code = cli.luasible("run " .. dir .. "/site.yml")
    assert.equal(0, code)
    assert.equal(1, cli.recap_of(out, "localhost").changed) -- the touch loop only (file state=touch)
  end)

  it("a Lua error or a bad value in a role file is one line naming the file; nothing runs", function()
    write(dir .. "/roles/web/tasks/main.lua", "return { { name = 'x', copy = { dest = nil .. 'x' } } }\n")
    local out, code, err = cli.luasible("run " .. dir .. "/site.yml")
    assert.equal(1, code, out .. err)
    assert.truthy(err:find(dir .. "/roles/web/tasks/main.lua:1:", 1, true), err)
    assert.falsy(out:find("TASK", 1, true), out)
    write(dir .. "/roles/web/tasks/main.lua", "return 'not a list'\n")
    out, code, err = cli.luasible("run " .. dir .. "/site.yml")
    assert.equal(1, code)
    assert.truthy(err:find("tasks/main.lua must be a list of tasks", 1, true), err)
    assert.falsy(out:find("TASK", 1, true), out)
    assert.is_nil(files.read(dir .. "/out/hello"))
  end)

  it("`roles` in a Lua play: before its tasks, handlers after; messages keep their file:line", function()
    write(dir .. "/play.lua", "return {\n  hosts = 'localhost', gather_facts = false, vars = { out = '" .. dir
      .. "/out' },\n  roles = { { role = 'web', greeting = 'hi' } },\n  tasks = {\n"
      .. "    { name = 'after', debug = { msg = 'play task {{ out | basename }}' } },\n  },\n}\n")
    local out, code, err = cli.luasible("run " .. dir .. "/play.lua")
    assert.equal(0, code, out .. err)
    assert.same({ "base from-meta", "play task out", "handler ran" }, cli.msgs(out))
    assert.equal("hi from web\n", files.read(dir .. "/out/hello"))
    -- a bad task of the play: its line in the Lua file, after the role's tasks
    write(dir .. "/bad.lua", "return {\n  hosts = 'localhost', gather_facts = false,\n  roles = { 'web' },\n"
      .. "  tasks = {\n    { name = 'fine', debug = { msg = 'x' } },\n    { name = 'bad', nosuchmodule = {} },\n"
      .. "  },\n}\n")
    out, code, err = cli.luasible("run " .. dir .. "/bad.lua")
    assert.equal(1, code)
    assert.truthy(err:find(dir .. "/bad.lua:6: ", 1, true) and err:find("unknown module 'nosuchmodule'", 1, true), err)
    assert.falsy(out:find("TASK", 1, true), out)
    -- a bad task of a role: its role file's line
    write(dir .. "/roles/base/tasks/main.yml", "- name: t\n  copy: { nosucharg: 1 }\n")
    out, code, err = cli.luasible("run " .. dir .. "/play.lua")
    assert.equal(1, code, out)
    assert.truthy(err:find(dir .. "/roles/base/tasks/main.yml:2: ", 1, true), err)
    -- a role not found: the folders searched
    write(dir .. "/bad.lua", "return { hosts = 'localhost', roles = { 'nosuch' } }\n")
    out, code, err = cli.luasible("run " .. dir .. "/bad.lua")
    assert.equal(1, code, out)
    assert.truthy(err:find("the role 'nosuch' was not found in: " .. dir .. "/roles", 1, true), err)
  end)
end)
