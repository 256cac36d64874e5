-- include_role (dynamic: when, loop, tags of the include only; tasks_from,
-- vars_from, defaults_from, public, allow_duplicates) and include_vars (file,
-- dir with depth/files_matching/ignore_files, name), run by bin/luasible;
-- bad input refused with file:line before anything runs; and #oracle: the
-- same playbook by ansible-playbook, the same messages and recap.
local files = require "spec.helpers.files"
local cli = require "spec.helpers.cli"
local write, read = files.write, files.read

local TMP = files.tmpdir()

local PLAYBOOK = [==[
- hosts: all
  gather_facts: false
  vars: { a: play }
  tasks:
    - name: plain
      include_role: { name: web }
      vars: { x: given }
    - name: not now
      include_role: { name: web, tasks_from: other }
      when: false
    - name: each
      include_role: { name: web }
      loop: [one, two]
    - name: from files
      include_role: { name: web, tasks_from: other, vars_from: alt, defaults_from: alt }
    - name: public
      include_role: { name: web, public: true }
    - name: after the public role
      debug: { msg: "after: port={{ port }} wvar={{ wvar }}" }
    - name: tagged include
      include_role: { name: web, tasks_from: tagged }
      tags: [inc]
    - include_vars: one.yml
    - debug: { msg: "a={{ a }}" }
    - include_vars: { dir: vars/d, ignore_files: [skip.yml], name: stuff }
      register: r
    - debug: { msg: "{{ stuff.b }} {{ stuff.c }} {{ r.ansible_included_var_files | length }}" }
    - include_vars: { dir: vars/d, depth: 1, files_matching: "^x" }
    - debug: { msg: "b={{ b }} c={{ c | default('none') }}" }
    - name: task vars lose to include_vars
      debug: { msg: "a={{ a }}" }
      vars: { a: task }
    - set_fact: { a: fact }
    - debug: { msg: "a={{ a }}" }
]==]

local function tree_setup(dir)
  os.execute("mkdir -p " .. dir .. "/roles/web/tasks " .. dir .. "/roles/web/defaults " .. dir .. "/roles/web/vars "
    .. dir .. "/vars/d/sub")
  write(dir .. "/site.yml", PLAYBOOK)
  write(dir .. "/roles/web/tasks/main.yml",
    "- name: hello\n  debug: { msg: \"web {{ port }} {{ wvar }} {{ x | default('nox') }}"
    .. " {{ item | default('-') }}\" }\n")
  write(dir .. "/roles/web/tasks/other.yml", "- name: other\n  debug: { msg: \"other {{ port }} {{ wvar }}\" }\n")
  write(dir .. "/roles/web/tasks/tagged.yml", "- name: inner\n  debug: { msg: inner }\n"
    .. "- name: inner tagged\n  debug: { msg: inner tagged }\n  tags: [inc]\n")
  write(dir .. "/roles/web/defaults/main.yml", "port: 80\n")
  write(dir .. "/roles/web/defaults/alt.yml", "port: 8080\n")
  write(dir .. "/roles/web/vars/main.yml", "wvar: main\n")
  write(dir .. "/roles/web/vars/alt.yml", "wvar: alt\n")
  write(dir .. "/vars/one.yml", "a: included\n")
  write(dir .. "/vars/d/x.json", '{"b": 2}\n')
  write(dir .. "/vars/d/sub/y.yml", "c: 3\n")
  write(dir .. "/vars/d/skip.yml", "skip: 1\n")
end

local function msgs(out) return cli.msgs(out, "localhost") end
-- the localhost's recap counts (Ansible's rescued=0 left out: luasible shows it only when there is one)
local function recap_of(out)
  local r = cli.recap_of(out, "localhost")
  r.rescued = nil
  return r
end

local EXPECTED = { "web 80 main given -", "web 80 main nox one", "web 80 main nox two", "other 8080 alt",
  "web 80 main nox -", "after: port=80 wvar=main", "inner", "inner tagged", "a=included", "2 3 2",
  "b=2 c=none", "a=included", "a=fact" }

describe("include_role and include_vars", function()
  local dir = TMP .. "/pb"
  tree_setup(dir)
  write(TMP .. "/inv.ini", "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")

  it("run as Ansible runs them (dynamic include, vars precedence, public)", function()
    local out, code, err = cli.run("bin/luasible run " .. dir .. "/site.yml -i " .. TMP .. "/inv.ini")
    assert.equal(0, code, out .. err)
    assert.same(EXPECTED, msgs(out))
    assert.truthy(out:find("TASK [web : hello]", 1, true))
    assert.truthy(out:find("TASK [not now] ***", 1, true))
    -- the include_role that ran is counted nowhere, the skipped one skipped
    assert.same({ ok = 17, changed = 0, unreachable = 0, failed = 0, skipped = 1, ignored = 0 }, recap_of(out))
  end)

  it("with --tags: a tagged include runs, its tasks only by their own tags", function()
    local out, code, err = cli.run("bin/luasible run " .. dir .. "/site.yml -i " .. TMP .. "/inv.ini -t inc")
    assert.equal(0, code, out .. err)
    assert.same({ "inner tagged" }, msgs(out))
  end)

  it("refuses a missing role (naming the folders searched) and a circular include_role, running nothing", function()
    write(dir .. "/missing.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: touch "
      .. TMP .. "/ran\n    - include_role: { name: nosuch }\n")
    local out, code, err = cli.run("bin/luasible run " .. dir .. "/missing.yml -i " .. TMP .. "/inv.ini")
    assert.equal(1, code, out)
    assert.equal(dir .. "/missing.yml:5: play 'missing.yml', task 2: the role 'nosuch' was not found in: "
      .. dir .. "/roles, " .. dir .. "\n", err:gsub("^luasible: error: ", ""))
    os.execute("mkdir -p " .. dir .. "/roles/a/tasks " .. dir .. "/roles/b/tasks")
    write(dir .. "/roles/a/tasks/main.yml", "- include_role: { name: b }\n")
    write(dir .. "/roles/b/tasks/main.yml", "- debug: { msg: b }\n- include_role: { name: a }\n")
    write(dir .. "/cycle.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: touch "
      .. TMP .. "/ran\n    - include_role: { name: a }\n")
    out, code, err = cli.run("bin/luasible run " .. dir .. "/cycle.yml -i " .. TMP .. "/inv.ini")
    assert.equal(1, code, out)
    assert.equal(dir .. "/roles/b/tasks/main.yml:2: role 'b', task 2: circular role dependency: a -> b -> a\n",
      err:gsub("^luasible: error: ", ""))
    assert.is_nil(read(TMP .. "/ran"))
    write(dir .. "/badarg.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
      .. "    - include_role: { name: web, apply: { bogus: x } }\n")
    out, code, err = cli.run("bin/luasible run " .. dir .. "/badarg.yml -i " .. TMP .. "/inv.ini")
    assert.equal(1, code, out)
    assert.truthy(err:find("badarg.yml:4: play 'badarg.yml', task 1: include_role: apply: the keyword 'bogus'"
      .. " is not one a block takes", 1, true), err)
  end)

  it("apply: gives its tags and keywords to the role's tasks (the include itself selected by its own tags)", function()
    write(dir .. "/apply.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
      .. "    - include_role:\n        name: web\n        apply: { tags: [webtag], when: \"port == 80\" }\n"
      .. "      tags: always\n    - debug: { msg: other }\n")
    local out, code, err = cli.run("bin/luasible run " .. dir .. "/apply.yml -i " .. TMP .. "/inv.ini -t webtag")
    assert.equal(0, code, out .. err)
    assert.same({ "web 80 main nox -" }, msgs(out))
    if os.execute("command -v ansible-playbook >/dev/null 2>&1") then -- #oracle where there is one
      local aout = cli.run("ANSIBLE_NOCOLOR=1 ansible-playbook -i " .. TMP .. "/inv.ini " .. dir
        .. "/apply.yml -t webtag")
      assert.same(msgs(aout), msgs(out))
    end
  end)

  it("a templated name naming no role fails that host there, with the folders searched (Ansible: ERROR! at the end)",
    function()
      write(dir .. "/tmplname.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n"
        .. "    - include_role: { name: \"{{ which }}\" }\n    - debug: { msg: after }\n")
      local out, code, err = cli.run("bin/luasible run " .. dir .. "/tmplname.yml -i " .. TMP
        .. "/inv.ini -e which=nosuch")
      assert.equal(2, code, out .. err)
      assert.truthy(out:find("tmplname.yml:4: play 'tmplname.yml', task 1: the role 'nosuch' was not found in: "
        .. dir .. "/roles, " .. dir, 1, true), out)
      assert.same({}, msgs(out))
      -- an undefined name: the host fails naming it
      out, code = cli.run("bin/luasible run " .. dir .. "/tmplname.yml -i " .. TMP .. "/inv.ini")
      assert.equal(2, code, out)
      assert.truthy(out:find("include_role: template:1: 'which' is undefined", 1, true), out)
    end)

  it("#oracle prints the same messages and recap as ansible-playbook", function()
    if not os.execute("command -v ansible-playbook >/dev/null 2>&1") then
      pending("ansible-playbook not installed")
      return
    end
    local env = "ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_RETRY_FILES_ENABLED=0 "
      .. "ANSIBLE_LOCAL_TEMP=" .. TMP .. "/ansible-tmp ANSIBLE_REMOTE_TEMP=" .. TMP .. "/ansible-tmp "
    local aout, acode, aerr = cli.run(env .. "ansible-playbook -i " .. TMP .. "/inv.ini " .. dir .. "/site.yml")
    assert.equal(0, acode, aout .. aerr)
    local lout = cli.run("bin/luasible run " .. dir .. "/site.yml -i " .. TMP .. "/inv.ini")
    assert.same(msgs(aout), msgs(lout))
    assert.same(EXPECTED, msgs(aout))
    assert.same(recap_of(aout), recap_of(lout))
    aout = cli.run(env .. "ansible-playbook -i " .. TMP .. "/inv.ini " .. dir .. "/site.yml -t inc")
    lout = cli.run("bin/luasible run " .. dir .. "/site.yml -i " .. TMP .. "/inv.ini -t inc")
    assert.same(msgs(aout), msgs(lout))
  end)
end)
