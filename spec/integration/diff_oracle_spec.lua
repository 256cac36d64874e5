-- #oracle: the same playbook run by Debian's ansible-playbook and by
-- luasible with --diff (and with --check --diff), each into its own temp
-- folder (local connection): the diff each task shows must be the same
-- text, the files the same, the recap the same. Where the two name the new
-- side differently (Ansible shows a temporary file of its own for copy's
-- content and a template's output, luasible "dynamically generated" and the
-- template's path) the `+++ after:` line is compared without its name.
local files = require "spec.helpers.files"
local write, read = files.write, files.read

local TMP = files.tmpdir()

local cli = require "spec.helpers.cli"

local PLAYBOOK = [==[
- name: diffs
  hosts: all
  gather_facts: false
  tasks:
    - name: content
      copy: { content: "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n", dest: "{{ out }}/c.txt" }
    - name: content changed
      copy: { content: "one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\nnine\n10\n", dest: "{{ out }}/c.txt" }
    - name: src
      copy: { src: data.txt, dest: "{{ out }}/data.txt" }
    - name: no newline at the end
      copy: { content: "last line, no newline", dest: "{{ out }}/data.txt" }
    - name: template
      template: { src: conf.j2, dest: "{{ out }}/conf" }
    - name: add a line
      lineinfile: { path: "{{ out }}/conf", line: "extra=1", insertafter: "^port=" }
    - name: replace a line
      lineinfile: { path: "{{ out }}/conf", regexp: "^port=", line: "port=9090" }
    - name: remove a line
      lineinfile: { path: "{{ out }}/conf", regexp: "^name=", state: absent }
    - name: mode
      file: { path: "{{ out }}/conf", mode: "0600" }
    - name: folder
      file: { path: "{{ out }}/sub", state: directory }
    - name: link
      file: { path: "{{ out }}/ln", src: "{{ out }}/conf", state: link }
    - name: gone
      file: { path: "{{ out }}/data.txt", state: absent }
    - name: unchanged
      copy: { content: "one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\nnine\n10\n", dest: "{{ out }}/c.txt" }
]==]

-- per task name: the text shown between its header and its status line
local function diffs_of(out, dir)
  local d, name = {}, nil
  for l in (out .. "\n"):gmatch("([^\n]*)\n") do
    local t = l:match("^TASK %[(.*)%] %**$")
    if t then name = t; d[name] = ""
    elseif name and (l:match("^ok:") or l:match("^changed:") or l:match("^failed") or l:match("^skipping")) then
      name = nil
    elseif name and not l:match("^localhost transferring") then
      local i, j = l:find(dir, 1, true)
      while i do l = l:sub(1, i - 1) .. "OUT" .. l:sub(j + 1); i, j = l:find(dir, 1, true) end
      if l:match("^%+%+%+ after: ") and not l:match("^%+%+%+ after: OUT") then l = "+++ after: (new)" end
      d[name] = d[name] .. l .. "\n"
    end
  end
  return d
end

local function recap_of(out)
  local r = require("spec.helpers.cli").recap_of(out, "localhost")
  r.rescued = nil
  return r
end

local function tree(dir)
  local out = {}
  local p = io.popen("cd " .. dir .. " && find . -mindepth 1 -printf '%p %y %m\\n' | sort")
  for l in p:lines() do
    local name = l:match("^(%S+)")
    out[l] = read(dir .. "/" .. name) or ""
  end
  p:close()
  return out
end

describe("#oracle --diff against ansible-playbook", function()
  local have = os.execute("command -v ansible-playbook >/dev/null 2>&1")
  if not have then
    pending("ansible-playbook not installed (scripts/deps: ansible-core)")
    return
  end
  os.execute("mkdir -p " .. TMP .. "/pb/templates " .. TMP .. "/pb/files")
  write(TMP .. "/pb/site.yml", PLAYBOOK)
  write(TMP .. "/pb/files/data.txt", "alpha\nbeta\n")
  write(TMP .. "/pb/templates/conf.j2", "name={{ 'web' | upper }}\nport={{ 8000 + 80 }}\n")
  write(TMP .. "/inv.ini", "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")

  local function both(name, flags, prepare)
    local a, l = TMP .. "/" .. name .. "-ansible", TMP .. "/" .. name .. "-luasible"
    os.execute("mkdir -p " .. a .. " " .. l)
    if prepare then prepare(a); prepare(l) end
    local ar, lr = cli.both { playbook = TMP .. "/pb/site.yml", inventory = TMP .. "/inv.ini",
      out_of = { ansible = a, luasible = l }, tmp = TMP, args = flags }
    assert.equal(0, ar.code, ar.out .. ar.err)
    assert.equal(0, lr.code, lr.out .. lr.err)
    return { out = ar.out, dir = a, diffs = diffs_of(ar.out, a) },
      { out = lr.out, dir = l, diffs = diffs_of(lr.out, l) }
  end

  it("shows the same diffs, leaves the same files and the same recap (-D)", function()
    local a, l = both("run", "-D")
    assert.truthy(a.diffs["content changed"]:find("-three\n+THREE\n", 1, true), a.out)
    assert.truthy(a.diffs["no newline at the end"]:find("\\ No newline at end of file", 1, true), a.out)
    for task, text in pairs(a.diffs) do assert.equal(text, l.diffs[task], "task " .. task .. "\n" .. l.out) end
    assert.same(tree(a.dir), tree(l.dir))
    assert.same(recap_of(a.out), recap_of(l.out))
  end)

  it("shows the same diffs under --check -D and neither changes a file", function()
    local function prepare(dir)
      write(dir .. "/c.txt", "one\ntwo\n")
      write(dir .. "/conf", "name=old\nport=1\n")
      os.execute("chmod 0644 " .. dir .. "/c.txt " .. dir .. "/conf")
    end
    local a, l = both("check", "--check -D", prepare)
    assert.truthy(a.diffs.template:find("-name=old\n-port=1\n+name=WEB\n+port=8080\n", 1, true), a.out)
    for task, text in pairs(a.diffs) do assert.equal(text, l.diffs[task], "task " .. task .. "\n" .. l.out) end
    local ta, tl = tree(a.dir), tree(l.dir)
    assert.same(ta, tl)
    assert.equal("one\ntwo\n", read(l.dir .. "/c.txt"))
    assert.same(recap_of(a.out), recap_of(l.out))
  end)
end)
