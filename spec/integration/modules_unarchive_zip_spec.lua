-- unarchive's zip archives and URL sources on real test hosts (issue 14):
-- a zip from the controller extracted, unchanged the second time (member by
-- member, as Ansible: mtime, size, CRC-32, mode, owner), a member changed in
-- content only put back; --check and --diff; mode; include/exclude;
-- keep_newer; unzip -Z when zipinfo is missing; a host without unzip; a URL
-- served by an HTTP server on the other test host (zip and tar.gz, the
-- download's progress; a 404 and an unreachable server fail clearly).
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"
local files = require "spec.helpers.files"
local webhost = require "spec.helpers.webhost"

describe("#hosts unarchive zip and URL", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, h, zipf, tgz, web
  lazy_setup(function()
    hosts = th.start { n = 2 }
    h = hosts[1]
    local dir = files.tmpdir()
    assert(select(2, files.run("cd " .. dir .. " && mkdir -p s/d && echo a > s/a.txt && echo b > s/d/b.txt"
      .. " && ln -s a.txt s/l && chmod 640 s/d/b.txt && touch -h -d '2020-01-01 10:00' s/a.txt s/d/b.txt s/d s/l"
      .. " && (cd s && zip -qry ../a.zip a.txt d l) && tar czf a.tgz -C s a.txt d")))
    zipf, tgz = dir .. "/a.zip", dir .. "/a.tgz"
    web = webhost.start(hosts[2], { port = 8080 })
    web:put("a.zip", assert(files.read(zipf)))
    web:put("a.tgz", assert(files.read(tgz)))
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)
  local n = 0
  local function fresh()
    n = n + 1
    local d = "/srv/z" .. n
    h:exec("mkdir -p " .. d)
    return d
  end
  local function only_h(t)
    t.when = "inventory_hostname == '" .. h.name .. "'"
    return t
  end

  it("extracts a zip, unchanged the second time, a member changed in content only put back; streamed", function()
    local d = fresh()
    local events = {}
    local task = only_h { unarchive = { src = zipf, dest = d, list_files = true } }
    local res = hp.task(hosts, task, { on_event = function(ev) events[#events + 1] = ev end })
    assert.is_true(res.changed, res.msg)
    assert.are.equal("ZipArchive", res.handler)
    assert.are.same({ "a.txt", "d/", "d/b.txt", "l" }, res.files)
    assert.are.equal(0, res.extract_results.rc)
    assert.are.equal("a\n", h:read(d .. "/a.txt"))
    assert.are.equal("a.txt\n", (h:exec("readlink " .. d .. "/l")))
    assert.are.equal("640\n", (h:exec("stat -c %a " .. d .. "/d/b.txt")))
    local streamed, progress = {}, 0
    for _, ev in ipairs(events) do
      if ev.type == "stdout" then streamed[#streamed + 1] = ev.data end
      if ev.type == "progress" and ev.progress.stage == "extracting" then progress = progress + 1 end
    end
    assert.truthy(table.concat(streamed, "\n"):find("inflating: " .. d .. "/a.txt", 1, true)
      or table.concat(streamed, "\n"):find("extracting: " .. d .. "/a.txt", 1, true), table.concat(streamed, "\n"))
    assert.is_true(progress >= 3)
    assert.are.equal("", (h:exec("ls -A /tmp | grep luasible-unarchive || true")))
    res = hp.task(hosts, task)
    assert.is_false(res.changed, res.msg)
    assert.is_nil(res.extract_results)
    -- same size and mtime, other bytes: only the CRC-32 tells
    h:exec("printf c > " .. d .. "/a.txt; printf '\\n' >> " .. d .. "/a.txt; touch -d '2020-01-01 10:00' " .. d
      .. "/a.txt")
    res = hp.task(hosts, task, { diff = true })
    assert.is_true(res.changed)
    assert.are.equal(".fc......?? a.txt\n", res.diff.prepared) -- (Ansible's itemized columns)
    assert.are.equal("a\n", h:read(d .. "/a.txt"))
    -- without python3 on the host the CRC-32s come from gzip: the same answers
    h:exec("printf c > " .. d .. "/a.txt; printf '\\n' >> " .. d .. "/a.txt; touch -d '2020-01-01 10:00' " .. d
      .. "/a.txt")
    assert(select(2, h:exec("mv /usr/bin/python3 /usr/bin/python3.hidden")))
    local r1 = hp.task(hosts, task)
    local r2 = hp.task(hosts, task)
    h:exec("mv /usr/bin/python3.hidden /usr/bin/python3")
    assert.is_true(r1.changed, r1.msg)
    assert.is_false(r2.changed, r2.msg)
  end)

  it("--check: says what would change, extracts nothing; --diff itemizes it", function()
    local d = fresh()
    h:exec("mkdir -p " .. d .. "/d && echo old > " .. d .. "/d/b.txt")
    local res, status = hp.task(hosts, only_h { unarchive = { src = zipf, dest = d } }, { check = true, diff = true })
    assert.are.equal("changed", status, res.msg)
    assert.truthy(res.diff.prepared:find(">f++++++.?? a.txt\n", 1, true), res.diff.prepared)
    assert.truthy(res.diff.prepared:find(".fcstp...?? d/b.txt\n", 1, true), res.diff.prepared)
    assert.is_nil(h:read(d .. "/a.txt"))
    assert.are.equal("old\n", h:read(d .. "/d/b.txt"))
  end)

  it("mode applied to every member; include, exclude, keep_newer", function()
    local d = fresh()
    local t = only_h { unarchive = { src = zipf, dest = d, mode = "0600" } }
    assert.is_true(hp.task(hosts, t).changed)
    assert.are.equal("600\n600\n", (h:exec("stat -c %a " .. d .. "/a.txt " .. d .. "/d/b.txt")))
    assert.is_false(hp.task(hosts, t).changed)
    -- owner/group given (chowned after unzip, compared member by member), unzip's own options
    d = fresh()
    t = only_h { unarchive = { src = zipf, dest = d, owner = "nobody", group = "nogroup", extra_opts = { "-q" } } }
    local res = hp.task(hosts, t)
    assert.is_true(res.changed, res.msg)
    assert.are.equal("nobody nogroup\nnobody nogroup\n", (h:exec("stat -c '%U %G' " .. d .. "/a.txt " .. d .. "/d")))
    assert.truthy(res.extract_results.cmd:find("unzip -o -q ", 1, true), res.extract_results.cmd)
    assert.is_false(hp.task(hosts, t).changed)
    d = fresh()
    res = hp.task(hosts, only_h { unarchive = { src = zipf, dest = d, include = { "d/*" }, list_files = true } })
    assert.is_true(res.changed)
    assert.are.same({ "d/", "d/b.txt" }, res.files) -- fnmatch: d/* is also d/
    assert.is_nil(h:read(d .. "/a.txt"))
    assert.are.equal("b\n", h:read(d .. "/d/b.txt"))
    d = fresh()
    t = only_h { unarchive = { src = zipf, dest = d, exclude = { "l", "a.txt" } } }
    assert.is_true(hp.task(hosts, t).changed)
    assert.is_nil(h:read(d .. "/a.txt"))
    assert.is_false(hp.task(hosts, t).changed)
    -- keep_newer: a newer file at dest stays
    d = fresh()
    h:exec("echo mine > " .. d .. "/a.txt")
    t = only_h { unarchive = { src = zipf, dest = d, keep_newer = true } }
    assert.is_true(hp.task(hosts, t).changed)
    assert.are.equal("mine\n", h:read(d .. "/a.txt"))
    assert.are.equal("b\n", h:read(d .. "/d/b.txt"))
    assert.is_false(hp.task(hosts, t).changed)
  end)

  it("unzip -Z without zipinfo (ZipZArchive); a host without unzip fails naming it", function()
    local d = fresh()
    assert(select(2, h:exec("mv /usr/bin/zipinfo /usr/bin/zipinfo.hidden")))
    local r1 = hp.task(hosts, only_h { unarchive = { src = zipf, dest = d } })
    local r2 = hp.task(hosts, only_h { unarchive = { src = zipf, dest = d } })
    h:exec("mv /usr/bin/zipinfo.hidden /usr/bin/zipinfo")
    assert.are.equal("ZipZArchive", r1.handler)
    assert.is_true(r1.changed, r1.msg)
    assert.is_false(r2.changed, r2.msg)
    assert(select(2, h:exec("mv /usr/bin/unzip /usr/bin/unzip.hidden")))
    local res = hp.task(hosts, only_h { unarchive = { src = zipf, dest = fresh() } })
    h:exec("mv /usr/bin/unzip.hidden /usr/bin/unzip")
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("the host has no 'unzip'", 1, true), res.msg)
  end)

  it("a URL: downloaded by the host (progress), zip and tar.gz, unchanged the second time; bad URLs fail", function()
    local d = fresh()
    local events = {}
    local t = only_h { unarchive = { src = web.url .. "/files/a.zip", dest = d } }
    local res = hp.task(hosts, t, { on_event = function(ev) events[#events + 1] = ev end })
    assert.is_true(res.changed, res.msg)
    assert.are.equal("ZipArchive", res.handler)
    assert.are.equal("a\n", h:read(d .. "/a.txt"))
    local down = 0
    for _, ev in ipairs(events) do
      if ev.type == "progress" and ev.progress.stage == "downloading" then down = down + 1 end
    end
    assert.is_true(down >= 1)
    assert.is_false(hp.task(hosts, t).changed)
    assert.are.equal("", (h:exec("ls -A /tmp | grep luasible-unarchive || true")))
    d = fresh()
    t = only_h { unarchive = { src = web.url .. "/files/a.tgz", dest = d, remote_src = true } }
    res = hp.task(hosts, t)
    assert.is_true(res.changed, res.msg)
    assert.are.equal("TgzArchive", res.handler)
    assert.is_false(hp.task(hosts, t).changed)
    -- creates: checked before the download (a URL that would fail is not even asked for)
    local _, st = hp.task(hosts, only_h { unarchive = { src = web.url .. "/files/none.zip", dest = d,
      creates = d .. "/a.txt" } })
    assert.are.equal("skipped", st)
    res = hp.task(hosts, only_h { unarchive = { src = web.url .. "/files/none.zip", dest = d } })
    assert.is_true(res.failed)
    assert.are.equal("Failure downloading " .. web.url .. "/files/none.zip, HTTP status 404", res.msg)
    res = hp.task(hosts, only_h { unarchive = { src = "http://" .. hosts[2].address .. ":8099/a.zip", dest = d } })
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("cannot reach it", 1, true), res.msg)
    -- https with a self-signed certificate (openssl s_server -WWW on the other host): refused, unless
    -- validate_certs: false
    local srv = hosts[2]
    assert(select(2, srv:exec("mkdir -p /srv/tls && cd /srv/tls && cp /srv/www/a.zip . && openssl req -x509"
      .. " -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -subj /CN=lsbt -days 2 >/dev/null 2>&1 && (setsid openssl"
      .. " s_server -accept 8443 -WWW -cert c.pem -key k.pem -quiet </dev/null >/dev/null 2>&1 &)"
      .. " && for i in 1 2 3 4 5 6 7 8 9 10; do curl -sko /dev/null https://127.0.0.1:8443/a.zip && exit 0;"
      .. " sleep 0.2; done; exit 1")))
    local https = "https://" .. srv.address .. ":8443/a.zip"
    d = fresh()
    res = hp.task(hosts, only_h { unarchive = { src = https, dest = d } })
    assert.is_true(res.failed)
    assert.are.equal("Failure downloading " .. https .. ", cannot reach it (SSL certificate problem: self-signed"
      .. " certificate)", res.msg)
    res = hp.task(hosts, only_h { unarchive = { src = https, dest = d, validate_certs = false } })
    assert.is_true(res.changed, res.msg)
    assert.are.equal("a\n", h:read(d .. "/a.txt"))
    -- the task's environment (a playbook's `environment:` arrives as env) reaches the host's commands
    res = hp.task(hosts, only_h { unarchive = { src = web.url .. "/files/a.zip", dest = d,
      env = { TMPDIR = "/nonexistent" } } })
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("/nonexistent/", 1, true), res.msg)
  end)
end)
