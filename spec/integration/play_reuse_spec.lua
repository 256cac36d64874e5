-- Connections reused across the plays of one run (issue 13): a host's SSH
-- connection opened in a play serves the later plays that have the host; it
-- is closed after the last play that has it, and every one is closed when
-- the run ends. Counted on a real OpenSSH server (its log: one "Accepted
-- publickey" per connection, one "Closing connection" per close).
local plays = require "luasible.play"
local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"

describe("#ssh connections across the plays of a run", function()
  local srv
  setup(function() srv = sshd.start {} end)
  teardown(function() if srv then srv:stop() end end)

  local function inventory()
    local hosts = {}
    for _, h in ipairs({ "web1", "web2", "web3" }) do hosts[h] = {} end
    return { all = { vars = { ansible_host = "127.0.0.1", ansible_port = srv.port, ansible_user = srv.user,
      ansible_ssh_private_key_file = srv.key, luasible_known_hosts = srv.known_hosts,
      luasible_ssh_config = "none" }, hosts = hosts } }
  end

  local function count(pat)
    local n = 0
    for _ in (files.read(srv.log) or ""):gmatch(pat) do n = n + 1 end
    return n
  end

  -- wait (a few seconds at most) until the log has `want` lines matching pat
  local function settle(pat, want)
    for _ = 1, 50 do
      if count(pat) >= want then break end
      luasible.sleep(0.1)
    end
    return count(pat)
  end

  it("opens one connection per host for the whole run and closes each after its last play", function()
    local a0, d0 = count("Accepted publickey"), count("Closing connection to")
    local at_play3
    local recap = assert(plays.play({
      { name = "one", hosts = "web1:web2", gather_facts = false, tasks = { { shell = "echo 1" } } },
      { name = "two", hosts = "web1", gather_facts = false, tasks = { { shell = "echo 2" }, { shell = "echo 3" } } },
      { name = "three", hosts = "web2:web3", gather_facts = false, tasks = { { shell = "echo 4" } } },
    }, { inventory = inventory(), on_event = function(ev)
      if ev.type == "play_start" and ev.play == "three" then at_play3 = count("Accepted publickey") - a0 end
    end }))
    assert.same({ 3, 2, 1 }, { recap.web1.ok, recap.web2.ok, recap.web3.ok })
    assert.same({ 0, 0, 0 }, { recap.web1.failed, recap.web2.failed, recap.web3.failed })
    -- web1 and web2 connected in play one, reused in two and three: three
    -- connections in all (a connection per play and host would be five)
    assert.equal(2, at_play3)
    assert.equal(3, count("Accepted publickey") - a0)
    -- and every one closed by the end of the run
    assert.equal(3, settle("Closing connection to", d0 + 3) - d0)
  end)

  it("closes a host's connection after the last play that has it, before the run ends", function()
    local d0 = count("Closing connection to")
    local closed_before
    assert(plays.play({
      { name = "a", hosts = "web1:web2", gather_facts = false, tasks = { { shell = "true" } } },
      { name = "b", hosts = "web2", gather_facts = false, tasks = {
        -- web1 left the run's plays after "a": its connection is closed by now
        { shell = "sleep 1.5" } } },
    }, { inventory = inventory(), on_event = function(ev)
      if ev.type == "recap" then closed_before = count("Closing connection to") - d0 end
    end }))
    -- by the recap (after b's 1.5 s task), web1's close had reached the
    -- server; web2's goes after the recap
    assert.is_true(closed_before >= 1)
    assert.equal(2, settle("Closing connection to", d0 + 2) - d0)
  end)
end)
