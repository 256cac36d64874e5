--- luasible.plugins: connection kinds as plugins (docs/CONNECTIONS.md).
-- A kind is a Lua file `<kind>.lua` returning
--   { connect = function(host, kit) -> object | nil, err[, name] }
-- where the object has exec(cmd, opts, mode) -> a core stream (or nil,
-- err, name), and optionally put(src, dest, opts), get(src, dest, opts)
-- and close(). This file finds the kind on the search path, and wraps the
-- object in a luasible connection, so that stream, lines, execute, put and
-- get work on it as on the local and SSH kinds. `kit` is what a plugin
-- builds with (M.kit): the local process streams of the core, the command
-- line of remote.lua, and transfers through exec.
local core = require "luasible.core"
local connection = require "luasible.connection"
local remote = require "luasible.remote"
local shell = require "luasible.util.shell"
local path = require "luasible.util.path"
local searchpath = require "luasible.util.searchpath"

local M = {}

-- the kinds luasible itself implements (not plugins)
M.BUILTIN = { ["local"] = true, ssh = true, paramiko = true, smart = true }

local function this_dir()
  local src = debug.getinfo(1, "S").source
  return src:sub(1, 1) == "@" and path.dirname(src:sub(2)) or "."
end

--- The folders searched for `<kind>.lua`, in order: the given ones (the
--- connection_plugins setting, connection_plugins/ beside the play),
--- LUASIBLE_CONNECTION_PLUGINS (a colon list), then the shipped kinds
--- (lua/luasible/connection/). A new list each call.
function M.search_path(...)
  local out = searchpath.list(...)
  searchpath.append(out, os.getenv("LUASIBLE_CONNECTION_PLUGINS"))
  return searchpath.append(out, this_dir() .. "/connection")
end

--- Where the kind's file is: file, or nil, err naming the search path
--- (and the same without the kind's name in front).
function M.find(kind, search)
  search = search or M.search_path()
  if type(kind) ~= "string" or not kind:find("^[%w_][%w_%-]*$") then
    local why = "not a plugin name: " .. tostring(kind)
    return nil, "unknown connection kind '" .. tostring(kind) .. "' (" .. why .. ")", why
  end
  local file, serr = searchpath.find(search, kind)
  if file then return file end
  if serr then
    local why = "cannot look at " .. kind .. ".lua: " .. serr
    return nil, ("unknown connection kind '%s': %s"):format(kind, why), why
  end
  local why = ("no %s.lua in the connection plugin path (%s)"):format(kind, table.concat(search, ":"))
  return nil, ("unknown connection kind '%s': %s"):format(kind, why), why
end

local loaded = {} -- file -> plugin table

--- Load a kind: the plugin table, or nil, err.
function M.load(kind, search)
  local file, err = M.find(kind, search)
  if not file then return nil, err end
  if loaded[file] then return loaded[file] end
  local chunk, lerr = loadfile(file)
  if not chunk then return nil, "connection plugin " .. kind .. ": " .. lerr end
  local ok, plugin = pcall(chunk)
  if not ok then return nil, "connection plugin " .. kind .. " (" .. file .. "): " .. tostring(plugin) end
  if type(plugin) ~= "table" or type(plugin.connect) ~= "function" then
    return nil, "connection plugin " .. kind .. " (" .. file .. "): must return a table with a connect function"
  end
  plugin.file = file
  loaded[file] = plugin
  return plugin
end

-- The kit ------------------------------------------------------------------

local kit = { core = core, quote = shell.quote, join = shell.join, words = shell.words }
M.kit = kit

--- kit.spawn(argv, opts, mode): a local process as a core stream: every
--- line live, opts.timeout (its process group killed), opts.stdin,
--- opts.max_line; mode (what exec got) says which events are queued.
--- opts.cwd and opts.env apply to the local process: pass them only for
--- a kind that runs its commands here (kit.command_line puts them in the
--- command instead).
function kit.spawn(argv, opts, mode, local_env)
  opts, mode = opts or {}, mode or {}
  return core.spawn(argv, {
    cwd = local_env and opts.cwd or nil, env = local_env and opts.env or nil,
    timeout = opts.timeout, stdin = opts.stdin, max_line = opts.max_line,
    lines = mode.lines ~= false, capture = mode.capture, progress = mode.progress ~= false,
  })
end

--- kit.wait(s): wait until the stream `s` ended (its events dropped);
--- returns its result. In a task other tasks run meanwhile; outside one
--- the loop runs until it ends.
function kit.wait(s)
  local scheduler = require "luasible.scheduler"
  local function drain()
    while not s:finished() do
      if not s:pop() then scheduler.wait(s) end
    end
    return s:result()
  end
  if scheduler.task() then return drain() end
  local ok, res = pcall(scheduler.run, drain) -- not inside another run's turn
  return ok and res or nil
end

--- kit.command_line(cmd, opts): the shell text of cmd with opts.cwd,
--- opts.env and (where timeout(1) exists) opts.timeout, for `/bin/sh -c`
--- on the other side (lua/luasible/remote.lua); become is not in it.
function kit.command_line(cmd, opts)
  return remote.command_line(cmd, opts or {})
end

--- kit.sudo(opts, probe): the sudo argv prefix and stdin of remote.sudo.
kit.sudo = remote.sudo

--- kit.put_exec(conn, src, dest, opts): put through the connection's own
--- commands (the content on stdin, in 1 MiB chunks or the object's
--- exec_chunk, progress per chunk,
--- checked with sha256sum, renamed into place): lua/luasible/transfer.lua.
function kit.put_exec(conn, src, dest, opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.via = "execute"
  return require("luasible.transfer").put(conn, src, dest, o)
end

local CHUNK = 1024 * 1024
-- the chunk of the exec transfers: the object's exec_chunk (bytes), else 1 MiB
local function chunk_of(conn)
  return conn._exec_chunk or CHUNK
end

--- kit.get_exec(conn, src, dest, opts): get through the connection's own
--- commands: the size, then 1 MiB chunks (the object's exec_chunk) read with dd (progress per
--- chunk), the SHA-256 checked against the host's sha256sum, written to a
--- private temporary file renamed over dest. result | nil, err, name.
function kit.get_exec(conn, src, dest, opts)
  opts = opts or {}
  local t0 = core.now()
  local q = shell.quote(src)
  local where = tostring(conn.where or conn.name)
  local sz, err, name = conn:execute("wc -c < " .. q)
  if not sz then return nil, err, name end
  if not sz.ok then
    local why = (sz.stderr or ""):gsub("%s+$", "")
    return nil, ("ENOENT: %s on %s: %s"):format(src, where, why ~= "" and why or "cannot read"), "ENOENT"
  end
  local total = math.tointeger(tonumber(sz.stdout:match("%d+")))
  if not total then return nil, "EIO: cannot read the size of " .. src .. " on " .. where, "EIO" end
  local atomic = opts.atomic ~= false
  local target = atomic and path.tmp_name(dest) or dest
  if atomic then
    local ok, cerr, cname = core.create_private(target)
    if not ok then return nil, cerr, cname end
  end
  local f, ferr = io.open(target, atomic and "r+b" or "wb")
  if not f then
    if atomic then os.remove(target) end
    return nil, "EIO: " .. tostring(ferr), "EIO"
  end
  local function fail(e, n)
    f:close()
    if atomic then os.remove(target) end
    return nil, e, n
  end
  local sha, done, last = core.sha256_new(), 0, -1
  local function progress(final)
    if not opts.on_progress then return end
    local pct = total > 0 and done * 100 / total or 100
    if final or math.floor(pct) ~= last then
      last = math.floor(pct)
      opts.on_progress { stage = "transferring", bytes_done = done, bytes_total = total, percentage = pct,
        message = final and "transferred" or "transferring", timestamp = core.now(), sha256 = final }
    end
  end
  progress()
  local i, size = 0, chunk_of(conn)
  while done < total do
    local r, rerr, rname = conn:execute(("dd if=%s bs=%d skip=%d count=1"):format(q, size, i))
    if not r then return fail(rerr, rname) end
    if not r.ok or #r.stdout == 0 then
      return fail(("EIO: reading %s on %s failed (exit status %s)"):format(src, where, tostring(r.rc)), "EIO")
    end
    f:write(r.stdout)
    sha:update(r.stdout)
    done = done + #r.stdout
    i = i + 1
    progress()
  end
  f:close()
  local hex = sha:hex()
  if opts.checksum ~= false then
    local out, e4, n4 = conn:execute(remote.sha256(src))
    local rsha = out and out.ok and remote.sha256_of(out.stdout)
    if rsha ~= hex then
      if atomic then os.remove(target) end
      if not out then return nil, e4, n4 end
      return nil, ("ECHECKSUM: checksum mismatch for %s from %s: received %s, the file there has %s")
        :format(src, where, hex, tostring(rsha)), "ECHECKSUM"
    end
  end
  if opts.mode then core.chmod(target, opts.mode) end
  if atomic then
    local ok, rerr = os.rename(target, dest)
    if not ok then
      os.remove(target)
      return nil, "EIO: " .. tostring(rerr), "EIO"
    end
  end
  progress(hex)
  return { ok = true, changed = true, path = dest, bytes = done, sha256 = hex, duration = core.now() - t0 }
end

-- The connection around a plugin's object ---------------------------------

local Plugin = setmetatable({}, { __index = connection.Connection })
Plugin.__index = Plugin
Plugin.__close = connection.Connection.__close
Plugin.__tostring = connection.Connection.__tostring

function Plugin:_start(cmd, opts, mode)
  if self.closed then error("luasible: connection used after close", 3) end
  local s, err, name = self._impl:exec(cmd, opts, mode)
  if s then self._running[s] = true end
  return s, err, name
end

function Plugin:put(src, dest, opts)
  if self.closed then error("luasible: connection used after close", 2) end
  opts = require("luasible.transfer").check("put", src, dest, opts)
  if self._impl.put and opts.via == nil and opts.run == nil then return self._impl:put(src, dest, opts) end
  return kit.put_exec(self, src, dest, opts)
end

function Plugin:get(src, dest, opts)
  if self.closed then error("luasible: connection used after close", 2) end
  opts = require("luasible.transfer").check("get", src, dest, opts)
  if self._impl.get then return self._impl:get(src, dest, opts) end
  return kit.get_exec(self, src, dest, opts)
end

--- Close: the plugin's close (which stops what runs on the other side),
--- then every command still running here is cancelled (its local process
--- group killed; its stream ends with "ECANCELED: connection closed").
function Plugin:close()
  if self.closed then return end
  self.closed = true
  if self._impl.close then pcall(self._impl.close, self._impl) end
  for s in pairs(self._running) do
    if not s:finished() then s:cancel("connection closed") end
  end
end

--- plugins.connect(spec): spec.connection names the kind; spec.plugin_path
--- the folders searched before the built-in ones; the rest (host, user,
--- vars: the host's connection variables, name) goes to the plugin.
--- Returns a connection, or nil, err, name.
function M.connect(spec)
  local kind = spec.connection
  local plugin, err = M.load(kind, M.search_path(spec.plugin_path))
  if not plugin then return nil, err, "ENOENT" end
  local ok, obj, e2, n2 = pcall(plugin.connect, spec, kit)
  if not ok then return nil, "connection " .. kind .. ": " .. tostring(obj), "EIO" end
  if not obj then return nil, tostring(e2 or ("connection " .. kind .. ": could not connect")), n2 or "EIO" end
  if type(obj) ~= "table" or type(obj.exec) ~= "function" then
    return nil, "connection plugin " .. kind .. " (" .. plugin.file .. "): connect must return an object with exec",
      "EINVAL"
  end
  local name = obj.name or spec.name or spec.host or kind
  local chunk = math.tointeger(obj.exec_chunk)
  return setmetatable({ kind = kind, streaming = true, name = name, where = obj.where or name, _impl = obj,
    _exec_chunk = chunk and chunk > 0 and chunk or nil, _running = setmetatable({}, { __mode = "k" }) }, Plugin)
end

return M
