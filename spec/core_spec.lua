-- The C core's own contracts, as Lua sees them: errors carried as (name,
-- message), the result's field names, the one signal table, base64, and the
-- symbols the shared object exports.
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"

-- every event of a stream of the core, in order
local function drain(s)
  local evs = {}
  local next_event = core.stream_iterator(scheduler.wait)
  for ev in next_event, s do evs[#evs + 1] = ev end
  return evs
end

describe("core errors", function()
  it("name the error of a failed stream in `code`, beside the text in `error`", function()
    local s = assert(core.spawn({ "sleep", "5" }, { timeout = 0.1, grace = 0.1 }))
    local evs = drain(s)
    local final = evs[#evs]
    assert.equal("error", final.type)
    assert.equal("ETIMEDOUT", final.code)
    assert.matches("^ETIMEDOUT: command timed out after 0%.1s$", final.error)
    assert.equal("ETIMEDOUT", final.result.code)
    assert.equal(final.error, final.result.error)
    assert.is_false(final.result.ok)
    s:close()
  end)

  it("give no code to a stream that ended well", function()
    local s = assert(core.spawn({ "true" }))
    local evs = drain(s)
    local final = evs[#evs]
    assert.equal("done", final.type)
    assert.is_nil(final.code)
    assert.is_nil(final.result.code)
    assert.is_nil(final.result.error)
    s:close()
  end)

  it("return the fail tuple with the errno's own name", function()
    local ok, err, name = core.spawn({ "true" }, { cwd = "/nonexistent/dir" })
    assert.is_nil(ok)
    assert.equal("ENOENT", name)
    assert.matches("^ENOENT: ", err)
    ok, err, name = core.spawn({ "/nonexistent/prog" })
    assert.is_nil(ok)
    assert.equal("ENOENT", name)
    assert.matches("^ENOENT: cannot execute '/nonexistent/prog'", err)
  end)

  it("name an SSH connection's failure where it arises (no message parsed)", function()
    -- port 1: nobody listens there
    local s = core.ssh_connect { host = "127.0.0.1", port = 1, user = "nobody",
      connect_timeout = 5, agent = false }
    scheduler.wait(s)
    local err, name = s:error()
    assert.equal("ECONNREFUSED", name)
    assert.matches("^ECONNREFUSED: cannot connect to nobody@127%.0%.0%.1:1", err)
    local st, err2, name2 = s:exec("true")
    assert.is_nil(st)
    assert.equal(err, err2)
    assert.equal("ECONNREFUSED", name2)
    s:close()
  end)

  it("name a connection lost mid-stream in the error event #ssh", function()
    local sshd = require "spec.helpers.sshd"
    local luasible = require "luasible"
    local srv = sshd.start()
    local conn = assert(luasible.connect { host = "127.0.0.1", port = srv.port, user = srv.user,
      identity = srv.key, known_hosts = srv.known_hosts, agent = false, ssh_config = false })
    local final, lines = nil, 0
    for ev in conn:stream("while :; do echo tick; sleep 0.05; done") do
      if ev.type == "stdout" then
        lines = lines + 1
        if lines == 3 then srv:kill_all() end
      elseif ev.type == "error" or ev.type == "done" then
        final = ev
      end
    end
    conn:close()
    srv:stop()
    assert.equal("error", final.type)
    assert.equal("ECONNRESET", final.code)
    assert.matches("^ECONNRESET: connection to .* lost: ", final.error)
    assert.equal("ECONNRESET", final.result.code)
  end)
end)
