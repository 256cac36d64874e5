--- #hosts #oracle get_url and uri against Ansible's own modules: the same
-- playbook by ansible-playbook on "a-web" and by luasible on "l-web"; both
-- download from the HTTP server (spec/helpers/httpd.py) on the test host
-- "a-srv". The changed flags and statuses task by task, the recaps and the
-- files left must agree, first run, second run and under --check.
local twins = require "spec.helpers.twins"
local webhost = require "spec.helpers.webhost"

describe("#hosts #oracle get_url and uri", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t, web
  lazy_setup(function()
    t = twins.start { names = { "web", "srv" } }
    web = webhost.start(t.ansible[2])
    web:put("a.txt", "alpha\n")
    web:put("pkg/tool-1.0.tgz", "tarball\n")
    web:put("secret.txt", "classified\n")
    for _, h in ipairs { t.ansible[1], t.luasible[1] } do h:exec("mkdir -p /opt/dl") end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  local function get_url_play()
    local u = web.url
    return [[
- hosts: web
  gather_facts: false
  tasks:
    - name: a file
      get_url: url=]] .. u .. [[/files/a.txt dest=/opt/a.txt mode=0640
    - name: into a folder
      get_url: url=]] .. u .. [[/dl/pkg/tool-1.0.tgz dest=/opt/dl/
    - name: with a checksum
      get_url:
        url: ]] .. u .. [[/files/pkg/tool-1.0.tgz
        dest: /opt/tool.tgz
        checksum: "sha1:]] .. t.ansible[2]:exec("printf 'tarball\\n' | sha1sum"):match("%x+") .. [["
    - name: with a login
      get_url:
        url: ]] .. u .. [[/auth/secret.txt
        dest: /opt/secret.txt
        url_username: bob
        url_password: s3cret-pw
        force_basic_auth: true
    - name: forced
      get_url: url=]] .. u .. [[/files/a.txt dest=/opt/a-forced.txt force=true
]]
  end

  it("get_url: the same changes and files, first run and second, and under --check", function()
    local play = get_url_play()
    local c = t:run(play, { check = true })
    t:agree(c, "check on fresh hosts")
    local a, l = t:both("ls -A /opt/dl; ls /opt/a.txt /opt/tool.tgz /opt/secret.txt 2>&1 | wc -l; ls /opt/*.txt 2>&1")
    assert.are.equal(a, l)
    assert.matches("^3\nls: cannot access", l)
    for round = 1, 2 do
      t:agree(t:run(play), "round " .. round)
      a, l = t:both("cd /opt && stat -c '%n %a %s' a.txt dl/tool-1.0.tgz tool.tgz secret.txt a-forced.txt"
        .. " && cat a.txt secret.txt")
      assert.are.equal(a, l)
      assert.is_truthy(l:find("a.txt 640 6", 1, true), l)
    end
    t:agree(t:run(play, { check = true }), "check after the runs")
  end)

  it("uri: the same results (status, json, headers, redirects, dest), twice and under --check", function()
    local u = web.url
    local play = [[
- hosts: web
  gather_facts: false
  tasks:
    - name: get json
      uri: url=]] .. u .. [[/status/201 status_code=200,201
      register: g
    - name: post json
      uri:
        url: ]] .. u .. [[/echo
        method: POST
        body_format: json
        body: { name: x, n: [1, 2] }
        headers: { X-Token: t0k }
      register: p
    - name: a form
      uri:
        url: ]] .. u .. [[/echo
        method: PUT
        body_format: form-urlencoded
        body: { a: "1", b: "x y&z" }
        return_content: true
      register: f
    - name: redirected
      uri: url=]] .. u .. [[/redirect?to=/files/a.txt
      register: rd
    - name: not followed
      uri: url=]] .. u .. [[/redirect?to=/files/a.txt follow_redirects=none status_code=302
      register: nf
    - name: to a file
      uri: url=]] .. u .. [[/auth/secret.txt dest=/opt/uri.txt url_username=bob url_password=s3cret-pw
        force_basic_auth=true mode=0600 status_code=200,304
    - name: to a file once
      uri: url=]] .. u .. [[/files/a.txt dest=/opt/uri-once.txt creates=/opt/uri-once.txt
    - name: to a file, 304 not accepted
      uri: url=]] .. u .. [[/files/a.txt dest=/opt/uri-once.txt
      ignore_errors: true
    - name: missing
      uri: url=]] .. u .. [[/status/404
      ignore_errors: true
      register: m
    - name: what they returned
      copy:
        dest: /opt/uri-results.txt
        content: |
          {{ g.status }} {{ g.json.status }} {{ g.content_type }} {{ g.msg }} {{ g.redirected }} {{ g.url }}
          {{ p.status }} {{ p.json.method }} {{ (p.json.body | from_json).n }} {{ p.json.headers['x-token'] }}
          {{ p.json.headers['content-type'] }} {{ p.x_echo }}
          {{ f.json.body }} {{ f.json.headers['content-type'] }} {{ f.content | length > 0 }}
          {{ rd.status }} {{ rd.redirected }} {{ rd.url }} {{ rd.content_length }}
          {{ nf.status }} {{ nf.location }} {{ nf.redirected }}
          {{ m.status }} {{ m.failed }} {{ m.json.status }} {{ m.content is defined }} {{ m.msg.split(':')[0] }}
]]
    for round = 1, 2 do
      t:agree(t:run(play), "round " .. round)
      local a, l = t:both("cat /opt/uri-results.txt; stat -c '%n %a %s' /opt/uri.txt /opt/uri-once.txt")
      assert.are.equal(a, l)
      assert.matches("^201 201 application/json OK %(15 bytes%) False http", l)
    end
    -- under --check every uri is skipped, so the copy of what they returned fails on both
    local c = t:run(play, { check = true })
    t:agree(c, "check", 2)
    assert.are.equal("skipped", c.luasible.status["post json"].web)
  end)
end)
