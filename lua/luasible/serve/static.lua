--- luasible.serve.static: the page's files (share/luasible/web/, made by
-- the page's side), found in the source tree or where luasible is
-- installed, relative to this module; LUASIBLE_WEB names another folder.
local fs = require "luasible.util.fs"

local M = {}

local TYPES = {
  html = "text/html; charset=utf-8", js = "text/javascript; charset=utf-8",
  mjs = "text/javascript; charset=utf-8", css = "text/css; charset=utf-8",
  json = "application/json", svg = "image/svg+xml", png = "image/png", ico = "image/x-icon",
  map = "application/json", txt = "text/plain; charset=utf-8", woff2 = "font/woff2",
}

-- The folder this file is in.
local function here()
  local src = debug.getinfo(1, "S").source
  return src:sub(1, 1) == "@" and (src:sub(2):match("^(.*)/[^/]*$") or ".") or "."
end

--- The folders to look in, first first.
function M.roots()
  local dir = here() -- .../luasible/serve
  local out = {}
  local env = os.getenv("LUASIBLE_WEB")
  if env and env ~= "" then out[#out + 1] = env end
  out[#out + 1] = dir .. "/../../../share/luasible/web" -- the source tree: lua/luasible/serve
  out[#out + 1] = dir .. "/../../../../luasible/web"   -- PREFIX/share/lua/5.4/luasible/serve
  out[#out + 1] = dir .. "/../web"                      -- LUADIR/luasible/web (the rockspec)
  return out
end

--- The folder holding index.html, or nil.
function M.root()
  for _, r in ipairs(M.roots()) do
    local st = fs.stat(r .. "/index.html")
    if st and st.type == "file" then return r end
  end
end

--- The page shown when no web folder is installed.
M.PLACEHOLDER = [[<!doctype html><meta charset=utf-8><title>luasible</title>
<h1>luasible</h1><p>The dashboard's page is not installed (share/luasible/web).
The server answers /api/state, /api/events, /api/output, /api/search and /ws.</p>
]]

--- A file under the root: body, content type; or nil for a bad or missing
--- path (only plain names: no "..", no hidden files).
function M.file(root, rel)
  if not root or rel == "" or #rel > 256 then return nil end
  for seg in rel:gmatch("[^/]+") do
    if seg:sub(1, 1) == "." or not seg:match("^[%w%._%-@]+$") then return nil end
  end
  if rel:find("//", 1, true) or rel:sub(1, 1) == "/" then return nil end
  local st = fs.stat(root .. "/" .. rel)
  if not st or st.type ~= "file" then return nil end
  local body = fs.read(root .. "/" .. rel)
  if not body then return nil end
  local ext = rel:match("%.(%w+)$")
  return body, TYPES[ext and ext:lower()] or "application/octet-stream"
end

return M
