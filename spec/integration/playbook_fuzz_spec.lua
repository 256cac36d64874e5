-- Generated damage to a real playbook (lines dropped, duplicated, moved,
-- re-indented, values replaced by other YAML values): every result is either
-- a playbook that checks, or one line that starts with the file (file:line
-- where the YAML shows it) — never a Lua error, never a traceback. Checked
-- as `luasible run --syntax-check` does (play.load_playbook + play.check), in
-- this process, nothing run. LUASIBLE_FUZZ_SEED=N another seed (12 by
-- default); FUZZ_SHOW=1 prints every refusal.
local files = require "spec.helpers.files"
local plays = require "luasible.play"

local TMP = files.tmpdir()

local BASE = [[
- name: web
  hosts: all
  gather_facts: false
  vars:
    port: 8080
    users: [ann, bob]
  vars_files:
    - vars.yml
  pre_tasks:
    - name: pre
      ansible.builtin.debug: msg="pre {{ port }}"
  tasks:
    - name: conf
      copy:
        content: "{{ port }}\n"
        dest: /tmp/never/conf
      notify: restart
    - name: users
      command: echo {{ item }}
      loop: "{{ users }}"
      loop_control:
        loop_var: item
        label: "{{ item }}"
      register: out
      when:
        - port | int > 1
    - set_fact:
        total: "{{ users | length }}"
    - assert:
        that: total | int == 2
    - name: seq
      debug: msg={{ item }}
      with_sequence: start=1 end=3
    - shell: echo hi
      args:
        chdir: /tmp
      environment: { A: b }
      changed_when: false
  handlers:
    - name: restart
      listen: topic
      debug: msg=restart
- import_playbook: other.yml
]]

local VALUES = { "", "~", "[]", "{}", "[1, 2]", "{a: 1}", "yes", "'x'", "\"{{ bad\"", "{{ x }}", "5", "-1",
  "1.5", "[[a]]", "!!binary aGk=", "&a x", "*nope", "'{{ port }}'", "a=b c=d", "|\n      text" }

local function lines_of(s)
  local t = {}
  for l in s:gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

describe("fuzzing YAML playbooks", function()
  it("1,500 damaged playbooks check or are refused with one line naming the file", function()
    files.write(TMP .. "/vars.yml", "who: me\n")
    files.write(TMP .. "/other.yml", "- hosts: all\n  tasks:\n    - ping:\n")
    local base = lines_of(BASE)
    local inv = { all = { hosts = { h1 = { ansible_connection = "local" } } } }
    local file = TMP .. "/site.yml"
    local seed = tonumber(os.getenv("LUASIBLE_FUZZ_SEED") or "") or 12
    math.randomseed(seed)
    local counts = { ok = 0, refused = 0 }
    for round = 1, 1500 do
      local l = { table.unpack(base) }
      for _ = 1, math.random(1, 3) do
        local i = math.random(1, #l)
        local op = math.random(1, 6)
        if op == 1 then table.remove(l, i)
        elseif op == 2 then table.insert(l, i, l[math.random(1, #l)])
        elseif op == 3 then l[i] = "  " .. l[i]
        elseif op == 4 then l[i] = l[i]:gsub("^  ", "", 1)
        else
          -- a value replaced: after the first ": " or "- "
          local v = VALUES[math.random(1, #VALUES)]
          l[i] = l[i]:gsub("^(%s*[-%w_.]*:? ?).*$", "%1" .. v:gsub("%%", "%%%%"), 1)
        end
      end
      local text = table.concat(l, "\n") .. "\n"
      files.write(file, text)
      local ok, play, err, sources = pcall(plays.load_playbook, file)
      assert.is_true(ok, "round " .. round .. ": the loader raised: " .. tostring(play) .. "\n" .. text)
      local msg = err
      if play then
        local cok, prepared, cerr = pcall(plays.check, play, { inventory = inv, sources = sources, base_dir = TMP,
          play_file = file })
        assert.is_true(cok, "round " .. round .. ": the check raised: " .. tostring(prepared) .. "\n" .. text)
        msg = not prepared and cerr or nil
      end
      if msg then
        counts.refused = counts.refused + 1
        assert.is_string(msg)
        assert.is_nil(msg:find("\n"), "round " .. round .. ": not one line: " .. msg .. "\n" .. text)
        assert.is_nil(msg:find("traceback", 1, true), msg)
        assert.is_nil(msg:find("%.lua:%d+:"), "round " .. round .. ": a Lua error: " .. msg .. "\n" .. text)
        if os.getenv("FUZZ_SHOW") then print(msg) end
        assert.truthy(msg:find(TMP, 1, true) == 1,
          "round " .. round .. ": does not start with the file: " .. msg .. "\n" .. text)
      else
        counts.ok = counts.ok + 1
      end
    end
    -- both kinds happen: the damage is neither always fatal nor always harmless
    assert.is_true(counts.ok > 50, "ok " .. counts.ok)
    assert.is_true(counts.refused > 500, "refused " .. counts.refused)
  end)
end)
