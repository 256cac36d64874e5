--- The modules of issue 14 on test hosts against ansible-playbook (with
-- pipelining) on the same hosts, in the same invocation. Each section is a
-- function (helpers add their own); run from the repo root, as root, after
-- `make`:
--   lua5.4 bench/modules_bench.lua [SECTION=all] [HOSTS=10] [ROUNDS=3]
-- Sections: net (get_url and git, unchanged runs), files (the file modules, run twice).
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local common = require "bench.common"

local SECTION = arg[1] or "all"
local HOSTS = tonumber(arg[2]) or 10
local ROUNDS = tonumber(arg[3]) or 3

local q, now, median = common.q, common.now, common.median

-- INI inventories of `hosts` for both tools (as spec/helpers/twins.lua)
local function inventories(hosts, list, dir)
  local a, l = { "[targets]" }, { "[targets]" }
  for _, h in ipairs(list) do
    local base = h.name .. " ansible_host=" .. h.address .. " ansible_user=root ansible_ssh_private_key_file=" .. h.key
    a[#a + 1] = base .. " ansible_ssh_common_args='-o UserKnownHostsFile=" .. hosts.known_hosts
      .. " -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -F /dev/null'"
    l[#l + 1] = base .. " luasible_known_hosts=" .. hosts.known_hosts .. " luasible_host_key_check=strict"
      .. " luasible_ssh_config=none"
  end
  files.write(dir .. "/ansible.ini", table.concat(a, "\n") .. "\n")
  files.write(dir .. "/luasible.ini", table.concat(l, "\n") .. "\n")
end

-- one timed run of a playbook by a tool; asserts it succeeded and changed what `want_changed` says
local function run(tool, dir, play, want_changed)
  local cmd
  if tool == "ansible" then
    cmd = "cd " .. q(dir) .. " && env ANSIBLE_PIPELINING=1 ANSIBLE_HOST_KEY_CHECKING=1 ANSIBLE_NOCOLOR=1"
      .. " ANSIBLE_FORKS=" .. HOSTS .. " ANSIBLE_CONFIG=oracle.cfg ANSIBLE_SSH_CONTROL_PATH_DIR=" .. q(dir .. "/.cp")
      .. " ansible-playbook -i ansible.ini " .. play
  else
    cmd = "cd " .. q(dir) .. " && env LUASIBLE_CONFIG=/dev/null NO_COLOR=1 " .. q(os.getenv("PWD") .. "/bin/luasible")
      .. " run -f " .. HOSTS .. " -i luasible.ini " .. play
  end
  local t0 = now()
  local out, ok = files.run(cmd .. " 2>&1")
  local dt = now() - t0
  assert(ok, tool .. " failed:\n" .. out)
  local changed = 0
  for n in out:gmatch("changed=(%d+)") do changed = changed + tonumber(n) end
  if want_changed ~= nil then
    assert((changed > 0) == want_changed, tool .. ": changed=" .. changed .. " (expected "
      .. tostring(want_changed) .. ")\n" .. out)
  end
  return dt
end

local sections = {}

---------------------------------------------------------------------------
-- net (wt-mod-net): get_url (If-Modified-Since, checksum) and git (fetch)
-- unchanged on HOSTS test hosts, against one server test host
---------------------------------------------------------------------------
function sections.net()
  local names = { "srv" }
  for i = 1, HOSTS do names[#names + 1] = string.format("t%02d", i) end
  local hosts = th.start { names = names }
  local srv = hosts:get("srv")
  local served = common.serve(srv)
  local sum = srv:exec("sha256sum /srv/www/a.txt"):match("%x+")
  local list = {}
  for i = 2, #hosts do list[#list + 1] = hosts[i] end
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. q(dir)))
  inventories(hosts, list, dir)
  files.write(dir .. "/oracle.cfg", "[defaults]\n")
  local git_url = served.git_url
  files.write(dir .. "/site.yml", [[
- hosts: targets
  gather_facts: false
  tasks:
    - get_url: url=]] .. served.web .. [[/files/a.txt dest=/root/a.txt mode=0644
    - get_url: url=]] .. served.web .. [[/files/a.txt dest=/root/b.txt checksum=sha256:]] .. sum .. "\n" .. [[
    - git: repo=]] .. git_url .. [[ dest=/root/repo
]])
  -- each tool's own first run (changes), on its own copy of the files: the
  -- hosts are reset between the tools
  local times = { ansible = {}, luasible = {} }
  local firsts = {}
  for _, tool in ipairs { "ansible", "luasible" } do
    for _, h in ipairs(list) do h:exec("rm -rf /root/a.txt /root/b.txt /root/repo") end
    firsts[tool] = run(tool, dir, "site.yml", true)
    for r = 1, ROUNDS do times[tool][r] = run(tool, dir, "site.yml", false) end
  end
  hosts:stop()
  os.execute("rm -rf " .. q(dir))
  local a, l = median(times.ansible), median(times.luasible)
  print(string.format("net: %d hosts, get_url x2 + git, %d unchanged rounds each", HOSTS, ROUNDS))
  print(string.format("  first run (changes): ansible-playbook %.2f s, luasible %.2f s (%.1fx)",
    firsts.ansible, firsts.luasible, firsts.ansible / firsts.luasible))
  local function fmt(t)
    local o = {}
    for i, v in ipairs(t) do o[i] = string.format("%.2f", v) end
    return table.concat(o, ", ")
  end
  print(string.format("  unchanged: ansible-playbook median %.2f s (%s), luasible median %.2f s (%s): %.1fx",
    a, fmt(times.ansible), l, fmt(times.luasible), a / l))
  print(string.format("  target >= 10x faster than ansible-playbook with pipelining: %s",
    a / l >= 10 and "met" or "NOT met"))
end

---------------------------------------------------------------------------
-- == files (wt-mod-files, issue 14): lineinfile x3, blockinfile, replace x2,
-- stat, slurp, find, unarchive (remote_src), run twice (the first changes,
-- the second finds nothing to do) by luasible on HOSTS test hosts and by
-- ansible-playbook (pipelining) on HOSTS others prepared alike (twins.lua),
-- one side after the other. ini_file and archive are community.general's:
-- not installed for ansible-playbook, so not here.
---------------------------------------------------------------------------
local function files_timed(dir, cmd)
  local t0 = now()
  local out, ok = files.run("cd " .. q(dir) .. " && " .. cmd .. " 2>&1")
  local wall = now() - t0
  if not ok then error("failed: " .. cmd .. "\n" .. out) end
  local changed, failed = 0, 0
  for c, f in out:gmatch("changed=(%d+)%s+unreachable=%d+%s+failed=(%d+)") do
    changed, failed = changed + tonumber(c), failed + tonumber(f)
  end
  if failed > 0 then error("failed tasks: " .. cmd .. "\n" .. out) end
  return wall, changed
end

function sections.files()
  local twins = require "spec.helpers.twins"
  local names = {}
  for i = 1, HOSTS do names[i] = "h" .. i end
  local t = twins.start { names = names }
  local setup = [[rm -rf /srv/bf && mkdir -p /srv/bf/tree/a /srv/bf/out && cd /srv/bf &&
    printf '# PermitRootLogin yes\nPort 22\nX11Forwarding yes\n' > sshd.conf &&
    printf '[main]\nport = 80\nhost = a\n' > app.ini && for i in 1 2 3 4 5; do echo $i > tree/f$i.txt; done &&
    echo x > tree/a/x.log && touch -d 2020-01-01 tree/*.txt tree/a/x.log tree/a &&
    tar czf src.tgz -C tree .]]
  local site = [[
- hosts: all
  gather_facts: false
  tasks:
    - lineinfile: { path: /srv/bf/sshd.conf, regexp: '^\s*#?\s*PermitRootLogin', line: PermitRootLogin no }
    - lineinfile: { path: /srv/bf/sshd.conf, regexp: '^Port\s', line: Port 2222 }
    - lineinfile: { path: /srv/bf/sshd.conf, line: 'UseDNS no', insertafter: '^Port' }
    - blockinfile: { path: /srv/bf/app.ini, block: "[extra]\nk = v" }
    - replace: { path: /srv/bf/app.ini, regexp: '^port = \d+$', replace: 'port = 8080' }
    - replace: { path: /srv/bf/sshd.conf, regexp: 'X11Forwarding yes', replace: 'X11Forwarding no' }
    - stat: { path: /srv/bf/sshd.conf }
      register: st
    - slurp: { src: /srv/bf/app.ini }
      register: sl
    - find: { paths: /srv/bf/tree, patterns: '*.txt', recurse: true }
      register: fd
    - unarchive: { src: /srv/bf/src.tgz, dest: /srv/bf/out, remote_src: true }
]]
  for i = 1, #t.names do
    assert(select(2, t.ansible[i]:exec(setup)))
    assert(select(2, t.luasible[i]:exec(setup)))
  end
  local rows, walls = {}, {}
  for _, side in ipairs { "luasible", "ansible" } do
    local dir = t.dir .. "/bench-files-" .. side
    assert(os.execute("mkdir -p " .. q(dir)))
    files.write(dir .. "/site.yml", site)
    files.write(dir .. "/inventory.ini", t:inventory(side))
    local cmd
    if side == "ansible" then
      files.write(dir .. "/ansible.cfg", "[defaults]\n")
      cmd = "env ANSIBLE_CONFIG=ansible.cfg ANSIBLE_PIPELINING=1 ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=1"
        .. " ANSIBLE_LOCAL_TEMP=" .. q(dir .. "/.tmp") .. " ANSIBLE_SSH_CONTROL_PATH_DIR=" .. q(dir .. "/.cp")
        .. " ansible-playbook -i inventory.ini -f " .. HOSTS .. " site.yml"
    else
      cmd = "env LUASIBLE_CONFIG=/dev/null NO_COLOR=1 " .. q(os.getenv("PWD") .. "/bin/luasible")
        .. " run -i inventory.ini -f " .. HOSTS .. " site.yml"
    end
    walls[side] = {}
    for round = 1, 2 do
      local wall, changed = files_timed(dir, cmd)
      walls[side][round] = wall
      rows[#rows + 1] = { side = side, round = round, wall = wall, changed = changed }
    end
  end
  t:stop()
  print("files: " .. HOSTS .. " hosts, 10 tasks, run twice by each side")
  print("| side | run | wall | changed (recap) | ansible / luasible | target 10x |")
  print("| --- | --- | --- | --- | --- | --- |")
  for _, r in ipairs(rows) do
    local ratio = walls.ansible[r.round] / walls.luasible[r.round]
    print(string.format("| %s | %d | %.2f s | %d | %.1fx | %s |", r.side, r.round, r.wall, r.changed, ratio,
      r.side == "luasible" and (ratio >= 10 and "met" or "NOT met") or ""))
  end
end
-- == end of files ==

for name, fn in pairs(sections) do
  if SECTION == "all" or SECTION == name then fn() end
end
