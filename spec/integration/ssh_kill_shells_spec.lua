-- The remote kill (a timeout, a cancel) runs in the user's login shell:
-- it must work in every POSIX shell a host may give, not only bash (dash's
-- kill refuses `--` before a negative pid: nothing was killed there). On a
-- real test host, users with dash, bash and busybox sh as login shells.
local luasible = require "luasible"
local th = require "spec.helpers.testhosts"

describe("#hosts #ssh remote kills in the login shell", function()
  local ok, why = th.available()
  if not ok then
    pending("test hosts unavailable: " .. why)
    return
  end
  local hosts
  lazy_setup(function() hosts = th.start { n = 1 } end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local shells = { dash = "/bin/dash", bash = "/bin/bash" }
  if io.open("/bin/busybox") then shells.busybox = "/bin/busybox-sh" end

  for name, shell in pairs(shells) do
    it("kills a cancelled command's whole group for a user whose shell is " .. name, function()
      local h = hosts[1]
      if name == "busybox" then
        assert(select(2, h:exec("printf '#!/bin/busybox sh\\nexec /bin/busybox sh \"$@\"\\n' > "
          .. shell .. " && chmod 755 " .. shell .. " && echo " .. shell .. " >> /etc/shells")))
      end
      local user = "k" .. name
      local _, made, _, err = h:exec("useradd -m -p '*' -s " .. shell .. " " .. user)
      assert(made, err)
      local args = h:connect_args()
      args.user = user
      local conn = assert(luasible.connect(args))
      -- no timeout (the server's timeout(1) would end it too): the consumer
      -- breaks out of the stream, which sends the kill line
      local first = luasible.run(function()
        for ev in conn:stream("echo started; sleep 317 & sleep 318; wait") do
          if ev.type == "stdout" then return ev.data end
        end
      end)
      assert.are.equal("started", first)
      local left
      for _ = 1, 30 do
        left = h:exec("ps -eo args | grep '^sleep 31[78]' || true")
        if left == "" then break end
        luasible.sleep(0.1)
      end
      conn:close()
      assert.are.equal("", left, "still running on the host after the kill")
    end)
  end
end)
