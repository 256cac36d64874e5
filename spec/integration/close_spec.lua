-- conn:close() while commands run on the connection: the same on both kinds
-- (issue 8, finding 4). What runs on it is killed (its whole process
-- group: the shell and what it started) and every stream of it ends with
-- an ECANCELED error event; an execute waiting in another task returns
-- nil, "ECANCELED: connection closed", "ECANCELED".
local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"
local proc = require "spec.helpers.proc"

-- wait (at most `secs`) until none of the pids is alive
local function gone(pids, secs)
  local t0 = luasible.now()
  repeat
    local any = false
    for _, pid in ipairs(pids) do any = any or proc.alive(pid) end
    if not any then return true end
    luasible.sleep(0.05)
  until luasible.now() - t0 > secs
  return false
end

describe("#ssh conn:close() during a running stream", function()
  local srv
  lazy_setup(function() srv = sshd.start() end)
  lazy_teardown(function() if srv then srv:stop() end end)

  local kinds = {
    ["local"] = function() return luasible.connect() end,
    ssh = function()
      return assert(luasible.connect { host = "127.0.0.1", port = srv.port, user = srv.user, identity = srv.key,
        known_hosts = srv.known_hosts, agent = false, ssh_config = false })
    end,
  }

  for _, kind in ipairs { "local", "ssh" } do
    it("kills the command's process group and ends the stream with ECANCELED (" .. kind .. ")", function()
      local conn = kinds[kind]()
      local pids, final, t_close
      -- the shell, and a child of it that would outlive a kill of the shell alone
      -- (the timeout only bounds this spec on a core that would not kill)
      for ev in conn:stream("sleep 1000 & echo $$ $!; wait", { timeout = 8 }) do
        if ev.type == "stdout" and not pids then
          local sh, child = ev.data:match("^(%d+) (%d+)$")
          pids = { tonumber(sh), tonumber(child) }
          assert.is_true(proc.alive(pids[1]) and proc.alive(pids[2]))
          t_close = luasible.now()
          conn:close()
        elseif ev.type == "error" or ev.type == "done" then
          final = ev
        end
      end
      assert.are.equal("error", final.type)
      assert.are.equal("ECANCELED", final.code)
      assert.are.equal("ECANCELED: connection closed", final.error)
      assert.is_true(luasible.now() - t_close < 2, "the stream ended at once")
      assert.is_true(gone(pids, 5), "the command and its child were killed")
      assert.has_error(function() conn:execute("true") end, "luasible: connection used after close")
    end)

    it("an execute in another task returns nil, ECANCELED (" .. kind .. ")", function()
      local conn = kinds[kind]()
      local res, err, name
      luasible.run(function()
        local t = luasible.spawn(function() return conn:execute("sleep 1000", { timeout = 8 }) end)
        luasible.sleep(0.3)
        conn:close()
        res, err, name = t:wait()
      end)
      assert.is_nil(res)
      assert.are.equal("ECANCELED", name)
      assert.are.equal("ECANCELED: connection closed", err)
    end)
  end

  it("a stream that ended before the close is left as it was (local)", function()
    local conn = luasible.connect()
    local it, s = conn:stream("echo hi")
    local seen = {}
    for ev in it, s do seen[#seen + 1] = ev.type end
    conn:close()
    assert.are.equal("done", seen[#seen])
  end)
end)
