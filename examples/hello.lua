#!/usr/bin/env lua5.4
--- A first deployment script: build something on this machine and watch it
-- happen, line by line, then check two things at once.
--   lua5.4 examples/hello.lua          (from the repository, after `make`)
-- Installed with luarocks, the first two lines below are not needed.
local root = (arg and arg[0] or ""):match("^(.*)/examples/[^/]*$") or "."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/?.so;" .. package.cpath

local luasible = require "luasible"

local conn = luasible.connect()   -- this machine; connect{ host = ... } for SSH
local tty = os.getenv("NO_COLOR") == nil and os.execute("test -t 1")

local function say(fmt, ...) io.write(string.format(fmt, ...), "\n") end

-- A "build" that prints as it goes, with a progress bar redrawn in place.
local build = [[
echo "fetching sources"; sleep 0.3
for pct in 10 30 60 90 100; do printf 'compiling %3d%%\r' $pct; sleep 0.2; done; echo
echo "warning: this is stderr, shown as it comes" >&2
for step in link strip package; do echo "$step..."; sleep 0.2; done
echo "built $(uname -m) artifact"
]]

say("== build on %s", conn.name)
local t0 = luasible.now()
for ev in conn:stream(build, { timeout = 60 }) do
  local at = ("%5.2fs"):format(ev.timestamp - t0)
  if ev.type == "stdout" or ev.type == "stderr" then
    local tag = ev.type == "stderr" and "ERR" or "out"
    if ev.cr and tty then
      io.write(("\r%s %s | %s"):format(at, tag, ev.data)); io.flush()   -- redraw in place
    else
      if ev.cr == nil and tty then io.write("\r\27[K") end
      say("%s %s | %s", at, tag, ev.data)
    end
  elseif ev.type == "done" then
    say("%s done: rc=%d in %.2fs (%d lines)", at, ev.result.rc, ev.result.duration, ev.result.stdout_line_count)
  elseif ev.type == "error" then
    say("%s error: %s", at, ev.error)
    os.exit(1)
  end
end

-- Two checks at once: about 1 second in all, not 2.
say("== two checks in parallel")
luasible.run(function()
  local disk = luasible.spawn(function() return conn:execute("sleep 1; df -h / | tail -1") end)
  local load = luasible.spawn(function() return conn:execute({ "sh", "-c", "sleep 1; cat /proc/loadavg" }) end)
  say("disk: %s", disk:wait().stdout:gsub("%s+$", ""))
  say("load: %s", load:wait().stdout:gsub("%s+$", ""))
end)
say("== finished in %.2fs", luasible.now() - t0)
