--- Loading and checking a playbook tree of 50 roles and 1,000 tasks (issue
-- 12, "Speed": under 300 ms). Run from the repo root:
--   make && lua5.4 bench/playbook_roles_bench.lua
-- A generated tree: site.yml with one play applying roles r01 .. r50, each
-- role in Ansible's layout with 20 tasks (copy, file, lineinfile, template
-- notifying its handler, command over a loop, with when, register,
-- changed_when, templated arguments), defaults/main.yml, vars/main.yml,
-- handlers/main.yml, templates/, and meta/main.yml naming r01 as a
-- dependency (applied once: it already ran). (A chain, each role depending on
-- the one before, kept ansible-playbook --syntax-check busy for over 7
-- minutes; luasible's time was the same.) Measured:
--   in process   playbook.load (the YAML of every file, roles resolved and
--                converted: play/playbook.lua, play/roles.lua) then
--                play/prepare.lua on the play (module arguments, templates,
--                conditions, notify names, hosts), as `luasible run` does
--                before any host is touched; median of 10, each with the
--                template compile cache emptied first
--   whole command `bin/luasible run --syntax-check` (the process: start,
--                the same load and checks), median of 5
-- Baseline in the same invocation: `ansible-playbook --syntax-check` on the
-- same tree (median of 3); with --main DIR (a build of main: `git archive
-- main | tar -x -C DIR && make -C DIR`) the same two measures of DIR's
-- luasible on the same tree, their rounds alternating with this tree's
-- (each side in a child process of its own: --child TREE).
local MAIN, CHILD
do
  local i = 1
  while arg[i] do
    if arg[i] == "--main" then MAIN, i = arg[i + 1], i + 2
    elseif arg[i] == "--child" then CHILD, i = arg[i + 1], i + 2
    else error("usage: lua5.4 bench/playbook_roles_bench.lua [--main DIR]") end
  end
end
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
local playbook = require "luasible.play.playbook"
local prepare = require "luasible.play.prepare"
local inventory = require "luasible.inventory"
local template = require "luasible.template"

local now = luasible.now
local ROLES, TASKS = 50, 20

local function median(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c[(#c + 1) // 2]
end

local dir = CHILD or os.tmpname()
if not CHILD then os.remove(dir) end
local function write(p, s)
  os.execute("mkdir -p '" .. p:match("^(.*)/[^/]*$") .. "'")
  local f = assert(io.open(p, "w"))
  f:write(s)
  f:close()
end

local bytes = 0
local function put(rel, lines)
  local s = table.concat(lines, "\n") .. "\n"
  bytes = bytes + #s
  write(dir .. "/" .. rel, s)
end

if not CHILD then
  local site = { "- name: the fleet", "  hosts: all", "  gather_facts: false", "  vars:",
    "    app_root: /srv", "  roles:" }
  for r = 1, ROLES do
    local name = string.format("r%02d", r)
    site[#site + 1] = "    - role: " .. name
    local root = "roles/" .. name .. "/"
    put(root .. "defaults/main.yml", { "---", name .. "_port: " .. (8000 + r), name .. "_users: [ann, bob, cid]",
      name .. "_enabled: true" })
    put(root .. "vars/main.yml", { "---", name .. "_dir: \"{{ app_root }}/" .. name .. "\"" })
    put(root .. "handlers/main.yml", { "---", "- name: restart " .. name,
      "  ansible.builtin.command: touch {{ " .. name .. "_dir }}/restarted" })
    put(root .. "templates/conf.j2", { "port = {{ " .. name .. "_port }}",
      "{% for u in " .. name .. "_users %}user = {{ u }}", "{% endfor %}" })
    put(root .. "meta/main.yml", { "---", "galaxy_info:", "  author: bench", "  license: MIT",
      "dependencies:" .. (r > 1 and "" or " []"), r > 1 and "  - role: r01" or nil })
    local t = { "---" }
    for i = 1, TASKS do
      local k = i % 5
      t[#t + 1] = "- name: task " .. i
      if k == 0 then
        t[#t + 1] = "  ansible.builtin.copy:"
        t[#t + 1] = "    content: \"{{ inventory_hostname }} " .. i .. "\\n\""
        t[#t + 1] = "    dest: \"{{ " .. name .. "_dir }}/c" .. i .. "\""
        t[#t + 1] = "    mode: \"0644\""
      elseif k == 1 then
        t[#t + 1] = "  file: path={{ " .. name .. "_dir }}/d" .. i .. " state=directory mode=0755"
        t[#t + 1] = "  when: " .. name .. "_enabled | bool"
      elseif k == 2 then
        t[#t + 1] = "  lineinfile:"
        t[#t + 1] = "    path: \"{{ " .. name .. "_dir }}/env\""
        t[#t + 1] = "    regexp: \"^PORT" .. i .. "=\""
        t[#t + 1] = "    line: \"PORT" .. i .. "={{ " .. name .. "_port | int + " .. i .. " }}\""
        t[#t + 1] = "    create: true"
      elseif k == 3 then
        t[#t + 1] = "  template:"
        t[#t + 1] = "    src: conf.j2"
        t[#t + 1] = "    dest: \"{{ " .. name .. "_dir }}/conf" .. i .. "\""
        t[#t + 1] = "  notify: restart " .. name
      else
        t[#t + 1] = "  command: echo {{ item | upper }}"
        t[#t + 1] = "  loop: \"{{ " .. name .. "_users }}\""
        t[#t + 1] = "  register: out" .. i
        t[#t + 1] = "  changed_when: out" .. i .. ".rc != 0"
      end
    end
    put(root .. "tasks/main.yml", t)
  end
  put("site.yml", site)
  write(dir .. "/inv.ini", "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")
  write(dir .. "/ansible.cfg", "[defaults]\n")
end
local file = dir .. "/site.yml"
local inv = assert(inventory.load(dir .. "/inv.ini"))

-- rounds of the in-process measure (load + prepare), into the lists given
-- rounds of the in-process measure (load + prepare), into the lists given
local function rounds(n, inproc, loads, cpus)
  local ntasks
  for _ = 1, n do
    template.clear_caches() -- each round cold, as a new process: templates compiled again
    collectgarbage()
    collectgarbage()
    local t0, c0 = now(), os.clock()
    local plays, sources = assert(playbook.load(file))
    loads[#loads + 1] = now() - t0
    local p = assert(prepare.prepare(plays[1], { play_file = file, locate = sources[1].locate,
      play_index = sources[1].play_index, base_dir = dir }, inv))
    inproc[#inproc + 1], cpus[#cpus + 1] = now() - t0, os.clock() - c0
    ntasks = #p.tasks
  end
  assert(ntasks == ROLES * TASKS, "tasks: " .. tostring(ntasks))
end

-- a list of seconds as text: in ms for a person, or exact for the parent
local function all(t, exact)
  local s = {}
  for i, v in ipairs(t) do s[i] = exact and string.format("%.6f", v) or string.format("%.1f", v * 1000) end
  return table.concat(s, exact and "," or ", ")
end
if CHILD then -- one side's rounds, as numbers for the parent
  local a, b, c = {}, {}, {}
  rounds(5, a, b, c)
  print("inproc " .. all(a, true))
  print("loads " .. all(b, true))
  print("cpus " .. all(c, true))
  os.exit(0)
end

local function timed(cmd, n, into)
  local t = into or {}
  for _ = 1, n do
    local t0 = now()
    assert(os.execute(cmd .. " >/dev/null 2>&1"), cmd)
    t[#t + 1] = now() - t0
  end
  return t
end

-- Each side: in-process rounds (a child process in its own tree, ROOT) and
-- the whole command, alternating with the other side.
local here = io.popen("pwd"):read("l")
local sides = { { name = "this tree", root = here } }
if MAIN then sides[2] = { name = "main (" .. MAIN .. ")", root = MAIN } end
for _, sd in ipairs(sides) do sd.inproc, sd.loads, sd.cpus, sd.whole = {}, {}, {}, {} end
local script = here .. "/bench/playbook_roles_bench.lua"
for _ = 1, 2 do
  for _, sd in ipairs(sides) do
    local f = assert(io.popen("cd '" .. sd.root .. "' && lua5.4 '" .. script .. "' --child '" .. dir .. "'"))
    for line in f:lines() do
      local what, vals = line:match("^(%a+) (.*)$")
      local into = what == "inproc" and sd.inproc or what == "loads" and sd.loads or sd.cpus
      for v in vals:gmatch("[^,]+") do into[#into + 1] = tonumber(v) end
    end
    assert(f:close(), sd.name .. ": the child failed")
  end
end
for _ = 1, 5 do
  for _, sd in ipairs(sides) do
    timed("cd '" .. sd.root .. "' && LUASIBLE_CONFIG=/dev/null bin/luasible run --syntax-check -i " .. dir
      .. "/inv.ini " .. file, 1, sd.whole)
  end
end
local ansible = {}
if not os.getenv("NO_ANSIBLE") and os.execute("command -v ansible-playbook >/dev/null 2>&1") then
  ansible = timed("timeout 300 env ANSIBLE_CONFIG=" .. dir .. "/ansible.cfg ansible-playbook --syntax-check -i "
    .. dir .. "/inv.ini " .. file, 3)
end

local function ms(t) return string.format("%.1f ms", t * 1000) end
print(string.format("tree: %d roles, %d tasks, %d files, %d bytes of YAML", ROLES, ROLES * TASKS, ROLES * 6 + 1,
  bytes))
for _, sd in ipairs(sides) do
  print("-- " .. sd.name)
  print("load + check in process:          median " .. ms(median(sd.inproc)) .. "  (" .. all(sd.inproc) .. ")"
    .. "  target < 300 ms: " .. (median(sd.inproc) < 0.3 and "met" or "NOT met"))
  print("  its CPU time (user + sys):       median " .. ms(median(sd.cpus)) .. "  (" .. all(sd.cpus) .. ")")
  print("  of which playbook.load:          median " .. ms(median(sd.loads)) .. "  (" .. all(sd.loads) .. ")")
  print("luasible run --syntax-check:      median " .. ms(median(sd.whole)) .. "  (" .. all(sd.whole) .. ")"
    .. "  target < 300 ms: " .. (median(sd.whole) < 0.3 and "met" or "NOT met"))
end
if MAIN then
  local a, b = sides[1], sides[2]
  print(string.format("this tree / main: in process wall %.2fx, CPU %.2fx, whole command %.2fx",
    median(a.inproc) / median(b.inproc), median(a.cpus) / median(b.cpus), median(a.whole) / median(b.whole)))
end
if #ansible > 0 then
  print("ansible-playbook --syntax-check:  median " .. ms(median(ansible)) .. "  (" .. all(ansible) .. ")"
    .. string.format("  %.1fx luasible's whole command", median(ansible) / median(sides[1].whole)))
end
if os.getenv("KEEP") then print("tree kept in " .. dir) else os.execute("rm -rf " .. dir) end
