--- luasible.transfer: the one atomic write with checksum, for every
-- connection. put writes a temporary file beside the target (created
-- private), checks the SHA-256 of what was written, gives it its mode and
-- renames it over the target; on any failure the temporary file is
-- removed. The bytes go by
--   * file I/O on the local connection (conn._transfer == "local"),
--   * SFTP on an SSH connection (conn._transfer == "sftp"),
--   * the execute path: the content on stdin, in chunks, through
--     `opts.run` (e.g. under sudo) or conn:execute: any connection.
-- The remote steps are the shell text of lua/luasible/remote.lua; the
-- local path and the helpers every path shares are transfer_local.lua.
-- Every failure is nil, "NAME: message", "NAME", named where it arises.
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"
local connection = require "luasible.connection"
local remote = require "luasible.remote"
local upath = require "luasible.util.path"
local L = require "luasible.transfer_local"
local tmp_name = upath.tmp_name
local source, reporter, result, TMP_GUARD = L.source, L.reporter, L.result, L.TMP_GUARD
local is_interrupt = require("luasible.util.errors").is_interrupt

local M = {}

local MODE_644, MODE_600 = L.MODE_644, L.MODE_600

local OPTIONS = { mode = "number", content = "boolean", on_progress = "function",
  atomic = "boolean", checksum = "boolean", via = "string", run = "function" }
local ONLY = { content = "put", via = "put" }

--- Check the arguments of put/get; raises naming the culprit (at the
-- caller of put/get). Returns opts, or {} for nil.
function M.check(fn, a, b, opts)
  for i, v in ipairs { a, b } do
    if type(v) ~= "string" then
      error(("bad argument #%d to '%s' (string expected, got %s)"):format(i, fn, type(v)), 3)
    end
  end
  opts = connection.check_options(fn, 3, opts, OPTIONS, ONLY, 3)
  if opts.via ~= nil and opts.via ~= "execute" then
    error(("bad option 'via' to '%s' (\"execute\" expected, got \"%s\")"):format(fn, opts.via), 3)
  end
  return opts
end

local function where(conn)
  return tostring(conn.where or conn.name or conn.kind or "the host")
end

-- Finishing on the host --------------------------------------------------------

-- Remove the temporary file of a transfer that failed (why: the error's
-- name). Over a connection that was lost, it goes when the connection next
-- connects (conn:_later): at once when the peer closed or reset it (the rm
-- reconnects, and is put off only if that fails), never at once when the
-- link went silent (ECONNABORTED), where a connect would wait its timeout.
local function try_rm(run, target, conn, why)
  local function rm()
    local ok, res, _, name = pcall(run, remote.rm(target))
    -- a caught signal (an interrupt) still stops the caller
    if not ok and is_interrupt(res) then error(res, 0) end
    return ok and res ~= nil, name
  end
  if why ~= "ECONNABORTED" then
    local ok, name = rm()
    if ok or not (tostring(name):find("^ECONN") or name == "ETIMEDOUT") then return end
  end
  if conn and conn._later then conn:_later(rm) end
end

-- `target` on the host holds the bytes whose SHA-256 is `sha`: check it,
-- give the mode, rename (remote.finish), through run
local function finish_remote(run, conn, target, dest, opts, sha)
  local fin, err, name = run(remote.finish(target, dest, {
    sha256 = opts.checksum ~= false and sha or nil, mode = opts.mode }))
  if not fin then
    if target ~= dest then try_rm(run, target, conn, name) end
    return nil, err, name
  end
  if fin.ok then return true end
  name = remote.FINISH_ERRORS[fin.rc]
  if not name and target ~= dest then try_rm(run, target, conn) end -- it did not run (sudo refused, ...)
  local why = (fin.stderr or ""):gsub("%s+$", "")
  if why == "" then why = "exit status " .. tostring(fin.rc) end
  if name == "ECHECKSUM" or name == "EISDIR" then
    return nil, ("%s: %s (%s on %s)"):format(name, why, dest, where(conn)), name
  end
  return nil, ("EIO: finishing the upload of %s on %s failed: %s"):format(dest, where(conn), why), "EIO"
end

-- drive a core transfer stream; returns result, sha256 or nil, err, name
local function drain(s, on_progress)
  local sha, bytes
  while true do
    local ev = s:pop()
    if not ev then
      if s:finished() then return nil, "EIO: transfer ended without a result", "EIO" end
      scheduler.wait(s)
    elseif ev.type == "progress" then
      local p = ev.progress
      if p.stage == "transferring" then
        local h = p.message:match("^sha256:(%x+)$")
        if h then sha = h; p.message = "transferred"; p.sha256 = h end
        bytes = p.bytes_done or bytes
        if on_progress then on_progress(p) end
      end
    elseif ev.type == "done" then
      ev.result.bytes = bytes
      return ev.result, sha
    elseif ev.type == "error" then
      return nil, ev.error, ev.code or "EIO"
    end
  end
end

-- one SFTP transfer on conn's session (op: "sftp_put" or "sftp_get"):
-- result, sha256 or nil, err, name
local function sftp(conn, op, args, on_progress)
  local sess, err, name = conn:_session()
  if not sess then return nil, err, name end
  local s, e2, n2 = sess[op](sess, args)
  if not s then return nil, e2, n2 end
  local res, sha, n1 = drain(s, on_progress)
  s:close()
  return res, sha, n1
end

-- put over SFTP: the temporary file is created 0600
local function put_sftp(conn, src, dest, opts, run, t0)
  local target = opts.atomic ~= false and tmp_name(dest) or dest
  local args = { remote = target, mode = MODE_600 }
  if opts.content then args.content = src else args["local"] = src end
  local res, sha, n1 = sftp(conn, "sftp_put", args, opts.on_progress)
  if not res then
    if target ~= dest then try_rm(run, target, conn, n1) end
    return nil, sha, n1
  end
  local ok, e3, n3 = finish_remote(run, conn, target, dest, opts, sha)
  if not ok then return nil, e3, n3 end
  return result(dest, res.bytes, sha, t0)
end

-- A write command of the execute path failed (exit status, stderr): a
-- full file system is told from other failures by the room left there
-- (remote.free_space: fewer bytes available than are left to write, or no
-- inode left), never from the text of the message. Returns the error.
local function write_failed(run, conn, dest, res, left)
  local why = (res.stderr or ""):gsub("%s+$", "")
  if why == "" then why = "exit status " .. tostring(res.rc) end
  local out = run(remote.free_space(upath.dirname(dest)))
  local free = out and out.ok and remote.parse_free_space(out.stdout)
  if free and free.size > 0 and (free.bytes < math.max(left, 1) or (free.inodes_total > 0 and free.inodes == 0)) then
    return ("ENOSPC: no space left on %s:%s (%d bytes free, %d more to write): %s"):format(where(conn), dest,
      free.bytes, left, why), "ENOSPC"
  end
  return ("EIO: writing %s on %s failed: %s"):format(dest, where(conn), why), "EIO"
end

-- put through commands: the content on stdin (never on a command line,
-- where ps and sudo's log would show it), in chunks, into a 0600 file
-- created afresh (noclobber: not through a planted file or link)
local function put_execute(conn, src, dest, opts, run, t0)
  -- conn._exec_chunk: a kind whose every command costs much (a container CLI) sends bigger chunks
  local input, ierr, iname = source(src, opts, conn._exec_chunk)
  if not input then return nil, ierr, iname end
  local target = opts.atomic ~= false and tmp_name(dest) or dest
  local function fail(err, name)
    input.close()
    if target ~= dest then try_rm(run, target, conn, name) end
    return nil, err, name
  end
  local sha, done = core.sha256_new(), 0
  local progress = reporter(opts.on_progress, input.total)
  progress(0)
  local first = true
  while true do
    local chunk, err, name = input.read()
    if err then return fail(err, name) end
    if not chunk and not first then break end
    chunk = chunk or "" -- an empty file is created too
    local cmd = not first and remote.append(target)
      or target ~= dest and remote.create(target) or remote.overwrite(target)
    local res, rerr, rname = run(cmd, { stdin = chunk })
    if not res then return fail(rerr, rname) end
    if not res.ok then return fail(write_failed(run, conn, dest, res, input.total - done)) end
    sha:update(chunk)
    done = done + #chunk
    progress(done)
    first = false
  end
  input.close()
  local ok, e3, n3 = finish_remote(run, conn, target, dest, opts, sha:hex())
  if not ok then return nil, e3, n3 end
  progress(done, sha:hex())
  return result(dest, done, sha:hex(), t0)
end

-- run(cmd, ropts) -> res | nil, err, name: opts.run, or conn:execute
local function runner(conn, opts)
  return opts.run or function(cmd, ropts) return conn:execute(cmd, ropts) end
end

-- a connection of its own making (not a luasible kind) with its own put/get
local function own(conn, fn)
  return conn[fn] and conn[fn] ~= connection.Connection[fn] and conn[fn]
end

local function own_opts(opts)
  return { content = opts.content, mode = opts.mode, atomic = opts.atomic, checksum = opts.checksum,
    on_progress = opts.on_progress }
end

--- transfer.put(conn, src, dest, opts) -> result | nil, err, name
-- src: a local path, or the bytes themselves with opts.content.
-- opts: mode (integer; default: the mode of the file replaced, 0644 for a
-- new one), atomic (default true), checksum (default true),
-- on_progress(p), via = "execute" (the execute path even where the
-- connection has a faster one, e.g. under become), run(cmd, ropts)
-- (how to run the host's commands: default conn:execute).
-- result: { ok, changed, path, bytes, sha256, duration }.
function M.put(conn, src, dest, opts)
  if conn.closed then error("luasible: connection used after close", 2) end
  opts = M.check("put", src, dest, opts)
  local t0 = core.now()
  local how = opts.via or conn._transfer
  if how == "local" then return L.copy(src, dest, opts, t0) end
  if how == "sftp" then return put_sftp(conn, src, dest, opts, runner(conn, opts), t0) end
  if not how and own(conn, "put") then return conn:put(src, dest, own_opts(opts)) end
  return put_execute(conn, src, dest, opts, runner(conn, opts), t0)
end

--- transfer.get(conn, src, dest, opts) -> result | nil, err, name: the
-- host's file src into the local file dest, with the same steps (the
-- SHA-256 of the bytes received checked against the host's sha256sum).
function M.get(conn, src, dest, opts)
  if conn.closed then error("luasible: connection used after close", 2) end
  opts = M.check("get", src, dest, opts)
  local t0 = core.now()
  if conn._transfer == "local" then return L.copy(src, dest, opts, t0) end
  if conn._transfer ~= "sftp" then
    if own(conn, "get") then return conn:get(src, dest, own_opts(opts)) end
    error("bad argument #1 to 'get' (a connection that can get files expected)", 2)
  end
  local target = opts.atomic ~= false and tmp_name(dest) or dest
  -- the local temporary file goes, whatever ends the get before its rename
  local guard <close> = setmetatable({ path = target ~= dest and target or nil }, TMP_GUARD)
  local res, sha, n3 = sftp(conn, "sftp_get", { remote = src, ["local"] = target,
    mode = target ~= dest and MODE_600 or opts.mode or MODE_644 }, opts.on_progress)
  if not res then return nil, sha, n3 end
  if opts.checksum ~= false then
    local out, e4, n4 = runner(conn, opts)(remote.sha256(src))
    local rsha = out and out.ok and remote.sha256_of(out.stdout)
    if rsha ~= sha then
      os.remove(target)
      if not out then return nil, e4, n4 end
      if not rsha then
        return nil, ("ECHECKSUM: cannot compute the SHA-256 of %s on %s: %s"):format(src, where(conn),
          out.stderr ~= "" and out.stderr or "sha256sum failed"), "ECHECKSUM"
      end
      return nil, ("ECHECKSUM: checksum mismatch for %s from %s: received %s, the remote file has %s")
        :format(src, where(conn), sha, rsha), "ECHECKSUM"
    end
  end
  local ok, e5, n5 = L.finish(target, dest, opts)
  if not ok then return nil, e5, n5 end
  guard.path = nil -- renamed into place
  return result(dest, res.bytes, sha, t0)
end

return M
