--- Playbook loading benchmark (issue 12). Run from the repo root:
--   lua5.4 bench/playbook_bench.lua
-- A generated YAML playbook of 20 plays x 50 tasks = 1,000 tasks (copy,
-- file, lineinfile, command, shell with loops, when, notify and handlers,
-- templated arguments, FQCN and k=v forms, vars_files), read into the play
-- model and checked as `luasible run` does before any host is touched
-- (play/playbook.lua, then play/prepare.lua for every play: module
-- arguments, templates, conditions, notify names, hosts), median of 10.
-- Baselines in the same invocation: the YAML parse alone (luasible.yaml,
-- with lines), and `ansible-playbook --syntax-check` on the same file
-- (median of 3). Target (issue 12, for 50 roles and 1,000 tasks; roles are
-- not read yet): under 300 ms.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
local yaml = require "luasible.yaml"
local playbook = require "luasible.play.playbook"
local prepare = require "luasible.play.prepare"
local inventory = require "luasible.inventory"

local now = luasible.now
local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)
local function write(p, s)
  local f = assert(io.open(p, "w"))
  f:write(s)
  f:close()
end

-- the playbook
local out = {}
local function add(s) out[#out + 1] = s end
write(dir .. "/vars.yml", "app_root: /srv\nusers: [ann, bob, cid]\n")
for p = 1, 20 do
  add("- name: play " .. p)
  add("  hosts: all")
  add("  gather_facts: false")
  add("  vars_files: [vars.yml]")
  add("  vars:")
  add("    app: app" .. p)
  add("    port: " .. (8000 + p))
  add("  tasks:")
  for t = 1, 50 do
    local k = t % 5
    add("    - name: task " .. p .. "." .. t)
    if k == 0 then
      add("      ansible.builtin.copy:")
      add("        content: \"{{ app }} listens on {{ port }}\\n\"")
      add("        dest: \"{{ app_root }}/{{ app }}/conf." .. t .. "\"")
      add("        mode: \"0644\"")
      add("      notify: restart")
    elseif k == 1 then
      add("      file: path={{ app_root }}/{{ app }}/d" .. t .. " state=directory mode=0755")
    elseif k == 2 then
      add("      lineinfile:")
      add("        path: \"{{ app_root }}/{{ app }}/env\"")
      add("        line: \"PORT={{ port | int + " .. t .. " }}\"")
      add("        create: true")
      add("      when: port | int > 8000")
    elseif k == 3 then
      add("      command: echo {{ item | upper }}")
      add("      loop: \"{{ users }}\"")
      add("      register: r" .. t)
      add("      changed_when: false")
    else
      add("      shell: test -d {{ app_root | quote }}")
      add("      args:")
      add("        chdir: /")
      add("      when:")
      add("        - app is defined")
      add("        - users | length > 1")
      add("      failed_when: false")
    end
  end
  add("  handlers:")
  add("    - name: restart")
  add("      ansible.builtin.debug: msg=\"restart {{ app }}\"")
end
local text = table.concat(out, "\n") .. "\n"
local file = dir .. "/site.yml"
write(file, text)
write(dir .. "/inv.ini", "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")

local inv = assert(inventory.load(dir .. "/inv.ini"))
local N = 10
local parse, load, check = {}, {}, {}
local ntasks
for round = 1, N do
  collectgarbage()
  local t0 = now()
  assert(yaml.load(text, file, { lines = true }))
  parse[round] = now() - t0
  collectgarbage()
  t0 = now()
  local plays = assert(playbook.load(file))
  load[round] = now() - t0
  collectgarbage()
  t0 = now()
  local plays2, sources = assert(playbook.load(file))
  ntasks = 0
  for i, p in ipairs(plays2) do
    local popts = { play_file = file, locate = sources[i].locate, play_index = sources[i].play_index,
      base_dir = dir }
    local pp = assert(prepare.prepare(p, popts, inv))
    ntasks = ntasks + #pp.tasks
  end
  check[round] = now() - t0
  assert(#plays == 20)
end

local ansible = {}
local have = os.execute("command -v ansible-playbook >/dev/null 2>&1")
if have then
  for round = 1, 3 do
    local t0 = now()
    local ok = os.execute("ANSIBLE_NOCOLOR=1 ansible-playbook -i " .. dir .. "/inv.ini --syntax-check " .. file
      .. " >/dev/null 2>&1")
    ansible[round] = now() - t0
    assert(ok, "ansible-playbook --syntax-check failed")
  end
end

local function ms(t) return string.format("%.1f ms", t * 1000) end
local function all(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = string.format("%.1f", v * 1000) end
  return table.concat(s, ", ")
end
print(string.format("playbook: %d plays, %d tasks, %d bytes of YAML", 20, ntasks, #text))
print("YAML parse (luasible.yaml, lines):   median " .. ms(median(parse)) .. "  (" .. all(parse) .. ")")
print("read into the play model:            median " .. ms(median(load)) .. "  (" .. all(load) .. ")")
print("read + checked (prepare every play): median " .. ms(median(check)) .. "  (" .. all(check) .. ")"
  .. "  target < 300 ms: " .. (median(check) < 0.3 and "met" or "NOT met"))
if #ansible > 0 then
  print("ansible-playbook --syntax-check:     median " .. ms(median(ansible)) .. "  (" .. all(ansible) .. ")"
    .. string.format("  ratio %.1fx", median(ansible) / median(check)))
end
os.execute("rm -rf " .. dir)
