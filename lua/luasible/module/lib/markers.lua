--- luasible.module.lib.markers: the "@key value" lines a module's host
-- script prints beside its output (get_url, uri, git): { key = value },
-- the last one of a key kept; "@key" alone is "".
local M = {}

--- The markers of a script's stdout.
function M.parse(out)
  local m = {}
  for line in (out or ""):gmatch("[^\n]+") do
    local k, v = line:match("^@(%w+) ?(.*)$")
    if k then m[k] = v end
  end
  return m
end

return M
