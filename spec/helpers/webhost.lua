--- spec/helpers/webhost.lua: the HTTP server of spec/helpers/httpd.py
-- started ON a test host (testhosts.lua), for the network modules' specs.
--   local web = require("spec.helpers.webhost").start(host, { port = 8080 })
--   web.url .. "/files/a.txt"; web:put("a.txt", "content"); web:requests()
--   web:stop()
-- The server runs in the host's namespaces (python3 from the host's /usr/bin),
-- serves host:/srv/www and is gone with the host.
local M = {}

local HERE = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/helpers")
local files = require "spec.helpers.files"

local Web = {}
Web.__index = Web

function M.start(host, o)
  o = o or {}
  local port = o.port or 8080
  local root = o.root or "/srv/www"
  host:exec("mkdir -p " .. root)
  host:write("/srv/httpd.py", assert(files.read(HERE .. "/httpd.py")))
  host:write(root .. "/.password", o.password or "s3cret-pw")
  host:exec("setsid /usr/bin/python3 /srv/httpd.py " .. port .. " " .. root
    .. " </dev/null >/srv/httpd.log 2>&1 &")
  local w = setmetatable({ host = host, port = port, root = root,
    url = "http://" .. host.address .. ":" .. port }, Web)
  for _ = 1, 100 do
    local _, ok = host:exec("/usr/bin/python3 -c \"import socket; socket.create_connection(('127.0.0.1', "
      .. port .. "), 1)\" 2>/dev/null")
    if ok then return w end
    os.execute("sleep 0.05")
  end
  error("webhost: the server did not listen on " .. host.name .. ": " .. tostring(host:read("/srv/httpd.log")))
end

function Web:put(rel, content)
  local path = self.root .. "/" .. rel
  self.host:exec("mkdir -p \"$(dirname '" .. path .. "')\"")
  self.host:write(path, content)
end

--- the requests seen, "METHOD /path" lines (and clear the list): of a
-- server { host, root } that logs them to ROOT/.requests (httpd.py, and
-- pkgservers.lua's npm registry)
function M.requests(server)
  local s = server.host:read(server.root .. "/.requests") or ""
  server.host:exec("rm -f " .. server.root .. "/.requests")
  local out = {}
  for l in s:gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end
Web.requests = M.requests

return M
