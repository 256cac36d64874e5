--- luasible.util.fs: the controller's own file system, for the task layer
-- (inventory folders, play files, fetched files, the terminal).
-- Every call returns a value, or the fail tuple nil, "NAME: message", "NAME".
-- TEMPORARY implementation (shell commands); the C file-system binding
-- (core/lua_fs.c) replaces the bodies, the interface stays.
local shell = require "luasible.util.shell"

local M = {}

--- The whole content of a file.
function M.read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s, rerr = f:read("a")
  f:close()
  if not s then return nil, path .. ": " .. tostring(rerr) end
  return s
end

--- What is at `path` (following links): { type = "file"|"directory"|"link"|
--- "other", size = bytes, mode = permission bits (integer), mtime = seconds }.
--- Missing: nil, "ENOENT: ...", "ENOENT".
function M.stat(path)
  local p = io.popen("stat -L -c '%F|%s|%a|%Y' -- " .. shell.quote(path) .. " 2>/dev/null")
  local out = p and p:read("a") or ""
  if p then p:close() end
  local kind, size, mode, mtime = out:match("^([^|]*)|(%d+)|([0-7]+)|(%d+)")
  if not kind then return nil, "ENOENT: " .. path .. ": no such file or directory", "ENOENT" end
  local t = (kind:find("directory") and "directory") or (kind:find("regular") and "file") or "other"
  return { type = t, size = tonumber(size), mode = tonumber(mode, 8), mtime = tonumber(mtime) }
end

--- Every file and folder below `dir`, following links, as a sorted list of
--- { path = "relative/path", type = "file"|"directory" }. A folder that does
--- not exist gives an empty list.
function M.walk(dir)
  local out = {}
  if not M.stat(dir) then return out end
  local arg = dir:sub(1, 1) == "-" and ("./" .. dir) or dir
  local p = io.popen("find -L " .. shell.quote(arg)
    .. " -mindepth 1 \\( -type f -o -type d \\) -printf '%y %P\\0' 2>/dev/null")
  local text = p and p:read("a") or ""
  if p then p:close() end
  for kind, rel in text:gmatch("(%a) ([^%z]+)%z") do
    out[#out + 1] = { path = rel, type = kind == "d" and "directory" or "file" }
  end
  table.sort(out, function(a, b) return a.path < b.path end)
  return out
end

--- Make a folder and its parents (as mkdir -p); true when it exists after.
function M.mkdir_p(path, mode)
  local ok = os.execute("mkdir -p " .. (mode and ("-m " .. ("%o"):format(mode) .. " ") or "")
    .. "-- " .. shell.quote(path))
  if ok then return true end
  return nil, "EIO: cannot create folder " .. path, "EIO"
end

--- Is file descriptor `fd` (0, 1, 2) a terminal?
function M.isatty(fd)
  return os.execute("test -t " .. math.tointeger(fd)) == true
end

--- The terminal's size: columns, rows; nil when there is none.
function M.tty_size()
  local p = io.popen("stty size </dev/tty 2>/dev/null")
  if not p then return nil end
  local rows, cols = (p:read("a") or ""):match("^(%d+) (%d+)")
  p:close()
  return tonumber(cols), tonumber(rows)
end

return M
