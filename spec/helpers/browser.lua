--- What the browser specs and bench/dashboard_bench.lua share to drive the
-- dashboard from headless Chromium: polling, the dashboard's URL as luasible
-- prints it on stderr, and a node script started in the background that
-- says when its page is ready.
--   local browser = require "spec.helpers.browser"
--   browser.need_playwright()
--   local url = browser.url(dir .. "/err", 30)
--   local pid = browser.node("spec/browser/live.mjs --url ...", dir .. "/node.log")
--   browser.wait_ready(pid, dir .. "/ready", dir .. "/node.log", 90)
local files = require "spec.helpers.files"
local proc = require "spec.helpers.proc"

local M = {}

M.alive = proc.alive

--- Call fn every 0.1 s until it returns a true value (returned), or error
-- "timed out waiting for <what>" after secs seconds.
function M.wait_for(what, secs, fn)
  local t0 = os.time()
  while true do
    local v = fn()
    if v then return v end
    if os.time() - t0 > secs then error("timed out waiting for " .. what, 2) end
    os.execute("sleep 0.1")
  end
end

--- The dashboard's URL (with its login token) once luasible has printed it
-- to the file errfile (its stderr).
function M.url(errfile, secs)
  return M.wait_for("the dashboard's URL on " .. errfile, secs, function()
    return (files.read(errfile) or ""):match("(http://127%.0%.0%.1:%d+/%?token=[%w%-_%.~%%]+)")
  end)
end

--- Fail the setup clearly when spec/browser's node modules are not installed.
function M.need_playwright()
  assert(files.read("spec/browser/node_modules/playwright-core/package.json"),
    "playwright-core is missing: (cd spec/browser && npm ci) (scripts/deps)")
end

--- Start `node ARGS` in the background, its output to log; its pid.
function M.node(args, log)
  return files.sh(("exec node %s >%s 2>&1 & echo $!"):format(args, log))
end

--- Wait until the node script of pid has written its ready file; error with
-- its log if it ends first.
function M.wait_ready(pid, ready, log, secs)
  return M.wait_for("the page (" .. ready .. ")", secs, function()
    if not proc.alive(pid) then error("the browser script ended: " .. (files.read(log) or "")) end
    return files.read(ready)
  end)
end

return M
