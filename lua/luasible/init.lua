--- luasible: run commands on local and remote hosts and see their output
-- live. This is the face of the library: `local luasible = require "luasible"`.
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"
local connection = require "luasible.connection"

local M = {
  _VERSION = "luasible " .. core.version,
  version = core.version,
}

--- connect() / connect("local") -> a connection to this machine;
-- connect{ host = ..., ... } -> an SSH connection, or nil, err, name.
function M.connect(spec)
  if spec == nil or spec == "local" then return connection.new_local() end
  if type(spec) == "table" then
    if spec.connection == "local" or spec.kind == "local" then
      return connection.new_local()
    end
    -- any other kind is a plugin (lua/luasible/plugins.lua, docs/CONNECTIONS.md)
    local kind = spec.connection or spec.kind
    if kind ~= nil and not require("luasible.plugins").BUILTIN[kind] then
      return require("luasible.plugins").connect(spec)
    end
    if type(spec.host) ~= "string" or spec.host == "" then
      error("bad argument #1 to 'connect' (field 'host' must be a non-empty string)", 2)
    end
    return require("luasible.ssh").connect(spec)
  end
  error("bad argument #1 to 'connect' (\"local\" or a table expected, got " .. type(spec) .. ")", 2)
end

M.run = scheduler.run
M.spawn = scheduler.spawn
M.sleep = scheduler.sleep
--- Embedding (docs/CORE.md): a host program that owns its loop waits for
-- poll_fd() to be readable (or for the timeout step() returned), then calls
-- step(): one turn that never blocks; busy, timeout = luasible.step().
M.poll_fd = scheduler.poll_fd
M.step = scheduler.step
M.now = core.now
M.wall = core.wall

--- From now on SIGINT, SIGTERM and SIGHUP do not kill the process: whatever
-- drives the loop raises an error object instead (util/errors.interrupt:
-- printed "EINTR: interrupted by SIGINT", with name = "EINTR", signal = "INT"),
-- so that the program can stop its commands and exit cleanly. A second
-- signal gets the default action.
function M.catch_signals()
  return core.catch_signals()
end
M.quote = connection.quote

--- The live dashboard's server (docs/DASHBOARD.md): luasible.serve(opts)
-- -> server (server.url, server.on_event, server:feed(ev), server:wait(),
-- server:close()), or nil, err.
function M.serve(opts)
  return require("luasible.serve").new(opts)
end

--- Run a play (see docs/TASKS.md); loads the task layer on first use.
function M.play(play, opts)
  return require("luasible.play").play(play, opts)
end

return M
