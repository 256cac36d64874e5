-- Roles (`roles:` in a YAML play, Ansible's layout roles/NAME/...): real
-- playbooks with roles run by bin/luasible on the local connection; the
-- files they write, what they print and the recap asserted; bad roles
-- refused with one line naming file:line before anything runs.
local files = require "spec.helpers.files"
local clih = require "spec.helpers.cli"
local write, read = files.write, files.read

local TMP = files.tmpdir()

-- bin/luasible with args (env: "NAME=value ..." before it): stdout, exit code, stderr
local cli = clih.luasible

local exists, recap_of = files.exists, clih.recap_of

local function lines(...) return table.concat({ ... }, "\n") .. "\n" end

local INV = TMP .. "/inv.ini"
write(INV, "h1 ansible_connection=local\nh2 ansible_connection=local\n")

-- a folder with a playbook and roles: files = { ["roles/web/tasks/main.yml"] = text, ... }
local n = 0
local function tree(fs)
  n = n + 1
  local d = TMP .. "/t" .. n
  for name, text in pairs(fs) do
    local f = d .. "/" .. name
    os.execute("mkdir -p '" .. f:match("^(.*)/[^/]*$") .. "'")
    write(f, (text:gsub("@D@", d)))
  end
  return d
end

describe("roles", function()
  it("runs a role's tasks, handlers, defaults, vars, templates, files and meta dependencies", function()
    local d = tree({
      ["site.yml"] = lines(
        "- hosts: all",
        "  gather_facts: false",
        "  vars:",
        "    http_port: 80",
        "    color: play",
        "  pre_tasks:",
        "    - shell: echo pre >> @D@/{{ inventory_hostname }}.order",
        "  roles:",
        "    - web",
        "    - role: web",
        "      http_port: 9090",
        "  tasks:",
        "    - shell: echo 'task {{ color }}' >> @D@/{{ inventory_hostname }}.order"),
      ["roles/web/meta/main.yml"] = lines("dependencies:", "  - role: base", "    greeting: hi"),
      ["roles/web/defaults/main.yml"] = lines("http_port: 8080", "who: default"),
      ["roles/web/vars/main.yml"] = lines("color: role"),
      ["roles/web/tasks/main.yml"] = lines(
        "- name: conf",
        "  template: { src: app.j2, dest: \"@D@/{{ inventory_hostname }}-{{ http_port }}.conf\" }",
        "  notify: restart",
        "- copy: { src: f.txt, dest: \"@D@/{{ inventory_hostname }}-{{ http_port }}.txt\" }",
        "- shell: echo web >> @D@/{{ inventory_hostname }}.order"),
      ["roles/web/handlers/main.yaml"] = lines(
        "- name: restart",
        "  shell: echo restarted >> @D@/{{ inventory_hostname }}.order"),
      ["roles/web/templates/app.j2"] = "port={{ http_port }} who={{ who }} color={{ color }} role={{ role_name }}"
        .. " path={{ role_path }}\n",
      ["roles/web/files/f.txt"] = "from the role\n",
      ["templates/app.j2"] = "the playbook's template: not used\n",
      ["roles/base/tasks/main.yml"] = lines(
        "- shell: echo 'base {{ greeting }} {{ role_name }}' >> @D@/{{ inventory_hostname }}.order"),
    })
    local out, code, err = cli("run -i " .. INV .. " " .. d .. "/site.yml")
    assert.are.equal(0, code, out .. err)
    local real = io.popen("realpath " .. d):read("l")
    for _, h in ipairs({ "h1", "h2" }) do
      -- defaults lowest (the play's http_port wins), role vars over play vars, params over both
      assert.are.equal("port=80 who=default color=role role=web path=" .. real .. "/roles/web\n",
        read(d .. "/" .. h .. "-80.conf"))
      assert.are.equal("port=9090 who=default color=role role=web path=" .. real .. "/roles/web\n",
        read(d .. "/" .. h .. "-9090.conf"))
      assert.are.equal("from the role\n", read(d .. "/" .. h .. "-80.txt"))
      -- pre_tasks, the dependency (once: the same params), the role twice
      -- (other params), the play's tasks (the role's vars are theirs too, over
      -- the play's, as Ansible's private_role_vars false), the handler once
      assert.are.equal(lines("pre", "base hi base", "web", "web", "task role", "restarted"),
        read(d .. "/" .. h .. ".order"))
      assert.are.same({ ok = 10, changed = 10, unreachable = 0, failed = 0, skipped = 0, ignored = 0 },
        recap_of(out, h))
    end
    assert.truthy(out:find("TASK [web : conf]", 1, true), out)
    assert.truthy(out:find("TASK [base : shell]", 1, true), out)
  end)

  it("applies a role's when and tags to its tasks and its dependencies'; allow_duplicates", function()
    local d = tree({
      ["site.yml"] = lines(
        "- hosts: h1",
        "  gather_facts: false",
        "  roles:",
        "    - { role: w, x: 5, when: x > 3, tags: [wt] }",
        "    - { role: w, x: 2, when: x > 3 }",
        "    - { role: w, x: 7 }",
        "    - dup",
        "    - dup"),
      ["roles/w/meta/main.yml"] = lines("dependencies: [dep]"),
      ["roles/w/tasks/main.yml"] = lines("- shell: echo 'w {{ x }}' >> @D@/log", "  when: x > 1"),
      ["roles/dep/tasks/main.yml"] = lines("- shell: echo 'dep {{ x | default(0) }}' >> @D@/log"),
      ["roles/dup/meta/main.yml"] = lines("allow_duplicates: true"),
      ["roles/dup/tasks/main.yml"] = lines("- shell: echo dup >> @D@/log"),
    })
    local out, code, err = cli("run -i " .. INV .. " " .. d .. "/site.yml")
    assert.are.equal(0, code, out .. err)
    -- dep runs once (first use: under the first role's when, seeing its params), dup twice
    assert.are.equal(lines("dep 5", "w 5", "w 7", "dup", "dup"), read(d .. "/log"))
    os.remove(d .. "/log")
    out, code, err = cli("run -i " .. INV .. " -t wt " .. d .. "/site.yml")
    assert.are.equal(0, code, out .. err)
    assert.are.equal(lines("dep 5", "w 5"), read(d .. "/log"))
  end)

  it("finds roles on LUASIBLE_ROLES_PATH, ANSIBLE_ROLES_PATH and the roles_path setting", function()
    local lib = tree({ ["far/tasks/main.yml"] = lines("- shell: echo far >> {{ out }}") })
    local d = tree({ ["site.yml"] = lines("- hosts: h1", "  gather_facts: false", "  roles: [far]",
      "  vars: { out: @D@/log }") })
    local _, code, err = cli("run -i " .. INV .. " " .. d .. "/site.yml")
    assert.are.equal(1, code)
    assert.truthy(err:find(d .. "/site.yml:3: ", 1, true), err)
    for _, env in ipairs({ "LUASIBLE_ROLES_PATH=/nonexistent:" .. lib, "ANSIBLE_ROLES_PATH=" .. lib }) do
      os.remove(d .. "/log")
      local out
      out, code, err = cli("run -i " .. INV .. " " .. d .. "/site.yml", env)
      assert.are.equal(0, code, out .. err)
      assert.are.equal("far\n", read(d .. "/log"))
    end
    os.remove(d .. "/log")
    write(d .. "/luasible.cfg", "[defaults]\nroles_path = /nonexistent:" .. lib .. "\n")
    local out
    out, code, err = cli("run -i " .. INV .. " " .. d .. "/site.yml", "LUASIBLE_CONFIG=" .. d .. "/luasible.cfg")
    assert.are.equal(0, code, out .. err)
    assert.are.equal("far\n", read(d .. "/log"))
  end)

  it("import_role: a role's tasks_from file in the task list, with vars, when and its dependencies", function()
    local d = tree({
      ["site.yml"] = lines(
        "- hosts: h1",
        "  gather_facts: false",
        "  vars: { http_port: 1 }",
        "  tasks:",
        "    - shell: echo before >> @D@/log",
        "    - name: imported",
        "      import_role:",
        "        name: web",
        "        tasks_from: setup",
        "        vars_from: other",
        "      vars: { extra: X }",
        "      when: http_port == 1",
        "    - import_role: { name: web }",
        "      when: http_port == 2",
        "    - shell: echo after >> @D@/log"),
      ["roles/web/meta/main.yml"] = lines("dependencies: [base]"),
      ["roles/web/defaults/main.yml"] = lines("http_port: 8080", "color: default"),
      ["roles/web/vars/other.yml"] = lines("color: other"),
      ["roles/web/tasks/setup.yml"] = lines(
        "- shell: echo 'setup {{ http_port }} {{ role_name }} {{ extra }} {{ color }}' >> @D@/log",
        "  notify: bye"),
      ["roles/web/tasks/main.yml"] = lines("- shell: echo main >> @D@/log"),
      ["roles/web/handlers/main.yml"] = lines("- name: bye", "  shell: echo handler >> @D@/log"),
      ["roles/base/tasks/main.yml"] = lines("- shell: echo base >> @D@/log"),
    })
    local out, code, err = cli("run -i " .. INV .. " " .. d .. "/site.yml")
    assert.are.equal(0, code, out .. err)
    -- the dependency once (the second import's is already applied), main skipped by its when
    assert.are.equal(lines("before", "base", "setup 1 web X other", "after", "handler"), read(d .. "/log"))
    assert.are.same({ ok = 5, changed = 5, unreachable = 0, failed = 0, skipped = 1, ignored = 0 },
      recap_of(out, "h1"))
  end)

  describe("refuses, before anything runs", function()
    local function refused(fs, want)
      fs["site.yml"] = fs["site.yml"] or lines("- hosts: all", "  gather_facts: false",
        "  pre_tasks:", "    - shell: touch @D@/ran", "  roles:", "    - r")
      local d = tree(fs)
      local out, code, err = cli("run -i " .. INV .. " " .. d .. "/site.yml")
      assert.are.equal(1, code, out .. err)
      assert.are.equal("", out)
      want = want:gsub("@D@", d):gsub("@R@", io.popen("realpath " .. d):read("l"))
      assert.are.equal("luasible: error: " .. want, (err:gsub("\n$", "")))
      assert.is_false(exists(d .. "/ran"))
    end

    it("a role not found, naming the folders searched", function()
      refused({ ["roles/other/tasks/main.yml"] = "- ping:\n" },
        "@D@/site.yml:6: play 'site.yml', role 1: the role 'r' was not found in: @D@/roles, @D@")
    end)

    it("a circular dependency, naming the chain", function()
      refused({ ["roles/r/meta/main.yml"] = "dependencies: [s]\n",
        ["roles/s/meta/main.yml"] = "dependencies:\n  - role: t\n", ["roles/t/meta/main.yml"] = "dependencies: [r]\n" },
        "@D@/roles/t/meta/main.yml:1: role 't', dependency 1: circular role dependency: r -> s -> t -> r")
    end)

    it("a bad task in a role, at its line in the role's file", function()
      refused({ ["roles/r/tasks/main.yml"] = lines("- ping:", "- name: broken", "  copy:", "    dest: /tmp/x",
        "    bogus: 1") },
        "@D@/roles/r/tasks/main.yml:5: play 'site.yml', task 2 ('r : broken'): copy: unknown argument 'bogus'"
        .. " (known: backup, content, decrypt, dest, follow, force, group, mode, owner, src)")
      refused({ ["roles/r/tasks/main.yml"] = lines("- ping:", "- frobnicate: {}") },
        "@D@/roles/r/tasks/main.yml:2: play 'site.yml', task 2 ('r : frobnicate'): unknown module 'frobnicate'"
        .. " (searched @D@/library, modules, lua/luasible/modules)")
    end)

    it("a YAML error in a role's file, a keyword not taken on a role, bad dependencies", function()
      refused({ ["roles/r/vars/main.yml"] = "a: [1\n" },
        "@D@/roles/r/vars/main.yml:2:1: did not find expected ',' or ']'")
      refused({ ["site.yml"] = lines("- hosts: all", "  roles:", "    - { role: r, loop: [1, 2] }"),
        ["roles/r/tasks/main.yml"] = "- ping:\n" },
        "@D@/site.yml:3: play 'site.yml', role 1: the task keyword 'loop' is not one of a role's (Ansible would"
        .. " take it as a variable of the role named 'loop'; give variables under vars:)")
      refused({ ["site.yml"] = lines("- hosts: all", "  roles:", "    - role: r", "      become: maybe"),
        ["roles/r/tasks/main.yml"] = "- ping:\n" },
        "@D@/site.yml:3: play 'site.yml', role 1: become must be true or false, got a string ('maybe')")
      refused({ ["site.yml"] = lines("- hosts: all", "  roles:", "    - { role: r, remote_user: u }"),
        ["roles/r/tasks/main.yml"] = "- ping:\n" },
        "@D@/site.yml:3: play 'site.yml', role 1: the keyword 'remote_user' on a role is not supported yet"
        .. " (nor on a task)")
      refused({ ["roles/r/meta/main.yml"] = "dependencies: r2\n" },
        "@D@/roles/r/meta/main.yml:1: dependencies must be a list of roles, got a string ('r2')")
      refused({ ["site.yml"] = lines("- hosts: all", "  tasks:", "    - import_role: { name: r, tasks_from: nope }"),
        ["roles/r/tasks/main.yml"] = "- ping:\n" },
        "@D@/site.yml:3: play 'site.yml', task 1: tasks_from: the role 'r' has no"
        .. " @R@/roles/r/tasks/nope.yml (nor .yaml, nor .lua)")
      -- (block, import_tasks and include_tasks run there: play_keywords_oracle_spec.lua)
      refused({ ["roles/r/tasks/main.yml"] = "- ping:\n", ["roles/r/handlers/main.yml"] = lines("- block:",
        "    - ping:") },
        "@D@/roles/r/handlers/main.yml:1: role 'r', handler 1: 'block' in a role's handlers is not supported yet")
      refused({ ["roles/r/tasks/main.yml"] = lines("- ping:", "- import_role: { name: r }") },
        "@D@/roles/r/tasks/main.yml:2: role 'r', task 2: circular role dependency: r -> r")
      refused({ ["site.yml"] = lines("- hosts: all", "  tasks:", "    - import_role: { name: r }", "      loop: [1]"),
        ["roles/r/tasks/main.yml"] = "- ping:\n" },
        "@D@/site.yml:4: play 'site.yml', task 1: the keyword 'loop' cannot be used with import_role (a static"
        .. " import; include_role takes it)")
      refused({ ["site.yml"] = lines("- hosts: all", "  roles: web") },
        "@D@/site.yml:2: play 'site.yml': roles must be a list of roles, got a string ('web')")
    end)
  end)
end)
