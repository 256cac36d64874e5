-- The error names of SSH connections as the task layer sees them: a
-- connection lost in the middle of a command (server killed, or hung and
-- caught by keepalives) must read as "unreachable" (ECONN* names, never
-- ETIMEDOUT, which is a command's own timeout), and a command's timeout
-- as a failure of the task.
local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"

-- the prefixes the task layer (modules/streaming_shell.lua) reads as unreachable
local UNREACHABLE = { "^ECONN", "^EPIPE", "^ENOTCONN", "^ESHUTDOWN", "^ECLOSED" }
local function unreachable_name(err)
  for _, p in ipairs(UNREACHABLE) do
    if err:find(p) then return true end
  end
  return false
end

local function connect(srv, extra)
  local spec = { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
    known_hosts = srv.known_hosts, agent = false, ssh_config = false }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return luasible.connect(spec)
end

local TICK = "while :; do echo tick; sleep 0.05; done"

-- break the server after the third line of a stream; returns the final event
local function lose_mid_stream(srv, how, conn)
  local lines, final, frozen = 0, nil, nil
  for ev in conn:stream(TICK) do
    if ev.type == "stdout" then
      lines = lines + 1
      if lines == 3 then
        if how == "kill" then srv:kill_all()
        else
          frozen = srv:processes()
          os.execute("kill -STOP " .. table.concat(frozen, " "))
        end
      end
    elseif ev.type == "done" or ev.type == "error" then
      final = ev
    end
  end
  return final, frozen
end

describe("#ssh ssh error names", function()
  for _, how in ipairs { "kill", "hang" } do
    describe("a connection lost mid-stream (" .. how .. ")", function()
      local srv, conn, frozen
      before_each(function()
        srv = sshd.start()
        conn = assert(connect(srv, { keepalive = 0.5 }))
      end)
      after_each(function()
        if frozen and #frozen > 0 then os.execute("kill -CONT " .. table.concat(frozen, " ")) end
        frozen = nil
        conn:close()
        srv:stop()
      end)

      it("ends the stream with an error named as unreachable, without a result rc", function()
        local final
        final, frozen = lose_mid_stream(srv, how, conn)
        assert.are.equal("error", final.type)
        assert.is_true(unreachable_name(final.error), final.error)
        assert.is_nil(final.error:find("ETIMEDOUT", 1, true))
        assert.matches(how == "kill" and "^ECONNRESET: " or "^ECONNABORTED: ", final.error)
        assert.is_nil(final.result.rc)
        assert.is_false(final.result.timed_out)
      end)

      it("makes the host unreachable in a play (streaming_shell)", function()
        local recap = assert(luasible.play({ hosts = "localhost", tasks = {
          { name = "tick", module = "streaming_shell", args = { cmd = TICK } },
          { name = "never", module = "command", args = { cmd = "true" } },
        } }, {
          connect = function() return conn end,
          on_event = function(ev)
            if ev.type == "stdout" and not frozen then
              if how == "kill" then srv:kill_all(); frozen = {}
              else
                frozen = srv:processes()
                os.execute("kill -STOP " .. table.concat(frozen, " "))
              end
            end
          end,
        }))
        assert.are.equal(1, recap.localhost.unreachable)
        assert.are.equal(0, recap.localhost.failed)
      end)
    end)
  end

  it("execute on a lost connection returns nil, err, name with an unreachable name", function()
    local srv = sshd.start()
    local conn = assert(connect(srv))
    -- the command kills its own sshd session process: the connection drops
    local res, err, name = conn:execute("sleep 0.2; kill -9 $PPID; sleep 5")
    assert.is_nil(res)
    assert.is_true(unreachable_name(err), err)
    assert.are.equal("ECONNRESET", name)
    -- the next execute reconnects; a refused reconnect is unreachable too
    srv:kill_all()
    res, err, name = conn:execute("true")
    assert.is_nil(res)
    assert.is_true(unreachable_name(err), err)
    assert.are.equal("ECONNREFUSED", name)
    conn:close()
    srv:stop()
  end)

  it("an idle connection costs no CPU, and reconnects after its server went away", function()
    local srv = sshd.start()
    local conn = assert(connect(srv))
    local c0 = os.clock()
    luasible.sleep(0.5) -- the server's post-auth messages wait unread in the socket
    assert.is_true(os.clock() - c0 < 0.2, "CPU while idle: " .. (os.clock() - c0))
    srv:kill_all()
    srv:restart()
    luasible.sleep(0.2) -- the loop sees the close of the idle connection
    local res = assert(conn:execute("echo back"))
    assert.are.equal("back\n", res.stdout)
    conn:close()
    srv:stop()
  end)

  it("a command timeout is ETIMEDOUT with timed_out (a failure, not unreachable)", function()
    local srv = sshd.start()
    local conn = assert(connect(srv))
    local res = assert(conn:execute("sleep 5", { timeout = 0.3 }))
    assert.is_true(res.timed_out)
    local final
    for ev in conn:stream("sleep 5", { timeout = 0.3 }) do final = ev end
    assert.are.equal("error", final.type)
    assert.matches("^ETIMEDOUT: ", final.error)
    assert.is_true(final.result.timed_out)
    conn:close()
    srv:stop()
  end)
end)
