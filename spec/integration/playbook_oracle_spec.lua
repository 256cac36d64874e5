-- The same YAML playbook run by Debian's ansible-playbook (ansible-core,
-- on localhost with the local connection) and by `luasible run`, each into
-- its own temp folder: the files they leave and the recap counts must be
-- the same. #oracle: `make test-oracle` (needs ansible-core: scripts/deps).
local files = require "spec.helpers.files"
local write = files.write

local TMP = files.tmpdir()

local cli = require "spec.helpers.cli"
local run = cli.run

-- every file under dir (relative name -> content; a folder -> "<dir>")
local tree = cli.tree

-- the recap counts of a host (ok, changed, unreachable, failed, skipped, ignored)
local function recap_of(out, host)
  local r = cli.recap_of(out, host)
  r.rescued = nil
  return r
end

local PLAYBOOK = [==[
- name: oracle
  hosts: all
  gather_facts: false
  vars:
    greeting: hello
    who: nobody
    ports: {web: 80, db: 5432, cache: 6379}
    groups_list: [{name: g1, members: [a, b]}, {name: g2, members: [c]}]
  vars_files:
    - vars.yml
  pre_tasks:
    - name: pre
      ansible.builtin.shell: echo pre >> {{ out }}/log
      notify: early
  tasks:
    - name: dir
      file: path={{ out }}/sub state=directory mode=0755
    - name: write
      copy:
        content: "{{ greeting }} {{ who }} {{ port }}\n"
        dest: "{{ out }}/sub/conf"
        mode: "0640"
      notify: topic
    - name: again, unchanged
      ansible.builtin.copy:
        content: "{{ greeting }} {{ who }} {{ port }}\n"
        dest: "{{ out }}/sub/conf"
        mode: "0640"
      notify: topic
    - name: items
      shell: echo {{ x }} >> {{ out }}/items
      with_items: [[a, b], c]
      loop_control:
        loop_var: x
    - name: dict
      shell: echo {{ item.key }}={{ item.value }} >> {{ out }}/dict
      with_dict: "{{ ports }}"
    - name: sequence
      shell: echo {{ item }} >> {{ out }}/seq
      with_sequence: start=1 end=3 format=n%02d
    - name: subelements
      shell: echo {{ item.0.name }}-{{ item.1 }} >> {{ out }}/sub/members
      with_subelements:
        - "{{ groups_list }}"
        - members
    - name: nested
      shell: echo {{ item.0 }}{{ item.1 }} >> {{ out }}/nested
      with_nested: [[x, y], [1, 2]]
    - name: facts
      set_fact:
        total: "{{ [1, 2, 3] | sum }}"
    - name: check
      assert:
        that:
          - total | int == 6
          - who == 'world'
    - name: where
      command: pwd
      args:
        chdir: "{{ out }}/sub"
      register: where
      changed_when: false
    - name: skipped
      shell: echo never >> {{ out }}/log
      when:
        - where.stdout is search('sub')
        - total | int > 100
    - name: ignored
      command: "false"
      ignore_errors: true
  post_tasks:
    - name: post
      shell: echo post {{ total }} >> {{ out }}/log
  handlers:
    - name: early
      shell: echo handler-early >> {{ out }}/log
    - name: late
      listen: topic
      shell: echo handler-late >> {{ out }}/log
- import_playbook: more/second.yml
]==]

local SECOND = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: read back
      command: cat {{ out }}/sub/conf
      register: c
    - name: copy it
      copy: content="{{ c.stdout }} / {{ total }}" dest={{ out }}/second
]]

describe("#oracle YAML playbooks against ansible-playbook", function()
  local have = os.execute("command -v ansible-playbook >/dev/null 2>&1")
  if not have then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end

  it("leaves the same files and the same recap counts", function()
    os.execute("mkdir -p " .. TMP .. "/pb/more " .. TMP .. "/ansible " .. TMP .. "/luasible")
    write(TMP .. "/pb/site.yml", PLAYBOOK)
    write(TMP .. "/pb/more/second.yml", SECOND)
    write(TMP .. "/pb/vars.yml", "who: world\nport: 8080\n")
    write(TMP .. "/inv.ini", "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")
    local ar, lr = cli.both { playbook = TMP .. "/pb/site.yml", inventory = TMP .. "/inv.ini", out = TMP, tmp = TMP }
    assert.equal(0, ar.code, ar.out .. ar.err)
    assert.equal(0, lr.code, lr.out .. lr.err)
    local aout, lout = ar.out, lr.out
    local a, l = tree(TMP .. "/ansible"), tree(TMP .. "/luasible")
    -- the second play read back what the first wrote, with its path in it
    assert.equal("hello world 8080 / 6", a["./second"])
    assert.same(a, l)
    assert.equal("pre\nhandler-early\nhandler-late\npost 6\n", l["./log"])
    local amode = run("stat -c %a " .. TMP .. "/ansible/sub/conf")
    local lmode = run("stat -c %a " .. TMP .. "/luasible/sub/conf")
    assert.equal("640\n", amode)
    assert.equal(amode, lmode)
    assert.same(recap_of(aout, "localhost"), recap_of(lout, "localhost"))
  end)
end)
