-- Ansible as the oracle for the file-editing and file-reading modules
-- (issue 14): the same tasks by ansible-playbook on one test host and by
-- luasible on its twin; the files they leave (content, mode), the changed
-- flags and status task by task, the recaps and chosen registered fields
-- must agree, first run and second (and under --check).
local twins = require "spec.helpers.twins"

describe("#hosts #oracle file modules", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t
  lazy_setup(function() t = twins.start { names = { "web" } } end)
  lazy_teardown(function() if t then t:stop() end end)

  -- run `tree` twice (or once with opts.once) and compare; `state` is a shell command read on both hosts;
  -- `fields` = { ["task name"] = { "found", ... } } registered fields compared
  local function same_twice(tree, state, fields, opts)
    opts = opts or {}
    for round = 1, opts.once and 1 or 2 do
      local r = t:run(tree, opts)
      t:agree(r, "round " .. round)
      local a, l = t:both(state)
      assert.are.equal(a, l, "round " .. round)
      for task, list in pairs(fields or {}) do
        local ra, rl = twins.registered(r, task)
        for _, f in ipairs(list) do
          assert.are.same(ra[f], rl[f], task .. ": " .. f .. " in round " .. round)
        end
      end
    end
  end

  it("lineinfile: Python regexes, firstmatch, backrefs, insertafter/before, absent", function()
    t:both([[printf '# PermitRootLogin yes\nPort 22\n  PermitRootLogin yes\nX11Forwarding yes\nUsePAM yes' \
        > /etc/ssh/t.conf
      printf 'a=1\na=2\n[s]\nend\n' > /etc/t2.conf]])
    local tree = { ["site.yml"] = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: root login
      lineinfile:
        path: /etc/ssh/t.conf
        regexp: '^\s*PermitRootLogin\b'
        line: PermitRootLogin no
    - name: port backrefs
      lineinfile: path=/etc/ssh/t.conf regexp='^Port (\d+)$' line='Port \g<1>22' backrefs=true
    - name: backrefs no match
      lineinfile: path=/etc/ssh/t.conf regexp='^Nope (.*)$' line='x \1' backrefs=true
    - name: search inside
      lineinfile: path=/etc/ssh/t.conf regexp='Forwarding' line='X11Forwarding no'
    - name: after eof without newline
      lineinfile: path=/etc/ssh/t.conf line='Banner none'
    - name: firstmatch
      lineinfile: path=/etc/t2.conf regexp='^a=' line='a=0' firstmatch=true
    - name: insertafter
      lineinfile: path=/etc/t2.conf line='k=v' insertafter='^\[s\]'
    - name: insertbefore
      lineinfile: path=/etc/t2.conf line='pre' insertbefore='^\[s\]' firstmatch=true
    - name: bof
      lineinfile: path=/etc/t2.conf line='# head' insertbefore=BOF
    - name: absent
      lineinfile: path=/etc/t2.conf regexp='^a=\d' state=absent
      register: gone
    - name: create
      lineinfile: path=/etc/t3.conf line='x' create=true mode='0600'
]] }
    same_twice(tree, "cat /etc/ssh/t.conf /etc/t2.conf /etc/t3.conf; stat -c '%n %a' /etc/t3.conf /etc/t2.conf",
      { absent = { "found" } })
    -- --check on a changed file: both say changed, neither writes
    t:both("printf 'a=1\\n' > /etc/t4.conf")
    same_twice({ ["site.yml"] = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: would change
      lineinfile: path=/etc/t4.conf regexp='^a=' line='a=2'
]] }, "cat /etc/t4.conf", nil, { check = true })
  end)
  it("blockinfile: insert, update in place, custom markers, remove, create", function()
    t:both("printf '[a]\\nx=1\\n[b]\\ny=2' > /etc/b.conf; printf 'keep\\n' > /etc/b2.conf")
    local tree = { ["site.yml"] = [=[
- hosts: all
  gather_facts: false
  tasks:
    - name: after a
      blockinfile:
        path: /etc/b.conf
        block: "k=v\nw=z"
        insertafter: '^\[a\]'
    - name: own markers at eof
      blockinfile:
        path: /etc/b.conf
        block: z
        marker: "; {mark} app"
        marker_begin: start
        marker_end: stop
    - name: before bof
      blockinfile: path=/etc/b2.conf block=top insertbefore=BOF marker="# {mark} top"
    - name: multiline anchor
      blockinfile:
        path: /etc/b2.conf
        block: mid
        marker: "# {mark} mid"
        insertbefore: '(?m)^keep$'
    - name: removed
      blockinfile: path=/etc/b2.conf marker="# {mark} top" state=absent
    - name: created
      blockinfile: path=/etc/b3.conf block=new create=true
]=] }
    same_twice(tree, "cat /etc/b.conf /etc/b2.conf /etc/b3.conf; stat -c '%n %a' /etc/b3.conf", {
      ["after a"] = { "msg" }, removed = { "msg" }, created = { "msg" } })
  end)

  it("replace: backrefs, named groups, after/before, no match", function()
    t:both("printf 'a=1\\nb=2\\n# keep\\na=3\\n# stop\\na=4\\n' > /etc/r.conf")
    local tree = { ["site.yml"] = [=[
- hosts: all
  gather_facts: false
  tasks:
    - name: between
      replace:
        path: /etc/r.conf
        regexp: '^a=(\d)$'
        replace: 'a=\1\1'
        after: '# keep'
        before: '# stop'
    - name: named
      replace:
        path: /etc/r.conf
        regexp: '^(?P<k>\w)='
        replace: '\g<k> = '
    - name: nothing after
      replace:
        path: /etc/r.conf
        regexp: 'a'
        after: nowhere
    - name: only before
      replace:
        path: /etc/r.conf
        regexp: '\d'
        replace: 'N'
        before: '# keep'
]=] }
    same_twice(tree, "cat /etc/r.conf", { between = { "msg" }, named = { "msg" }, ["nothing after"] = { "msg" } })
  end)
  it("stat, slurp, find, tempfile: the same registered results", function()
    t:both([[rm -rf /srv/t; mkdir -p /srv/t/a/b /srv/t/.h && cd /srv/t && printf 'hello\n' > x.txt &&
      printf 'bye\n' > y.log && printf 'k=1\nother\n' > a/z.txt && echo q > a/b/deep.txt && echo s > .h/in.txt &&
      echo t > .hid.txt && ln -s a lnk && ln -s x.txt xl && chmod 4750 y.log && touch -d '3 days ago' y.log &&
      mkfifo a/pipe && printf '\x00\x01' > bin.dat]])
    local tree = { ["site.yml"] = [=[
- hosts: all
  gather_facts: false
  tasks:
    - { name: stat file, stat: { path: /srv/t/y.log, checksum_algorithm: sha256 }, register: s1 }
    - { name: stat link, stat: { path: /srv/t/xl }, register: s2 }
    - { name: stat followed, stat: { path: /srv/t/xl, follow: true }, register: s3 }
    - { name: stat dir, stat: { path: /srv/t/a }, register: s4 }
    - { name: stat fifo, stat: { path: /srv/t/a/pipe }, register: s5 }
    - { name: stat binary, stat: { path: /srv/t/bin.dat, get_md5: true }, register: s6 }
    - { name: stat missing, stat: { path: /srv/none }, register: s7 }
    - { name: slurp, slurp: { src: /srv/t/a/z.txt }, register: sl }
    - { name: find top, find: { paths: /srv/t }, register: f1 }
    - { name: find all, find: { paths: /srv/t, recurse: true, file_type: any, hidden: true }, register: f2 }
    - name: find globs
      find: { paths: /srv/t, recurse: true, patterns: ["*.txt", "*.log"], excludes: "deep*", hidden: true }
      register: f3
    - { name: find depth, find: { paths: /srv/t, recurse: true, depth: 2, file_type: directory }, register: f4 }
    - name: find regex
      find: { paths: /srv/t, use_regex: true, patterns: '^[xy]\.', get_checksum: true, age: 2d }
      register: f5
    - { name: find contains, find: { paths: [/srv/t, /srv/none], recurse: true, contains: 'k=\d' }, register: f6 }
    - { name: find links, find: { paths: /srv/t, file_type: link }, register: f7 }
    - { name: find size, find: { paths: /srv/t, size: "-4", recurse: true }, register: f8 }
    - { name: find follow, find: { paths: /srv/t, recurse: true, follow: true, file_type: any }, register: f9 }
    - { name: find follow links, find: { paths: /srv/t, follow: true, file_type: link }, register: f10 }
    - { name: tempfile, tempfile: { suffix: .x }, register: tf }
    - { name: tempdir, tempfile: { state: directory, path: /srv }, register: td }
]=] }
    local STAT = { "exists", "path", "mode", "isdir", "ischr", "isblk", "isreg", "isfifo", "islnk", "issock", "uid",
      "gid", "size", "nlink", "wusr", "rusr", "xusr", "wgrp", "rgrp", "xgrp", "woth", "roth", "xoth", "isuid",
      "isgid", "readable", "writeable", "executable", "lnk_source", "lnk_target", "pw_name", "gr_name",
      "checksum", "md5", "mimetype", "charset", "attr_flags", "attributes", "block_size", "device_type" }
    local FILE = { "path", "mode", "isdir", "isreg", "islnk", "isfifo", "uid", "gid", "size", "nlink", "pw_name",
      "gr_name", "rusr", "xoth", "isuid", "checksum" }
    local function project(list, fields)
      local out = {}
      for i, x in ipairs(list or {}) do
        out[i] = {}
        for _, f in ipairs(fields) do out[i][f] = x[f] end
      end
      return out
    end
    for round = 1, 2 do
      local r = t:run(tree)
      assert.are.equal(0, r.ansible.code, r.ansible.out .. r.ansible.err)
      assert.are.equal(0, r.luasible.code, r.luasible.out .. r.luasible.err)
      assert.are.same(r.ansible.changed, r.luasible.changed, "round " .. round)
      assert.are.same(r.ansible.status, r.luasible.status, "round " .. round)
      for _, task in ipairs { "stat file", "stat link", "stat followed", "stat dir", "stat fifo", "stat binary",
          "stat missing" } do
        local a, l = twins.registered(r, task)
        for _, f in ipairs(STAT) do assert.are.same((a.stat or {})[f], (l.stat or {})[f], task .. ": " .. f) end
      end
      local a, l = twins.registered(r, "slurp")
      assert.are.same({ a.content, a.encoding, a.source }, { l.content, l.encoding, l.source })
      for _, task in ipairs { "find top", "find all", "find globs", "find depth", "find regex", "find contains",
          "find links", "find size", "find follow", "find follow links" } do
        a, l = twins.registered(r, task)
        local pa, pl = project(a.files, FILE), project(l.files, FILE)
        for i = 1, math.max(#pa, #pl) do
          for _, f in ipairs(FILE) do
            assert.are.same((pa[i] or {})[f], (pl[i] or {})[f], task .. ": files[" .. i .. "]." .. f)
          end
        end
        for _, f in ipairs { "matched", "examined", "msg", "skipped_paths" } do
          assert.are.same(a[f], l[f], task .. ": " .. f)
        end
      end
      for _, task in ipairs { "tempfile", "tempdir" } do
        a, l = twins.registered(r, task)
        for _, f in ipairs { "mode", "state", "uid", "owner" } do assert.are.same(a[f], l[f], task .. ": " .. f) end
        assert.are.equal(#a.path, #l.path, task)
      end
    end
  end)
  it("unarchive: tar.gz from the controller and tar.bz2/xz on the host, changed as Ansible decides", function()
    local files = require "spec.helpers.files"
    local dir = files.tmpdir()
    assert(select(2, files.run("cd " .. dir .. " && mkdir -p s/d && echo a > s/a.txt && echo b > s/d/b.txt"
      .. " && touch -d 2020-01-01 s/a.txt s/d/b.txt s/d s && tar czf a.tgz -C s . 2>&1")))
    t:both([[rm -rf /srv/u /srv/v /srv/m; mkdir -p /srv/u /srv/v /srv/m /srv/w/s && cd /srv/w/s &&
      echo x > x.txt && echo y > y.log &&
      touch -d 2020-01-01 x.txt y.log && tar cjf ../w.tbz2 x.txt y.log && tar cJf ../w.txz x.txt]])
    local tree = { ["site.yml"] = [=[
- hosts: all
  gather_facts: false
  tasks:
    - { name: from controller, unarchive: { src: a.tgz, dest: /srv/u, list_files: true }, register: u1 }
    - { name: on host, unarchive: { src: /srv/w/w.tbz2, dest: /srv/v, remote_src: true }, register: u2 }
    - name: excluded
      unarchive: { src: /srv/w/w.tbz2, dest: /srv/w, remote_src: true, exclude: ["*.log"], list_files: true }
      register: u3
    - { name: xz, unarchive: { src: /srv/w/w.txz, dest: /srv/w, remote_src: true }, register: u4 }
    - { name: created, unarchive: { src: /srv/w/w.txz, dest: /srv/w, remote_src: true, creates: /srv/w/x.txt } }
    - name: with mode
      unarchive: { src: /srv/w/w.tbz2, dest: /srv/m, remote_src: true, mode: "0600" }
]=], ["files/a.tgz"] = files.read(dir .. "/a.tgz") }
    same_twice(tree, "cd /srv && find u v w m -printf '%p %y %m\\n' | sort && find u v w -type f -newermt 2020-01-02 "
      .. "-printf '%p %s\\n' | sort && find u v w -type f ! -newermt 2020-01-02 | sort && cat u/a.txt v/y.log", {
      ["from controller"] = { "files", "handler", "dest", "mode", "owner" },
      ["on host"] = { "handler", "src", "dest" }, excluded = { "files", "handler" }, xz = { "handler" } })
    -- a changed file is put back, a changed mode too (without extracting), alike
    t:both("echo changed > /srv/u/a.txt; chmod 644 /srv/m/x.txt")
    local r = t:run(tree)
    assert.are.same(r.ansible.changed, r.luasible.changed)
    assert.is_true(r.luasible.changed["from controller"].web)
    assert.is_true(r.luasible.changed["with mode"].web)
    local a, l = t:both("cat /srv/u/a.txt")
    assert.are.equal("a\n", a)
    assert.are.equal(a, l)
  end)
  it("--check changes nothing and --diff shows the same before/after for the editing modules", function()
    local setup = "printf 'a=1\\nb=2\\n' > /etc/d1.conf; printf 'x y\\n' > /etc/d2.conf"
    t:both(setup)
    local tree = { ["site.yml"] = [=[
- hosts: all
  gather_facts: false
  tasks:
    - { name: line, lineinfile: { path: /etc/d1.conf, regexp: '^a=', line: a=9 } }
    - { name: block, blockinfile: { path: /etc/d1.conf, block: "k=v" } }
    - { name: repl, replace: { path: /etc/d2.conf, regexp: 'y', replace: z } }
    - { name: same, replace: { path: /etc/d2.conf, regexp: 'nothing', replace: z } }
]=] }
    for _, opts in ipairs { { check = true, diff = true }, { diff = true } } do
      local r = t:run(tree, opts)
      assert.are.equal(0, r.ansible.code, r.ansible.out .. r.ansible.err)
      assert.are.equal(0, r.luasible.code, r.luasible.out .. r.luasible.err)
      assert.are.same(r.ansible.changed, r.luasible.changed)
      for _, task in ipairs { "line", "block", "repl" } do
        local a, l = twins.registered(r, task)
        local da = a.diff and (a.diff[1] or a.diff) or {}
        local dl = l.diff and (l.diff[1] or l.diff) or {}
        assert.is_string(da.after, task)
        assert.are_not.equal(da.before, da.after, task)
        for _, f in ipairs { "before", "after", "before_header", "after_header" } do
          assert.are.same(da[f], dl[f], task .. ": diff." .. f .. (opts.check and " (check)" or ""))
        end
      end
      local a, l = t:both("cat /etc/d1.conf /etc/d2.conf")
      assert.are.equal(a, l)
      if opts.check then assert.are.equal("a=1\nb=2\nx y\n", a) end
      t:both(setup)
    end
  end)
end)
