-- --diff (-D) and the `diff:` keyword, through bin/luasible run: copy,
-- template, lineinfile and file show what they change as a unified diff
-- (also under --check, where nothing changes), on the terminal (colour only
-- on a terminal, never with NO_COLOR) and in --json as the result's `diff`.
local files = require "spec.helpers.files"
local cjson = require "cjson"
local write, read = files.write, files.read

local TMP = files.tmpdir()

local run = require("spec.helpers.cli").run

local PLAY = [[
- hosts: localhost
  gather_facts: false
  tasks:
    - name: conf
      copy: { content: "one\nTWO\nthree\n", dest: "{{ d }}/f.txt" }
    - name: tmpl
      template: { src: t.j2, dest: "{{ d }}/t.txt" }
    - name: line
      lineinfile: { path: "{{ d }}/g.txt", line: four, mode: "0600" }
    - name: dir
      file: { path: "{{ d }}/sub", state: directory }
    - name: secret
      copy: { content: "s3cret\n", dest: "{{ d }}/secret" }
      no_log: true
    - name: quiet
      copy: { content: "quiet\n", dest: "{{ d }}/quiet" }
      diff: false
]]

local function setup(name)
  local d = TMP .. "/" .. name
  os.execute("rm -rf " .. d .. " && mkdir -p " .. d .. "/pb/templates")
  write(d .. "/pb/site.yml", PLAY)
  write(d .. "/pb/templates/t.j2", "port={{ 80 + 1 }}\n")
  write(d .. "/f.txt", "one\ntwo\nthree\n")
  write(d .. "/t.txt", "port=80\n")
  write(d .. "/g.txt", "one\ntwo\nthree\n")
  write(d .. "/secret", "old secret\n")
  return d
end

local function cmd(d, flags)
  return "NO_COLOR= bin/luasible run " .. d .. "/pb/site.yml -e d=" .. d .. " " .. flags
end

describe("--diff", function()
  it("shows each change as Ansible's unified diff and makes it; no_log and diff: false show none", function()
    local d = setup("run")
    local out, code, err = run(cmd(d, "-D"))
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("--- before: " .. d .. "/f.txt\n+++ after: dynamically generated\n@@ -1,3 +1,3 @@\n"
      .. " one\n-two\n+TWO\n three\n\nchanged: [localhost]", 1, true), out)
    assert.truthy(out:find("--- before: " .. d .. "/t.txt\n+++ after: " .. d .. "/pb/templates/t.j2\n@@ -1 +1 @@\n"
      .. "-port=80\n+port=81\n", 1, true), out)
    assert.truthy(out:find("--- before: " .. d .. "/g.txt (content)\n+++ after: " .. d .. "/g.txt (content)\n"
      .. "@@ -1,3 +1,4 @@\n one\n two\n three\n+four\n\n--- before: " .. d .. "/g.txt (file attributes)\n"
      .. "+++ after: " .. d .. "/g.txt (file attributes)\n@@ -1,3 +1,3 @@\n {\n-    \"mode\": \"0644\"\n"
      .. "+    \"mode\": \"0600\"\n }\n", 1, true), out)
    assert.truthy(out:find('--- before\n+++ after\n@@ -1,4 +1,4 @@\n {\n     "path": "' .. d .. '/sub",\n'
      .. '-    "state": "absent"\n+    "state": "directory"\n }\n', 1, true), out)
    assert.falsy(out:find("s3cret", 1, true), out)
    assert.falsy(out:find("old secret", 1, true), out)
    assert.falsy(out:find("+quiet", 1, true), out)
    assert.falsy(out:find("\27[", 1, true)) -- not a terminal: no colour
    assert.equal("one\nTWO\nthree\n", read(d .. "/f.txt"))
    assert.equal("one\ntwo\nthree\nfour\n", read(d .. "/g.txt"))
    assert.equal("port=81\n", read(d .. "/t.txt"))
    assert.equal("s3cret\n", read(d .. "/secret"))
    -- nothing left to change: no diff at all
    out = run(cmd(d, "-D"))
    assert.falsy(out:find("--- before", 1, true), out)
  end)

  it("under --check shows the same diffs and changes nothing", function()
    local d = setup("check")
    local out, code, err = run(cmd(d, "--check --diff"))
    assert.equal(0, code, out .. err)
    assert.truthy(out:find(" one\n-two\n+TWO\n three\n", 1, true), out)
    assert.truthy(out:find("-port=80\n+port=81\n", 1, true), out)
    assert.truthy(out:find(" three\n+four\n", 1, true), out)
    assert.equal("one\ntwo\nthree\n", read(d .. "/f.txt"))
    assert.equal("one\ntwo\nthree\n", read(d .. "/g.txt"))
    assert.equal("port=80\n", read(d .. "/t.txt"))
    assert.is_nil(read(d .. "/sub"))
    -- without -D: no diff
    out = run(cmd(d, "--check"))
    assert.falsy(out:find("--- before", 1, true), out)
  end)

  it("gives --json the result's diff in Ansible's shape", function()
    local d = setup("json")
    local out, code, err = run(cmd(d, "--json -D --check"))
    assert.equal(0, code, out .. err)
    local diffs = {}
    for l in out:gmatch("[^\n]+") do
      local ev = cjson.decode(l)
      if ev.type == "host_task_result" then diffs[ev.task] = ev.result.diff or false end
    end
    assert.same({ { before = "one\ntwo\nthree\n", after = "one\nTWO\nthree\n", before_header = d .. "/f.txt",
      after_header = "dynamically generated" } }, diffs.conf)
    assert.same({ { before = "port=80\n", after = "port=81\n", before_header = d .. "/t.txt",
      after_header = d .. "/pb/templates/t.j2" } }, diffs.tmpl)
    assert.same({ before = { path = d .. "/sub", state = "absent" },
      after = { path = d .. "/sub", state = "directory" } }, diffs.dir)
    assert.same({ before = "one\ntwo\nthree\n", after = "one\ntwo\nthree\nfour\n",
      before_header = d .. "/g.txt (content)", after_header = d .. "/g.txt (content)" }, diffs.line[1])
    assert.same({ before = { mode = "0644" }, after = { mode = "0600" },
      before_header = d .. "/g.txt (file attributes)", after_header = d .. "/g.txt (file attributes)" }, diffs.line[2])
    assert.is_false(diffs.secret) -- no_log: the result hidden, no diff made
    assert.is_false(diffs.quiet)
  end)

  it("does not diff a file over max_diff_size (104448 bytes), and says so", function()
    local d = setup("big")
    write(d .. "/big", string.rep("0123456789abcdef\n", 7000)) -- 119000 bytes
    write(d .. "/pb/big.yml", "- hosts: localhost\n  gather_facts: false\n  diff: true\n  tasks:\n"
      .. "    - copy: { content: \"small\\n\", dest: \"{{ d }}/big\" }\n"
      .. "    - copy: { content: \"{{ 'x' * 110000 }}\", dest: \"{{ d }}/small\" }\n")
    write(d .. "/small", "a\n")
    local out, code, err = run("bin/luasible run " .. d .. "/pb/big.yml -e d=" .. d .. " --check")
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("diff skipped: destination file size is greater than 104448\n", 1, true), out)
    assert.truthy(out:find("diff skipped: source file size is greater than 104448\n", 1, true), out)
    assert.falsy(out:find("0123456789", 1, true))
  end)

  it("colours + green, - red, @@ cyan on a terminal, and not with NO_COLOR", function()
    local d = setup("tty")
    local c = "bin/luasible run " .. d .. "/pb/site.yml -e d=" .. d .. " -D --check"
    local out = run("script -qec " .. require("luasible.util.shell").quote(c) .. " /dev/null")
    assert.truthy(out:find("\27[31m-two\27[0m", 1, true), out)
    assert.truthy(out:find("\27[32m+TWO\27[0m", 1, true), out)
    assert.truthy(out:find("\27[36m@@ -1,3 +1,3 @@\27[0m", 1, true), out)
    out = run("NO_COLOR=1 script -qec " .. require("luasible.util.shell").quote(c) .. " /dev/null")
    assert.truthy(out:find("-two", 1, true), out)
    assert.falsy(out:find("\27[3", 1, true), out)
  end)
end)
