--- luasible.util.searchpath: the folders searched for plugin files (task
-- modules, inventory plugins, connection kinds) and the lookup of
-- NAME.lua in them, written once for the three.
local fs = require "luasible.util.fs"

local M = {}

--- Append to the list `out` the folders of `p`: a colon list ("a:b"), a
--- list of such (nested), or nil; a folder already in `out` is skipped
--- (the first place wins). Returns out.
function M.append(out, p)
  if type(p) == "table" then
    for _, x in ipairs(p) do M.append(out, x) end
  elseif type(p) == "string" then
    for dir in p:gmatch("[^:]+") do
      local seen = false
      for _, d in ipairs(out) do if d == dir then seen = true break end end
      if not seen then out[#out + 1] = dir end
    end
  end
  return out
end

--- A new list of the folders of each argument in turn (as append).
function M.list(...)
  local out = {}
  for i = 1, select("#", ...) do M.append(out, (select(i, ...))) end
  return out
end

--- The first `dir/name.lua` of `dirs` that is a file: its path; nil when
--- no folder has one; nil, message, NAME when one is there but cannot be
--- looked at (EACCES, EMFILE...): an error, never skipped for a file of
--- the same name further on.
function M.find(dirs, name)
  for _, dir in ipairs(dirs) do
    local file = dir .. "/" .. name .. ".lua"
    local st, err, code = fs.stat(file)
    if not st and code ~= "ENOENT" and code ~= "ENOTDIR" then return nil, err, code end
    if st and st.type ~= "directory" then return file end
  end
  return nil
end

return M
