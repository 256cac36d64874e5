--- luasible.transfer_local: transfer.lua's path on this machine (the local
-- connection's put and get: file I/O, a private temporary file renamed
-- into place) and what every path of transfer.lua shares: the bytes to
-- send (a file or the content itself, in chunks), progress reports, the
-- result, io errors named.
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"
local tmp_name = require("luasible.util.path").tmp_name

local M = {}

M.CHUNK = 1024 * 1024
local CHUNK = M.CHUNK
M.MODE_644, M.MODE_600 = tonumber("644", 8), tonumber("600", 8)
local MODE_644 = M.MODE_644

-- Local file errors: the errno of io's third return value, named (Linux numbers).
local ERRNO = {
  [1] = "EPERM", [2] = "ENOENT", [5] = "EIO", [13] = "EACCES", [17] = "EEXIST", [20] = "ENOTDIR",
  [21] = "EISDIR", [22] = "EINVAL", [24] = "EMFILE", [27] = "EFBIG", [28] = "ENOSPC", [30] = "EROFS",
  [36] = "ENAMETOOLONG", [40] = "ELOOP", [122] = "EDQUOT",
}

-- the fail tuple of an io/os call that returned nil, msg, errno
function M.io_fail(msg, errno, path)
  local name = ERRNO[errno] or "EIO"
  msg = tostring(msg)
  if path and msg:sub(1, #path) ~= path then msg = path .. ": " .. msg end
  return nil, name .. ": " .. msg, name
end

-- The bytes to send: src itself (opts.content) or the file at src.
-- :read() gives the next chunk, nil at the end, or nil, err, name.
function M.source(src, opts, size)
  size = size or CHUNK
  if opts.content then
    local pos = 0
    return { total = #src, close = function() end, read = function()
      if pos >= #src then return nil end
      local chunk = src:sub(pos + 1, pos + size)
      pos = pos + #chunk
      return chunk
    end }
  end
  local st, serr, sname = core.stat(src)
  if not st then return nil, serr, sname end
  if st.type == "directory" then return nil, "EISDIR: " .. src .. ": is a directory", "EISDIR" end
  local f, msg, errno = io.open(src, "rb")
  if not f then return M.io_fail(msg, errno) end
  local total = st.size
  return { total = total, close = function() f:close() end, read = function()
    local chunk, e, n = f:read(size)
    if chunk == nil and e then return M.io_fail(e, n, src) end
    return chunk
  end }
end

-- on_progress(p) as the data moves: each whole percent, and once at the
-- end with the SHA-256 ("transferred")
function M.reporter(on_progress, total)
  local last = -1
  return function(done, sha)
    if not on_progress then return end
    local pct = total > 0 and done * 100 / total or 100
    if sha or math.floor(pct) ~= last then
      last = math.floor(pct)
      on_progress { stage = "transferring", bytes_done = done, bytes_total = total,
        percentage = pct, message = sha and "transferred" or "transferring", timestamp = core.now(),
        sha256 = sha }
    end
  end
end

function M.result(dest, bytes, sha, t0)
  return { ok = true, changed = true, path = dest, bytes = bytes, sha256 = sha, duration = core.now() - t0 }
end

-- Finishing on this machine -------------------------------------------------

-- `target` holds the bytes: give it its mode (asked, or the mode of the
-- file it replaces, 0644 for a new one), then rename it over dest
function M.finish(target, dest, opts)
  local atomic = target ~= dest
  local mode = opts.mode
  if not mode and atomic then
    local m, err, name = core.file_mode(dest)
    if not m and err then
      os.remove(target)
      return nil, err, name
    end
    mode = m or MODE_644
  end
  if mode then
    local ok, err, name = core.chmod(target, mode)
    if not ok then
      if atomic then os.remove(target) end
      return nil, err, name
    end
  end
  if atomic then
    local ok, msg, errno = os.rename(target, dest)
    if not ok then
      os.remove(target)
      return M.io_fail(msg, errno, dest)
    end
  end
  return true
end

-- A to-be-closed guard for a local temporary file: once g.path is set (the
-- file exists), closing the guard removes it (and closes g.file), unless
-- g.path was cleared (renamed into place). So a copy that ends any other
-- way leaves nothing: a failure, an error raised through it, or its task
-- cancelled (a play's abort on Ctrl-C closes the task's coroutine).
M.TMP_GUARD = { __close = function(g)
  if g.file and io.type(g.file) == "file" then g.file:close() end
  if g.path then os.remove(g.path) end
end }

-- a local copy (put or get on the local connection)
function M.copy(src, dest, opts, t0)
  local input, ierr, iname = M.source(src, opts)
  if not input then return nil, ierr, iname end
  local atomic = opts.atomic ~= false
  local target = atomic and tmp_name(dest) or dest
  local guard <close> = setmetatable({}, M.TMP_GUARD)
  local out, msg, errno
  if atomic then
    -- the content is never readable by others, not even for a moment:
    -- a new private file (no symlink followed), its mode set before the rename
    local ok, err, name = core.create_private(target)
    if not ok then
      input.close()
      return nil, err, name
    end
    guard.path = target
    out, msg, errno = io.open(target, "r+b")
  else
    out, msg, errno = io.open(target, "wb")
  end
  if not out then
    input.close()
    return M.io_fail(msg, errno)
  end
  guard.file = out
  local sha, done = core.sha256_new(), 0
  local progress = M.reporter(opts.on_progress, input.total)
  progress(0)
  local err, name
  while true do
    local chunk
    chunk, err, name = input.read()
    if not chunk then break end
    local ok, werr, wno = out:write(chunk)
    if not ok then
      err, name = select(2, M.io_fail(werr, wno, target))
      break
    end
    sha:update(chunk)
    done = done + #chunk
    progress(done)
    -- a big local copy must not stall the other hosts of a play
    if scheduler.task() then scheduler.sleep(0) end
  end
  input.close()
  local cok, cerr, cno = out:close()
  if not err and not cok then err, name = select(2, M.io_fail(cerr, cno, target)) end
  if not err then err, name = select(2, M.finish(target, dest, opts)) end
  if err then return nil, err, name end -- the guard removes the temporary file
  guard.path = nil -- renamed into place
  progress(done, sha:hex())
  return M.result(dest, done, sha:hex(), t0)
end

return M
