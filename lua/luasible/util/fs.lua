--- luasible.util.fs: the controller's own file system, for the task layer
-- (inventory folders, play files, fetched files, the terminal).
-- Every call returns a value, or the fail tuple nil, "NAME: message", "NAME".
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

return M
