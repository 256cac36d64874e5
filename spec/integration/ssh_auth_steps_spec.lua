-- The authentication steps of a connection (core/ssh_session.c auth_pump):
-- with a key to offer, the key goes first, without the methods list
-- ("none" request) before it: one round trip less a connection (two through
-- a jump host). The list is asked for only when the keys are refused: the
-- password still works after a refused key, and the failure still says what
-- the server accepts. Real sshd (spec/helpers/sshd.lua), its DEBUG1 log.
local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"

local function none_requests(srv)
  local n = 0
  for _ in (files.read(srv.log) or ""):gmatch("method none") do n = n + 1 end
  return n
end

local function userauth_requests(srv)
  local n = 0
  for _ in (files.read(srv.log) or ""):gmatch("userauth%-request for user") do n = n + 1 end
  return n
end

describe("#ssh authentication steps", function()
  local srv
  lazy_setup(function()
    srv = sshd.start { password_user = true, config = { "LogLevel DEBUG1" } }
  end)
  lazy_teardown(function() if srv then srv:stop() end end)

  local function spec(o)
    local s = { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
      known_hosts = srv.known_hosts, ssh_config = false, agent = false }
    for k, v in pairs(o or {}) do s[k] = v end
    return s
  end

  it("offers the key first, without asking for the methods list", function()
    local before, reqs = none_requests(srv), userauth_requests(srv)
    local c = assert(luasible.connect(spec()))
    assert.equal("ok\n", c:execute("echo ok").stdout)
    c:close()
    assert.equal(before, none_requests(srv))
    -- the key's query and its signed request: two requests, no more
    assert.equal(reqs + 2, userauth_requests(srv))
  end)

  it("asks for the list when the keys are refused, then logs in with the password", function()
    local stranger = srv.dir .. "/stranger_key"
    os.execute("ssh-keygen -q -t ed25519 -N '' -f " .. stranger .. " </dev/null")
    local before = none_requests(srv)
    local c = assert(luasible.connect(spec { user = srv.password_user, identity = stranger, password = srv.password }))
    assert.equal(srv.password_user .. "\n", c:execute("id -un").stdout)
    c:close()
    assert.equal(before + 1, none_requests(srv))
  end)

  it("fails with what was tried and what the server accepts when the key is refused", function()
    local stranger = srv.dir .. "/stranger_key2"
    os.execute("ssh-keygen -q -t ed25519 -N '' -f " .. stranger .. " </dev/null")
    local c, err, name = luasible.connect(spec { identity = stranger })
    assert.is_nil(c)
    assert.equal("EAUTH", name)
    assert.truthy(err:find("tried key " .. stranger, 1, true), err)
    assert.truthy(err:find("server accepts publickey", 1, true), err)
  end)

  it("without a key or agent asks for the list first (the server may take none)", function()
    local before = none_requests(srv)
    local _, err, name = luasible.connect(spec { identity = {} })
    assert.equal("EAUTH", name)
    assert.truthy(err:find("tried nothing", 1, true), err)
    assert.equal(before + 1, none_requests(srv))
  end)
end)
