--- #hosts git on real test hosts: the repository lives on the test host
-- "gitsrv" (a bare repository served over its sshd, and over smart HTTP by
-- git http-backend under python3's CGI server, which runs it as nobody:
-- safe.directory lets it read root's repository); the module runs on
-- "client" with the client's git. "nogit" has no git. Nothing leaves the
-- hosts' /24.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"
local files = require "spec.helpers.files"
local cjson = require "cjson"

local GITENV = "export HOME=/root GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t"
  .. " GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'; "

describe("#hosts git", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, srv, client, ssh_url, http_url
  local function must(h, cmd)
    local out, rok, code, err = h:exec(cmd)
    assert(rok, cmd .. ": " .. tostring(code) .. " " .. tostring(out) .. tostring(err))
    return out
  end
  local function rev(ref) return (must(srv, "git --git-dir=/srv/git/repo.git rev-parse " .. ref):gsub("%s+$", "")) end
  local function commit(msg)
    must(srv, GITENV .. "cd /srv/work && echo " .. msg .. " >> f && git commit -qam " .. msg
      .. " && git push -q /srv/git/repo.git main")
  end
  lazy_setup(function()
    hosts = th.start { names = { "gitsrv", "client", "nogit" } }
    srv, client = hosts:get("gitsrv"), hosts:get("client")
    must(srv, GITENV .. "git init -q -b main /srv/work && cd /srv/work && echo one > f && git add f"
      .. " && git commit -qm one && git tag v1.0 && echo two >> f && git commit -qam two && git tag -a v2.0 -m v2"
      .. " && git checkout -qb dev && echo dev > d && git add d && git commit -qm dev && git checkout -q main"
      .. " && mkdir -p /srv/git && git clone -q --bare /srv/work /srv/git/repo.git")
    -- over ssh: the run's key on the client (not at ssh's default path), no known_hosts yet
    must(client, "mkdir -p /root/keys /root/.ssh && chmod 700 /root/keys")
    client:write("/root/keys/id", assert(files.read(hosts.key)))
    must(client, "chmod 600 /root/keys/id")
    ssh_url = "ssh://root@" .. srv.address .. "/srv/git/repo.git"
    -- over http: git http-backend as a CGI of python3's server
    must(srv, "mkdir -p /srv/cgi/cgi-bin && printf '#!/bin/sh\\n%s\\n'"
      .. " 'export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=*'"
      .. " 'exec /usr/lib/git-core/git-http-backend'"
      .. " > /srv/cgi/cgi-bin/git && chmod +x /srv/cgi/cgi-bin/git")
    srv:exec("cd /srv/cgi && GIT_PROJECT_ROOT=/srv/git GIT_HTTP_EXPORT_ALL=1 setsid /usr/bin/python3 -m http.server"
      .. " --cgi 8081 </dev/null >/srv/cgi.log 2>&1 &")
    http_url = "http://" .. srv.address .. ":8081/cgi-bin/git/repo.git"
    for _ = 1, 100 do
      if select(2, client:exec("git ls-remote " .. http_url .. " >/dev/null 2>&1")) then break end
      os.execute("sleep 0.05")
    end
    hosts:get("nogit"):exec("rm -f /usr/bin/git")
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local function play(tasks, o) return hp.results(hosts, o and o.host or "client", tasks, o) end
  local function head(dir) return (must(client, "git -C " .. dir .. " rev-parse HEAD"):gsub("%s+$", "")) end

  it("clones over http (changed, before nil), then finds nothing to do; a new commit is pulled", function()
    local task = { git = { repo = http_url, dest = "/srv/app" } }
    local r, events = play({ task })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.equal("null", require("luasible.json").encode(r[1].before), "before is null")
    assert.equal(rev("main"), r[1].after)
    assert.equal("one\ntwo\n", client:read("/srv/app/f"))
    local lines = 0
    for _, ev in ipairs(events) do
      if ev.type == "stderr" and ev.data:find("Cloning into", 1, true) then lines = lines + 1 end
    end
    assert.equal(1, lines, "the clone's progress lines are streamed")
    local r2 = play({ task })
    assert.is_false(r2[1].changed, cjson.encode(r2[1]))
    assert.equal(r2[1].before, r2[1].after)
    assert.is_false(r2[1].remote_url_changed)
    commit("three")
    local r3 = play({ task }, { diff = true })
    assert.matches("\n%+three\n", r3[1].diff.prepared, "--diff: the git diff of the two commits")
    assert.is_true(r3[1].changed)
    assert.equal(r2[1].after, r3[1].before)
    assert.equal(rev("main"), r3[1].after)
    assert.equal(rev("main"), head("/srv/app"))
  end)

  it("over ssh with key_file: the host key is checked (unknown: fails), accept_newhostkey records it", function()
    local r = play({ { git = { repo = ssh_url, dest = "/srv/ssh-app", key_file = "/root/keys/id" } } })
    assert.is_true(r[1].failed)
    assert.matches("Host key verification failed", r[1].msg .. (r[1].stderr or ""))
    r = play({ { git = { repo = ssh_url, dest = "/srv/ssh-app", key_file = "/root/keys/id",
      accept_newhostkey = true } } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    local kh = client:exec("cat /root/.ssh/known_hosts")
    assert.truthy(kh:find(srv.host_key:match("^(%S+ %S+)"), 1, true), kh) -- (a hashed name: Debian's ssh_config)
    local r2 = play({ { git = { repo = ssh_url, dest = "/srv/ssh-app", key_file = "/root/keys/id" } } })
    assert.is_false(r2[1].changed, cjson.encode(r2[1]))
  end)

  it("version as a branch, a tag, a commit; depth; bare; the remote URL change", function()
    local r = play({ { git = { repo = http_url, dest = "/srv/v", version = "dev" } },
      { git = { repo = http_url, dest = "/srv/v", version = "dev" } },
      { git = { repo = http_url, dest = "/srv/v", version = "v1.0" } },
      { git = { repo = http_url, dest = "/srv/v", version = rev("v2.0^{}") } },
      { git = { repo = http_url, dest = "/srv/shallow", depth = 1 } },
      { git = { repo = http_url, dest = "/srv/bare.git", bare = true } },
      { git = { repo = http_url, dest = "/srv/bare.git", bare = true } },
      { git = { repo = "file:///srv/git/repo.git", dest = "/srv/v", version = rev("v2.0^{}") } } })
    assert.equal(rev("dev"), r[1].after)
    assert.is_true(r[1].changed)
    assert.is_false(r[2].changed)
    assert.equal(rev("v1.0"), r[3].after)
    assert.is_true(r[3].changed)
    assert.equal(rev("v2.0^{}"), r[4].after)
    assert.equal("1\n", must(client, "git -C /srv/shallow rev-list --count HEAD"))
    assert.is_true(r[6].changed)
    assert.is_false(r[7].changed, cjson.encode(r[7]))
    assert.equal("true\n", must(client, "git --git-dir=/srv/bare.git rev-parse --is-bare-repository"))
    -- the same commit from another URL: only the remote changed (no file:// repo on the client: it fails to
    -- fetch, the URL was still set)
    assert.is_true(r[8].failed)
  end)

  it("local modifications: a failure without force, discarded with force", function()
    play({ { git = { repo = http_url, dest = "/srv/mods" } } })
    client:write("/srv/mods/f", "edited\n")
    local r = play({ { git = { repo = http_url, dest = "/srv/mods" } } })
    assert.is_true(r[1].failed)
    assert.matches("Local modifications exist in the destination: /srv/mods %(force=no%)", r[1].msg)
    assert.equal("edited\n", client:read("/srv/mods/f"))
    r = play({ { git = { repo = http_url, dest = "/srv/mods", force = true } } })
    assert.is_true(r[1].changed)
    assert.equal(rev("main"), r[1].after)
    assert.not_equal("edited\n", client:read("/srv/mods/f"))
  end)

  it("changes nothing under --check: after is the remote's commit", function()
    local r = play({ { git = { repo = http_url, dest = "/srv/chk" } } }, { check = true })
    assert.is_true(r[1].changed)
    assert.equal(rev("main"), r[1].after)
    assert.equal("absent\n", (client:exec("test -e /srv/chk && echo there || echo absent")))
    play({ { git = { repo = http_url, dest = "/srv/chk", version = "v1.0" } } })
    r = play({ { git = { repo = http_url, dest = "/srv/chk" } } }, { check = true })
    assert.is_true(r[1].changed)
    assert.equal(rev("v1.0^{}"), r[1].before)
    assert.equal(rev("main"), r[1].after)
    assert.equal(rev("v1.0^{}"), head("/srv/chk"))
    r = play({ { git = { repo = http_url, dest = "/srv/chk", version = "v1.0" } } }, { check = true })
    assert.is_false(r[1].changed)
  end)

  it("an unreachable repository, a missing git, bad arguments: clear failures", function()
    local url = "http://" .. srv.address .. ":9/none.git"
    local r = play({ { git = { repo = url, dest = "/srv/none" } } })
    assert.is_true(r[1].failed)
    assert.matches("Failed to clone " .. url:gsub("%p", "%%%0"), r[1].msg)
    local n = play({ { git = { repo = http_url, dest = "/srv/x" } } }, { host = "nogit" })
    assert.matches("the host has no git", n[1].msg)
    local function refused(args) return hp.refused(hosts, "client", { git = args }) end
    assert.matches("dest", refused({ repo = http_url }))
    assert.matches("depth", refused({ repo = http_url, dest = "/srv/y", depth = 0 }))
    assert.matches("version", refused({ repo = http_url, dest = "/srv/y", version = "--upload-pack=x" }))
    assert.matches("repo", refused({ dest = "/srv/y" }))
  end)
end)
