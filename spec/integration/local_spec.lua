-- The local connection against real processes: lines, ordering, binary data,
-- timeouts, cancellation, concurrency, bad input, leaks.
local luasible = require "luasible"
local proc = require "spec.helpers.proc"

local conn = luasible.connect()

-- run a stream to its end; returns lines by type and the final event
local function collect(cmd, opts)
  local out, err, events, final = {}, {}, {}, nil
  for ev in conn:stream(cmd, opts) do
    events[#events + 1] = ev
    if ev.type == "stdout" then out[#out + 1] = ev
    elseif ev.type == "stderr" then err[#err + 1] = ev
    elseif ev.type == "done" or ev.type == "error" then final = ev end
  end
  return out, err, final, events
end

local function datas(list)
  local t = {}
  for i, ev in ipairs(list) do t[i] = ev.data end
  return t
end

-- a killed process may take a moment to be gone
local function wait_gone(pid)
  local deadline = luasible.now() + 5
  while proc.alive(pid) and luasible.now() < deadline do luasible.sleep(0.02) end
  return not proc.alive(pid)
end

describe("local connection", function()
  it("is a streaming local connection", function()
    assert.equal("local", conn.kind)
    assert.is_true(conn.streaming)
    assert.equal(conn.kind, luasible.connect("local").kind)
  end)

  describe("execute", function()
    it("returns rc, stdout, stderr and duration", function()
      local res = assert(conn:execute("echo out; echo err >&2; exit 3"))
      assert.equal(3, res.rc)
      assert.is_false(res.ok)
      assert.equal("out\n", res.stdout)
      assert.equal("err\n", res.stderr)
      assert.is_false(res.timed_out)
      assert.is_true(res.duration >= 0 and res.duration < 5)
    end)

    it("runs an argv table without a shell", function()
      local res = assert(conn:execute({ "printf", "%s|", "a b", "$HOME", "'q'" }))
      assert.equal("a b|$HOME|'q'|", res.stdout)
      assert.is_true(res.ok)
    end)

    it("honours cwd, env and stdin", function()
      local dir = os.tmpname()
      os.remove(dir)
      assert(os.execute("mkdir " .. dir))
      local res = assert(conn:execute("pwd; echo \"$FOO\"; cat", {
        cwd = dir, env = { FOO = "bar baz" }, stdin = "from stdin\0x" }))
      assert.equal(dir .. "\nbar baz\nfrom stdin\0x", res.stdout)
      os.execute("rmdir " .. dir)
    end)

    it("keeps the inherited environment next to env", function()
      local res = assert(conn:execute("echo \"$PATH\"", { env = { X = "1" } }))
      assert.equal(os.getenv("PATH") .. "\n", res.stdout)
    end)

    it("calls on_output live for each line, and on_progress", function()
      local seen, stages = {}, {}
      local res = assert(conn:execute("echo a; echo b >&2; echo c", {
        stream_output = true,
        on_output = function(line, is_stderr) seen[#seen + 1] = (is_stderr and "E:" or "O:") .. line end,
        on_progress = function(p) stages[#stages + 1] = p.stage end,
      }))
      assert.is_true(res.ok)
      table.sort(seen)
      assert.same({ "E:b", "O:a", "O:c" }, seen)
      assert.same({ "executing", "done" }, stages)
      assert.equal("a\nc\n", res.stdout)
    end)

    it("reports a signal", function()
      local res = assert(conn:execute("kill -TERM $$"))
      assert.equal("TERM", res.signal)
      assert.is_false(res.ok)
    end)

    it("runs as another user through sudo -n", function()
      if not os.execute("sudo -n true 2>/dev/null") then
        pending("sudo -n does not work for this user")
        return
      end
      local res = assert(conn:execute("id -un", { user = "nobody" }))
      assert.equal("nobody\n", res.stdout)
    end)

    it("never hands a sudo password to the command when sudo does not ask for it", function()
      if not os.execute("sudo -n true 2>/dev/null") then
        pending("sudo -n does not work for this user")
        return
      end
      local seen = {}
      local res = assert(conn:execute("id -un; cat", {
        user = "nobody", sudo_password = "pw-5ecret", stdin = "input\n",
        on_output = function(line) seen[#seen + 1] = line end }))
      assert.equal("nobody\ninput\n", res.stdout)
      assert.same({ "nobody", "input" }, seen)
      assert.is_nil(res.stderr:find("pw-5ecret", 1, true))
    end)
  end)

  describe("stream", function()
    it("delivers events with type, increasing seq and timestamps, ending in done", function()
      local _, _, final, events = collect("echo one; echo two")
      assert.equal("progress", events[1].type)
      assert.equal("executing", events[1].progress.stage)
      for i, ev in ipairs(events) do
        assert.equal(i, ev.seq)
        assert.is_number(ev.timestamp)
        if i > 1 then assert.is_true(ev.timestamp >= events[i - 1].timestamp) end
      end
      assert.equal("done", final.type)
      assert.equal(final, events[#events])
      assert.equal(0, final.result.rc)
      assert.equal(2, final.result.stdout_line_count)
    end)

    it("keeps every line of stdout and stderr in order when they interleave", function()
      local out, err, final = collect(
        "i=0; while [ $i -lt 2000 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done")
      assert.equal(0, final.result.rc)
      assert.equal(2000, #out)
      assert.equal(2000, #err)
      for i = 1, 2000 do
        assert.equal("o" .. (i - 1), out[i].data)
        assert.equal("e" .. (i - 1), err[i].data)
      end
    end)

    it("passes a 10 MB output through completely #slow", function()
      local line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
      local n, bytes, last, final = 0, 0, nil, nil
      for ev in conn:stream("yes " .. line .. " | head -c 10485760") do
        if ev.type == "stdout" then
          n = n + 1
          bytes = bytes + #ev.data + 1
          if last then assert.equal(line, last) end
          last = ev.data
        elseif ev.type == "done" then final = ev end
      end
      -- 166,440 whole lines, then the first 40 bytes of one more, unterminated
      assert.equal(10485760 // 63 + 1, n)
      assert.equal(line:sub(1, 10485760 % 63), last)
      assert.equal(10485760 + 1, bytes)
      assert.equal(0, final.result.rc)
      assert.equal(10485760, final.result.stdout_bytes)
    end)

    it("passes binary bytes through unchanged", function()
      local out = collect({ "printf", "a\\000b\\377\\376\\nz" })
      assert.same({ "a\0b\255\254", "z" }, datas(out))
    end)

    it("delivers a final line without newline", function()
      local out = collect("printf 'x\\nlast'")
      assert.same({ "x", "last" }, datas(out))
    end)

    it("delivers long lines in max_line chunks marked partial", function()
      local out = collect("head -c 200000 /dev/zero | tr '\\0' a; echo; echo short")
      local total = 0
      for i = 1, #out - 1 do
        total = total + #out[i].data
        assert.is_true(#out[i].data <= 65536)
        assert.equal(i < #out - 1 or nil, out[i].partial)
      end
      assert.equal(200000, total)
      assert.equal("short", out[#out].data)
      local small = collect("echo abcdefgh", { max_line = 3 })
      assert.same({ "abc", "def", "gh" }, datas(small))
      assert.is_true(small[1].partial)
      assert.is_nil(small[3].partial)
    end)

    it("delivers carriage-return redraws as they happen, marked cr", function()
      local out = collect("printf '10%%\\r'; sleep 0.3; printf '50%%\\r'; sleep 0.3; printf '100%%\\n'")
      assert.same({ "10%", "50%", "100%" }, datas(out))
      assert.is_true(out[1].cr)
      assert.is_true(out[2].cr)
      assert.is_nil(out[3].cr)
      assert.is_true(out[2].timestamp - out[1].timestamp > 0.2)
    end)

    it("delivers lines live, not at the end", function()
      local t0 = luasible.now()
      for ev in conn:stream("echo first; sleep 1; echo second") do
        if ev.type == "stdout" then
          assert.equal("first", ev.data)
          assert.is_true(luasible.now() - t0 < 0.5)
          break
        end
      end
    end)

    it("ends with an error event when the program cannot run #novalgrind", function()
      local events = {}
      for ev in conn:stream({ "/nonexistent/prog" }) do events[#events + 1] = ev end
      assert.equal(1, #events)
      assert.equal("error", events[1].type)
      assert.matches("ENOENT: cannot execute '/nonexistent/prog'", events[1].error, 1, true)
    end)
  end)

  describe("lines", function()
    it("gives the output as strings with their kind, skipping redraws", function()
      local got = {}
      for line, kind in conn:lines("echo a; echo b >&2; printf '10%%\\r100%%\\n'; printf 'last'") do
        got[#got + 1] = kind .. ":" .. line
      end
      table.sort(got)
      assert.same({ "stderr:b", "stdout:100%", "stdout:a", "stdout:last" }, got)
    end)

    it("raises, naming the program, when the command cannot run #novalgrind", function()
      -- (valgrind changes how posix_spawn reports a failed exec)
      assert.has_error(function() for _ in conn:lines({ "/nonexistent/prog" }) do end end,
        "ENOENT: cannot execute '/nonexistent/prog': no such file or directory")
    end)

    it("raises when the command fails, unless check = false", function()
      local seen = {}
      local ok, err = pcall(function()
        for line in conn:lines("echo before; exit 3") do seen[#seen + 1] = line end
      end)
      assert.is_false(ok)
      assert.matches("command failed %(exit status 3%): echo before; exit 3", err)
      assert.same({ "before" }, seen)
      for _ in conn:lines("exit 3", { check = false }) do end
      assert.has_error(function() conn:lines("true", { on_output = print }) end,
        "bad argument #2 to 'lines' (unknown option 'on_output')")
      assert.has_error(function() conn:stream("true", { check = true }) end,
        "bad argument #2 to 'stream' (unknown option 'check')")
    end)

    it("kills the command when the loop is left", function()
      local pid
      for line in conn:lines("echo $$; sleep 60") do
        pid = tonumber(line)
        if pid then break end
      end
      assert.is_true(wait_gone(pid))
    end)

    it("reads a big output completely", function()
      local n, last = 0, nil
      for line in conn:lines("seq 1 200000") do n = n + 1; last = line end
      assert.equal(200000, n)
      assert.equal("200000", last)
    end)
  end)

  describe("timeouts and cancellation", function()

    it("kills the whole process tree on timeout and ends with an error", function()
      local lines, final = {}, nil
      local t0 = luasible.now()
      for ev in conn:stream("sleep 60 & echo $!; echo $$; wait", { timeout = 0.5 }) do
        if ev.type == "stdout" then lines[#lines + 1] = tonumber(ev.data)
        elseif ev.type == "error" or ev.type == "done" then final = ev end
      end
      assert.equal("error", final.type)
      assert.matches("^ETIMEDOUT", final.error)
      assert.is_true(final.result.timed_out)
      assert.equal("TERM", final.result.signal)
      assert.is_true(luasible.now() - t0 < 3)
      assert.is_true(wait_gone(lines[1]), "grandchild still alive")
      assert.is_true(wait_gone(lines[2]), "child still alive")
    end)

    it("execute reports timed_out without failing", function()
      local res = assert(conn:execute("sleep 5", { timeout = 0.2 }))
      assert.is_true(res.timed_out)
      assert.is_false(res.ok)
    end)

    it("ends a timed-out stream even when a descendant left the group holding its output", function()
      local t0 = luasible.now()
      local res = assert(conn:execute("setsid sh -c 'echo $$; exec sleep 30' & wait", { timeout = 0.3 }))
      local elapsed = luasible.now() - t0
      local pid = tonumber(res.stdout:match("%d+"))
      if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
      assert.is_true(res.timed_out)
      assert.is_true(elapsed < 6, "took " .. elapsed) -- timeout + SIGTERM grace + SIGKILL grace
    end)

    it("takes an infinite timeout as none", function()
      local res = assert(conn:execute("echo fine", { timeout = math.huge }))
      assert.is_true(res.ok)
      assert.is_false(res.timed_out)
    end)

    it("SIGKILLs a child that ignores SIGTERM after the grace period", function()
      local res = assert(conn:execute("trap '' TERM; sleep 30", { timeout = 0.2 }))
      assert.is_true(res.timed_out)
      assert.equal("KILL", res.signal)
    end)

    it("kills the process when the loop is left with break", function()
      local pid
      for ev in conn:stream("echo $$; sleep 60") do
        if ev.type == "stdout" then pid = tonumber(ev.data); break end
      end
      assert.is_true(wait_gone(pid))
    end)

    it("kills the process on stream:close() and on garbage collection", function()
      local function first_pid(iter, s)
        while true do
          local ev = iter(s)
          if ev.type == "stdout" then return tonumber(ev.data) end
        end
      end
      local iter, s = conn:stream("echo $$; sleep 60")
      local pid = first_pid(iter, s)
      s:close()
      s:close() -- idempotent
      assert.is_nil(iter(s))
      assert.is_true(wait_gone(pid))
      -- an abandoned stream is killed by the garbage collector
      iter, s = conn:stream("echo $$; sleep 60")
      pid = first_pid(iter, s)
      iter, s = nil, nil -- luacheck: ignore 311
      collectgarbage()
      collectgarbage()
      assert.is_true(wait_gone(pid))
    end)
  end)

  describe("concurrency", function()
    it("streams two commands at once from two coroutines in max, not sum, time", function()
      local t0 = luasible.now()
      local got = {}
      luasible.run(function()
        local a = luasible.spawn(function()
          for ev in conn:stream("sleep 0.6; echo a") do
            if ev.type == "stdout" then got[#got + 1] = ev.data end
          end
        end)
        local b = luasible.spawn(function()
          return conn:execute("sleep 0.6; echo b")
        end)
        a:wait()
        assert.equal("b\n", b:wait().stdout)
      end)
      assert.same({ "a" }, got)
      local elapsed = luasible.now() - t0
      assert.is_true(elapsed < 1.0, "took " .. elapsed)
    end)

    it("runs 50 commands concurrently", function()
      local t0 = luasible.now()
      local results = {}
      luasible.run(function()
        local hs = {}
        for i = 1, 50 do
          hs[i] = luasible.spawn(function() return conn:execute("sleep 0.5; echo " .. i) end)
        end
        for i = 1, 50 do results[i] = hs[i]:wait().stdout end
      end)
      for i = 1, 50 do assert.equal(i .. "\n", results[i]) end
      assert.is_true(luasible.now() - t0 < 2.5)
    end)

    it("sleeps without blocking other tasks", function()
      local order = {}
      local t0 = luasible.now()
      luasible.run(function()
        local a = luasible.spawn(function() luasible.sleep(0.3); order[#order + 1] = "a" end)
        local b = luasible.spawn(function() luasible.sleep(0.1); order[#order + 1] = "b" end)
        a:wait(); b:wait()
      end)
      assert.same({ "b", "a" }, order)
      assert.is_true(luasible.now() - t0 < 0.6)
    end)

    it("returns values of tasks and raises their errors", function()
      local v1, v2 = luasible.run(function() return 1, "two" end)
      assert.equal(1, v1)
      assert.equal("two", v2)
      assert.has_error(function() luasible.run(function() error("boom") end) end)
      local ok, err = pcall(luasible.run, function()
        local h = luasible.spawn(function() error("inner boom") end)
        h:wait()
      end)
      assert.is_false(ok)
      assert.matches("inner boom", err)
    end)

    it("ends the loop of a task reading a stream that another task closes", function()
      local pid
      local t0 = luasible.now()
      local n = luasible.run(function()
        local it, s = conn:stream("echo $$; sleep 30")
        local reader = luasible.spawn(function()
          local k = 0
          for ev in it, s do
            if ev.type == "stdout" then pid = tonumber(ev.data) end
            k = k + 1
          end
          return k
        end)
        luasible.spawn(function()
          while not pid do luasible.sleep(0.01) end
          s:close() -- the reader is parked on s now
        end)
        return reader:wait()
      end)
      assert.is_true(n >= 1)
      assert.is_true(luasible.now() - t0 < 5)
      assert.is_true(wait_gone(pid))
    end)

    it("lets the stream of a cancelled task be collected, which kills its command", function()
      local pid
      luasible.run(function()
        local t = luasible.spawn(function()
          local it, s = conn:stream("echo $$; sleep 30")
          for ev in it, s do -- no closing value: only the task holds s
            if ev.type == "stdout" then pid = tonumber(ev.data) end
          end
        end)
        while not pid do luasible.sleep(0.01) end
        luasible.sleep(0.05) -- parked on its stream
        t:cancel()
      end)
      for _ = 1, 3 do collectgarbage() end
      assert.is_true(wait_gone(pid))
    end)

    it("wakes every task waiting on one stream, not only the last", function()
      local counts = luasible.run(function()
        local it, s = conn:stream("for i in 1 2 3 4 5 6; do echo $i; sleep 0.05; done")
        local function reader()
          local n = 0
          for ev in it, s do if ev.type == "stdout" then n = n + 1 end end
          return n
        end
        local a, b = luasible.spawn(reader), luasible.spawn(reader)
        return { a:wait(), b:wait() }
      end)
      assert.equal(6, counts[1] + counts[2])
    end)

    it("turns the loop for a task that only ever yields plainly", function()
      local fired = false
      local seen = luasible.run(function()
        local spinner = luasible.spawn(function()
          local t0 = luasible.now()
          while not fired and luasible.now() - t0 < 3 do coroutine.yield() end
          return fired -- what the spinner saw before it gave up
        end)
        luasible.spawn(function() luasible.sleep(0.05); fired = true end)
        return spinner:wait()
      end)
      assert.is_true(seen)
    end)

    it("gets every line to a consumer that sleeps while the stream is paused", function()
      -- a timer already due when the loop turns must not wait for I/O that
      -- backpressure has stopped
      local n = 0
      for ev in conn:stream("seq 1 300000") do
        if ev.type == "stdout" then
          n = n + 1
          if n % 1000 == 0 then luasible.sleep(0.001) end
        end
      end
      assert.equal(300000, n)
    end)

    it("cancels a parked task: its command is killed, its waiters get the error", function()
      local pid
      local ok, err = pcall(luasible.run, function()
        local t = luasible.spawn(function()
          for ev in conn:stream("echo $$; sleep 60") do
            if ev.type == "stdout" then pid = tonumber(ev.data) end
          end
        end)
        while not pid do luasible.sleep(0.01) end
        t:cancel()
        assert.equal("failed", t:status())
        return t:wait()
      end)
      assert.is_false(ok)
      assert.matches("ECANCELED: task cancelled", err)
      assert.is_true(wait_gone(pid))
      assert.equal(3, luasible.run(function() return 3 end)) -- the scheduler is fine afterwards
    end)

    it("stops reading a stream nobody consumes, then catches up losslessly #slow", function()
      local n, last = 0, nil
      local iter, s = conn:stream("seq 1 1000000")
      luasible.sleep(0.5) -- the command keeps running; we do not read
      local st = s:stats()
      assert.is_true(st.paused)
      assert.is_true(st.queued_bytes < 4 * 1024 * 1024, "queued " .. st.queued_bytes)
      for ev in iter, s do
        if ev.type == "stdout" then n = n + 1; last = ev.data end
      end
      assert.equal(1000000, n)
      assert.equal("1000000", last)
    end)
  end)

  describe("signals", function()
    it("turns SIGINT into an error once catch_signals() is called, and the command is killed", function()
      local script = os.tmpname()
      local f = assert(io.open(script, "w"))
      f:write([[
        package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
        package.cpath = "./?.so;" .. package.cpath
        local luasible = require "luasible"
        luasible.catch_signals()
        local ok, err = pcall(function()
          for ev in luasible.connect():stream("echo $$; exec sleep 30") do
            if ev.type == "stdout" then print("child " .. ev.data); io.stdout:flush() end
          end
        end)
        print(ok, err)
        os.exit(130, true)
      ]])
      f:close()
      local lines, child, final = {}, nil, nil
      local iter, s = conn:stream({ "lua5.4", script }, { timeout = 10 })
      for ev in iter, s do
        if ev.type == "stdout" then
          lines[#lines + 1] = ev.data
          child = child or tonumber(ev.data:match("^child (%d+)"))
          if child and #lines == 1 then os.execute("kill -INT " .. s:pid()) end
        elseif ev.type == "done" or ev.type == "error" then final = ev end
      end
      os.remove(script)
      assert.equal("done", final.type)
      assert.equal(130, final.result.rc)
      assert.equal("false\tEINTR: interrupted by SIGINT", lines[2])
      assert.is_true(wait_gone(child))
    end)

    it("gives wall-clock time next to the monotonic clock", function()
      -- between two readings of the system clock (three tries: a VM's clock
      -- may be stepped between them)
      local ok
      for _ = 1, 3 do
        local a, w, b = os.time(), luasible.wall(), os.time()
        ok = ok or (w >= a - 1 and w <= b + 1)
      end
      assert.is_true(ok)
      assert.is_true(luasible.now() > 0)
    end)
  end)

  describe("bad input", function()
    it("raises for a command that is not a string or argv table", function()
      assert.has_error(function() conn:execute(42) end,
        "bad argument #1 to 'execute' (string or argv table expected, got number)")
      assert.has_error(function() conn:stream(nil) end)
    end)

    it("raises for NUL bytes where a C string is needed", function()
      assert.has_error(function() conn:execute({ "echo", "a\0b" }) end,
        "bad argument #1 to 'execute' (argv[2] contains a NUL byte)")
      assert.has_error(function() conn:execute("true", { cwd = "/tmp\0x" }) end,
        "bad option 'cwd' to 'execute' (contains a NUL byte)")
    end)

    it("quotes every word that the shell could read otherwise", function()
      assert.equal("plain-word_1.txt", luasible.quote("plain-word_1.txt"))
      assert.equal("'A=b'", luasible.quote("A=b"))
      assert.equal("'it'\\''s $HOME `x` *'", luasible.quote("it's $HOME `x` *"))
      assert.equal("''", luasible.quote(""))
      local res = assert(conn:execute("printf '%s|' " .. luasible.quote("it's $HOME `x` * \\ \n")))
      assert.equal("it's $HOME `x` * \\ \n|", res.stdout)
    end)

    it("raises for an empty argv or a non-string element", function()
      assert.has_error(function() conn:execute({}) end, "bad argument #1 to 'execute' (argv table is empty)")
      assert.has_error(function() conn:execute({ "echo", 1 }) end,
        "bad argument #1 to 'execute' (argv[2] is a number, not a string)")
    end)

    it("raises for unknown options, naming them, and bad values", function()
      assert.has_error(function() conn:execute("true", { tiemout = 1 }) end,
        "bad argument #2 to 'execute' (unknown option 'tiemout')")
      assert.has_error(function() conn:execute("true", { timeout = -1 }) end,
        "bad option 'timeout' to 'execute' (must not be negative)")
      assert.has_error(function() conn:execute("true", { timeout = "1" }) end,
        "bad option 'timeout' to 'execute' (number expected, got string)")
      assert.has_error(function() conn:stream("true", { on_output = print }) end,
        "bad argument #2 to 'stream' (unknown option 'on_output')")
    end)

    it("returns nil, err for a cwd that does not exist", function()
      local res, err, name = conn:execute("true", { cwd = "/nonexistent/dir" })
      assert.is_nil(res)
      assert.equal("ENOENT", name)
      assert.matches("cwd '/nonexistent/dir'", err, 1, true)
    end)

    it("returns nil, err naming a program that cannot be executed and why #novalgrind", function()
      local res, err, name = conn:execute({ "/nonexistent/prog", "x" })
      assert.is_nil(res)
      assert.equal("ENOENT", name)
      assert.equal("ENOENT: cannot execute '/nonexistent/prog': no such file or directory", err)
      local f = os.tmpname()
      res, err, name = conn:execute({ f })
      os.remove(f)
      assert.is_nil(res)
      assert.equal("EACCES", name)
      assert.matches("cannot execute '" .. f .. "': permission denied", err, 1, true)
    end)
  end)

  describe("resources", function()
    it("leaks no fds and no child processes over 2,000 commands #slow", function()
      -- the count once the commands of earlier specs have let go of theirs
      -- (a killed one may still be closing its handles on a loaded machine)
      local function settled_fds(want)
        local n, last = proc.fd_count(), nil
        for _ = 1, 100 do
          if n == want or (not want and n == last) then break end
          luasible.sleep(0.05)
          last, n = n, proc.fd_count()
        end
        return n
      end
      conn:execute("true")
      collectgarbage()
      local fds = settled_fds()
      local me = proc.self_pid()
      for i = 1, 2000 do
        if i % 2 == 0 then
          assert(conn:execute("true"))
        else
          for _ in conn:stream({ "echo", "x" }) do end
        end
      end
      collectgarbage()
      assert.equal(fds, settled_fds(fds))
      assert.same({}, proc.children(me))
    end)
  end)
end)
