--- luasible.files: small file helpers shared by the task layer (no core needed).
local M = {}

--- The whole content of a file, or nil, err.
function M.read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s, rerr = f:read("a")
  f:close()
  if not s then return nil, path .. ": " .. tostring(rerr) end
  return s
end

return M
