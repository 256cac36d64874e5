-- luasible.ssh.config and the ssh_config side of luasible.ssh.resolve, on
-- real files: Host patterns and negation, Match, Include (globs, relative
-- to ~/.ssh), tokens, first value wins, syntax errors with file:line.
local config = require "luasible.ssh.config"
local resolve = require "luasible.ssh.resolve"
local jump = require "luasible.ssh.jump"
local hostkey = require "luasible.ssh.hostkey"
local files = require "spec.helpers.files"

local function write(dir, name, text)
  local p = dir .. "/" .. name
  files.write(p, text)
  return p
end

describe("ssh_config", function()
  local dir, home_was
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    home_was = config.HOME
    config.HOME = dir -- ~ and relative Includes resolve in the test's folder
    os.execute("mkdir -p " .. dir .. "/.ssh/conf.d")
  end)
  after_each(function()
    config.HOME = home_was
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("the local user: $USER, else the password database's name of our uid; none known, an error", function()
    local lua = "lua5.4 -e 'package.path = \"lua/?.lua;lua/?/init.lua;\" .. package.path; "
      .. "package.cpath = \"./?.so;\" .. package.cpath; "
      .. "print(require(\"luasible.ssh.config\").local_user())'"
    assert.equal("someone", files.sh("USER=someone " .. lua))
    assert.equal(files.sh("id -un"), files.sh("env -u USER -u LOGNAME " .. lua))
    if files.sh("id -u") == "0" then -- a uid no passwd entry has
      local out = files.sh("env -u USER -u LOGNAME setpriv --reuid=54321 --regid=54321 --clear-groups " .. lua)
      assert.equal("nil\tENOENT: no user 54321 in the password database\tENOENT", out)
    end
  end)

  it("matches Host patterns with negation and keeps the first value of each keyword", function()
    local p = write(dir, "cfg", [[
# comment
Host *.example.com !bad.example.com
  User deploy
  Port=2200
Host web?.example.com
  User other
  HostName %h.internal
Host *
  User fallback
  Port 22
  ConnectTimeout 7
]])
    local c = assert(config.read(p, "web1.example.com"))
    assert.equal("deploy", c.user)
    assert.equal("2200", c.port)
    assert.equal("%h.internal", c.hostname)
    assert.equal("7", c.connecttimeout)
    local bad = assert(config.read(p, "bad.example.com"))
    assert.equal("fallback", bad.user)
    assert.equal("22", bad.port)
    assert.is_nil(bad.hostname)
    -- host names compare in lower case, as OpenSSH lowercases them
    assert.equal("deploy", config.read(p, "WEB1.Example.COM").user)
  end)

  it("Match host / originalhost / user / localuser / all, with negation", function()
    local p = write(dir, "cfg", [[
Host alias
  HostName real.example.net
Match originalhost alias user admin
  Port 2001
Match host real.example.net
  IdentityFile ~/k_real
Match host !*.example.net
  IdentityFile ~/k_never
Match host *,!*.example.net
  IdentityFile ~/k_other
Match !host *.org
  ForwardX11 yes
Match localuser ]] .. config.local_user() .. [[

  ServerAliveInterval 9
Match all
  User nobody
]])
    local c = assert(config.read(p, "alias", { user = "admin" }))
    assert.equal("real.example.net", c.hostname)
    assert.equal("2001", c.port)
    assert.same({ "~/k_real" }, c.identityfile)
    assert.equal("9", c.serveraliveinterval)
    assert.equal("nobody", c.user)
    local d = assert(config.read(p, "alias", { user = "someone" }))
    assert.is_nil(d.port)
    -- as OpenSSH's match_pattern_list: a list of negations alone matches nothing
    local o = assert(config.read(p, "elsewhere.org"))
    assert.same({ "~/k_other" }, o.identityfile)
    assert.is_nil(o.forwardx11)
    assert.equal("yes", assert(config.read(p, "x.net")).forwardx11)
  end)

  it("refuses Match exec with a clear message naming file:line", function()
    local p = write(dir, "cfg", "Host a\n  User x\nMatch exec \"true\"\n  User y\n")
    local c, err, name = config.read(p, "a")
    assert.is_nil(c)
    assert.equal("EINVAL", name)
    assert.equal("EINVAL: " .. p
      .. ":3: Match exec is not supported (luasible runs no command while reading the config)",
      err)
  end)

  it("reports syntax errors with file:line, and ignores keywords it does not use", function()
    local cases = {
      { "Host a\nPort\n", ":2: Port: missing argument" },
      { "\n\nPort 99999\n", ":3: Port: bad port number '99999'" },
      { "IdentityFile \"unterminated\n", ":1: unterminated quoted string" },
      { "Match bogus x\n", ":1: unsupported Match attribute 'bogus'" },
      { "StrictHostKeyChecking maybe\n", ":1: StrictHostKeyChecking: unsupported option 'maybe'" },
      { "Host\n", ":1: Host: missing argument" },
    }
    for _, case in ipairs(cases) do
      local p = write(dir, "bad", case[1])
      local c, err = config.read(p, "a")
      assert.is_nil(c)
      assert.equal("EINVAL: " .. p .. case[2], err:sub(1, #("EINVAL: " .. p .. case[2])))
    end
    -- keywords OpenSSH knows and luasible does not use: no error
    local p = write(dir, "ok", "ControlMaster auto\nAddKeysToAgent yes\nVisualHostKey yes\nUser u\n")
    assert.equal("u", assert(config.read(p, "h")).user)
  end)

  it("reads Include globs relative to ~/.ssh, in order, inside the block that includes them", function()
    write(dir, ".ssh/conf.d/20-b.conf", "Host *\n  Port 2020\n  User from-b\n")
    write(dir, ".ssh/conf.d/10-a.conf", "Host web\n  User from-a\n")
    write(dir, ".ssh/conf.d/.hidden.conf", "Host *\n  User hidden\n")
    write(dir, ".ssh/other", "IdentityFile ~/other_key\n")
    local p = write(dir, ".ssh/config", [[
Include conf.d/*.conf
Host nomatch
  Include other
Host *
  User last
]])
    local c = assert(config.read(p, "web"))
    assert.equal("from-a", c.user) -- 10-a before 20-b; the glob skips dot files
    assert.equal("2020", c.port)
    assert.same({}, c.identityfile) -- "other" was included by a block that did not match
    local c2 = assert(config.read(p, "nomatch"))
    assert.same({ "~/other_key" }, c2.identityfile)
    -- an Include naming nothing that exists is no options (OpenSSH's way)
    local p2 = write(dir, ".ssh/config2", "Include nothing-here/*.conf missing.conf\nUser u\n")
    assert.equal("u", assert(config.read(p2, "x")).user)
    -- a loop is an error, not a hang
    local loop = write(dir, ".ssh/loop", "Include loop\n")
    local l, lerr = config.read(loop, "x")
    assert.is_nil(l)
    assert.truthy(lerr:find(loop .. ":1: Include: too many nested includes", 1, true))
  end)

  it("expands %d %u %h %r %p %n %% in IdentityFile (several) and UserKnownHostsFile", function()
    local p = write(dir, "cfg", [[
Host box
  HostName box.internal
  User remote
  Port 2222
  IdentityFile %d/keys/%r@%h
  IdentityFile ~/keys/%u-%n-%p
  IdentityFile "%d/with space/100%%"
  UserKnownHostsFile ~/kh/%h %d/second
]])
    os.execute("mkdir -p '" .. dir .. "/keys' '" .. dir .. "/with space'")
    local me = config.local_user()
    for _, f in ipairs { "keys/remote@box.internal", "keys/" .. me .. "-box-2222", "with space/100%" } do
      write(dir, f, "not a key, but there")
    end
    local r = assert(resolve.resolve { host = "box", ssh_config = p, agent = false })
    assert.equal("box.internal", r.hostname)
    assert.equal(2222, r.port)
    assert.equal("remote", r.user)
    local got = {}
    for _, id in ipairs(r.identities) do got[#got + 1] = id.path end
    assert.same({ dir .. "/keys/remote@box.internal", dir .. "/keys/" .. me .. "-box-2222", dir .. "/with space/100%" },
      got)
    assert.equal(dir .. "/kh/box.internal", r.known_hosts)
  end)

  it("first value wins between the file and the options; explicit options win over the file", function()
    local p = write(dir, "cfg", [[
Host t
  User a
  StrictHostKeyChecking accept-new
  ConnectTimeout 3
  ServerAliveInterval 4
  ServerAliveCountMax 5
  HashKnownHosts yes
  IdentitiesOnly yes
  IdentityAgent ~/agent.sock
Host *
  User b
  StrictHostKeyChecking no
]])
    local r = assert(resolve.resolve { host = "t", ssh_config = p })
    assert.equal("a", r.user)
    assert.equal("accept-new", r.host_key_check)
    assert.equal(3, r.connect_timeout)
    assert.equal(4, r.keepalive)
    assert.equal(5, r.keepalive_count_max)
    assert.is_true(r.hash_known_hosts)
    assert.is_false(r.agent) -- IdentitiesOnly: the identity files only
    local r2 = assert(resolve.resolve { host = "t", ssh_config = p, identities_only = false })
    assert.equal(dir .. "/agent.sock", r2.agent)
    local r3 = assert(resolve.resolve { host = "t", ssh_config = p, user = "explicit", host_key_check = "strict",
      connect_timeout = 1 })
    assert.equal("explicit", r3.user)
    assert.equal("strict", r3.host_key_check)
    assert.equal(1, r3.connect_timeout)
    assert.equal("off", assert(resolve.resolve { host = "other", ssh_config = p }).host_key_check)
  end)

  it("ProxyJump and ProxyCommand: the first obtained wins, none disables, tokens expanded", function()
    local p = write(dir, "cfg", [[
Host viajump
  ProxyJump ops@bastion:2200,inner
  ProxyCommand never used
Host viacmd
  HostName 10.1.2.3
  User deploy
  ProxyCommand ssh -W %h:%p -l %r gw # %n %%
  ProxyJump never@used
Host direct
  ProxyJump none
Host bastion
  User bastion-user
  IdentityFile ~/bastion_key
Host *
  ProxyJump fallback
]])
    write(dir, "bastion_key", "x")
    local r = assert(resolve.resolve { host = "viajump", ssh_config = p, agent = false, identity = "~/target_key" })
    assert.is_nil(r.proxy_command)
    -- the chain: target <- inner <- bastion (the last hop is the nearest)
    assert.equal("inner", r.jump.hostname)
    assert.equal("bastion", r.jump.jump.hostname)
    assert.equal("ops", r.jump.jump.user) -- the chain's user wins over the hop's User
    assert.equal(2200, r.jump.jump.port)
    -- a hop's own IdentityFile; without one, the target's identity
    assert.equal(dir .. "/bastion_key", r.jump.jump.identities[1].path)
    assert.equal(dir .. "/target_key", r.jump.identities[1].path)
    -- the first hop's own ProxyJump (Host * fallback) applies, the others' not;
    -- "fallback" itself matches Host * too: a jump host that is the host
    -- itself is ignored, as OpenSSH does
    assert.equal("fallback", r.jump.jump.jump.hostname)
    assert.is_nil(r.jump.jump.jump.jump)
    local c = assert(resolve.resolve { host = "viacmd", ssh_config = p, agent = false })
    assert.equal("ssh -W 10.1.2.3:22 -l deploy gw # viacmd %", c.proxy_command)
    assert.is_nil(c.jump)
    assert.is_nil(assert(resolve.resolve { host = "direct", ssh_config = p, agent = false }).jump)
    -- explicit options win over the file: jump = false is none
    assert.is_nil(assert(resolve.resolve { host = "viajump", ssh_config = p, agent = false, jump = false }).jump)
  end)

  it("a ProxyJump loop is an error, not a hang", function()
    local p = write(dir, "cfg", "Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n")
    local r, err, name = resolve.resolve { host = "a", ssh_config = p, agent = false }
    assert.is_nil(r)
    assert.equal("EINVAL", name)
    assert.truthy(err:find("a ProxyJump loop", 1, true), err)
  end)

  it("parses jump chains", function()
    assert.same({ { user = "u", host = "h", port = 2 }, { host = "h2" }, { host = "::1", port = 22 },
      { user = "x", host = "y", port = 3 } }, assert(jump.parse("u@h:2, h2,[::1]:22,ssh://x@y:3")))
    assert.same({}, jump.parse("none"))
    for _, bad in ipairs { "", "a,,b", "@h", "h:99999", "h:0", "a b" } do
      assert.is_nil(jump.parse(bad), bad)
    end
  end)

  it("hashes known_hosts entries as OpenSSH does (ssh-keygen -F finds them)", function()
    local salt = ("\1"):rep(20)
    local h = hostkey.hash_host("[10.0.0.1]:2222", salt)
    assert.equal("|1|AQEBAQEBAQEBAQEBAQEBAQEBAQE=|", h:sub(1, 32))
    -- the HMAC-SHA1 of the host, keyed by the salt (openssl as the oracle)
    local want = files.sh("printf '%s' '[10.0.0.1]:2222' | openssl dgst -sha1 -mac HMAC -macopt hexkey:"
      .. ("01"):rep(20) .. " -binary | base64")
    assert.equal(want, h:sub(33))
    os.execute("ssh-keygen -q -t ed25519 -N '' -f " .. dir .. "/hk >/dev/null")
    local pub = files.read(dir .. "/hk.pub"):match("^(%S+ %S+)")
    local kh = write(dir, "known", hostkey.hash_host("[10.0.0.1]:2222") .. " " .. pub .. "\n")
    local out = files.sh("ssh-keygen -F '[10.0.0.1]:2222' -f " .. kh)
    assert.truthy(out:find("Host [10.0.0.1]:2222 found", 1, true), out)
  end)
end)
