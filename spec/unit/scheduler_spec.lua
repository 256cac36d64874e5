-- The scheduler: tasks on the loop, the embedding step, settle.
local luasible = require "luasible"
local scheduler = require "luasible.scheduler"
local core = require "luasible.core"

-- Drive with step() alone, as a host would (spinning instead of polling:
-- the C host of embed_spec polls); returns how many steps it took.
local function step_until_idle(limit)
  local n = 0
  while true do
    local busy = luasible.step()
    n = n + 1
    if not busy then return n end
    assert(luasible.now() < limit, "still busy after the limit")
  end
end

describe("scheduler", function()
  describe("tasks", function()
    it("run in the order they were spawned, and sleeps end in time order", function()
      local order = {}
      luasible.run(function()
        local hs = {}
        for i = 1, 3 do hs[i] = luasible.spawn(function() order[#order + 1] = "start" .. i end) end
        local s1 = luasible.spawn(function() luasible.sleep(0.12); order[#order + 1] = "slow" end)
        local s2 = luasible.spawn(function() luasible.sleep(0.02); order[#order + 1] = "fast" end)
        local s3 = luasible.spawn(function() luasible.sleep(0); order[#order + 1] = "zero" end)
        for _, h in ipairs(hs) do h:wait() end
        s1:wait(); s2:wait(); s3:wait()
      end)
      assert.same({ "start1", "start2", "start3", "zero", "fast", "slow" }, order)
    end)

    it("return values through wait, to several waiters at once", function()
      local got = luasible.run(function()
        local t = luasible.spawn(function() luasible.sleep(0.02); return "v", 2 end)
        local ws = {}
        for i = 1, 3 do ws[i] = luasible.spawn(function() return select(2, t:wait()) end) end
        local out = {}
        for i = 1, 3 do out[i] = ws[i]:wait() end
        return out
      end)
      assert.same({ 2, 2, 2 }, got)
    end)

    it("wake every task parked on one object (a group of waiters)", function()
      local n = luasible.run(function()
        local it, s = luasible.connect():stream("sleep 0.05; echo a; echo b")
        local function reader()
          local k = 0
          for ev in it, s do if ev.type == "stdout" then k = k + 1 end end
          return k
        end
        local a, b, c = luasible.spawn(reader), luasible.spawn(reader), luasible.spawn(reader)
        return a:wait() + b:wait() + c:wait()
      end)
      assert.equal(2, n)
    end)

    it("cancel a parked task: its waiters get the error, the others go on", function()
      local ok, err = pcall(luasible.run, function()
        local other = luasible.spawn(function() luasible.sleep(0.05); return "other" end)
        local t = luasible.spawn(function() luasible.sleep(30) end)
        luasible.sleep(0.01)
        t:cancel("ECANCELED: enough")
        assert.equal("failed", t:status())
        assert.equal("other", other:wait())
        return t:wait()
      end)
      assert.is_false(ok)
      assert.matches("ECANCELED: enough", err)
    end)

    it("refuse to cancel the running task, or to wait for itself", function()
      luasible.run(function()
        local me
        me = luasible.spawn(function()
          local ok, err = pcall(me.cancel, me)
          assert.is_false(ok)
          assert.matches("only a suspended task can be cancelled", err)
          ok, err = pcall(me.wait, me)
          assert.is_false(ok)
          assert.matches("cannot wait for itself", err)
        end)
        me:wait()
      end)
    end)

    it("raise the error of a task nobody waited for at the end of run", function()
      local ok, err = pcall(luasible.run, function()
        luasible.spawn(function() error("lost boom") end)
        luasible.sleep(0.01)
      end)
      assert.is_false(ok)
      assert.matches("a spawned task failed: .*lost boom", err)
      -- waited for: it is the waiter's to handle, run stays quiet
      assert.equal("handled", luasible.run(function()
        local t = luasible.spawn(function() error("seen boom") end)
        local wok = pcall(t.wait, t)
        return wok and "not raised" or "handled"
      end))
    end)

    it("have a name", function()
      local t = luasible.spawn(function() end)
      assert.matches("^luasible%.task %(running%)", tostring(t))
      t:wait()
      assert.matches("^luasible%.task %(ok%)", tostring(t))
    end)
  end)

  describe("fairness", function()
    -- a task that never waits (it only calls tick, as the stream iterators
    -- do every few hundred events) beside one that sleeps 10 ms in a loop
    local function busy_beside_sleeper(busy)
      local late, ticks = 0, 0
      luasible.run(function()
        local stop = luasible.now() + 0.3
        local hog = luasible.spawn(busy, stop)
        while luasible.now() < stop do
          local t0 = luasible.now()
          luasible.sleep(0.01)
          late = math.max(late, luasible.now() - t0 - 0.01)
          ticks = ticks + 1
        end
        hog:wait()
      end)
      return late, ticks
    end

    it("preempts a task at tick() once its turn is used up", function()
      local late, ticks = busy_beside_sleeper(function(stop)
        while luasible.now() < stop do scheduler.tick() end
      end)
      assert.is_true(ticks >= 10, ticks .. " ticks in 0.3 s")
      assert.is_true(late < 0.1, ("%.0f ms late"):format(late * 1000))
    end)

    it("runs a task left over from a slice, even beside one that takes each slice whole", function()
      -- each turn of the hog takes 10 ms (longer than a slice) and cannot
      -- be preempted; the sleeper still runs between two of them
      local late, ticks = busy_beside_sleeper(function(stop)
        while luasible.now() < stop do
          local t = luasible.now() + 0.01
          repeat until luasible.now() >= t
          luasible.sleep(0)
        end
      end)
      assert.is_true(ticks >= 5, ticks .. " ticks in 0.3 s")
      assert.is_true(late < 0.1, ("%.0f ms late"):format(late * 1000))
    end)

    it("lets the main thread's tick() turn the loop and run the tasks", function()
      local ran = 0
      local t = luasible.spawn(function()
        for _ = 1, 5 do luasible.sleep(0.005); ran = ran + 1 end
      end)
      local stop = luasible.now() + 0.2
      while luasible.now() < stop do scheduler.tick() end
      assert.equal(5, ran)
      t:wait()
    end)
  end)

  describe("step", function()
    it("drives tasks without ever blocking, and says when it is done", function()
      local out = {}
      luasible.spawn(function()
        out.rc = luasible.connect():execute("sleep 0.2; echo hi").stdout
      end)
      luasible.spawn(function() luasible.sleep(0.1); out.slept = true end)
      local t0, longest = luasible.now(), 0
      local steps = 0
      while true do
        local s0 = luasible.now()
        local busy, timeout = luasible.step()
        longest = math.max(longest, luasible.now() - s0)
        steps = steps + 1
        if not busy then
          assert.is_nil(timeout)
          break
        end
        assert.is_true(timeout == nil or (timeout >= 0 and timeout <= 0.1 + 1e-3))
        assert.is_true(luasible.now() - t0 < 10)
      end
      assert.equal("hi\n", out.rc)
      assert.is_true(out.slept)
      assert.is_true(steps > 2)
      assert.is_true(longest < 0.1, "a step took " .. longest .. "s")
    end)

    it("asks for no wait while tasks are ready, and for the next timer otherwise", function()
      luasible.spawn(function() luasible.sleep(0.3) end)
      local busy, timeout = luasible.step() -- the task starts its sleep
      assert.is_true(busy)
      assert.is_true(timeout > 0.2 and timeout <= 0.3 + 1e-3, tostring(timeout))
      luasible.spawn(function() end)
      busy = luasible.step()
      assert.is_true(busy)
      step_until_idle(luasible.now() + 5)
    end)

    it("gives the loop's backend fd, readable when the core has work", function()
      local fd = luasible.poll_fd()
      assert.equal("number", math.type(fd) and "number")
      assert.is_true(fd >= 0)
    end)

    it("raises the error of a task nobody waited for once nothing is left", function()
      luasible.spawn(function() luasible.sleep(0.01); error("embedded boom") end)
      local ok, err = pcall(step_until_idle, luasible.now() + 5)
      assert.is_false(ok)
      assert.matches("a spawned task failed: .*embedded boom", err)
      assert.equal(1, step_until_idle(luasible.now() + 5)) -- reported once
    end)

    it("raises a deadlock instead of spinning", function()
      local a, b
      a = luasible.spawn(function() luasible.sleep(0); b:wait() end)
      b = luasible.spawn(function() a:wait() end) -- each waits for the other
      local ok, err = pcall(step_until_idle, luasible.now() + 5)
      assert.is_false(ok)
      assert.matches("deadlock: waiting for 2 task%(s%)", err)
      a:cancel()
      b:cancel()
      assert.equal(1, step_until_idle(luasible.now() + 5))
    end)
  end)

  describe("reentrancy", function()
    it("refuses step and run from inside a task", function()
      local errs = luasible.run(function()
        local e = {}
        e[1] = select(2, pcall(luasible.step))
        e[2] = select(2, pcall(luasible.run, function() end))
        -- a coroutine of the task's own is still inside the task's turn
        local co = coroutine.wrap(function() return select(2, pcall(luasible.step)) end)
        e[3] = co()
        return e
      end)
      for i = 1, 3 do
        assert.matches("called from inside a task", errs[i])
        assert.matches("already being driven", errs[i])
      end
    end)

    it("refuses run from a task that step resumed", function()
      local err
      luasible.spawn(function() err = select(2, pcall(luasible.run, function() end)) end)
      step_until_idle(luasible.now() + 5)
      assert.matches("^luasible%.run: called from inside a task", err)
    end)

    it("leaves the scheduler usable after a refusal", function()
      assert.equal(3, luasible.run(function() return 3 end))
    end)
  end)

  describe("settle", function()
    it("returns once nothing is active", function()
      local it, s = luasible.connect():stream("sleep 0.2")
      local _ = it
      local t0 = luasible.now()
      assert.is_true(scheduler.settle(5))
      local took = luasible.now() - t0
      assert.is_true(took >= 0.15 and took < 3, tostring(took))
      s:close()
    end)

    it("never blocks longer than asked", function()
      local _, s = luasible.connect():stream("sleep 5")
      local t0 = luasible.now()
      assert.is_false(scheduler.settle(0.15))
      local took = luasible.now() - t0
      assert.is_true(took >= 0.14 and took < 1, tostring(took))
      s:close()
      scheduler.settle(2)
    end)

    it("inside a task, sleeps while the other tasks go on", function()
      local ticks = luasible.run(function()
        local n = 0
        local ticker = luasible.spawn(function()
          for _ = 1, 5 do luasible.sleep(0.02); n = n + 1 end
        end)
        local _, s = luasible.connect():stream("sleep 0.3")
        scheduler.settle(0.1) -- the command outlives this: false
        local seen = n
        s:close()
        ticker:wait()
        return seen
      end)
      assert.is_true(ticks >= 2, tostring(ticks))
    end)

    it("is true at once when nothing is active", function()
      assert.is_true(scheduler.settle(5)) -- what the specs before left
      assert.equal(0, core.active())
      local t0 = luasible.now()
      assert.is_true(scheduler.settle(1))
      assert.is_true(luasible.now() - t0 < 0.05)
    end)
  end)
end)
