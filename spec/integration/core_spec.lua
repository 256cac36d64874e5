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

describe("core results", function()
  it("count lines under *_line_count (stdout_lines is a list, in task results)", function()
    local s = assert(core.spawn({ "sh", "-c", "echo a; echo b; echo c >&2" }))
    local evs = drain(s)
    local r = evs[#evs].result
    assert.equal(2, r.stdout_line_count)
    assert.equal(1, r.stderr_line_count)
    assert.is_nil(r.stdout_lines)
    assert.is_nil(r.stderr_lines)
    local st = s:stats()
    assert.equal(2, st.stdout_line_count)
    assert.equal(1, st.stderr_line_count)
    assert.is_nil(st.stdout_lines)
    s:close()
  end)
end)

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

describe("core signals", function()
  it("are one table of names and numbers (contract 3)", function()
    assert.equal(1, core.signals.HUP)
    assert.equal(2, core.signals.INT)
    assert.equal(9, core.signals.KILL)
    assert.equal(15, core.signals.TERM)
    for name, n in pairs(core.signals) do
      assert.equal(name, core.signal_name(n))
    end
    assert.equal("TERM", core.signal_name(15))
    assert.equal("SIG99", core.signal_name(99))
  end)

  it("name the signal that killed a command from the same table", function()
    local s = assert(core.spawn({ "sh", "-c", "kill -USR1 $$" }))
    local evs = drain(s)
    local r = evs[#evs].result
    assert.equal("USR1", r.signal)
    assert.equal(128 + core.signals.USR1, r.rc)
    s:close()
  end)
end)

describe("core base64", function()
  it("encodes and decodes every byte", function()
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    local s = table.concat(all)
    for n = 0, 5 do
      local part = s:sub(1, n)
      assert.equal(part, core.base64_decode(core.base64_encode(part)))
    end
    assert.equal(s, core.base64_decode(core.base64_encode(s)))
    assert.equal("Zm9vYmFy", core.base64_encode("foobar"))
    assert.equal("Zm9vYg==", core.base64_encode("foob"))
    assert.equal("foob", core.base64_decode("Zm9v\nYg=="))
  end)

  it("refuses what is not base64 with the fail tuple", function()
    local ok, err, name = core.base64_decode("not base64!")
    assert.is_nil(ok)
    assert.equal("EINVAL", name)
    assert.equal("EINVAL: not base64", err)
  end)
end)

describe("core metatables", function()
  it("are named, printable and collectable", function()
    local reg = debug.getregistry()
    for _, name in ipairs { "luasible.stream", "luasible.timer", "luasible.ssh_session",
      "luasible.ssh_config", "luasible.spawn_args", "luasible.sha256", "luasible.ctx" } do
      local mt = reg[name]
      assert.is_table(mt, name)
      assert.equal(name, mt.__name)
      assert.is_function(mt.__gc, name)
      assert.is_function(mt.__tostring, name)
    end
    for _, obj in ipairs { core.timer(0), core.sha256_new() } do
      assert.matches("^luasible%.%w+ ", tostring(obj))
    end
  end)
end)
