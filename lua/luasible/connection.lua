--- Connections: what every kind shares (option checks, execute, stream,
-- lines) and the local connection.
-- A kind provides :_start(cmd, opts, mode) returning a core stream (or
-- nil, err, name), put and get (lua/luasible/transfer.lua), and
-- `_transfer`, how transfer moves its files ("local" or "sftp");
-- execute, stream and lines are written once, here. The command text
-- comes from lua/luasible/remote.lua.
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"
local remote = require "luasible.remote"

local M = {}

local shell = require "luasible.util.shell"
M.quote, M.join = shell.quote, shell.join

--- Check an options table: every key known, of the type `types[k]` names
-- ("string", or several as "string|table"); `only[k]`, when set, names
-- the one function the option is for. Raises (at `level`) naming the
-- culprit; returns opts, or {} for nil.
function M.check_options(fn, argn, opts, types, only, level)
  if opts == nil then return {} end
  level = (level or 1) + 1
  if type(opts) ~= "table" then
    error(("bad argument #%d to '%s' (table expected, got %s)"):format(argn, fn, type(opts)), level)
  end
  for k, v in pairs(opts) do
    local want = types[k]
    if not want or (only and only[k] and only[k] ~= fn) then
      error(("bad argument #%d to '%s' (unknown option '%s')"):format(argn, fn, tostring(k)), level)
    end
    local t = type(v)
    if t ~= want and not ("|" .. want .. "|"):find("|" .. t .. "|", 1, true) then
      error(("bad option '%s' to '%s' (%s expected, got %s)"):format(k, fn, want, t), level)
    end
  end
  return opts
end

local OPTIONS = {
  cwd = "string", env = "table", timeout = "number", stdin = "string",
  user = "string", sudo = "boolean", sudo_password = "string", become_method = "string",
  stream_output = "boolean", on_output = "function", on_progress = "function",
  max_line = "number", check = "boolean",
}
-- options that only some calls take
local ONLY = {
  stream_output = "execute", on_output = "execute", on_progress = "execute", check = "lines",
}

local function check_cmd(fn, cmd)
  local t = type(cmd)
  if t == "string" then
    if cmd:find("\0", 1, true) then
      error("bad argument #1 to '" .. fn .. "' (command contains a NUL byte)", 4)
    end
    return
  end
  if t ~= "table" then
    error("bad argument #1 to '" .. fn .. "' (string or argv table expected, got " .. t .. ")", 4)
  end
  if #cmd == 0 then error("bad argument #1 to '" .. fn .. "' (argv table is empty)", 4) end
  for i, a in ipairs(cmd) do
    if type(a) ~= "string" then
      error(("bad argument #1 to '%s' (argv[%d] is a %s, not a string)"):format(fn, i, type(a)), 4)
    end
    if a:find("\0", 1, true) then
      error(("bad argument #1 to '%s' (argv[%d] contains a NUL byte)"):format(fn, i), 4)
    end
  end
end

--- Validate cmd and opts of execute/stream; raises naming the culprit.
function M.check(fn, cmd, opts)
  check_cmd(fn, cmd)
  if opts == nil then return {} end
  M.check_options(fn, 2, opts, OPTIONS, ONLY, 3)
  if opts.timeout and (opts.timeout ~= opts.timeout or opts.timeout < 0) then
    error("bad option 'timeout' to '" .. fn .. "' (must not be negative)", 3)
  end
  if opts.max_line and (opts.max_line ~= opts.max_line or opts.max_line < 1) then
    error("bad option 'max_line' to '" .. fn .. "' (must be at least 1)", 3)
  end
  if opts.env then
    for k, v in pairs(opts.env) do
      if type(k) ~= "string" or not k:find("^[%a_][%w_]*$") or type(v) ~= "string"
        or v:find("\0", 1, true) then
        error("bad option 'env' to '" .. fn .. "' (invalid variable " .. tostring(k) .. ")", 3)
      end
    end
  end
  for _, k in ipairs({ "cwd", "user", "sudo_password" }) do
    if opts[k] and opts[k]:find("\0", 1, true) then
      error(("bad option '%s' to '%s' (contains a NUL byte)"):format(k, fn), 3)
    end
  end
  return opts
end

local Connection = {}
Connection.__index = Connection
M.Connection = Connection

-- next_event(s) -> the next event, waiting for it; nil once it is over
-- (every few hundred events it gives way: scheduler.tick)
local next_event = core.stream_iterator(scheduler.wait, scheduler.tick)
-- lines() gives way as often (core/lua_stream.c, LSB_TICK_EVERY)
local TICK_EVERY = 128

-- The iterator of a command that could not start: one error event.
local function failed_stream(err, name)
  local sent = false
  return function()
    if sent then return nil end
    sent = true
    return { type = "error", error = err, code = name, seq = 1, timestamp = core.now(),
             result = { ok = false, timed_out = false, duration = 0, error = err, code = name } }
  end
end

--- for ev in conn:stream(cmd, opts) do ... end
function Connection:stream(cmd, opts)
  opts = M.check("stream", cmd, opts)
  local s, err, name = self:_start(cmd, opts, { lines = true, progress = true })
  if not s then return failed_stream(err, name) end
  return next_event, s, nil, s
end

--- for line, kind in conn:lines(cmd, opts) do ... end
-- The output as plain strings ("stdout" or "stderr" as kind), the cheapest
-- way to read a big output: no event table per line; redraws and progress
-- are skipped. Like io.lines, it raises when the command cannot run, and,
-- unless opts.check == false, when it fails (non-zero exit, signal, timeout).
function Connection:lines(cmd, opts)
  opts = M.check("lines", cmd, opts)
  local s, err = self:_start(cmd, opts, { lines = true, progress = false })
  if not s then error(err, 2) end
  local check = opts.check ~= false
  local n = 0
  local function iter(st)
    while true do
      local line, is_stderr = st:pop_line()
      if line then
        n = n + 1
        if n >= TICK_EVERY then
          n = 0
          scheduler.tick()
        end
        return line, is_stderr and "stderr" or "stdout"
      end
      if line == false then
        local res = st:result()
        if check and res and not res.ok then
          local why = res.error or (res.signal and "killed by SIG" .. res.signal)
            or ("exit status " .. tostring(res.rc))
          error(("command failed (%s): %s"):format(why,
            type(cmd) == "table" and M.join(cmd) or cmd), 2)
        end
        return nil
      end
      n = 0
      scheduler.wait(st)
    end
  end
  return iter, s, nil, s
end

--- res = conn:execute(cmd, opts); nil, err, name when it could not run.
function Connection:execute(cmd, opts)
  opts = M.check("execute", cmd, opts)
  local on_output = opts.stream_output ~= false and opts.on_output or nil
  local on_progress = opts.on_progress
  local s <close>, err, name = self:_start(cmd, opts, {
    capture = true, lines = on_output ~= nil, progress = on_progress ~= nil })
  if not s then return nil, err, name end
  local final
  repeat
    local ev = next_event(s)
    if not ev then break end
    local t = ev.type
    if t == "stdout" or t == "stderr" then
      on_output(ev.data, t == "stderr", ev)
    elseif t == "progress" then
      on_progress(ev.progress)
    else
      final = ev
    end
  until final
  local res = final.result
  if final.type == "error" and not res.timed_out then
    return nil, final.error, final.code or "EIO"
  end
  return res
end

function Connection:close()
  self.closed = true
end

Connection.__close = function(self) self:close() end

function Connection:__tostring()
  return ("luasible.connection (%s %s)"):format(self.kind, self.name or "")
end

-- Local connection --------------------------------------------------------

local Local = setmetatable({}, { __index = Connection })
Local.__index = Local
Local.__close = Connection.__close
Local.__tostring = Connection.__tostring

local function probe_local(prefix, argv)
  local s <close> = core.spawn(remote.argv(argv, prefix), { capture = true, lines = false, progress = false })
  if not s then return nil end
  scheduler.wait(s)
  local ev = s:pop()
  return ev and ev.result
end

function Local:_start(cmd, opts, mode)
  if self.closed then error("luasible: connection used after close", 3) end
  local prefix, stdin, serr = remote.sudo(opts, probe_local)
  if serr then return nil, serr, "EACCES" end
  -- behind sudo / su the environment is given on its command line (they start the command with their own)
  local argv = prefix and remote.argv(remote.with_env(remote.argv(cmd), opts.env), prefix) or remote.argv(cmd)
  local s, err, name = core.spawn(argv, {
    cwd = opts.cwd, env = opts.env, timeout = opts.timeout, stdin = stdin,
    max_line = opts.max_line, lines = mode.lines, capture = mode.capture,
    progress = mode.progress,
  })
  if s then self._running[s] = true end
  return s, err, name
end

--- Close: like the SSH kind, every command still running on the
-- connection is killed (its process group) and its stream ends with an
-- ECANCELED error event ("ECANCELED: connection closed").
function Local:close()
  if self.closed then return end
  self.closed = true
  for s in pairs(self._running) do
    if not s:finished() then s:cancel("connection closed") end
  end
end

--- conn:put(src, dest, opts) / conn:get(src, dest, opts): the one atomic
-- write with checksum of lua/luasible/transfer.lua (file I/O here).
function Connection:put(src, dest, opts)
  return require("luasible.transfer").put(self, src, dest, opts)
end

function Connection:get(src, dest, opts)
  return require("luasible.transfer").get(self, src, dest, opts)
end

Local._transfer = "local"

--- A connection to this machine.
function M.new_local()
  return setmetatable({ kind = "local", streaming = true, name = "localhost", where = "localhost",
    _running = setmetatable({}, { __mode = "k" }) }, Local)
end

return M
