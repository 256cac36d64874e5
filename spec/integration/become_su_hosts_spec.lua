-- become_method su with a password (-K), on a test host where root has a
-- password and the play connects as a user who has none of sudo: su gets
-- a pty for the password (as Ansible gives it one), the command's own
-- stdin, stdout, stderr and exit status stay as they are, a wrong password
-- fails the task with su's words and the password is never shown. And who
-- a play connects as: the host's ansible_user over the play's remote_user
-- over -u, as Ansible's precedence has it. Run with bin/luasible (#hosts).
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local cli = require "spec.helpers.cli"

local TMP = files.tmpdir()

describe("#hosts become_method su with a password, and -u", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, inv
  lazy_setup(function()
    hosts = th.start { n = 1, names = { "box" } }
    local h = hosts[1]
    -- (alice gets a password too: sshd refuses a locked account's key)
    local _, made = h:exec("useradd -m -s /bin/sh alice && printf 'root:R00t-pw\nalice:A1ice-pw\n' | chpasswd"
      .. " && command -v su python3")
    assert(made, "useradd/chpasswd on the test host")
    -- the host's connection variables but the user (-u, remote_user decide)
    inv = TMP .. "/inv.ini"
    files.write(inv, (hosts:inventory_ini():gsub(" ansible_user=%S+", "")))
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local function run(play, args, stdin)
    local f = TMP .. "/site.yml"
    files.write(f, play)
    local input = stdin and ("printf '%s\\n' '" .. stdin .. "' | ") or ""
    return cli.run(input .. "bin/luasible run " .. f .. " -i " .. inv .. " " .. (args or ""))
  end

  local SU_PLAY = [[
- hosts: all
  gather_facts: false
  become: true
  become_method: su
  tasks:
    - shell: "id -un; cat; echo to-stderr >&2; exit 3"
      args: { stdin: "the task's own stdin" }
      register: r
      failed_when: r.rc != 3
    - debug: { msg: "{{ r.stdout_lines | join('|') }} / {{ r.stderr }} / {{ r.rc }}" }
    - copy: { content: "made as root\n", dest: /root/by-su }
]]

  it("runs the task as root through su, the password from -K", function()
    local out, code, err = run(SU_PLAY, "-u alice -K", "R00t-pw")
    assert.equal(0, code, out .. err)
    assert.same({ "root|the task's own stdin / to-stderr / 3" }, cli.msgs(out, "box"))
    local owner = hosts[1]:exec("stat -c %U:%a /root/by-su; cat /root/by-su")
    assert.equal("root:644\nmade as root\n", owner)
    assert.is_nil((out .. err):find("R00t-pw", 1, true))
  end)

  it("fails the task with su's words on a wrong password, the password not shown", function()
    local out, code, err = run(SU_PLAY, "-u alice -K", "wrong-pw")
    assert.equal(2, code, out .. err)
    assert.matches("Authentication failure", out)
    assert.is_nil((out .. err):find("wrong-pw", 1, true))
    assert.equal(1, cli.recap_of(out, "box").failed)
  end)

  it("refuses su without a password when the user needs one, saying how to give it", function()
    local out, code = run("- hosts: all\n  gather_facts: false\n  become: true\n  become_method: su\n  tasks:\n"
      .. "    - command: id -un\n", "-u alice")
    assert.equal(2, code, out)
    assert.matches("needs a password %(give it with %-K or ansible_become_password%)", out)
  end)

  it("connects as -u, the play's remote_user over it, the host's ansible_user over both", function()
    local play = [[
- hosts: all
  gather_facts: false
  tasks:
    - command: id -un
      register: w
    - debug: { msg: "first {{ w.stdout }}" }
- hosts: all
  gather_facts: false
  remote_user: root
  tasks:
    - command: id -un
      register: w
    - debug: { msg: "second {{ w.stdout }}" }
]]
    local out, code, err = run(play, "-u alice")
    assert.equal(0, code, out .. err)
    assert.same({ "first alice", "second root" }, cli.msgs(out, "box"))
    out, code, err = run(play, "-u alice -e ansible_user=alice")
    assert.equal(0, code, out .. err)
    assert.same({ "first alice", "second alice" }, cli.msgs(out, "box"))
  end)
end)
