--- A 40-task playbook on 20 test hosts (issue 12, "Speed"). Run from the
-- repo root, as root (test hosts: network namespaces, an sshd each):
--   make && lua5.4 bench/playbook40_bench.lua [HOSTS=20]
-- The playbook: 40 tasks (file, copy of content and of a file, template
-- notifying a handler, lineinfile, file mode, command, command over a
-- 3-item loop; 5 rounds of these 8) and a handler, gather_facts off, each
-- side writing under its own folder of the same hosts, from nothing. In
-- one invocation, on the same HOSTS fresh test hosts:
--   ansible  `ansible-playbook -f HOSTS` (ANSIBLE_PIPELINING=1, its default
--            ssh_args: ControlMaster=auto, ControlPersist=60s)
--   luasible `bin/luasible run -f HOSTS` (the whole command: start, load,
--            check, connect, run)
--   raw      the same commands luasible's tasks end up running (recorded
--            from a run of the same playbook through a recording connection:
--            every execute, stream and put with its arguments, per host),
--            replayed over fresh luasible.connect connections, one coroutine
--            per host, each host's commands in order: the floor of what
--            running these tasks over SSH costs
-- Targets: ansible / luasible >= 20; luasible / raw <= 1.5.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
local runner = require "luasible.play"
local playbook = require "luasible.play.playbook"
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local common = require "bench.common"

local HOSTS = tonumber(arg[1]) or 20

common.need_test_hosts()
if not os.execute("command -v ansible-playbook >/dev/null 2>&1") then
  io.stderr:write("ansible-playbook not installed\n")
  os.exit(1)
end

local q = common.q
local function sh(cmd) assert(os.execute(cmd), cmd) end

-- the playbook tree
local dir = os.tmpname()
os.remove(dir)
sh("mkdir -p " .. q(dir .. "/files") .. " " .. q(dir .. "/templates"))
files.write(dir .. "/files/static.txt", string.rep("static content line\n", 200))
files.write(dir .. "/templates/app.j2", "[app]\nname = {{ inventory_hostname }}\nround = {{ n }}\n"
  .. "{% for a in apps %}app.{{ a }} = {{ root }}/{{ a }}\n{% endfor %}port = {{ 8000 + n }}\n")
local out = { "- hosts: all", "  gather_facts: false", "  vars:", "    apps: [alpha, beta, gamma]",
  "  tasks:" }
local function add(s) out[#out + 1] = s end
local ntasks = 0
for n = 1, 5 do
  local d = "{{ root }}/d" .. n
  local function task(name) ntasks = ntasks + 1; add("    - name: " .. name .. " " .. n) end
  task("folder"); add("      file: path=" .. d .. " state=directory mode=0755")
  task("content"); add("      copy:"); add("        content: \"round " .. n .. " on {{ inventory_hostname }}\\n\"")
  add("        dest: \"" .. d .. "/content.txt\""); add("        mode: \"0644\"")
  task("static"); add("      copy: src=static.txt dest=" .. d .. "/static.txt mode=0644")
  task("template"); add("      template: src=app.j2 dest=" .. d .. "/app.ini mode=0640")
  add("      vars: { n: " .. n .. " }"); add("      notify: restart")
  task("line"); add("      lineinfile:"); add("        path: \"" .. d .. "/app.ini\"")
  add("        regexp: \"^extra =\""); add("        line: \"extra = " .. n .. "\"")
  task("mode"); add("      file: path=" .. d .. "/content.txt mode=0600")
  task("read"); add("      command: cat " .. d .. "/app.ini"); add("      changed_when: false")
  task("loop"); add("      command: ls " .. d .. "/{{ item }}"); add("      loop: [content.txt, static.txt, app.ini]")
  add("      changed_when: false")
end
assert(ntasks == 40)
add("  handlers:")
add("    - name: restart")
add("      command: touch {{ root }}/restarted")
files.write(dir .. "/site.yml", table.concat(out, "\n") .. "\n")

local hosts = th.start({ n = HOSTS, start_timeout = 60 })
local cleanup = function()
  hosts:stop()
  os.execute("rm -rf " .. q(dir))
end

-- the inventories: Ansible's (OpenSSH: the run's key, strict known_hosts) and luasible's
local alines, llines = { "[testhosts]" }, { "[testhosts]" }
for _, h in ipairs(hosts) do
  alines[#alines + 1] = string.format("%s ansible_host=%s ansible_user=root ansible_ssh_private_key_file=%s"
    .. " ansible_ssh_common_args='-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"
    .. " -F /dev/null'", h.name, h.address, h.key, h.known_hosts)
  llines[#llines + 1] = string.format("%s ansible_host=%s ansible_user=root ansible_ssh_private_key_file=%s"
    .. " luasible_known_hosts=%s luasible_host_key_check=strict luasible_ssh_config=none",
    h.name, h.address, h.key, h.known_hosts)
end
files.write(dir .. "/ansible.ini", table.concat(alines, "\n") .. "\n")
files.write(dir .. "/ansible.cfg", "[defaults]\n")
files.write(dir .. "/luasible.ini", table.concat(llines, "\n") .. "\n")

local function timed(cmd)
  local t0 = luasible.now()
  local okc, _, code = os.execute(cmd)
  local dt = luasible.now() - t0
  if not okc then
    for _, f in ipairs({ "ansible.out", "luasible.out" }) do io.stderr:write(files.read(dir .. "/" .. f) or "") end
    cleanup()
    error(string.format("failed (%s): %s", tostring(code), cmd))
  end
  return dt
end

-- every host has each side's files, from nothing
local function check(root)
  for _, h in ipairs(hosts) do
    local o = h:exec("cat " .. root .. "/d5/app.ini; test -e " .. root .. "/restarted && echo restarted")
    assert(o:find("extra = 5\nrestarted", 1, true), h.name .. " " .. root .. ": " .. o)
  end
end

-- ansible-playbook
local cp = "/tmp/lsb40cp." .. tostring(os.time())
sh("mkdir -p " .. cp)
local t_ansible = timed(string.format("cd %s && env ANSIBLE_PIPELINING=1 ANSIBLE_HOST_KEY_CHECKING=1"
  .. " ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_SSH_CONTROL_PATH_DIR=%s ANSIBLE_CONFIG=%s/ansible.cfg"
  .. " ANSIBLE_LOCAL_TEMP=%s/.ansible-tmp ansible-playbook -i ansible.ini -f %d -e root=/srv/b-ansible"
  .. " site.yml >%s/ansible.out 2>&1", q(dir), cp, q(dir), q(dir), HOSTS, q(dir)))
check("/srv/b-ansible")
os.execute("rm -rf " .. cp)

-- luasible run
local t_luasible = timed(string.format("%s/bin/luasible run -i %s/luasible.ini -f %d -e root=/srv/b-luasible"
  .. " %s/site.yml >%s/luasible.out 2>&1 </dev/null", q(os.getenv("PWD")), q(dir), HOSTS, q(dir), q(dir)))
check("/srv/b-luasible")

-- the commands luasible's tasks run, recorded per host through a connection
-- that passes everything on (its put is its own, so transfers are recorded
-- as puts, not as their SFTP steps)
local log = {}
local function recorder(conn, rec)
  local w = { _transfer = false }
  for _, m in ipairs({ "execute", "stream", "lines", "put" }) do
    if conn[m] then
      w[m] = function(_, ...)
        rec[#rec + 1] = { m, table.pack(...) }
        return conn[m](conn, ...)
      end
    end
  end
  w.close = function() return conn:close() end
  return setmetatable(w, { __index = conn })
end
local pb = assert(playbook.load(dir .. "/site.yml"))
local plays = pb.plays or pb
local recap = assert(runner.play(plays[1] or plays, {
  inventory = dir .. "/luasible.ini", forks = HOSTS, base_dir = dir, extra_vars = { root = "/srv/b-raw" },
  on_event = function() end,
  connect = function(_, name)
    log[name] = {}
    return recorder(assert(luasible.connect(hosts:get(name):connect_args())), log[name])
  end,
}))
for h, c in pairs(recap) do assert(c.failed == 0 and c.unreachable == 0, h) end
check("/srv/b-raw")
local ncmds = #log[hosts[1].name]
for _, h in ipairs(hosts) do h:exec("rm -rf /srv/b-raw") end

-- raw: the same calls, without what functions the play gave them
local function data_only(t)
  if type(t) ~= "table" then return t end
  local o = {}
  for k, v in pairs(t) do if type(v) ~= "function" then o[k] = v end end
  return o
end
local t0 = luasible.now()
luasible.run(function()
  local tasks = {}
  for _, h in ipairs(hosts) do
    tasks[#tasks + 1] = luasible.spawn(function()
      local conn = assert(luasible.connect(h:connect_args()))
      for _, c in ipairs(log[h.name]) do
        local m, a = c[1], c[2]
        local args = {}
        for i = 1, a.n do args[i] = data_only(a[i]) end
        if m == "stream" or m == "lines" then
          for _ in conn[m](conn, table.unpack(args, 1, a.n)) do end
        else
          assert(conn[m](conn, table.unpack(args, 1, a.n)))
        end
      end
      conn:close()
    end)
  end
  for _, t in ipairs(tasks) do t:wait() end
end)
local t_raw = luasible.now() - t0
check("/srv/b-raw")
cleanup()

print(string.format("| 40-task playbook (%d tasks run on each host: %d calls), %d test hosts, forks %d |"
  .. " ansible-playbook %.2f s | luasible run %.2f s | raw %.2f s | ansible/luasible %.1fx (target >= 20x: %s)"
  .. " | luasible/raw %.2fx (target <= 1.5x: %s) |",
  ntasks, ncmds, HOSTS, HOSTS, t_ansible, t_luasible, t_raw, t_ansible / t_luasible,
  t_ansible / t_luasible >= 20 and "met" or "not met", t_luasible / t_raw,
  t_luasible / t_raw <= 1.5 and "met" or "not met"))
