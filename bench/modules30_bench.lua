--- bench/modules30_bench.lua: issue 14's Speed benchmark. A play of 30 of
-- the issue's modules, run twice (the first run changes, the second must
-- find nothing to do: asserted, changed=0 on both tools) by luasible and by
-- ansible-playbook with pipelining, forks = HOSTS, each tool on HOSTS test
-- hosts of its own, all of the same kind (one testhosts.lua run: HOSTS
-- "a-mNN" for Ansible, HOSTS "l-mNN" for luasible, the same inventory names
-- on both sides, as twins.lua) and one more, "srv", serving HTTP
-- (spec/helpers/httpd.py: get_url, uri) and a git repository (git
-- http-backend) to both. Then the round trips of each module in the
-- unchanged case, measured: on fresh hosts whose sshd logs at DEBUG1, the
-- exec and subsystem requests a task adds (a play of the task twice minus
-- the play of it once, after the whole play has converged the host).
--
--   make && lua5.4 bench/modules30_bench.lua [HOSTS=20] [all|race|rtt|rtt-luasible]
-- (root: test hosts). Target (issue 14): luasible >= 10x faster than
-- ansible-playbook with pipelining, both runs.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path

local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local common = require "bench.common"
local q = common.q

local N = tonumber(arg[1]) or 20
local MODE = arg[2] or "all"

local KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@bench"

-- the 30 tasks, one module each (the name is the module's)
local TASKS = {
  { "group", "group: name=deploy gid=2500" },
  { "user", "user: name=app uid=2500 group=deploy groups=users shell=/bin/sh comment='App user'" },
  { "authorized_key", "authorized_key: user=app key='" .. KEY .. "'" },
  { "hostname", "hostname: name={{ inventory_hostname }}.bench.example" },
  { "cron", "cron: name=backup user=app hour=2 minute=0 job=/usr/local/bin/backup" },
  { "sysctl", "sysctl: name=net.ipv4.ip_forward value=1 sysctl_file=/etc/sysctl.d/90-bench.conf" },
  { "mount", "mount: path=/mnt/bench src=tmpfs fstype=tmpfs opts=size=1m state=mounted" },
  { "file", "file: path=/srv/app state=directory mode=0755" },
  { "copy", "copy: src=files/app.conf dest=/srv/app/app.conf mode=0644" },
  { "template", "template: src=templates/motd.j2 dest=/srv/app/motd mode=0644" },
  { "lineinfile", "lineinfile: path=/srv/bf/sshd.conf regexp='^\\s*#?\\s*PermitRootLogin' line='PermitRootLogin no'" },
  { "blockinfile", "blockinfile: path=/srv/bf/block.conf block='k = v'" },
  { "replace", "replace: path=/srv/bf/sshd.conf regexp='X11Forwarding yes' replace='X11Forwarding no'" },
  { "ini_file", "ini_file: path=/srv/bf/app.ini section=main option=workers value=4" },
  { "stat", "stat: path=/srv/bf/sshd.conf" },
  { "slurp", "slurp: src=/srv/bf/app.ini" },
  { "find", "find: paths=/srv/bf/tree patterns=*.txt recurse=true" },
  { "archive", "archive: path=/srv/bf/tree/ dest=/srv/bf/tree.tgz" },
  { "unarchive", "unarchive: src=/srv/bf/src.tgz dest=/srv/bf/out remote_src=true" },
  { "get_url", "get_url: url={{ web }}/files/a.txt dest=/srv/app/a.txt mode=0644" },
  { "uri", "uri: url={{ web }}/files/a.txt" },
  { "git", "git: repo={{ git_url }} dest=/srv/repo" },
  { "synchronize", "synchronize: src=files/sync/ dest=/srv/sync/" },
  { "pip", "pip: name=hello_lsb extra_args='--no-index --find-links=/srv/wheels --break-system-packages'" },
  { "apt", "apt: deb=/srv/debs/lsb-bench_1.0_all.deb" },
  { "script", "script: files/setup.sh", "args: { creates: /srv/setup.done }" },
  { "raw", "raw: cat /etc/hostname", "changed_when: false" },
  { "command", "command: touch /srv/cmd.done", "args: { creates: /srv/cmd.done }" },
  { "shell", "shell: echo done > /srv/shell.done", "args: { creates: /srv/shell.done }" },
  { "wait_for_connection", "wait_for_connection: timeout=10" },
}

-- more modules, for the round trips only (not in the timed play): { name,
-- task, extra line, tasks before it, luasible only }
local EXTRA = {
  { "ping", "ping:" },
  { "setup", "setup:" },
  { "fetch", "fetch: src=/etc/hostname dest=fetched/" },
  { "package", "package: name=lsb-bench" },
  { "service", "service: name=cron state=started" },
  { "wait_for", "wait_for: path=/srv/bf/sshd.conf" },
  { "tempfile", "tempfile: state=file", "changed_when: false" },
  { "streaming_shell", "streaming_shell: cat /etc/hostname", "changed_when: false", nil, true },
  { "debug", "debug: msg=hi" },
  { "assert", "assert: { that: [ '1 == 1' ] }" },
  { "fail", "fail: msg=no", "ignore_errors: true" },
  { "set_fact", "set_fact: x=1" },
  { "include_vars", "include_vars: vars.yml" },
  { "meta", "meta: noop" },
  { "add_host", "add_host: name=extra1 groups=extra" },
  { "group_by", "group_by: key=g1" },
  { "pause", "pause: seconds=0" },
  { "async_status", "async_status: jid={{ job.ansible_job_id }}", "register: js\n      until: js.finished\n"
    .. "      retries: 20\n      delay: 0.2",
    { { "start", "command: sleep 0", "async: 10\n      poll: 0\n      register: job" } } },
}

local function play_text(list)
  local out = { "- hosts: targets", "  gather_facts: false", "  tasks:" }
  for _, t in ipairs(list) do
    out[#out + 1] = "    - name: " .. t[1]
    out[#out + 1] = "      " .. t[2]
    if t[3] then out[#out + 1] = "      " .. t[3] end
  end
  return table.concat(out, "\n") .. "\n"
end

local TREE = {
  ["files/app.conf"] = "listen = 0.0.0.0\nport = 8080\n",
  ["templates/motd.j2"] = "Welcome to {{ inventory_hostname }} ({{ web }})\n",
  ["files/setup.sh"] = "#!/bin/sh\ntouch /srv/setup.done\n",
  ["files/sync/index.html"] = "<p>hello</p>\n",
  ["files/sync/css/site.css"] = "p { color: red }\n",
  ["vars.yml"] = "x: 1\n",
}

-- what every target has before the first run (not timed)
local HOST_SETUP = [[set -e
export DEBIAN_FRONTEND=noninteractive
rm -f /var/lib/man-db/auto-update  # no mandb run on every dpkg -i (setup time only)
for d in /tmp/cron-daemon-common_*.deb /tmp/cron_*.deb; do dpkg -i "$d" >/dev/null 2>&1; done
rm -rf /srv/bf && mkdir -p /srv/bf/tree/a /srv/bf/out /srv/debs && cd /srv/bf
printf '# PermitRootLogin yes\nPort 22\nX11Forwarding yes\n' > sshd.conf
printf '[main]\nport = 80\n' > app.ini
printf 'a = b\n' > block.conf
for i in 1 2 3 4 5; do echo $i > tree/f$i.txt; done
echo x > tree/a/x.log && touch -d 2020-01-01 tree/*.txt tree/a/x.log tree/a tree
tar czf src.tgz -C tree .
mv /tmp/lsb-bench_1.0_all.deb /srv/debs/
/usr/bin/python3 - <<'EOF'
import zipfile, os
os.makedirs("/srv/wheels", exist_ok=True)
name, ver = "hello_lsb", "1.0"
di = "%s-%s.dist-info" % (name, ver)
fs = {name + "/__init__.py": "VERSION = %r\n" % ver,
      di + "/METADATA": "Metadata-Version: 2.1\nName: hello-lsb\nVersion: %s\n" % ver,
      di + "/WHEEL": "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
fs[di + "/RECORD"] = "".join("%s,,\n" % f for f in fs) + di + "/RECORD,,\n"
with zipfile.ZipFile("/srv/wheels/%s-%s-py3-none-any.whl" % (name, ver), "w") as z:
    for f, c in fs.items():
        z.writestr(f, c)
EOF
]]

-- the .deb of the apt task and cron's .debs (cron: Ansible's cron module needs
-- crontab too), copied into each target's /tmp
local function debs(dir)
  local root = dir .. "/debroot"
  assert(os.execute("mkdir -p " .. q(root .. "/DEBIAN") .. " " .. q(root .. "/usr/share/lsb-bench")))
  files.write(root .. "/DEBIAN/control", "Package: lsb-bench\nVersion: 1.0\nArchitecture: all\n"
    .. "Maintainer: bench <bench@example.org>\nDescription: issue 14 bench package\n")
  files.write(root .. "/usr/share/lsb-bench/README", "bench\n")
  assert(os.execute("dpkg-deb -b -Zgzip " .. q(root) .. " " .. q(dir .. "/lsb-bench_1.0_all.deb") .. " >/dev/null"))
  local a = "/var/cache/apt/archives/"
  local p = io.popen("ls " .. a .. "cron-daemon-common_*.deb " .. a .. "cron_*.deb 2>/dev/null")
  local list = { dir .. "/lsb-bench_1.0_all.deb" }
  for l in p:read("a"):gmatch("%S+") do list[#list + 1] = l end
  p:close()
  assert(#list == 3, "cron's .debs not in /var/cache/apt/archives (scripts/deps downloads them)")
  return list
end

local function prepare(host, deb_list)
  for _, d in ipairs(deb_list) do assert(os.execute("cp " .. q(d) .. " " .. q(host.root .. "/tmp/"))) end
  local out, ok = host:exec(HOST_SETUP .. " 2>&1")
  assert(ok, "setup of " .. host.name .. ": " .. tostring(out))
end

-- a testhosts run of srv + n targets per side: hosts, sides { ansible = {
-- {name, host} ... }, luasible = ... }, vars
local function start(n, prefix, config, dir)
  local names = { "srv" }
  for i = 1, n do names[#names + 1] = string.format("a-%s%02d", prefix, i) end
  for i = 1, n do names[#names + 1] = string.format("l-%s%02d", prefix, i) end
  local hosts = th.start { names = names, config = config }
  local sides = { ansible = {}, luasible = {} }
  for i = 1, n do
    local name = string.format("%s%02d", prefix, i)
    sides.ansible[i] = { name = name, host = hosts:get("a-" .. name) }
    sides.luasible[i] = { name = name, host = hosts:get("l-" .. name) }
  end
  local vars = common.serve(hosts:get("srv"))
  local deb_list = debs(dir)
  for _, side in ipairs { "ansible", "luasible" } do
    for _, e in ipairs(sides[side]) do prepare(e.host, deb_list) end
  end
  return hosts, sides, vars
end

local function side_dir(dir, side, vars, entries)
  local d = dir .. "/" .. side
  assert(os.execute("mkdir -p " .. q(d)))
  common.write_tree(d, TREE)
  files.write(d .. "/site.yml", play_text(TASKS))
  files.write(d .. "/inv.ini", common.inventory(side, entries, "targets", vars))
  return d
end

local function run_ok(side, d, play, want_changed)
  local secs, code, out = common.timed(d, common.command(side, d, N, play))
  local r = common.recap(out)
  if code ~= 0 or r.failed > 0 or r.unreachable > 0 then
    error(side .. " " .. play .. " failed (exit " .. tostring(code) .. "):\n" .. out)
  end
  if want_changed == false and r.changed ~= 0 then
    error(side .. ": the second run changed " .. r.changed .. " (must be 0):\n" .. out)
  end
  if want_changed == true and r.changed == 0 then error(side .. ": the first run changed nothing:\n" .. out) end
  return secs, r, out
end

local function race(dir)
  local hosts, sides, vars = start(N, "m", nil, dir)
  local rows = {}
  local ok, err = pcall(function()
    if os.getenv("HOLD") then -- debugging: the hosts stay up until dir/hold is removed
      for _, side in ipairs { "luasible", "ansible" } do side_dir(dir, side, vars, sides[side]) end
      files.write(dir .. "/hold", "")
      print("holding " .. dir)
      io.stdout:flush()
      while files.read(dir .. "/hold") do os.execute("sleep 1") end
      return
    end
    for _, side in ipairs { "luasible", "ansible" } do
      local d = side_dir(dir, side, vars, sides[side])
      for run = 1, 2 do
        local secs, r, out = run_ok(side, d, "site.yml", run == 1)
        rows[side .. run] = { secs = secs, changed = r.changed, ok = r.ok, hosts = r.hosts }
        files.write(dir .. "/" .. side .. run .. ".out", out)
      end
    end
    -- the same end state on both sides (first host pair): the files the play wrote
    local a, l = sides.ansible[1].host, sides.luasible[1].host
    local probe = "cd /srv && md5sum app/app.conf app/a.txt bf/sshd.conf bf/block.conf bf/app.ini sync/index.html"
      .. " sync/css/site.css repo/f1 out/f1.txt; getent passwd app; crontab -l -u app | grep -v '^#'; cat /etc/hostname"
    local pa, pl = a:exec(probe), l:exec(probe)
    rows.same = pa == pl
    if not rows.same then print("end state differs:\n--- ansible\n" .. pa .. "\n--- luasible\n" .. pl) end
  end)
  hosts:stop()
  if not ok then error(err, 0) end
  if os.getenv("HOLD") then return end
  print(string.format("\n30 modules, %d hosts per tool (forks %d), run twice each; same end state on the first"
    .. " pair: %s", N, N, tostring(rows.same)))
  common.race_table(rows)
end

-- exec and subsystem requests sshd logged (LogLevel DEBUG1)
local requests = require("spec.helpers.hosts_task").ssh_requests

local function round_trips(dir, with_ansible)
  local hosts, sides, vars = start(1, "r", { "LogLevel DEBUG1" }, dir)
  local out = {}
  local ok, err = pcall(function()
    local tools = with_ansible and { "luasible", "ansible" } or { "luasible" }
    for _, side in ipairs(tools) do
      local d = side_dir(dir, side, vars, sides[side])
      run_ok(side, d, "site.yml", true)
      run_ok(side, d, "site.yml", false)
      local host = sides[side][1].host
      local all = {}
      for _, t in ipairs(TASKS) do all[#all + 1] = t end
      for _, t in ipairs(EXTRA) do all[#all + 1] = t end
      for i, t in ipairs(all) do
        if not (t[5] and side == "ansible") then
          local one, two = {}, {}
          for _, p in ipairs(t[4] or {}) do one[#one + 1] = p; two[#two + 1] = p end
          one[#one + 1] = t
          two[#two + 1] = t
          two[#two + 1] = t
          files.write(d .. "/one.yml", play_text(one))
          files.write(d .. "/two.yml", play_text(two))
          local n0 = requests(host)
          local ok1, e1 = pcall(run_ok, side, d, "one.yml", i <= #TASKS and false or nil)
          local n1 = requests(host)
          local ok2, e2 = pcall(run_ok, side, d, "two.yml", i <= #TASKS and false or nil)
          local n2 = requests(host)
          out[i] = out[i] or { name = t[1], extra = i > #TASKS }
          if ok1 and ok2 then out[i][side] = (n2 - n1) - (n1 - n0)
          elseif i <= #TASKS then error(ok1 and e2 or e1, 0)
          else out[i][side] = "failed: " .. tostring(ok1 and e2 or e1):match("[^\n]*\n?[^\n]*") end
        end
      end
    end
  end)
  hosts:stop()
  if not ok then error(err, 0) end
  print("\nround trips per host in the unchanged case (sshd's exec + subsystem requests a task adds)")
  print("| module | luasible | ansible-playbook (pipelining) |")
  print("|---|---|---|")
  for _, r in ipairs(out) do
    print(string.format("| %s%s | %s | %s |", r.name, r.extra and " (not in the play)" or "", tostring(r.luasible),
      r.ansible and tostring(r.ansible) or "-"))
  end
end

local function main()
  local ok, why = th.available()
  if not ok then error("modules30_bench needs test hosts: " .. why) end
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. q(dir)))
  print(os.date("!%Y-%m-%d %H:%M UTC") .. "  lua5.4 bench/modules30_bench.lua " .. N .. " " .. MODE
    .. "  (load " .. (files.read("/proc/loadavg") or ""):match("^(%S+ %S+ %S+)") .. ")")
  local okr, err = pcall(function()
    if MODE == "all" or MODE == "race" then race(dir .. "/race") end
    if MODE == "all" or MODE == "rtt" or MODE == "rtt-luasible" then
      round_trips(dir .. "/rtt", MODE ~= "rtt-luasible")
    end
  end)
  print("(load at the end " .. (files.read("/proc/loadavg") or ""):match("^(%S+ %S+ %S+)") .. ")")
  if os.getenv("KEEP") then print("kept " .. dir) else os.execute("rm -rf " .. q(dir)) end
  if not okr then error(err, 0) end
end

main()
