--- #hosts synchronize: rsync from this machine to real test hosts over
-- their own SSH settings (the run's key, known_hosts strict, and a ProxyJump
-- through a bastion for "inner", which this machine cannot reach directly).
-- The files pushed come from a folder of this machine's /tmp; what the
-- hosts hold is read with host:exec. Ansible's synchronize is not in
-- ansible-core (ansible.posix is absent), so the oracle is plain rsync: the
-- same tree pushed by `rsync -a` to a twin host must come out the same.
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local cjson = require "cjson"

describe("#hosts synchronize", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  if not os.execute("command -v rsync >/dev/null 2>&1") then pending("no rsync here (scripts/deps)") return end
  local hosts, src
  local dir = files.tmpdir()
  lazy_setup(function()
    hosts = th.start { names = { "bastion", "inner", "plain", "twin", "norsync" }, behind = { inner = "bastion" } }
    hosts:get("norsync"):exec("rm -f /usr/bin/rsync")
    src = dir .. "/site"
    files.sh("mkdir -p " .. src .. "/css " .. src .. "/logs && printf 'home\\n' > " .. src .. "/index.html"
      .. " && printf 'body{}\\n' > " .. src .. "/css/a.css && printf 'x\\n' > " .. src .. "/logs/x.log"
      .. " && chmod 640 " .. src .. "/css/a.css && head -c 3000000 /dev/urandom > " .. src .. "/big.bin")
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local function play(tasks, o)
    o = o or {}
    local events = {}
    local recap, details = require("luasible.play").play({ hosts = o.host or "plain", tasks = tasks },
      { inventory = hosts:inventory { jump = true }, check = o.check, diff = o.diff,
        on_event = function(ev) events[#events + 1] = ev end })
    local out = {}
    for i, r in ipairs(details and details.hosts[o.host or "plain"] or {}) do out[i] = r.result end
    return out, events, recap
  end
  local function tree(h, path)
    return (h:exec("cd " .. path .. " && find . -printf '%P %y %m %s\\n' | sort && find . -type f | sort"
      .. " | xargs sha1sum"))
  end

  it("pushes a folder: changed, then unchanged; a changed file is the only item", function()
    local task = { synchronize = { src = src .. "/", dest = "/srv/site" } }
    local r, events = play({ task })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    local plain = hosts:get("plain")
    assert.equal("home\n", plain:read("/srv/site/index.html"))
    assert.equal("640\n", (plain:exec("stat -c %a /srv/site/css/a.css")))
    local seen = 0
    for _, ev in ipairs(events) do
      if ev.type == "progress" and ev.progress.stage == "transferring" then seen = seen + 1 end
    end
    assert.is_true(seen >= 1, "progress events from --info=progress2")
    assert.matches("StrictHostKeyChecking=yes", r[1].cmd)
    assert.matches("UserKnownHostsFile=", r[1].cmd)
    local r2 = play({ task })
    assert.is_false(r2[1].changed, cjson.encode(r2[1]))
    files.sh("printf 'home 2\\n' > " .. src .. "/index.html")
    local r3 = play({ task })
    assert.is_true(r3[1].changed)
    assert.same({ "<f.st...... index.html" }, r3[1].stdout_lines) -- rsync's "sent"
    assert.equal("home 2\n", plain:read("/srv/site/index.html"))
  end)

  it("delete removes what src lacks; rsync_opts exclude; checksum", function()
    local plain = hosts:get("plain")
    plain:exec("mkdir -p /srv/d && echo extra > /srv/d/extra.txt")
    local r = play({ { synchronize = { src = src .. "/", dest = "/srv/d", delete = true,
      rsync_opts = { "--exclude=logs/" } } } })
    assert.is_true(r[1].changed)
    assert.is_nil(plain:read("/srv/d/extra.txt"))
    assert.equal("absent\n", (plain:exec("test -e /srv/d/logs && echo there || echo absent")))
    -- same size and time, other content: only --checksum sees it
    plain:exec("printf 'HOME 2\\n' > /srv/d/index.html && touch -r /srv/site/index.html /srv/d/index.html")
    files.sh("touch -r " .. src .. "/index.html " .. src .. "/index.html")
    plain:exec("touch -d \"$(stat -c %y /srv/site/index.html)\" /srv/d/index.html")
    local same = play({ { synchronize = { src = src .. "/", dest = "/srv/d", rsync_opts = { "--exclude=logs/" } } } })
    local sum = play({ { synchronize = { src = src .. "/", dest = "/srv/d", checksum = true,
      rsync_opts = { "--exclude=logs/" } } } })
    assert.is_false(same[1].changed, cjson.encode(same[1]))
    assert.is_true(sum[1].changed)
    assert.equal("home 2\n", plain:read("/srv/d/index.html"))
  end)

  it("reaches a host behind a bastion over the jump host's own settings", function()
    local r = play({ { synchronize = { src = src .. "/css", dest = "/srv/" } } }, { host = "inner" })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.equal("body{}\n", hosts:get("inner"):read("/srv/css/a.css"))
    assert.matches("ProxyCommand=", r[1].cmd)
    local r2 = play({ { synchronize = { src = src .. "/css", dest = "/srv/" } } }, { host = "inner" })
    assert.is_false(r2[1].changed)
  end)

  it("pulls from the host", function()
    hosts:get("plain"):exec("mkdir -p /srv/pull && echo remote > /srv/pull/r.txt")
    local local_dest = dir .. "/pulled"
    local r = play({ { synchronize = { mode = "pull", src = "/srv/pull/", dest = local_dest } } })
    assert.is_true(r[1].changed, cjson.encode(r[1]))
    assert.equal("remote\n", files.read(local_dest .. "/r.txt"))
    assert.is_false(play({ { synchronize = { mode = "pull", src = "/srv/pull/", dest = local_dest } } })[1].changed)
  end)

  it("changes nothing under --check but tells what would change", function()
    local r = play({ { synchronize = { src = src .. "/", dest = "/srv/check" } } }, { check = true, diff = true })
    assert.is_true(r[1].changed)
    assert.matches("index.html", r[1].msg)
    assert.matches("<f%+* index.html", r[1].diff.prepared, "--check --diff: the itemized list")
    assert.equal("absent\n", (hosts:get("plain"):exec("test -e /srv/check && echo there || echo absent")))
  end)

  it("a host without rsync, and bad arguments: clear errors", function()
    local r = play({ { synchronize = { src = src .. "/", dest = "/srv/x" } } }, { host = "norsync" })
    assert.is_true(r[1].failed)
    assert.matches("the host has no rsync", r[1].msg)
    local function refused(args)
      local res, err = require("luasible.play").play({ hosts = "plain", tasks = { { synchronize = args } } },
        { inventory = hosts:inventory(), on_event = function() end })
      assert.is_nil(res)
      return tostring(err)
    end
    assert.matches("mode", refused({ src = src, dest = "/srv/y", mode = "sideways" }))
    assert.matches("dest", refused({ src = src }))
    assert.matches("rsync_opts", refused({ src = src, dest = "/srv/y", rsync_opts = { "-e", "ssh -x" } }))
  end)

  it("#oracle leaves the tree plain rsync leaves, and is changed exactly when rsync itemizes something", function()
    local twin, plain = hosts:get("twin"), hosts:get("plain")
    local function rsync(extra)
      return files.run("rsync -a --delete-after --out-format='%i %n' " .. (extra or "") .. " -e 'ssh -F /dev/null -i "
        .. hosts.key .. " -o IdentitiesOnly=yes -o UserKnownHostsFile=" .. hosts.known_hosts
        .. " -o StrictHostKeyChecking=yes -o BatchMode=yes' " .. src .. "/ root@" .. twin.address .. ":/srv/o/")
    end
    plain:exec("mkdir -p /srv/o && echo old > /srv/o/old.txt")
    twin:exec("mkdir -p /srv/o && echo old > /srv/o/old.txt")
    for round = 1, 2 do
      local out = rsync()
      local r = play({ { synchronize = { src = src .. "/", dest = "/srv/o/", delete = true } } })
      assert.equal(out ~= "", r[1].changed, "round " .. round .. ": " .. out)
      assert.equal(tree(twin, "/srv/o"), tree(plain, "/srv/o"))
    end
    files.sh("rm -f " .. src .. "/logs/x.log && printf 'new\\n' > " .. src .. "/new.txt")
    local out = rsync()
    local r = play({ { synchronize = { src = src .. "/", dest = "/srv/o/", delete = true } } })
    assert.is_true(r[1].changed)
    assert.is_true(out ~= "")
    assert.equal(tree(twin, "/srv/o"), tree(plain, "/srv/o"))
  end)
end)
