-- YAML playbooks (`luasible run site.yml`): read into the play model and
-- run by bin/luasible, on the local connection and over the real OpenSSH
-- server of spec/helpers/sshd.lua; bad playbooks refused with file:line
-- before any host is touched.
local files = require "spec.helpers.files"
local clih = require "spec.helpers.cli"
local sshd = require "spec.helpers.sshd"
local write, read = files.write, files.read

local TMP = files.tmpdir()

-- bin/luasible with args: stdout, exit code, stderr
local cli = clih.luasible

local exists, recap_of = files.exists, clih.recap_of

local INV = TMP .. "/inv.ini"
write(INV, "h1 ansible_connection=local\nh2 ansible_connection=local\n")

describe("YAML playbooks", function()
  it("runs plays, import_playbook, vars_files, pre/post_tasks with handlers flushed after each, loops", function()
    local d = TMP .. "/site"
    os.execute("mkdir -p " .. d .. "/more")
    write(d .. "/vars.yml", "who: world\nport: 8080\n")
    write(d .. "/site.yml", table.concat({
      "---",
      "- name: first",
      "  hosts: all",
      "  gather_facts: false",
      "  collections: [ansible.builtin]",
      "  vars:",
      "    greeting: hello",
      "    who: nobody",
      "  vars_files:",
      "    - vars.yml",
      "  pre_tasks:",
      "    - name: pre",
      "      ansible.builtin.shell: echo pre >> " .. d .. "/{{ inventory_hostname }}.log",
      "      notify: early",
      "  tasks:",
      "    - name: write",
      "      copy:",
      "        content: \"{{ greeting }} {{ who }} {{ port }}\\n\"",
      "        dest: " .. d .. "/{{ inventory_hostname }}.txt",
      "      notify: topic",
      "    - name: items",
      "      shell: echo {{ x }} >> " .. d .. "/{{ inventory_hostname }}.items",
      "      with_items: [[a, b], c]",
      "      loop_control:",
      "        loop_var: x",
      "        label: \"{{ x }}\"",
      "    - name: list",
      "      ansible.legacy.command: echo {{ item }}",
      "      with_list: [[1, 2]]",
      "      register: listed",
      "    - name: kv",
      "      file: path=" .. d .. "/{{ inventory_hostname }}.dir state=directory",
      "    - name: args",
      "      command: pwd",
      "      args:",
      "        chdir: " .. d .. "/more",
      "      register: where",
      "      changed_when: false",
      "    - name: skipped on h2",
      "      shell: echo only-h1 >> " .. d .. "/{{ inventory_hostname }}.log",
      "      when:",
      "        - inventory_hostname == 'h1'",
      "        - where.stdout is search('more')",
      "  post_tasks:",
      "    - name: post",
      "      shell: echo post-{{ listed.results[0].stdout }} >> " .. d .. "/{{ inventory_hostname }}.log",
      "  handlers:",
      "    - name: early",
      "      shell: echo handler-early >> " .. d .. "/{{ inventory_hostname }}.log",
      "    - name: late",
      "      listen: topic",
      "      shell: echo handler-late >> " .. d .. "/{{ inventory_hostname }}.log",
      "- import_playbook: more/other.yaml",
    }, "\n") .. "\n")
    write(d .. "/more/other.yaml", "- hosts: h1\n  tasks:\n    - command: cat " .. d .. "/h1.txt\n"
      .. "      register: c\n    - debug: var=c.stdout\n")
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(0, code, out .. err)
    for _, h in ipairs({ "h1", "h2" }) do
      assert.equal("hello world 8080\n", read(d .. "/" .. h .. ".txt")) -- vars_files over vars
      assert.equal("a\nb\nc\n", read(d .. "/" .. h .. ".items"))      -- with_items flattens one level
      assert.truthy(exists(d .. "/" .. h .. ".dir"))
    end
    -- the handler notified in pre_tasks runs before tasks, the other after them, before post_tasks;
    -- with_list keeps the list whole
    assert.equal("pre\nhandler-early\nonly-h1\nhandler-late\npost-[1, 2]\n", read(d .. "/h1.log"))
    assert.equal("pre\nhandler-early\nhandler-late\npost-[1, 2]\n", read(d .. "/h2.log"))
    assert.matches("c.stdout = hello world 8080", out, 1, true)
    -- pre, early, 6 tasks (args unchanged; the last one skipped on h2), late, post; the imported play on h1
    assert.same({ ok = 12, changed = 10, unreachable = 0, failed = 0, skipped = 0, ignored = 0 }, recap_of(out, "h1"))
    assert.same({ ok = 9, changed = 8, unreachable = 0, failed = 0, skipped = 1, ignored = 0 }, recap_of(out, "h2"))
  end)

  it("shows loop_control.label for each item; an imported playbook reads its files from its own folder", function()
    local d = TMP .. "/label"
    os.execute("mkdir -p " .. d .. "/sub/files " .. d .. "/files")
    write(d .. "/sub/files/f.txt", "from sub\n")
    write(d .. "/files/f.txt", "from top\n")
    write(d .. "/site.yml", table.concat({
      "- hosts: h1",
      "  tasks:",
      "    - name: users",
      "      debug: msg=\"{{ u.name }}\"",
      "      loop: [{ name: ann, key: k1 }, { name: bob, key: k2 }]",
      "      loop_control: { loop_var: u, label: \"user {{ u.name }}\" }",
      "- import_playbook: sub/more.yml", "" }, "\n"))
    write(d .. "/sub/more.yml", "- hosts: h1\n  tasks:\n    - copy: src=f.txt dest=" .. d .. "/out.txt\n")
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(0, code, out .. err)
    assert.matches("ok: [h1] => (item=user ann) => ann", out, 1, true)
    assert.matches("ok: [h1] => (item=user bob) => bob", out, 1, true)
    assert.equal("from sub\n", read(d .. "/out.txt"))
    local jout = cli("run " .. d .. "/site.yml -i " .. INV .. " --json")
    assert.matches('"label":"user ann"', jout, 1, true)
  end)

  it("meta: flush_handlers runs the handlers notified so far, there; noop does nothing", function()
    local d = TMP .. "/meta"
    os.execute("mkdir -p " .. d)
    write(d .. "/site.yml", table.concat({
      "- hosts: all", "  tasks:",
      "    - shell: echo one >> " .. d .. "/{{ inventory_hostname }}", "      notify: h",
      "    - meta: flush_handlers",
      "    - shell: echo two >> " .. d .. "/{{ inventory_hostname }}", "      notify: h",
      "    - ansible.builtin.meta: noop",
      "  handlers:", "    - name: h", "      shell: echo handler >> " .. d .. "/{{ inventory_hostname }}", "" }, "\n"))
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(0, code, out .. err)
    for _, h in ipairs({ "h1", "h2" }) do
      assert.equal("one\nhandler\ntwo\nhandler\n", read(d .. "/" .. h)) -- notified again after the flush: again
      assert.same({ ok = 4, changed = 4, unreachable = 0, failed = 0, skipped = 0, ignored = 0 }, recap_of(out, h))
    end
  end)

  it("~ in a path argument is the home of the task's user on the host; in copy's src, this machine's", function()
    local d = TMP .. "/tilde"
    os.execute("mkdir -p " .. d .. "/home")
    write(d .. "/home/src.txt", "from home\n")
    write(d .. "/site.yml", table.concat({
      "- hosts: h1", "  gather_facts: false", "  tasks:",
      "    - file: { path: ~/made, state: directory }",
      "    - copy: { src: ~/src.txt, dest: ~/made/copied }",
      "    - stat: { path: \"~/made/copied\" }", "      register: s",
      "    - debug: { msg: \"{{ s.stat.path }}\" }",
      "    - file: { path: ~nosuchuser1x/y, state: absent }", "" }, "\n"))
    -- (the local connection's shell has this HOME: ~ is d/home there too)
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV, "HOME=" .. d .. "/home")
    assert.equal(0, code, out .. err)
    assert.equal("from home\n", read(d .. "/home/made/copied"))
    assert.same({ d .. "/home/made/copied" }, clih.msgs(out))
    assert.falsy(exists("~"), "a folder named ~ was made")
  end)

  it("an !unsafe value in play vars, vars_files and task vars is data, never rendered, as in Ansible", function()
    local d = TMP .. "/unsafe"
    os.execute("mkdir -p " .. d)
    write(d .. "/vars.yml", "f: !unsafe '{{ y }} from file'\ng: '{{ y }} rendered'\n")
    write(d .. "/site.yml", table.concat({
      "- hosts: h1", "  gather_facts: false", "  vars:", "    y: 1", "    x: !unsafe '{{ y }} in play'",
      "  vars_files: [vars.yml]", "  tasks:",
      "    - debug: { msg: \"{{ x }}|{{ f }}|{{ g }}|{{ t }}|{{ [x] | first }}\" }",
      "      vars: { t: !unsafe '{{ y }} in task' }",
      "    - debug: { msg: \"{{ x }}\" }", "      vars: { x: '{{ y }} task over play' }", "" }, "\n"))
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(0, code, out .. err)
    assert.same({ "{{ y }} in play|{{ y }} from file|1 rendered|{{ y }} in task|{{ y }} in play",
      "1 task over play" }, clih.msgs(out))
  end)

  it("--syntax-check, --list-tasks and --list-hosts check the playbook and run nothing", function()
    local d = TMP .. "/list"
    os.execute("mkdir -p " .. d)
    write(d .. "/site.yml", table.concat({
      "- name: web", "  hosts: all", "  pre_tasks:", "    - name: first", "      copy: content=x dest=" .. d .. "/ran",
      "  tasks:", "    - name: second", "      debug: msg=x", "      tags: [t1, t2]",
      "    - name: third", "      debug: msg=y", "      tags: never",
      "- import_playbook: more.yml", "" }, "\n"))
    write(d .. "/more.yml", "- hosts: h2\n  tasks:\n    - name: fourth\n      ping:\n")
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV .. " --syntax-check")
    assert.equal(0, code, out .. err)
    assert.equal("\nplaybook: " .. d .. "/site.yml\n", out)
    out, code, err = cli("run " .. d .. "/site.yml -i " .. INV .. " --list-tasks --list-hosts -l h2")
    assert.equal(0, code, out .. err)
    assert.equal(table.concat({ "", "playbook: " .. d .. "/site.yml", "",
      "  play #1 (all): web\tTAGS: []", "    pattern: all", "    hosts (1):", "      h2", "    tasks:",
      "      first\tTAGS: []", "      second\tTAGS: [t1, t2]", "",
      "  play #2 (h2): h2\tTAGS: []", "    pattern: h2", "    hosts (1):", "      h2", "    tasks:",
      "      fourth\tTAGS: []", "" }, "\n"), out)
    assert.falsy(exists(d .. "/ran"))
    -- a bad playbook: the same message as a run, nothing run
    write(d .. "/more.yml", "- hosts: h2\n  tasks:\n    - name: fourth\n      ping: { colour: red }\n")
    out, code, err = cli("run " .. d .. "/site.yml -i " .. INV .. " --syntax-check")
    assert.equal(1, code, out .. err)
    assert.matches(d .. "/more.yml:4: play 'more.yml', task 1 ('fourth'): ping: unknown argument 'colour'", err, 1,
      true)
    assert.falsy(exists(d .. "/ran"))
  end)

  it("environment: the play's and the task's reach the commands of every module", function()
    local d = TMP .. "/env"
    os.execute("mkdir -p " .. d)
    write(d .. "/site.yml", table.concat({
      "- hosts: h1", "  environment: { A: play, B: play }", "  vars: { e: { C: templated } }", "  tasks:",
      "    - shell: echo $A $B $C > " .. d .. "/1", "      environment: { B: task }",
      "    - shell: echo \"$C\" > " .. d .. "/2", "      environment: \"{{ e }}\"",
      "    - shell: echo $A $D > " .. d .. "/3", "      args:", "        env: { D: own }",
      "    - copy: content=x dest=" .. d .. "/4",
      -- a module of its own commands (the script it sends, run with the environment)
      "    - script: env.sh " .. d .. "/5", "      environment: { B: \"{{ 'for-' ~ inventory_hostname }}\" }",
      "" }, "\n"))
    write(d .. "/env.sh", "#!/bin/sh\necho \"$A $B\" > \"$1\"\n")
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(0, code, out .. err)
    assert.equal("play task\n", read(d .. "/1"))
    assert.equal("templated\n", read(d .. "/2"))
    assert.equal("play own\n", read(d .. "/3"))
    assert.equal("x", read(d .. "/4"))
    assert.equal("play for-h1\n", read(d .. "/5"))
  end)

  it("creates=, chdir= and the other options inside a command's text, as Ansible takes them out", function()
    local d = TMP .. "/freeform"
    os.execute("mkdir -p " .. d)
    write(d .. "/site.yml", table.concat({
      "- hosts: h1", "  tasks:",
      "    - command: touch made creates=" .. d .. "/made chdir=" .. d, "      register: a",
      "    - command: touch made creates=" .. d .. "/made chdir=" .. d, "      register: b",
      "    - shell: echo \"a  b\" 'chdir=no' > \"x y\" chdir=" .. d,
      "    - debug: msg=\"{{ a.changed }} {{ b.changed }}\"", "" }, "\n"))
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(0, code, out .. err)
    assert.truthy(exists(d .. "/made"))
    assert.truthy(out:find("True False", 1, true), out) -- the second one did not run: creates= held
    -- the rest of the text is the command as written: its quotes, its double space, a quoted 'chdir=' kept
    assert.equal("a  b chdir=no\n", read(d .. "/x y"))
  end)

  it("--tags, --skip-tags and --check apply to YAML plays as to Lua plays", function()
    local d = TMP .. "/tags"
    os.execute("mkdir -p " .. d)
    write(d .. "/site.yml", table.concat({
      "- hosts: h1", "  tags: [all_of_it]", "  tasks:",
      "    - copy: content=a dest=" .. d .. "/a", "      tags: a",
      "    - copy: content=b dest=" .. d .. "/b", "      tags: [b]",
      "    - copy: content=n dest=" .. d .. "/never", "      tags: never",
      "    - copy: content=c dest=" .. d .. "/c", "      tags: always",
      "    - command: touch " .. d .. "/probe", "      check_mode: false", "" }, "\n"))
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV .. " --check")
    assert.equal(0, code, out .. err)
    for _, f in ipairs({ "a", "b", "c", "never" }) do assert.falsy(exists(d .. "/" .. f), f) end
    assert.truthy(exists(d .. "/probe")) -- check_mode: false runs under --check
    out, code, err = cli("run " .. d .. "/site.yml -i " .. INV .. " --tags a")
    assert.equal(0, code, out .. err)
    assert.truthy(exists(d .. "/a"))
    assert.falsy(exists(d .. "/b"))
    assert.truthy(exists(d .. "/c"))
    assert.falsy(exists(d .. "/never"))
    out, code, err = cli("run " .. d .. "/site.yml -i " .. INV .. " --skip-tags a,always --tags all_of_it")
    assert.equal(0, code, out .. err)
    assert.truthy(exists(d .. "/b"))
    -- the play's tag is the never task's too, and it was asked for: it runs, as in Ansible
    assert.truthy(exists(d .. "/never"))
  end)

  it("action: names the module as text or as a mapping", function()
    local d = TMP .. "/action"
    os.execute("mkdir -p " .. d)
    write(d .. "/site.yml", table.concat({
      "- hosts: h1", "  tasks:",
      "    - action: copy content=one dest=" .. d .. "/1",
      "    - action:", "        module: ansible.builtin.copy", "        content: two", "        dest: " .. d .. "/2",
      "    - action: shell echo three > " .. d .. "/3", "" }, "\n"))
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(0, code, out .. err)
    assert.equal("one", read(d .. "/1"))
    assert.equal("two", read(d .. "/2"))
    assert.equal("three\n", read(d .. "/3"))
  end)

  it("renders vars_files names with the play's vars and the extra vars", function()
    local d = TMP .. "/vf"
    os.execute("mkdir -p " .. d .. "/env")
    write(d .. "/env/prod.yml", "region: eu\n")
    write(d .. "/env/dev.yml", "region: local\n")
    write(d .. "/site.yml", "- hosts: h1\n  vars: { stage: prod }\n  vars_files: [\"env/{{ stage }}.yml\"]\n"
      .. "  tasks:\n    - copy: content={{ region }} dest=" .. d .. "/out\n")
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(0, code, out .. err)
    assert.equal("eu", read(d .. "/out"))
    out, code, err = cli("run " .. d .. "/site.yml -i " .. INV .. " -e stage=dev")
    assert.equal(0, code, out .. err)
    assert.equal("local", read(d .. "/out"))
    os.remove(d .. "/out")
    out, code, err = cli("run " .. d .. "/site.yml -i " .. INV .. " -e stage=qa")
    assert.equal(1, code, out .. err)
    assert.matches(d .. "/site.yml:3: vars file env/{{ stage }}.yml was not found (" .. d .. "/env/qa.yml)",
      err, 1, true)
    assert.falsy(exists(d .. "/out"))
  end)

  it("renders hosts: with the play's vars and the extra vars", function()
    local d = TMP .. "/hosts"
    os.execute("mkdir -p " .. d)
    write(d .. "/site.yml", "- hosts: \"{{ target | default(fallback) }}\"\n  vars: { fallback: h2 }\n  tasks:\n"
      .. "    - copy: content=x dest=" .. d .. "/{{ inventory_hostname }}\n")
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(0, code, out .. err)
    assert.falsy(exists(d .. "/h1"))
    assert.truthy(exists(d .. "/h2"))
    out, code, err = cli("run " .. d .. "/site.yml -i " .. INV .. " -e target=h1")
    assert.equal(0, code, out .. err)
    assert.truthy(exists(d .. "/h1"))
  end)

  it("with_NAME loops through the lookups: dict, sequence, fileglob, subelements, nested, together", function()
    local d = TMP .. "/with"
    os.execute("mkdir -p " .. d .. "/files")
    write(d .. "/files/a.conf", "")
    write(d .. "/files/b.conf", "")
    write(d .. "/files/c.txt", "")
    write(d .. "/site.yml", table.concat({
      "- hosts: h1", "  vars:", "    users: {ann: 1, bob: 2}", "    n: 3",
      "    gl: [{name: g1, members: [a, b]}, {name: g2, members: [c]}]", "  tasks:",
      "    - shell: echo {{ item.key }}={{ item.value }} >> " .. d .. "/out", "      with_dict: \"{{ users }}\"",
      "    - shell: echo {{ item }} >> " .. d .. "/out", "      with_sequence: start=1 end={{ n }} format=web%02d",
      "    - shell: echo {{ item | basename }} >> " .. d .. "/globbed", "      with_fileglob: \"*.conf\"",
      "    - shell: echo {{ item.0.name }}-{{ item.1 }} >> " .. d .. "/out",
      "      with_subelements: [\"{{ gl }}\", members]",
      "    - shell: echo {{ item.0 }}{{ item.1 }} >> " .. d .. "/out", "      with_nested: [[a, b], [1, 2]]",
      "    - shell: echo {{ item | join('+') }} >> " .. d .. "/out", "      with_together: [[a, b], [1, 2]]", "" },
      "\n"))
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(0, code, out .. err)
    assert.equal("ann=1\nbob=2\nweb01\nweb02\nweb03\ng1-a\ng1-b\ng2-c\na1\na2\nb1\nb2\na+1\nb+2\n",
      read(d .. "/out"))
    local globbed = {}
    for l in read(d .. "/globbed"):gmatch("[^\n]+") do globbed[#globbed + 1] = l end
    table.sort(globbed)
    assert.same({ "a.conf", "b.conf" }, globbed)
  end)

  it("takes Ansible's boolean strings and keywords given as nothing", function()
    local d = TMP .. "/bools"
    os.execute("mkdir -p " .. d)
    write(d .. "/site.yml", table.concat({
      "- hosts: h1", "  gather_facts: 'no'", "  tasks:",
      "    - name:", "      command: \"false\"", "      ignore_errors: 'yes'", "      when:", "      notify:",
      "    - file:", "        path: " .. d .. "/made", "        state: touch", "        mode:", "" }, "\n"))
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(0, code, out .. err)
    assert.truthy(exists(d .. "/made"))
    assert.same({ ok = 2, changed = 2, unreachable = 0, failed = 0, skipped = 0, ignored = 1 }, recap_of(out, "h1"))
  end)

  it("set_fact, assert, fail and debug", function()
    local d = TMP .. "/control"
    os.execute("mkdir -p " .. d)
    write(d .. "/site.yml", table.concat({
      "- hosts: all",
      "  vars: { base: 10 }",
      "  tasks:",
      "    - ansible.builtin.set_fact:",
      "        n: \"{{ base + inventory_hostname[1:] | int }}\"",
      "        names: \"{{ ['a', inventory_hostname] }}\"",
      "    - set_fact: label=\"host-{{ n }}\"",
      "    - name: checked",
      "      assert:",
      "        that:",
      "          - n | int > 10",
      "          - names | length == 2",
      "          - label.startswith('host-')",
      "        success_msg: \"all good on {{ inventory_hostname }}\"",
      "    - name: quiet",
      "      assert: { that: \"names[1] == inventory_hostname\", quiet: true }",
      "    - name: soft",
      "      assert:",
      "        that: n | int == 11",
      "        fail_msg: \"n is {{ n }}\"",
      "      ignore_errors: true",
      "    - copy: content=\"{{ label }} {{ names | join(',') }}\" dest=" .. d .. "/{{ inventory_hostname }}",
      "    - name: stop h2",
      "      fail: msg=\"stopping {{ inventory_hostname }}\"",
      "      when: inventory_hostname == 'h2'",
      "    - debug: var=label",
      "",
    }, "\n"))
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.equal(2, code, out .. err)
    assert.equal("host-11 a,h1", read(d .. "/h1"))
    assert.equal("host-12 a,h2", read(d .. "/h2"))
    assert.matches("ok: [h1] => all good on h1", out, 1, true)
    assert.matches("failed (ignored): [h2] n is 12", out, 1, true)
    assert.matches("failed: [h2] stopping h2", out, 1, true)
    assert.matches("ok: [h1] => label = host-11", out, 1, true)
    assert.is_nil(out:find("label = host-12", 1, true)) -- h2 left the play
    assert.same({ ok = 7, changed = 1, unreachable = 0, failed = 0, skipped = 1, ignored = 0 }, recap_of(out, "h1"))
    assert.same({ ok = 6, changed = 1, unreachable = 0, failed = 1, skipped = 0, ignored = 1 }, recap_of(out, "h2"))
  end)

  it("reads a vault-encrypted vars file and never shows its values", function()
    local d = TMP .. "/vault"
    os.execute("mkdir -p " .. d)
    write(d .. "/pass", "s3cret-pass\n")
    write(d .. "/secret.yml", "db_password: Hunter2-xyz\n")
    local _, vcode, verr = cli("vault encrypt --vault-password-file " .. d .. "/pass " .. d .. "/secret.yml")
    assert.equal(0, vcode, verr)
    assert.is_nil(read(d .. "/secret.yml"):find("Hunter2", 1, true))
    write(d .. "/site.yml", "- hosts: h1\n  vars_files: [secret.yml]\n  tasks:\n"
      .. "    - copy: content={{ db_password }} dest=" .. d .. "/out\n"
      .. "    - debug: msg=\"pw is {{ db_password }}\"\n")
    local out, code, err = cli("run " .. d .. "/site.yml -i " .. INV .. " --json --vault-password-file "
      .. d .. "/pass")
    assert.equal(0, code, out .. err)
    assert.equal("Hunter2-xyz", read(d .. "/out"))
    assert.is_nil(out:find("Hunter2", 1, true), out)
    assert.matches("pw is ********", out, 1, true)
    -- without the password: refused before anything runs
    os.remove(d .. "/out")
    local _, code2, err2 = cli("run " .. d .. "/site.yml -i " .. INV)
    assert.not_equal(0, code2)
    assert.matches("secret.yml", err2, 1, true)
    assert.falsy(exists(d .. "/out"))
  end)

  describe("bad playbooks are refused before any host is touched", function()
    local d = TMP .. "/bad"
    os.execute("mkdir -p " .. d)
    local marker = d .. "/marker"
    -- the first play would write the marker; the bad part is later in the file
    local first = "- hosts: all\n  tasks:\n    - copy: content=x dest=" .. marker .. "\n"
    local cases = {
      { "unknown play keyword", first .. "- hosts: all\n  bogus: 1\n",
        "bad.yml:5: play 'bad.yml': unknown play keyword 'bogus'" },
      { "a keyword not supported yet", first .. "- hosts: all\n  tasks:\n    - debug: msg=hi\n      debugger: never\n",
        "bad.yml:7: play 'bad.yml', task 1: the keyword 'debugger' is not supported yet" },
      { "a role not found (play/roles.lua; spec/integration/roles_spec.lua)", first .. "- hosts: all\n  roles: [web]\n",
        "bad.yml:5: play 'bad.yml', role 1: the role 'web' was not found in: " },
      { "a play without hosts", first .. "- name: nohosts\n  tasks: []\n", "bad.yml:4: play 'nohosts' has no hosts" },
      { "a loop over a non-list", first .. "- hosts: all\n  tasks:\n    - debug: msg=x\n      loop: 5\n",
        "bad.yml:7: play 'bad.yml', task 1: loop must be a list or a \"{{ expression }}\", got a number (5)" },
      { "another collection's module", first .. "- hosts: all\n  tasks:\n    - community.general.nmcli: conn_name=x\n",
        "bad.yml:6: play 'bad.yml', task 1: the module 'community.general.nmcli' is not supported" },
      { "an unknown module", first .. "- hosts: all\n  tasks:\n    - frobnicate: x=1\n",
        "bad.yml:6: play 'bad.yml', task 1: unknown module 'frobnicate'" },
      { "a structural module not supported yet", first .. "- hosts: all\n  tasks:\n    - set_stats: { data: 1 }\n",
        "bad.yml:6: play 'bad.yml', task 1: the module 'set_stats' is not supported yet" },
      { "a bad module argument", first .. "- hosts: all\n  tasks:\n    - name: c\n      copy:\n"
        .. "        dest: /tmp/x\n        colour: red\n",
        "bad.yml:9: play 'bad.yml', task 1 ('c'): copy: unknown argument 'colour'" },
      { "an unknown filter", first .. "- hosts: all\n  tasks:\n    - debug:\n        msg: \"{{ x | nofilter }}\"\n",
        "bad.yml:6: play 'bad.yml', task 1: argument 'msg': column 8: no filter named 'nofilter'" },
      { "a YAML syntax error", first .. "- hosts: all\n  tasks: [a\n", "bad.yml:6:1: did not find expected" },
      { "a task that is no mapping", first .. "- hosts: all\n  tasks:\n    - just text\n",
        "bad.yml:6: play 'bad.yml', task 1: a task must be a mapping of keywords, got a string ('just text')" },
      { "two loops", first .. "- hosts: all\n  tasks:\n    - debug: msg=x\n      loop: [1]\n      with_items: [2]\n",
        "bad.yml:8: play 'bad.yml', task 1: 'loop' and 'with_items' are two loops: use one" },
      { "an option inside command text the module does not take", first
        .. "- hosts: all\n  tasks:\n    - raw: ls creates=/src\n",
        "bad.yml:6: play 'bad.yml', task 1: raw: unknown argument 'creates'" },
      { "options inside command text and no command", first .. "- hosts: all\n  tasks:\n    - shell: chdir=/src\n",
        "bad.yml:6: play 'bad.yml', task 1: shell: missing required argument 'cmd'" },
      { "a wrong type", first .. "- hosts: all\n  tasks:\n    - debug: msg=x\n      retries: many\n",
        "bad.yml:7: play 'bad.yml', task 1: retries must be a non-negative integer, got a string ('many')" },
      { "a missing vars file", first .. "- hosts: all\n  vars_files: [nope.yml]\n",
        "bad.yml:5: vars file nope.yml was not found" },
      { "a notify naming no handler", first .. "- hosts: all\n  tasks:\n    - name: n\n      debug: msg=x\n"
        .. "      notify: restart ngnix\n", "notify names the handler 'restart ngnix', but the play has no handler" },
      { "a handler keyword on a task", first .. "- hosts: all\n  tasks:\n    - debug: msg=x\n      listen: t\n",
        "bad.yml:7: play 'bad.yml', task 1: the keyword 'listen' is for handlers only" },
      { "not a list of plays", "hosts: all\n", "bad.yml:1: a playbook must be a list of plays" },
      { "module arguments as a list", first .. "- hosts: all\n  tasks:\n    - debug: [1, 2]\n",
        "bad.yml:6: play 'bad.yml', task 1: debug: the arguments must be a mapping or k=v text, got a list" },
      { "a boolean keyword that is no boolean", first .. "- hosts: all\n  tasks:\n    - debug: msg=x\n"
        .. "      become: maybe\n",
        "bad.yml:7: play 'bad.yml', task 1: become must be true or false, got a string ('maybe')" },
      { "a meta action not supported yet", first .. "- hosts: all\n  tasks:\n    - meta: refresh_inventory\n",
        "bad.yml:6: play 'bad.yml', task 1: meta: refresh_inventory is not supported yet" },
      { "a meta action luasible does not know", first .. "- hosts: all\n  tasks:\n    - meta: end_world\n",
        "bad.yml:6: play 'bad.yml', task 1: meta: argument 'free_form' must be one of flush_handlers, noop, end_play" },
      { "meta noop with when", first .. "- hosts: all\n  tasks:\n    - meta: noop\n      when: x\n",
        "bad.yml:7: play 'bad.yml', task 1: meta: noop does not take when" },
      { "meta with a loop", first .. "- hosts: all\n  tasks:\n    - meta: end_host\n      loop: [1]\n",
        "bad.yml:7: play 'bad.yml', task 1: meta: loop is not supported with it (yet)" },
      { "hosts naming an undefined variable", first .. "- hosts: \"{{ nope }}\"\n  tasks: []\n",
        "bad.yml:4: play 'bad.yml': hosts: template:1: 'nope' is undefined" },
      { "a loop naming no lookup", first .. "- hosts: all\n  tasks:\n    - debug: msg=x\n      with_frob: [1]\n",
        "bad.yml:7: play 'bad.yml', task 1: the loop 'with_frob' names no lookup luasible has ('frob')" },
      { "a vars_files name with a bad template", first .. "- hosts: all\n  vars_files: [\"{{ nope }.yml\"]\n",
        "bad.yml:5: vars_files[1]: " },
      { "an environment that is no mapping", first .. "- hosts: all\n  environment: [A, B]\n"
        .. "  tasks:\n    - service: name=x state=started\n",
        "bad.yml:7: play 'bad.yml', task 1: environment must be a mapping of names to values or a"
        .. " \"{{ expression }}\"" },
      { "action and a module key", first .. "- hosts: all\n  tasks:\n    - action: debug msg=x\n      ping:\n",
        "bad.yml:6: play 'bad.yml', task 1: action: the task also names the module 'ping': give one" },
      { "assert without that", first .. "- hosts: all\n  tasks:\n    - assert: { msg: x }\n",
        "bad.yml:6: play 'bad.yml', task 1: assert: missing required argument 'that'" },
      { "set_fact with a bad name", first .. "- hosts: all\n  tasks:\n    - set_fact: { \"a-b\": 1 }\n",
        "play 'bad.yml', task 1: set_fact: a-b is not a valid variable name" },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        os.remove(marker)
        write(d .. "/bad.yml", c[2])
        local out, code, err = cli("run " .. d .. "/bad.yml -i " .. INV)
        assert.equal(1, code, out .. err)
        assert.equal("", out)
        assert.matches(c[3], err, 1, true)
        assert.equal(1, select(2, err:gsub("\n", "")), "one line: " .. err)
        assert.matches(d .. "/bad.yml", err, 1, true)
        assert.falsy(exists(marker), "nothing runs")
      end)
    end

    it("an import_playbook cycle", function()
      os.remove(marker)
      write(d .. "/a.yml", first .. "- import_playbook: sub/b.yml\n")
      os.execute("mkdir -p " .. d .. "/sub")
      write(d .. "/sub/b.yml", "- import_playbook: ../a.yml\n")
      local out, code, err = cli("run " .. d .. "/a.yml -i " .. INV)
      assert.equal(1, code, out .. err)
      assert.matches("import_playbook cycle: " .. d .. "/a.yml -> " .. d .. "/sub/b.yml -> " .. d .. "/a.yml",
        err, 1, true)
      assert.falsy(exists(marker))
    end)
  end)

  describe("over SSH", function()
    local srv
    lazy_setup(function() srv = sshd.start {} end)
    lazy_teardown(function() if srv then srv:stop() end end)

    it("runs a playbook on the real sshd; the play's remote_user is the user when the inventory names none", function()
      local d = TMP .. "/ssh"
      os.execute("mkdir -p " .. d)
      write(d .. "/inv.yml", table.concat({
        "all:", "  hosts:", "    box:", "      ansible_host: 127.0.0.1", "      ansible_port: " .. srv.port,
        "      ansible_ssh_private_key_file: " .. srv.key, "      luasible_known_hosts: " .. srv.known_hosts, "" },
        "\n"))
      write(d .. "/site.yml", table.concat({
        "- hosts: box", "  remote_user: " .. srv.user, "  tasks:",
        "    - name: who", "      command: id -un", "      register: me",
        "    - name: file", "      ansible.builtin.copy:", "        content: \"{{ me.stdout }} over ssh\\n\"",
        "        dest: " .. d .. "/out.txt", "      notify: done",
        "  handlers:", "    - name: done", "      shell: echo $LUASIBLE_TEST_SSHD > " .. d .. "/handler.txt", "" },
        "\n"))
      local out, code, err = cli("run " .. d .. "/site.yml -i " .. d .. "/inv.yml")
      assert.equal(0, code, out .. err)
      assert.equal(srv.user .. " over ssh\n", read(d .. "/out.txt"))
      -- the handler ran through the test server (its environment says so)
      assert.equal(srv.dir .. "\n", read(d .. "/handler.txt"))
      assert.same({ ok = 3, changed = 3, unreachable = 0, failed = 0, skipped = 0, ignored = 0 },
        recap_of(out, "box"))
    end)
  end)
end)
