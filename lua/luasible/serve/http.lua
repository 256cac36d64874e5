--- luasible.serve.http: the HTTP side of the dashboard's server, above the
-- core's parser (core/lua_http.c): the request target split into a path and
-- its query, and responses (status line, headers, body) written to a
-- connection.
local M = {}

M.REASONS = {
  [101] = "Switching Protocols", [200] = "OK", [303] = "See Other", [304] = "Not Modified",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [411] = "Length Required", [413] = "Content Too Large",
  [421] = "Misdirected Request", [426] = "Upgrade Required", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [503] = "Service Unavailable", [505] = "HTTP Version Not Supported",
}

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
M.unescape = unescape

--- "/api/x?a=1&b=%20" -> "/api/x", { a = "1", b = " " } (nil for a bad path)
function M.split_target(target)
  local path, query = target:match("^([^?#]*)%??([^#]*)")
  if not path or path:sub(1, 1) ~= "/" then return nil end
  local q = {}
  for pair in query:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    q[unescape(k)] = unescape(v)
  end
  return unescape(path), q
end

--- Write a whole response. headers: a list of { name, value } (or a map);
--- keep: the connection stays open for the next request.
function M.respond(conn, status, headers, body, keep)
  body = body or ""
  local out = { ("HTTP/1.1 %d %s\r\n"):format(status, M.REASONS[status] or "Unknown") }
  local function add(k, v) out[#out + 1] = k .. ": " .. v .. "\r\n" end
  for k, v in pairs(headers or {}) do
    if type(k) == "number" then add(v[1], v[2]) else add(k, v) end
  end
  add("Content-Length", tostring(#body))
  add("X-Content-Type-Options", "nosniff")
  add("Cache-Control", "no-store")
  if not keep then add("Connection", "close") end
  out[#out + 1] = "\r\n"
  out[#out + 1] = body
  return conn:write(table.concat(out))
end

--- A small HTML page (errors: what happened and what to do).
function M.page(title, text)
  local ents = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }
  local function esc(s) return (s:gsub("[&<>\"]", ents)) end
  return ("<!doctype html><meta charset=utf-8><title>%s</title><h1>%s</h1><p>%s</p>\n")
    :format(esc(title), esc(title), esc(text))
end

return M
