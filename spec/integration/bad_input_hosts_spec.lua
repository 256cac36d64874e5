-- Bad input (issue 12) against a real test host over SSH: a YAML syntax
-- error in an imported task file (file:line:column), a play without hosts in
-- an imported playbook, an unknown keyword in a role's task file, a role not
-- found (the folders searched, the roles path among them), a circular role
-- dependency and a circular import_tasks (the chain), a loop over a
-- non-list. Each is refused with one line on stderr naming the file and
-- line, exit 1, and nothing runs: the first play of each playbook would
-- write a file on the host, and it is not there. (playbook_spec, roles_spec
-- and blocks_spec assert the same messages on the local connection.)
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"

local TMP = files.tmpdir()

local function q(s) return "'" .. tostring(s):gsub("'", [['\'']]) .. "'" end

describe("#hosts bad playbooks touch no host", function()
  local ok, why = th.available()
  if not ok then
    pending("test hosts unavailable: " .. why)
    return
  end
  local hosts, inv
  lazy_setup(function()
    hosts = th.start { names = { "web1" } }
    inv = TMP .. "/inv.ini"
    files.write(inv, hosts:inventory_ini())
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  -- the first play writes the marker on the host; the bad part comes later
  local FIRST = "- hosts: all\n  gather_facts: false\n  tasks:\n"
    .. "    - copy: content=ran dest=/root/marker\n"

  local n = 0
  local function refused(tree, want, env)
    n = n + 1
    local d = TMP .. "/t" .. n
    for rel, text in pairs(tree) do
      local f = d .. "/" .. rel
      assert(os.execute("mkdir -p " .. q(f:match("^(.*)/[^/]*$"))))
      files.write(f, text)
    end
    local errf = d .. "/stderr"
    local p = io.popen(string.format("cd %s && %s LUASIBLE_CONFIG=/dev/null %s/bin/luasible run -i %s site.yml 2>%s",
      q(d), env or "", q(os.getenv("PWD")), q(inv), q(errf)))
    local out = p:read("a")
    local _, _, code = p:close()
    local err = files.read(errf) or ""
    assert.are.equal(1, code, out .. err)
    assert.are.equal("", out)
    assert.are.equal("luasible: error: " .. want:gsub("@D@", d) .. "\n", err)
    assert.are.equal("absent\n", (hosts[1]:exec("test -e /root/marker && echo there || echo absent")))
  end

  it("a YAML syntax error in an imported task file: file:line:column", function()
    refused({ ["site.yml"] = FIRST .. "- hosts: all\n  tasks:\n    - import_tasks: tasks/setup.yml\n",
      ["tasks/setup.yml"] = "- name: conf\n  copy: { dest: /etc/x\n- ping:\n" },
      "./tasks/setup.yml:3:7: did not find expected ',' or '}'")
  end)

  it("a play without hosts in an imported playbook", function()
    refused({ ["site.yml"] = FIRST .. "- import_playbook: db.yml\n",
      ["db.yml"] = "- name: databases\n  tasks:\n    - ping:\n" },
      "./db.yml:1: play 'databases' has no hosts")
  end)

  it("an unknown keyword in a role's task file", function()
    refused({ ["site.yml"] = FIRST .. "- hosts: all\n  roles: [web]\n",
      ["roles/web/tasks/main.yml"] = "- name: conf\n  copy: content=x dest=/etc/x\n  notfy: restart\n" },
      "./roles/web/tasks/main.yml:3: role 'web', task 1 ('conf'): the task has two modules (or an unknown"
        .. " keyword): 'copy' and 'notfy'")
  end)

  it("a role not found, naming the folders searched (the roles path among them)", function()
    refused({ ["site.yml"] = FIRST .. "- hosts: all\n  roles:\n    - common\n    - role: nginx\n" ,
      ["roles/common/tasks/main.yml"] = "- ping:\n" },
      "site.yml:8: play 'site.yml', role 2: the role 'nginx' was not found in: ./roles, /srv/roles, /opt/roles, .",
      "ANSIBLE_ROLES_PATH=/srv/roles:/opt/roles")
  end)

  it("a circular role dependency and a circular import_tasks, naming the chain", function()
    refused({ ["site.yml"] = FIRST .. "- hosts: all\n  roles: [app]\n",
      ["roles/app/meta/main.yml"] = "dependencies:\n  - role: base\n    x: 1\n",
      ["roles/base/meta/main.yml"] = "dependencies: [app]\n" },
      "./roles/base/meta/main.yml:1: role 'base', dependency 1: circular role dependency: app -> base -> app")
    refused({ ["site.yml"] = FIRST .. "- hosts: all\n  tasks:\n    - import_tasks: a.yml\n",
      ["a.yml"] = "- ping:\n- import_tasks: b.yml\n", ["b.yml"] = "- import_tasks: a.yml\n" },
      "./b.yml:1: play 'site.yml', task 1 (a.yml), task 2 (b.yml), task 1: import_tasks: circular import:"
        .. " site.yml -> a.yml -> b.yml -> a.yml")
  end)

  it("a loop over a non-list", function()
    refused({ ["site.yml"] = FIRST .. "- hosts: all\n  tasks:\n    - debug: msg={{ item }}\n"
      .. "      loop: { a: 1 }\n" },
      "site.yml:8: play 'site.yml', task 1: loop must be a list or a \"{{ expression }}\", got a mapping")
  end)
end)
