--- luasible.util.path: file path helpers, the one copy every layer uses.
-- Paths are plain strings; nothing here touches the file system.
local M = {}

--- The folder of a path, as dirname(1): "a/b/c" -> "a/b", "c" -> ".",
--- "/c" -> "/", "a/b/" -> "a".
function M.dirname(path)
  path = tostring(path):gsub("(.)/+$", "%1")
  local dir = path:match("^(.*[^/])/+[^/]*$")
  if dir then return dir end
  if path:sub(1, 1) == "/" then return "/" end
  return "."
end

--- The last part of a path, as basename(1): "a/b/" -> "b", "/" -> "/".
function M.basename(path)
  path = tostring(path)
  if path:match("^/+$") then return "/" end
  return (path:match("([^/]*)/*$"))
end

--- Join path parts with one "/" between them; an absolute part restarts.
function M.join(...)
  local out = ""
  for i = 1, select("#", ...) do
    local p = tostring((select(i, ...)))
    if p:sub(1, 1) == "/" or out == "" then out = p
    elseif p ~= "" then out = out:gsub("/+$", "") .. "/" .. p end
  end
  return out
end

--- Python's os.path.dirname (the Jinja filter): "a/b/" -> "a/b", "c" -> "".
function M.py_dirname(path)
  return (tostring(path):match("^(.*)/[^/]*$") or "")
end

--- Python's os.path.basename (the Jinja filter): "a/b/" -> "", "a/b" -> "b".
function M.py_basename(path)
  return (tostring(path):match("([^/]*)$"))
end

--- True when the path is absolute.
function M.is_abs(path) return tostring(path):sub(1, 1) == "/" end

--- `path` read relative to folder `base` unless it is absolute.
function M.resolve(base, path)
  if M.is_abs(path) or base == nil or base == "." then return path end
  return M.join(base, path)
end

--- "~" and "~/x" expanded with $HOME (or `home`); other paths unchanged.
function M.expand_user(path, home)
  if path == "~" or tostring(path):sub(1, 2) == "~/" then
    home = home or os.getenv("HOME") or ""
    return home .. tostring(path):sub(2)
  end
  return path
end

--- A temporary name beside `path` (same folder, so a rename onto `path` is
--- atomic): ".<base>.luasible-<random>.tmp".
function M.tmp_name(path)
  local dir, base = tostring(path):match("^(.*/)([^/]*)$")
  if not dir then dir, base = "", path end
  return ("%s.%s.luasible-%05d%06d.tmp"):format(dir, base, os.time() % 100000, math.random(0, 999999))
end

return M
