--- Small file helpers shared by the specs.
local M = {}

--- The whole content of the file at `path`, or nil when it cannot be opened.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- Write `data` to the file at `path` (created or replaced); raises on error.
function M.write(path, data)
  local f = assert(io.open(path, "wb"))
  assert(f:write(data))
  assert(f:close())
end

return M
