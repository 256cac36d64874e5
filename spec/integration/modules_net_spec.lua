--- #hosts get_url and uri on real test hosts: the HTTP server
-- (spec/helpers/httpd.py) runs ON the test host "web", the modules run on
-- "client" (they download with the client's own curl/wget/python3), "bare"
-- has those tools removed. Nothing leaves the hosts' /24.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"
local webhost = require "spec.helpers.webhost"
local cjson = require "cjson"

describe("#hosts get_url and uri", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, web, client
  lazy_setup(function()
    hosts = th.start { names = { "web", "client", "bare" } }
    web = webhost.start(hosts:get("web"))
    client = hosts:get("client")
    hosts:get("bare"):exec("rm -f /usr/bin/curl /usr/bin/wget /usr/bin/python3*")
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  -- run tasks on one host: the results of each task and every event
  local function play(tasks, o)
    o = o or {}
    local events = {}
    local recap, details = require("luasible.play").play({ hosts = o.host or "client", tasks = tasks },
      { inventory = hosts:inventory(), check = o.check, diff = o.diff,
        on_event = function(ev) events[#events + 1] = ev end })
    local out = {}
    if details then
      for i, r in ipairs(details.hosts[o.host or "client"] or {}) do out[i] = r.result end
    end
    return out, events, recap, details
  end

  it("downloads to a file: changed, then unchanged (a 304 for If-Modified-Since), mode applied", function()
    web:put("a.txt", "alpha\n")
    web:requests()
    local task = { get_url = { url = web.url .. "/files/a.txt", dest = "/tmp/a.txt", mode = "0640" } }
    local r = play({ task })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.equal("alpha\n", client:read("/tmp/a.txt"))
    assert.equal("640\n", (client:exec("stat -c %a /tmp/a.txt")))
    assert.equal(200, r[1].status_code)
    assert.equal("/tmp/a.txt", r[1].dest)
    assert.equal(client:exec("sha1sum < /tmp/a.txt"):match("%x+"), r[1].checksum_src)
    local r2 = play({ task })
    assert.is_false(r2[1].changed, cjson.encode(r2[1]))
    assert.equal(304, r2[1].status_code)
    assert.same({ "GET /files/a.txt", "GET /files/a.txt" }, web:requests())
  end)

  it("replaces a file whose content differs, keeps it when equal; force re-downloads", function()
    web:put("b.txt", "new\n")
    client:write("/tmp/b.txt", "old\n")
    client:exec("touch -d '2001-01-01' /tmp/b.txt && chmod 600 /tmp/b.txt")
    local r = play({ { get_url = { url = web.url .. "/files/b.txt", dest = "/tmp/b.txt" } } }, { diff = true })
    assert.is_true(r[1].changed)
    local sha = function(t) return client:exec("printf '" .. t .. "' | sha1sum"):match("%x+") end
    assert.equal(sha("old\\n"), r[1].diff.before.checksum, "--diff: the checksums before and after")
    assert.equal(sha("new\\n"), r[1].diff.after.checksum)
    assert.equal("new\n", client:read("/tmp/b.txt"))
    assert.equal("600\n", (client:exec("stat -c %a /tmp/b.txt")), "a replaced file keeps its mode")
    local r2 = play({ { get_url = { url = web.url .. "/files/b.txt", dest = "/tmp/b.txt", force = true } } })
    assert.is_false(r2[1].changed, "same content: nothing replaced")
    assert.equal(200, r2[1].status_code)
  end)

  it("into a folder: the name from Content-Disposition, else from the URL", function()
    web:put("pkg/tool-1.0.tgz", "tarball")
    client:exec("mkdir -p /opt/dl")
    local r = play({ { get_url = { url = web.url .. "/dl/pkg/tool-1.0.tgz", dest = "/opt/dl/" } },
      { get_url = { url = web.url .. "/files/a.txt", dest = "/opt/dl" } } })
    assert.equal("/opt/dl/tool-1.0.tgz", r[1].dest)
    assert.equal("tarball", client:read("/opt/dl/tool-1.0.tgz"))
    assert.equal("/opt/dl/a.txt", r[2].dest)
    assert.is_true(r[1].changed and r[2].changed)
    local r2 = play({ { get_url = { url = web.url .. "/dl/pkg/tool-1.0.tgz", dest = "/opt/dl/" } } })
    assert.is_false(r2[1].changed)
  end)

  it("with a checksum the file already has: no request at all; a wrong one fails and writes nothing", function()
    web:put("c.txt", "gamma\n")
    local sum = client:exec("printf 'gamma\\n' | sha256sum"):match("%x+")
    local task = { get_url = { url = web.url .. "/files/c.txt", dest = "/tmp/c.txt", checksum = "sha256:" .. sum } }
    assert.is_true(play({ task })[1].changed)
    web:requests()
    local r = play({ task })
    assert.is_false(r[1].changed)
    assert.equal("file already exists", r[1].msg)
    assert.same({}, web:requests())
    local bad = play({ { get_url = { url = web.url .. "/files/c.txt", dest = "/tmp/c2.txt",
      checksum = "sha256:" .. string.rep("0", 64) } } })
    assert.is_true(bad[1].failed)
    assert.matches("did not match", bad[1].msg)
    assert.is_nil(client:read("/tmp/c2.txt"))
  end)

  it("takes the checksum from a checksum file on the server", function()
    web:put("rel/app.bin", "binary\n")
    local sum = client:exec("printf 'binary\\n' | sha256sum"):match("%x+")
    web:put("rel/SHA256SUMS", string.rep("1", 64) .. "  other.bin\n" .. sum .. " *app.bin\n")
    local r = play({ { get_url = { url = web.url .. "/files/rel/app.bin", dest = "/tmp/app.bin",
      checksum = "sha256:" .. web.url .. "/files/rel/SHA256SUMS" } } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.equal("binary\n", client:read("/tmp/app.bin"))
  end)

  it("logs in with url_username/url_password, which reach no event and no command line", function()
    web:put("secret.txt", "classified\n")
    local r, events = play({ { get_url = { url = web.url .. "/auth/secret.txt", dest = "/tmp/secret.txt",
      url_username = "bob", url_password = "s3cret-pw" } } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.equal("classified\n", client:read("/tmp/secret.txt"))
    for _, ev in ipairs(events) do -- every event: task_start's args and the result too
      assert.is_nil(cjson.encode(ev):find("s3cret-pw", 1, true), cjson.encode(ev))
    end
    local denied = play({ { get_url = { url = web.url .. "/auth/secret.txt", dest = "/tmp/s2.txt",
      url_username = "bob", url_password = "wrong" } } })
    assert.is_true(denied[1].failed)
    assert.equal(401, denied[1].status_code)
    assert.is_nil(client:read("/tmp/s2.txt"))
  end)

  it("shows download progress as progress events", function()
    local r, events = play({ { get_url = { url = web.url .. "/big/4096", dest = "/tmp/big.bin" } } })
    assert.is_true(r[1].changed)
    assert.equal(4096 * 1024, r[1].size)
    local seen = {}
    for _, ev in ipairs(events) do
      if ev.type == "progress" and ev.progress.stage == "downloading" then seen[#seen + 1] = ev.progress.percentage end
    end
    assert.is_true(#seen >= 2, "progress events: " .. #seen)
    assert.equal(100, seen[#seen])
  end)

  it("changes nothing under --check but says it would download", function()
    local r = play({ { get_url = { url = web.url .. "/files/a.txt", dest = "/tmp/check-a.txt" } } }, { check = true })
    assert.is_true(r[1].changed)
    assert.matches("would download", r[1].msg)
    assert.is_nil(client:read("/tmp/check-a.txt"))
    assert.equal("", (client:exec("ls /tmp | grep get_url || true")))
  end)

  it("a URL the host cannot reach is a failure naming the URL", function()
    local url = "http://" .. web.host.address .. ":9/nothing"
    local r = play({ { get_url = { url = url, dest = "/tmp/x" } } })
    assert.is_true(r[1].failed)
    assert.matches("cannot reach " .. url:gsub("%p", "%%%0"), r[1].msg)
    assert.equal(-1, r[1].status_code)
    local r404 = play({ { get_url = { url = web.url .. "/files/none.txt", dest = "/tmp/x" } } })
    assert.is_true(r404[1].failed)
    assert.equal(404, r404[1].status_code)
  end)

  it("falls back to wget, then python3; names the tools when the host has none", function()
    web:put("d.txt", "delta\n")
    client:exec("mv /usr/bin/curl /usr/bin/curl.off")
    local r = play({ { get_url = { url = web.url .. "/files/d.txt", dest = "/tmp/d-wget.txt" } },
      { get_url = { url = web.url .. "/files/d.txt", dest = "/tmp/d-wget.txt" } },
      { get_url = { url = web.url .. "/auth/d.txt", dest = "/tmp/d-wget-auth.txt", username = "bob",
        password = "s3cret-pw" } } })
    client:exec("mv /usr/bin/wget /usr/bin/wget.off")
    local p = play({ { get_url = { url = web.url .. "/files/d.txt", dest = "/tmp/d-py.txt" } },
      { get_url = { url = web.url .. "/files/d.txt", dest = "/tmp/d-py.txt" } },
      { get_url = { url = web.url .. "/auth/d.txt", dest = "/tmp/d-py-auth.txt", username = "bob",
        password = "s3cret-pw" } } })
    client:exec("mv /usr/bin/curl.off /usr/bin/curl; mv /usr/bin/wget.off /usr/bin/wget")
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.is_false(r[2].changed, cjson.encode(r[2]))
    assert.is_true(r[3].changed, cjson.encode(r[3]))
    assert.is_true(p[1].changed, cjson.encode(p[1]))
    assert.is_false(p[2].changed, cjson.encode(p[2]))
    assert.is_true(p[3].changed, cjson.encode(p[3]))
    assert.equal("delta\n", client:read("/tmp/d-wget-auth.txt"))
    assert.equal("delta\n", client:read("/tmp/d-py-auth.txt"))
    local bare = play({ { get_url = { url = web.url .. "/files/d.txt", dest = "/tmp/d.txt" } } }, { host = "bare" })
    assert.is_true(bare[1].failed)
    assert.matches("none of curl, wget, python3", bare[1].msg)
  end)

  it("refuses bad arguments, naming them, before any host is touched", function()
    web:requests()
    local function refused(args) return hp.refused(hosts, "client", { get_url = args }) end
    assert.matches("dest", refused({ url = web.url .. "/files/a.txt" }))
    assert.matches("timeout", refused({ url = web.url .. "/files/a.txt", dest = "/tmp/x", timeout = "soon" }))
    assert.matches("frobnicate", refused({ url = web.url .. "/files/a.txt", dest = "/tmp/x", frobnicate = 1 }))
    assert.matches("checksum.*<algorithm>:<checksum>",
      refused({ url = web.url .. "/files/a.txt", dest = "/tmp/y", checksum = "deadbeef" }))
    assert.matches("checksum: unsupported algorithm 'crc32'",
      refused({ url = web.url .. "/files/a.txt", dest = "/tmp/y", checksum = "crc32:abcd" }))
    assert.same({}, web:requests())
    assert.is_nil(client:read("/tmp/y"))
  end)

  it("uri: GET a JSON answer: status, json, the headers as fields; nothing changed", function()
    local r = play({ { uri = { url = web.url .. "/status/200" } },
      { uri = { url = web.url .. "/files/a.txt", return_content = true } } })
    assert.is_false(r[1].changed)
    assert.equal(200, r[1].status)
    assert.same({ status = 200 }, r[1].json)
    assert.equal("application/json", r[1].content_type)
    assert.is_nil(r[1].content)
    assert.equal("OK (15 bytes)", r[1].msg)
    assert.equal("alpha\n", r[2].content)
    assert.equal(web.url .. "/files/a.txt", r[2].url)
    assert.is_false(r[2].redirected)
  end)

  it("uri: POST a JSON body and a form, with headers", function()
    local r = play({ { uri = { url = web.url .. "/echo", method = "POST", body_format = "json",
        body = { name = "x", n = { 1, 2 } }, headers = { ["X-Token"] = "t0k" } } },
      { uri = { url = web.url .. "/echo", method = "put", body_format = "form-urlencoded",
        body = { a = "1", b = "x y&z" } } } })
    assert.equal("POST", r[1].json.method)
    assert.equal("application/json", r[1].json.headers["content-type"])
    assert.equal("t0k", r[1].json.headers["x-token"])
    assert.same({ name = "x", n = { 1, 2 } }, require("cjson").decode(r[1].json.body))
    assert.equal("yes", r[1].x_echo)
    assert.equal("PUT", r[2].json.method)
    assert.equal("a=1&b=x+y%26z", r[2].json.body)
    assert.equal("application/x-www-form-urlencoded", r[2].json.headers["content-type"])
  end)

  it("uri: status_code is a list; another status fails with the content", function()
    local r = play({ { uri = { url = web.url .. "/status/201", status_code = { 200, 201 } } },
      { uri = { url = web.url .. "/status/404" }, ignore_errors = true } })
    assert.is_falsy(r[1].failed)
    assert.equal(201, r[1].status)
    assert.is_true(r[2].failed)
    assert.equal(404, r[2].status)
    assert.matches("^Status code was 404 and not %[200%]", r[2].msg)
    assert.same({ status = 404 }, r[2].json)
    assert.is_nil(r[2].content)
  end)

  it("uri: follows redirects of a GET (safe), not of a POST; none follows nothing", function()
    local to = "/files/a.txt"
    local r = play({ { uri = { url = web.url .. "/redirect?to=" .. to } },
      { uri = { url = web.url .. "/redirect?to=" .. to, method = "POST", status_code = 302 } },
      { uri = { url = web.url .. "/redirect?to=" .. to, follow_redirects = "none", status_code = { 302 } } } })
    assert.equal(200, r[1].status)
    assert.is_true(r[1].redirected)
    assert.equal(web.url .. to, r[1].url)
    assert.equal(302, r[2].status)
    assert.equal(302, r[3].status)
    -- Ansible's absolute_location drops the path and keeps the query: its result, matched
    assert.equal(web.url .. "?to=" .. to .. to, r[3].location)
  end)

  it("uri: logs in; writes dest (changed), creates makes the second run unchanged", function()
    web:put("e.txt", "epsilon\n")
    local task = { uri = { url = web.url .. "/auth/e.txt", url_username = "bob", url_password = "s3cret-pw",
      dest = "/tmp/e.txt", creates = "/tmp/e.txt", mode = "0600" } }
    local r, events = play({ task })
    assert.is_true(r[1].changed, require("cjson").encode(r[1]))
    assert.equal("/tmp/e.txt", r[1].path)
    assert.equal("epsilon\n", client:read("/tmp/e.txt"))
    assert.equal("600\n", (client:exec("stat -c %a /tmp/e.txt")))
    for _, ev in ipairs(events) do -- every event: task_start's args and the result too
      assert.is_nil(cjson.encode(ev):find("s3cret-pw", 1, true), cjson.encode(ev))
    end
    local r2 = play({ task })
    assert.is_false(r2[1].changed)
    assert.equal("skipped, since '/tmp/e.txt' exists", r2[1].stdout)
  end)

  it("uri: skipped under --check (as Ansible's); unreachable names the URL; python3 fallback; no tool", function()
    local c, _, recap = play({ { uri = { url = web.url .. "/echo", method = "DELETE" } } }, { check = true })
    assert.is_true(c[1].skipped, cjson.encode(c[1]))
    assert.equal(1, recap.client.skipped)
    web:requests()
    local url = "http://" .. web.host.address .. ":9/x"
    local r = play({ { uri = { url = url } } })
    assert.is_true(r[1].failed)
    assert.equal(-1, r[1].status)
    assert.matches("cannot reach " .. url:gsub("%p", "%%%0"), r[1].msg)
    client:exec("mv /usr/bin/curl /usr/bin/curl.off")
    local p = play({ { uri = { url = web.url .. "/echo", method = "POST", body_format = "json", body = { k = "v" },
      return_content = true } }, { uri = { url = web.url .. "/redirect?to=/status/201", status_code = 201 } } })
    client:exec("mv /usr/bin/curl.off /usr/bin/curl")
    assert.equal("POST", p[1].json.method)
    assert.equal('{"k":"v"}', p[1].json.body)
    assert.equal(201, p[2].status)
    assert.is_true(p[2].redirected)
    local bare = play({ { uri = { url = web.url .. "/echo" } } }, { host = "bare" })
    assert.matches("neither curl nor python3", bare[1].msg)
  end)

  it("uri: refuses bad arguments, naming them", function()
    local function refused(args)
      local res, err = require("luasible.play").play({ hosts = "client", tasks = { { uri = args } } },
        { inventory = hosts:inventory(), on_event = function() end })
      assert.is_nil(res)
      return tostring(err)
    end
    assert.matches("method", refused({ url = web.url, method = "GET ME" }))
    assert.matches("status_code", refused({ url = web.url, status_code = { "abc" } }))
    assert.matches("body_format", refused({ url = web.url, body_format = "xml" }))
    assert.matches("url", refused({ method = "GET" }))
  end)
end)
