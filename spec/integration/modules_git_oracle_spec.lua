--- #hosts #oracle git against Ansible's own module: the same playbook by
-- ansible-playbook on "a-web" and by luasible on "l-web", both cloning from
-- the smart-HTTP server (git http-backend under python3's CGI server) on
-- the test host "a-srv". The changed flags, statuses, recaps, the
-- registered before/after and the checkouts must agree: first run, second
-- run, after a new commit, and under --check.
local twins = require "spec.helpers.twins"

local GITENV = "export HOME=/root GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t"
  .. " GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'; "

describe("#hosts #oracle git", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t, srv, url
  local function must(h, cmd)
    local out, rok, code, err = h:exec(cmd)
    assert(rok, cmd .. ": " .. tostring(code) .. " " .. tostring(out) .. tostring(err))
    return out
  end
  lazy_setup(function()
    t = twins.start { names = { "web", "srv" } }
    srv = t.ansible[2]
    must(srv, GITENV .. "git init -q -b main /srv/work && cd /srv/work && echo one > f && git add f"
      .. " && git commit -qm one && git tag v1.0 && echo two >> f && git commit -qam two && git tag -a v2.0 -m v2"
      .. " && git checkout -qb dev && echo dev > d && git add d && git commit -qm dev && git checkout -q main"
      .. " && mkdir -p /srv/git && git clone -q --bare /srv/work /srv/git/repo.git")
    must(srv, "mkdir -p /srv/cgi/cgi-bin && printf '#!/bin/sh\\n%s\\n'"
      .. " 'export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=*'"
      .. " 'exec /usr/lib/git-core/git-http-backend'"
      .. " > /srv/cgi/cgi-bin/git && chmod +x /srv/cgi/cgi-bin/git")
    srv:exec("cd /srv/cgi && GIT_PROJECT_ROOT=/srv/git GIT_HTTP_EXPORT_ALL=1 setsid /usr/bin/python3 -m http.server"
      .. " --cgi 8081 </dev/null >/srv/cgi.log 2>&1 &")
    url = "http://" .. srv.address .. ":8081/cgi-bin/git/repo.git"
    for _ = 1, 100 do
      if select(2, t.ansible[1]:exec("git ls-remote " .. url .. " >/dev/null 2>&1")) then break end
      os.execute("sleep 0.05")
    end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  local function play(report)
    return [[
- hosts: web
  gather_facts: false
  tasks:
    - name: the default branch
      git: repo=]] .. url .. [[ dest=/srv/app
      register: app
    - name: a branch
      git: repo=]] .. url .. [[ dest=/srv/dev version=dev
      register: dev
    - name: a tag
      git: repo=]] .. url .. [[ dest=/srv/tag version=v1.0
      register: tag
    - name: shallow
      git: repo=]] .. url .. [[ dest=/srv/shallow depth=1
      register: shallow
    - name: bare
      git: repo=]] .. url .. [[ dest=/srv/bare.git bare=true
      register: bare
    - name: no update
      git: repo=]] .. url .. [[ dest=/srv/app update=false
      register: noup
]] .. (report and [[
    - name: what they returned
      copy:
        dest: /srv/git-results.txt
        content: |
          {{ app.before }} {{ app.after }} {{ app.remote_url_changed | default('undef') }}
          {{ dev.before }} {{ dev.after }}
          {{ tag.before }} {{ tag.after }}
          {{ shallow.after }} {{ bare.after }} {{ noup.before }} {{ noup.after }}
]] or "")
  end

  it("the same clones, changes and results: twice, after a new commit, and under --check", function()
    t:agree(t:run(play(false), { check = true }), "check on fresh hosts")
    local a, l = t:both("ls -d /srv/app /srv/dev 2>/dev/null | wc -l")
    assert.are.equal("0\n", a)
    assert.are.equal(a, l)
    local state = "for d in app dev tag shallow; do git -C /srv/$d rev-parse HEAD; git -C /srv/$d status --short;"
      .. " git -C /srv/$d rev-parse --abbrev-ref HEAD; done; git -C /srv/shallow rev-list --count HEAD;"
      .. " git --git-dir=/srv/bare.git rev-parse main dev; cat /srv/git-results.txt"
    for round = 1, 2 do
      t:agree(t:run(play(true)), "round " .. round)
      a, l = t:both(state)
      assert.are.equal(a, l)
    end
    must(srv, GITENV .. "cd /srv/work && echo three >> f && git commit -qam three"
      .. " && git push -q /srv/git/repo.git main")
    t:agree(t:run(play(false), { check = true }), "check after a new commit")
    t:agree(t:run(play(true)), "after a new commit")
    a, l = t:both(state)
    assert.are.equal(a, l)
    a, l = t:both("git -C /srv/app log -1 --format=%s; git -C /srv/tag log -1 --format=%s")
    assert.are.equal("three\none\n", l)
    assert.are.equal(a, l)
  end)
end)
