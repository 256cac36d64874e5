--- Modules of issue 14, luasible vs ansible-playbook (pipelining) on real
-- test hosts. Run from the repo root, as root:
--   lua5.4 bench/modules_bench.lua [SECTION=all] [HOSTS=10]
-- Each section is its own function (the module helpers of issue 14 each add
-- one); a section runs its play twice (the first run changes, the second
-- must find nothing to do) with `luasible run` on HOSTS test hosts and with
-- ansible-playbook (ANSIBLE_PIPELINING=1, -f HOSTS) on HOSTS other test
-- hosts prepared alike, one after the other (never at once), and prints a
-- row per run: wall time, the changed count of the recap, the ratio.
-- Target (issue 14): luasible at least 10x faster, both runs.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
local twins = require "spec.helpers.twins"
local files = require "spec.helpers.files"

local SECTION = arg[1] or "all"
local HOSTS = tonumber(arg[2]) or 10

local function q(s) return "'" .. tostring(s):gsub("'", [['\'']]) .. "'" end

-- run `cmd` in `dir`, return the wall time and the summed changed= of the PLAY RECAP
local function timed(dir, cmd)
  local t0 = luasible.now()
  local out, ok = files.run("cd " .. q(dir) .. " && " .. cmd .. " 2>&1")
  local wall = luasible.now() - t0
  if not ok then error("failed: " .. cmd .. "\n" .. out) end
  local changed, failed = 0, 0
  for c, f in out:gmatch("changed=(%d+)%s+unreachable=%d+%s+failed=(%d+)") do
    changed, failed = changed + tonumber(c), failed + tonumber(f)
  end
  if failed > 0 then error("failed tasks: " .. cmd .. "\n" .. out) end
  return wall, changed
end

-- A play `tree` run twice by each side on t's hosts; `setup` (sh) runs on every host first. Returns rows.
local function both_twice(t, name, tree, setup)
  for i = 1, #t.names do
    assert(select(2, t.ansible[i]:exec(setup)))
    assert(select(2, t.luasible[i]:exec(setup)))
  end
  local rows = {}
  local walls = {}
  for _, side in ipairs { "luasible", "ansible" } do
    local dir = t.dir .. "/bench-" .. name .. "-" .. side
    assert(os.execute("mkdir -p " .. q(dir)))
    for rel, content in pairs(tree) do
      local p = dir .. "/" .. rel
      assert(os.execute("mkdir -p " .. q(p:match("^(.*)/"))))
      files.write(p, content)
    end
    files.write(dir .. "/inventory.ini", t:inventory(side))
    local cmd
    if side == "ansible" then
      files.write(dir .. "/ansible.cfg", "[defaults]\n")
      cmd = "env ANSIBLE_CONFIG=ansible.cfg ANSIBLE_PIPELINING=1 ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=1"
        .. " ANSIBLE_LOCAL_TEMP=" .. q(dir .. "/.tmp") .. " ANSIBLE_SSH_CONTROL_PATH_DIR=" .. q(dir .. "/.cp")
        .. " ansible-playbook -i inventory.ini -f " .. #t.names .. " site.yml"
    else
      cmd = "env LUASIBLE_CONFIG=/dev/null NO_COLOR=1 " .. q(os.getenv("PWD") .. "/bin/luasible")
        .. " run -i inventory.ini -f " .. #t.names .. " site.yml"
    end
    walls[side] = {}
    for round = 1, 2 do
      local wall, changed = timed(dir, cmd)
      walls[side][round] = wall
      rows[#rows + 1] = { side = side, round = round, wall = wall, changed = changed }
    end
  end
  for _, r in ipairs(rows) do
    r.ratio = walls.ansible[r.round] / walls.luasible[r.round]
  end
  return rows
end

local function report(title, rows, hosts)
  print("### " .. title .. " (" .. hosts .. " hosts)")
  print("| side | run | wall | changed (recap) | ansible / luasible | target 10x |")
  print("| --- | --- | --- | --- | --- | --- |")
  for _, r in ipairs(rows) do
    print(string.format("| %s | %d | %.2f s | %d | %.1fx | %s |", r.side, r.round, r.wall, r.changed, r.ratio,
      r.side == "luasible" and (r.ratio >= 10 and "met" or "not met") or ""))
  end
  io.stdout:flush()
end

local sections = {}

---------------------------------------------------------------------------
-- == files modules (issue 14, wt-mod-files): lineinfile, blockinfile,
-- replace, stat, slurp, find, unarchive (remote_src). ini_file and archive
-- are community.general's: not installed for ansible-playbook, so not here.
---------------------------------------------------------------------------
function sections.files(t)
  local setup = [[rm -rf /srv/bf && mkdir -p /srv/bf/tree/a /srv/bf/out && cd /srv/bf &&
    printf '# PermitRootLogin yes\nPort 22\nX11Forwarding yes\n' > sshd.conf &&
    printf '[main]\nport = 80\nhost = a\n' > app.ini && for i in 1 2 3 4 5; do echo $i > tree/f$i.txt; done &&
    echo x > tree/a/x.log && touch -d 2020-01-01 tree/*.txt tree/a/x.log tree/a &&
    tar czf src.tgz -C tree .]]
  local tree = { ["site.yml"] = [[
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
]] }
  return both_twice(t, "files", tree, setup)
end
-- == end of files modules ==

local ok, why = twins.available()
if not ok then
  io.stderr:write("no test hosts or no ansible-playbook: ", why, "\n")
  os.exit(1)
end
local names = {}
for i = 1, HOSTS do names[i] = "h" .. i end
local t = twins.start { names = names }
local ran = false
for name, f in pairs(sections) do
  if SECTION == "all" or SECTION == name then
    local okr, rows = pcall(f, t)
    if okr then report(name, rows, HOSTS) else io.stderr:write(name, ": ", tostring(rows), "\n") end
    ran = true
  end
end
t:stop()
if not ran then io.stderr:write("no section '", SECTION, "'\n") os.exit(1) end
