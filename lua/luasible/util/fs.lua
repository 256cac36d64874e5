--- luasible.util.fs: the controller's own file system, for the task layer
-- (inventory folders, play files, fetched files, the terminal), on the
-- core's file-system binding (core/lua_fs.c): no shell, no processes.
-- Every call returns a value, or the fail tuple nil, "NAME: message", "NAME".
local core = require "luasible.core"

local M = {}

--- The whole content of a file.
function M.read(path)
  return core.read_file(path)
end

--- What is at `path` (following links): { type = "file"|"directory"|"link"|
--- "other", size = bytes, mode = permission bits (integer), mtime = seconds }
--- (and uid, gid, dev, ino). Missing: nil, "ENOENT: ...", "ENOENT".
function M.stat(path)
  return core.stat(path)
end

-- Below `dir` (its stat `st`, the relative path `rel`, "" at the top), every
-- file and folder into `out`, following links; `ancestors` holds the
-- dev:ino of the folders above, so that a link back up is not followed (a
-- loop), as find -L skips it. Returns true, or nil, err, name when a
-- folder or an entry cannot be read (never a folder taken for empty).
local function walk_into(out, dir, rel, st, ancestors)
  local key = st.dev .. ":" .. st.ino
  if ancestors[key] then return true end
  ancestors[key] = true
  local names, rerr, rname = core.readdir(dir)
  if not names then return nil, rerr, rname end
  local prefix = dir:sub(-1) == "/" and dir or dir .. "/"
  for _, name in ipairs(names) do
    local path = prefix .. name
    local sub = rel == "" and name or rel .. "/" .. name
    local est, serr, sname = core.stat(path)
    -- a broken link (through a file, too), a link loop, or one that went
    -- away: skipped; anything else (EACCES, EMFILE...) is an error
    if not est and sname ~= "ENOENT" and sname ~= "ENOTDIR" and sname ~= "ELOOP" then
      return nil, serr, sname
    end
    if est and est.type == "directory" then
      if not ancestors[est.dev .. ":" .. est.ino] then
        out[#out + 1] = { path = sub, type = "directory" }
        local ok, err, ename = walk_into(out, path, sub, est, ancestors)
        if not ok then return nil, err, ename end
      end
    elseif est and est.type == "file" then
      out[#out + 1] = { path = sub, type = "file" }
    end
  end
  ancestors[key] = nil
  return true
end

--- Every file and folder below `dir`, following links, as a sorted list of
--- { path = "relative/path", type = "file"|"directory" }. A folder that does
--- not exist gives an empty list. Like `find -L`: a link back to a folder
--- above it is not followed (nor listed); other kinds (fifos, sockets,
--- devices) and broken links are left out. A folder or entry that cannot
--- be read (EACCES, EMFILE...) gives nil, err, name.
function M.walk(dir)
  local out = {}
  local st, err, name = core.stat(dir)
  if not st and name ~= "ENOENT" and name ~= "ENOTDIR" then return nil, err, name end
  if not st or st.type ~= "directory" then return out end
  local ok, werr, wname = walk_into(out, (dir:gsub("(.)/+$", "%1")), "", st, {})
  if not ok then return nil, werr, wname end
  table.sort(out, function(a, b) return a.path < b.path end)
  return out
end

--- Make a folder and its parents (as mkdir -p); true when it exists after.
--- `mode` (an integer) is that of the last folder when this call creates it
--- (as mkdir -p -m), the parents get the usual 0777 less the umask.
function M.mkdir_p(path, mode)
  if type(path) ~= "string" or path == "" then
    error("bad argument #1 to 'mkdir_p' (non-empty string expected)", 2)
  end
  local st = core.stat(path)
  if st then
    if st.type == "directory" then return true end
    return nil, "EEXIST: " .. path .. ": exists and is not a folder", "EEXIST"
  end
  local parent = path:match("^(.*[^/])/+[^/]+/*$")
  if parent then
    local ok, err, name = M.mkdir_p(parent)
    if not ok then return nil, err, name end
  end
  local ok, err, name = core.mkdir(path)
  if not ok then
    -- made meanwhile by someone else: fine when it is a folder
    local now = name == "EEXIST" and core.stat(path)
    if now and now.type == "directory" then return true end
    return nil, err, name
  end
  if mode then
    ok, err, name = core.chmod(path, mode)
    if not ok then return nil, err, name end
  end
  return true
end

--- Append `data` to the file at `path` (created when missing, 0666 less
--- the umask). Returns true, or the fail tuple ("EACCES: cannot append to
--- PATH: ...", "EACCES").
function M.append(path, data)
  return core.append_file(path, data)
end

--- Write `data` as the whole file at `path`, all or nothing: into a
--- temporary file beside it, renamed onto it. Returns true, or nil, err
--- (the file as it was).
function M.write_atomic(path, data)
  local tmp = require("luasible.util.path").tmp_name(path)
  local f, err = io.open(tmp, "wb")
  if not f then return nil, "cannot write " .. path .. ": " .. tostring(err) end
  local ok, werr = f:write(data)
  ok = ok and f:close()
  if not ok then
    pcall(f.close, f)
    os.remove(tmp)
    return nil, "cannot write " .. path .. ": " .. tostring(werr or "write failed")
  end
  local rok, rerr = os.rename(tmp, path)
  if not rok then
    os.remove(tmp)
    return nil, "cannot write " .. path .. ": " .. tostring(rerr)
  end
  return true
end

--- Is file descriptor `fd` (0, 1, 2) a terminal?
function M.isatty(fd)
  return core.isatty(math.tointeger(fd) or error("bad argument #1 to 'isatty' (integer expected)", 2))
end

--- The terminal's size: columns, rows; nil when there is none.
function M.tty_size()
  return core.tty_size()
end

return M
