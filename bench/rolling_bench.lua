--- Rolling deploy benchmark (issue 12, "Running a fleet"). Run from the repo root:
--   make && lua5.4 bench/rolling_bench.lua [rounds]
-- 20 inventory hosts on the local connection (distinct names, one machine),
-- a 5-task play (command, shell, copy, file, lineinfile; a handler) with
-- `serial: 5` (4 batches, the handlers at the end of each), run by
-- `bin/luasible run` and by Debian's `ansible-playbook` in the same
-- invocation, both with forks 20, each into its own folder; the files they
-- leave are compared. Wall time of each run, best and median of `rounds`
-- (default 3) each, interleaved. Target (the ratio issue 12 sets for its
-- 40-task bench against ansible-playbook): luasible at least 20x faster.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"

local rounds = tonumber(arg[1]) or 3
local now = luasible.now

local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)
local function write(p, s)
  local f = assert(io.open(p, "w"))
  f:write(s)
  f:close()
end

local inv = { "[fleet]" }
for i = 1, 20 do inv[#inv + 1] = string.format("h%02d", i) end
inv[#inv + 1] = "[fleet:vars]\nansible_connection=local\nansible_python_interpreter=/usr/bin/python3"
write(dir .. "/inv.ini", table.concat(inv, "\n") .. "\n")
write(dir .. "/site.yml", [[
- name: rolling
  hosts: fleet
  gather_facts: false
  serial: 5
  tasks:
    - name: dir
      file: path={{ out }}/{{ inventory_hostname }} state=directory mode=0755
    - name: config
      copy:
        content: "host {{ inventory_hostname }} batch {{ ansible_play_batch | join(',') }}\n"
        dest: "{{ out }}/{{ inventory_hostname }}/app.conf"
      notify: reload
    - name: setting
      lineinfile:
        path: "{{ out }}/{{ inventory_hostname }}/app.conf"
        line: "port=8080"
    - name: probe
      command: cat {{ out }}/{{ inventory_hostname }}/app.conf
      changed_when: false
    - name: mark
      shell: echo done > {{ out }}/{{ inventory_hostname }}/done
  handlers:
    - name: reload
      shell: echo reloaded >> {{ out }}/{{ inventory_hostname }}/reloads
]])

local env = "ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP="
  .. dir .. "/atmp ANSIBLE_REMOTE_TEMP=" .. dir .. "/atmp "
local function timed(cmd, out)
  os.execute("rm -rf " .. out .. " && mkdir -p " .. out)
  local t0 = now()
  local ok = os.execute(cmd .. " -i " .. dir .. "/inv.ini " .. dir .. "/site.yml -f 20 -e out=" .. out
    .. " >" .. dir .. "/log 2>&1")
  local t = now() - t0
  assert(ok, cmd .. " failed: see " .. dir .. "/log")
  return t
end

local L, A = {}, {}
for _ = 1, rounds do
  L[#L + 1] = timed("bin/luasible run", dir .. "/l")
  A[#A + 1] = timed(env .. "ansible-playbook", dir .. "/a")
end
local same = os.execute("diff -r " .. dir .. "/l " .. dir .. "/a >/dev/null")

local function stats(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  return s[1], s[(#s + 1) // 2]
end
local function list(t)
  local o = {}
  for i, v in ipairs(t) do o[i] = string.format("%.3f", v) end
  return table.concat(o, ", ")
end
local lb, lm = stats(L)
local ab, am = stats(A)
print(string.format("rolling deploy: 20 hosts, serial 5, 5 tasks + handler, %d rounds", rounds))
print(string.format("  luasible run:     best %.3f s, median %.3f s (%s)", lb, lm, list(L)))
print(string.format("  ansible-playbook: best %.3f s, median %.3f s (%s)", ab, am, list(A)))
print(string.format("  ratio (median): ansible-playbook / luasible = %.1fx (target >= 20x: %s)", am / lm,
  am / lm >= 20 and "met" or "NOT met"))
print("  the same files left by both: " .. (same and "yes" or "NO"))
os.execute("rm -rf " .. dir)
