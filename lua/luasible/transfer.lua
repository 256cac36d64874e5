--- put/get for the local connection: the same contract as SSH (atomic write
-- to a temporary name in the target's directory then rename, progress
-- events, mode, SHA-256 of what was written), done with plain file I/O.
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"

local M = {}

local CHUNK = 1024 * 1024

local XFER_OPTIONS = { mode = "number", content = "boolean", on_progress = "function",
  atomic = "boolean", checksum = "boolean" }

function M.check(fn, a, b, opts)
  for i, v in ipairs { a, b } do
    if type(v) ~= "string" then
      error(("bad argument #%d to '%s' (string expected, got %s)"):format(i, fn, type(v)), 3)
    end
  end
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error("bad argument #3 to '" .. fn .. "' (table expected, got " .. type(opts) .. ")", 3)
  end
  for k, v in pairs(opts) do
    local want = XFER_OPTIONS[k]
    if not want or (k == "content" and fn ~= "put") then
      error("bad argument #3 to '" .. fn .. "' (unknown option '" .. tostring(k) .. "')", 3)
    end
    if type(v) ~= want then
      error(("bad option '%s' to '%s' (%s expected, got %s)"):format(k, fn, want, type(v)), 3)
    end
  end
  return opts
end


local function tmp_name(path)
  local dir, base = path:match("^(.*/)([^/]*)$")
  if not dir then dir, base = "", path end
  return ("%s.%s.luasible-%d%04d.tmp"):format(dir, base, os.time() % 100000, math.random(0, 9999))
end

local function errname(msg)
  msg = tostring(msg)
  if msg:find("No such file", 1, true) then return "ENOENT" end
  if msg:find("Permission denied", 1, true) then return "EACCES" end
  if msg:find("Is a directory", 1, true) then return "EISDIR" end
  return "EIO"
end

local function fail(msg)
  local named = msg:match("^(%u[%u%d_]*): ")
  if named then return nil, msg, named end -- the core named it already
  local name = errname(msg)
  return nil, name .. ": " .. msg, name
end

--- copy(src, dest, opts): src is a path, or the content when opts.content.
function M.copy(src, dest, opts)
  opts = opts or {}
  local t0 = core.now()
  local input, total
  if opts.content then
    total = #src
  else
    local e
    input, e = io.open(src, "rb")
    if not input then return fail(e) end
    total = input:seek("end")
    input:seek("set", 0)
    if not total then
      input:close()
      return fail(src .. ": Is a directory")
    end
  end
  local atomic = opts.atomic ~= false
  local target = atomic and tmp_name(dest) or dest
  local out, e
  if atomic then
    -- the content is never readable by others, not even for a moment:
    -- a new private file (no symlink followed), its mode set before the rename
    local cok, cerr = core.create_private(target)
    if not cok then
      if input then input:close() end
      return fail(cerr)
    end
    out, e = io.open(target, "r+b")
  else
    out, e = io.open(target, "wb")
  end
  if not out then
    if input then input:close() end
    return fail(e)
  end
  local sha = core.sha256_new()
  local done, last_pct = 0, -1
  local on_progress = opts.on_progress
  local function progress(msg)
    if not on_progress then return end
    local pct = total > 0 and done * 100 / total or 100
    if msg or math.floor(pct) ~= last_pct then
      last_pct = math.floor(pct)
      on_progress { stage = "transferring", bytes_done = done, bytes_total = total,
        percentage = pct, message = msg or "transferring", timestamp = core.now(),
        sha256 = msg and sha:hex() or nil }
    end
  end
  progress()
  local ok, werr = true, nil
  while true do
    local chunk
    if input then chunk = input:read(CHUNK)
    else
      chunk = done < total and src:sub(done + 1, done + CHUNK) or nil
    end
    if not chunk or #chunk == 0 then break end
    ok, werr = out:write(chunk)
    if not ok then break end
    sha:update(chunk)
    done = done + #chunk
    progress()
    -- a big local copy must not stall the other hosts of a play
    if scheduler.task() then scheduler.sleep(0) end
  end
  if input then input:close() end
  local cok, cerr = out:close()
  if ok and not cok then ok, werr = false, cerr end
  if not ok then
    if atomic then os.remove(target) end
    return fail(werr)
  end
  -- without a mode, a file keeps the mode it had, a new one gets 0644
  local mode = opts.mode or (atomic and (core.file_mode(dest) or tonumber("644", 8)))
  if mode then
    local mok, merr = core.chmod(target, mode)
    if not mok then
      if atomic then os.remove(target) end
      return fail(merr)
    end
  end
  if atomic then
    local rok, rerr = os.rename(target, dest)
    if not rok then
      os.remove(target)
      return fail(rerr)
    end
  end
  progress("transferred")
  return { ok = true, changed = true, path = dest, bytes = done, sha256 = sha:hex(),
    duration = core.now() - t0 }
end

return M
