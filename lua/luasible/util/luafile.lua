--- luasible.util.luafile: a Lua file of the user's run as loadfile would
-- run it (a UTF-8 BOM and a first `#` line skipped, line numbers kept): a
-- play file (play/init.lua), a role's file written in Lua (play/role_files.lua).
local M = {}

--- The value the chunk `text` (read from `path`) returns, or nil, err: a
--- syntax or run-time error as "path:line: message" (or "path: message").
function M.run(text, path)
  local chunk, err = load((text:gsub("^\239\187\191", ""):gsub("^#[^\n]*", "")), "@" .. path, "t")
  if not chunk then return nil, err end
  local ok, v = pcall(chunk)
  if not ok then
    v = tostring(v)
    return nil, v:sub(1, #path + 1) == path .. ":" and v or path .. ": " .. v
  end
  return v
end

return M
