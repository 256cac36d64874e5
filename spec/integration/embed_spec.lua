-- The embedding contract: a program that owns its loop drives luasible
-- without luasible ever blocking it. (a) core/test/embed_host, a C host with
-- a plain poll(2) loop, drives a play and a stream through poll_fd() and
-- step() alone; (b) a Lua program on luv (Debian's lua-luv) that runs its
-- own uv loop hands it to the core with core.use_loop and calls step() from
-- a check handle.
local files = require "spec.helpers.files"

local cwd = os.getenv("PWD")
-- the build the specs run against: the ASan one (make test-asan) or build/
local cpath = os.getenv("LUASIBLE_CPATH")
local build = cpath and cpath:match("^(.*)/%?%.so$") or (cwd .. "/build")
if not build:match("^/") then build = cwd .. "/" .. build end
local lpath = cwd .. "/lua/?.lua;" .. cwd .. "/lua/?/init.lua"
local core_path = cpath or (cwd .. "/?.so")
-- a Lua interpreter that can load that core (the ASan one needs the
-- sanitizers linked into its host)
local lua = cpath and (build .. "/lua_host") or "lua5.4"

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- run `cmd` with its stderr kept apart; returns ok, stdout, stderr
local function run(cmd, dir)
  local errf = dir .. "/stderr"
  local p = assert(io.popen(cmd .. " 2>" .. errf))
  local out = p:read("a")
  local ok = p:close()
  return ok, out, files.read(errf) or ""
end

-- The start of every script a host runs: where luasible is.
local PREAMBLE = ("package.path = %q .. \";\" .. package.path\n"
  .. "package.cpath = %q .. \";\" .. package.cpath\n"):format(lpath, core_path)

-- What both hosts run: a play on two local hosts and a stream, at once, as
-- tasks; `finish()` reports what they saw.
local TASKS = PREAMBLE .. [[
local luasible = require "luasible"
local out = {}
luasible.spawn(function()
  local inv = { all = { hosts = { a = { ansible_connection = "local" }, b = { ansible_connection = "local" } } } }
  local recap = assert(luasible.play({ hosts = "all", tasks = {
    { name = "slow", shell = "sleep 0.3; echo from-play", register = "r" },
    { name = "show", debug = { msg = "{{ r.stdout }}" } },
  } }, { inventory = inv, on_event = function() end }))
  out.play = ("a=%d/%d b=%d/%d"):format(recap.a.ok, recap.a.failed, recap.b.ok, recap.b.failed)
end)
luasible.spawn(function()
  local lines = {}
  for ev in luasible.connect():stream("for i in 1 2 3; do echo $i; sleep 0.1; done") do
    if ev.type == "stdout" then lines[#lines + 1] = ev.data end
    if ev.type == "done" then out.rc = ev.result.rc end
  end
  out.stream = table.concat(lines, ",")
end)
local function finish()
  return ("play %s\nstream %s rc=%s\n"):format(tostring(out.play), tostring(out.stream), tostring(out.rc))
end
]]

local WANT = "play a=2/0 b=2/0\nstream 1,2,3 rc=0\n"

describe("embedding", function()
  local dir = files.tmpdir()

  describe("a C host with a poll(2) loop", function()
    local host = build .. "/embed_host"

    -- a script for the host (PREAMBLE first); nil when the host is not built
    local function script(body)
      if not exists(host) then
        pending(host .. " is not built (make builds it)")
        return nil
      end
      local path = dir .. "/embed_" .. tostring(math.random(1e9)) .. ".lua"
      files.write(path, PREAMBLE .. body)
      return path
    end

    it("drives a play and a stream through poll_fd and step, never blocked", function()
      local path = script(TASKS:sub(#PREAMBLE + 1) .. "return finish\n")
      if not path then return end
      local ok, out, err = run(host .. " " .. path, dir)
      assert(ok, err)
      assert.equal(WANT, out)
      local steps, ticks, max_ms = err:match("steps=(%d+) ticks=(%d+) max_step_ms=([%d.]+)")
      assert(steps, err)
      steps, ticks, max_ms = tonumber(steps), tonumber(ticks), tonumber(max_ms)
      assert.is_true(steps > 3, err)
      -- the host kept its own 20 ms ticks while the commands ran (0.3 s)
      assert.is_true(ticks >= 5, err)
      -- and no step blocked for a command (a blocked one takes 0.3 s)
      assert.is_true(max_ms < 250, err)
    end)

    it("gets the error of a task nobody waited for from step", function()
      local path = script([[
        local luasible = require "luasible"
        luasible.spawn(function() luasible.sleep(0.05); error("host boom") end)
      ]])
      if not path then return end
      local ok, _, err = run(host .. " " .. path, dir)
      assert.is_false(not not ok)
      assert.matches("luasible.step: .*a spawned task failed: .*host boom", err)
    end)

    it("gets a caught signal from step as an error it can print (an Error object, not a string)", function()
      local path = script([[
        local luasible = require "luasible"
        luasible.catch_signals()
        luasible.spawn(function() luasible.connect():execute("kill -INT $PPID; sleep 1") end)
      ]])
      if not path then return end
      local ok, _, err = run(host .. " " .. path, dir)
      assert.is_false(not not ok)
      assert.matches("embed_host: luasible.step: EINTR: interrupted by SIGINT", err, 1, true)
    end)

    it("is refused reentrant steps, with a clear error", function()
      local path = script([[
        local luasible = require "luasible"
        local seen
        luasible.spawn(function() seen = select(2, pcall(luasible.step)) end)
        return function() return tostring(seen) .. "\n" end
      ]])
      if not path then return end
      local ok, out, err = run(host .. " " .. path, dir)
      assert(ok, err)
      assert.matches("^luasible%.step: called from inside a task", out)
    end)
  end)

  describe("core.use_loop under a host that runs a uv loop (luv)", function()
    it("runs a play and a stream on the host's loop, stepped from its check handle", function()
      files.write(dir .. "/has_luv.lua", 'require "luv"')
      local has_luv = os.execute(lua .. " " .. dir .. "/has_luv.lua >/dev/null 2>&1")
      if not has_luv then
        pending("lua-luv is not installed (scripts/deps installs it)")
        return
      end
      local path = dir .. "/luv_host.lua"
      files.write(path, [[
local uv = require "luv" -- first: its loop outlives the core's context
]] .. TASKS .. [[
require("luasible.core").use_loop(uv._loop)
assert(require("luasible.core").hosted())
local ticks, steps, longest = 0, 0, 0
local ticker, check, idle = uv.new_timer(), uv.new_check(), uv.new_idle()
ticker:start(20, 20, function() ticks = ticks + 1 end)
local function pump()
  local t0 = uv.hrtime()
  local ok, busy, timeout = pcall(luasible.step)
  longest = math.max(longest, (uv.hrtime() - t0) / 1e6)
  steps = steps + 1
  if not ok then
    io.stderr:write(tostring(busy), "\n")
    os.exit(1)
  end
  if not busy then
    for _, h in ipairs { ticker, check, idle } do h:stop(); h:close() end
  elseif timeout == 0 then
    idle:start(pump) -- tasks are ready: no waiting in this turn
  else
    idle:stop()
  end
end
check:start(pump)
idle:start(pump)
uv.run()
io.write(finish())
io.stderr:write(("luv_host: steps=%d ticks=%d max_step_ms=%.1f\n"):format(steps, ticks, longest))
]])
      local ok, out, err = run(lua .. " " .. path, dir)
      assert(ok, err)
      assert.equal(WANT, out)
      local steps, ticks, max_ms = err:match("steps=(%d+) ticks=(%d+) max_step_ms=([%d.]+)")
      assert(steps, err)
      assert.is_true(tonumber(ticks) >= 5, err)
      assert.is_true(tonumber(max_ms) < 250, err)
    end)
  end)
end)
