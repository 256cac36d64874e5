--- luasible.serve: the live dashboard's server (docs/DASHBOARD.md).
--   local server = luasible.serve{ address = "127.0.0.1", port = 0 }
--   luasible.play(play, { on_event = server.on_event })
--   io.stderr:write(server.url, "\n"); server:wait()
-- HTTP and WebSocket on the core's loop (core/lua_http.c), in tasks of the
-- scheduler beside the run's: a task accepts, one per connection reads its
-- requests, one sends the batches. Routing, auth and JSON are here and in
-- the files beside: store (the log and its indexes), state (the snapshot),
-- live (batches, catch-up), search, auth, static, http.
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"
local json = require "luasible.json"
local store_mod = require "luasible.serve.store"
local auth_mod = require "luasible.serve.auth"
local static = require "luasible.serve.static"
local http = require "luasible.serve.http"
local live = require "luasible.serve.live"
local search = require "luasible.serve.search"

local M = {}

M.MAX_CONNECTIONS = 256
M.LINGER = 5 -- seconds an ended connection has to take what is left

local Server = {}
Server.__index = Server

local JSON_TYPE = { ["Content-Type"] = "application/json" }
-- the page's own files only; its WebSocket and API on this server
local CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"

local function int(v, dflt, lo, hi)
  local n = math.tointeger(tonumber(v))
  if not n then return dflt end
  return math.max(lo, math.min(hi, n))
end

local function send_json(conn, body, keep)
  return http.respond(conn, 200, JSON_TYPE, body, keep)
end

local function error_json(conn, status, msg, keep)
  return http.respond(conn, status, JSON_TYPE, json.encode({ error = msg }), keep)
end

-- /api/* (the session is checked already)
function Server:api(conn, path, q, keep)
  local store = self.store
  if path == "/api/state" then
    return send_json(conn, json.encode(store:snapshot()), keep)
  elseif path == "/api/events" then
    local since = int(q.since, 0, 0, math.maxinteger)
    local limit = int(q.limit, 10000, 1, 100000)
    local lines, nxt, last = store:events_since(since, limit)
    return send_json(conn, ('{"events":[%s],"next":%d,"last":%d}'):format(table.concat(lines, ","), nxt, last), keep)
  elseif path == "/api/output" then
    if not q.host or q.host == "" then return error_json(conn, 400, "host is missing", keep) end
    local task = q.task and q.task ~= "" and int(q.task, nil, 1, math.maxinteger) or nil
    if q.task and q.task ~= "" and not task then return error_json(conn, 400, "task is not an id", keep) end
    local from = int(q.from, 0, 0, math.maxinteger)
    local count = int(q.count, 1000, 0, 10000)
    local total, lines = store:output(q.host, task, from, count)
    return send_json(conn, json.encode({ total = total, from = from, lines = lines }), keep)
  elseif path == "/api/search" then
    local res, err = search.run(store, q, core.now)
    if not res then return error_json(conn, 400, err, keep) end
    return send_json(conn, json.encode(res), keep)
  end
  return error_json(conn, 404, "no such API: " .. path, keep)
end

-- A WebSocket client: upgrade, then batches until it goes.
function Server:websocket(conn, req, q)
  local h = req.headers
  local key = h["sec-websocket-key"]
  if (h.upgrade or ""):lower() ~= "websocket" or not (h.connection or ""):lower():find("upgrade", 1, true)
    or not key or h["sec-websocket-version"] ~= "13" then
    http.respond(conn, 400, { ["Sec-WebSocket-Version"] = "13" }, "bad WebSocket upgrade\n")
    return conn:finish()
  end
  local since = int(q.since, 0, 0, math.maxinteger)
  conn:write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    .. "Sec-WebSocket-Accept: " .. core.websocket_accept(key) .. "\r\n\r\n")
  conn:upgrade()
  local client = { conn = conn, sent = math.min(since, self.store.seq) }
  self:add_client(client)
  while true do
    local msg = self:next_item(conn)
    if not msg or msg.type == "eof" or msg.type == "close" or msg.type == "error" then break end
    -- the page sends only pings (answered by the core) and close
  end
  self:drop_client(client)
  conn:finish()
end

-- The store keeps its ring of the last events only while some client is
-- streaming (store:set_live).
function Server:add_client(client)
  self.clients[client] = true
  self.store:set_live(true)
end

function Server:drop_client(client)
  self.clients[client] = nil
  if next(self.clients) == nil then self.store:set_live(false) end
end

-- The next item of a connection, waiting for it; nil once closed.
function Server:next_item(conn)
  while true do
    if self.closed or conn:closing() then return nil end
    local item = conn:read()
    if item then return item end
    scheduler.wait(conn)
  end
end

-- One request: Host, then the session, then the route.
function Server:request(conn, req)
  local h = req.headers
  local keep = req.version == "1.1" and not (h.connection or ""):lower():find("close", 1, true)
  if not self.auth:host_ok(h.host) then
    http.respond(conn, 421, { ["Content-Type"] = "text/plain" }, "this server is not " .. tostring(h.host) .. "\n")
    return false
  end
  if req.method ~= "GET" and req.method ~= "HEAD" then
    http.respond(conn, 405, { Allow = "GET, HEAD", ["Content-Type"] = "text/plain" }, "read-only\n")
    return false
  end
  local path, q = http.split_target(req.target)
  if not path then
    http.respond(conn, 400, { ["Content-Type"] = "text/plain" }, "bad request target\n")
    return false
  end
  local upgrade = path == "/ws"
  if not self.auth:origin_ok(h, upgrade) then
    http.respond(conn, 403, { ["Content-Type"] = "text/plain" }, "foreign origin\n")
    return false
  end
  local session = self.auth:session(h)
  if path == "/" and q.token then
    if session then
      http.respond(conn, 303, { Location = "/" }, "", keep)
      return keep
    end
    local s, why = self.auth:exchange(q.token)
    if not s then
      http.respond(conn, 403, { ["Content-Type"] = "text/html; charset=utf-8" },
        http.page("luasible: refused",
          why .. ": open the URL luasible printed, in the browser that opened it first."))
      return false
    end
    http.respond(conn, 303, { Location = "/", ["Set-Cookie"] = auth_mod.cookie(s) }, "", keep)
    return keep
  end
  if not session then
    local status = h.cookie and h.cookie:find("luasible=", 1, true) and 403 or 401
    if path == "/" then
      http.respond(conn, status, { ["Content-Type"] = "text/html; charset=utf-8" },
        http.page("luasible: not signed in",
          "Open the URL with the token that luasible printed on its standard error."), keep)
    else
      http.respond(conn, status, { ["Content-Type"] = "text/plain" }, "not signed in\n", keep)
    end
    return keep
  end
  if upgrade then
    self:websocket(conn, req, q)
    return false
  end
  if path:sub(1, 5) == "/api/" then
    self:api(conn, path, q, keep)
    return keep
  end
  local root = static.root()
  local body, ctype
  if path == "/" or path == "/index.html" then
    body, ctype = static.file(root, "index.html")
    if not body then body, ctype = static.PLACEHOLDER, "text/html; charset=utf-8" end
  elseif path:sub(1, 8) == "/static/" then
    body, ctype = static.file(root, path:sub(9))
  end
  if not body then
    http.respond(conn, 404, { ["Content-Type"] = "text/plain" }, "not found\n", keep)
    return keep
  end
  if req.method == "HEAD" then body = "" end
  http.respond(conn, 200, { ["Content-Type"] = ctype,
    ["Content-Security-Policy"] = CSP },
    body, keep)
  return keep
end

-- A connection: its requests, one after the other.
function Server:connection(conn)
  self.nconn = self.nconn + 1
  self.conns[conn] = true
  local ok, err = pcall(function()
    if self.nconn > M.MAX_CONNECTIONS then
      http.respond(conn, 503, { ["Content-Type"] = "text/plain" }, "too many connections\n")
      return
    end
    while true do
      local req = self:next_item(conn)
      if not req or req.type == "eof" then break end
      if req.type == "error" then
        -- one clear status, and the connection ends
        http.respond(conn, req.status, { ["Content-Type"] = "text/plain" }, req.reason .. "\n")
        break
      end
      if not self:request(conn, req) then break end
    end
  end)
  self.conns[conn] = nil
  self.nconn = self.nconn - 1
  if not conn:closing() then conn:finish() end
  -- a peer that never reads what is left: closed after a while
  if not ok then io.stderr:write("luasible: serve: ", tostring(err), "\n") end
  -- a peer that does not read what is left is closed after LINGER seconds
  if self.closed then conn:close() else self.lingering[conn] = core.now() + M.LINGER end
end

-- The batcher: a frame to each client that is behind, at most one per
-- client every BATCH seconds. Leading edge: it looks every POLL seconds, so
-- a line after a quiet spell leaves at once (within POLL) and only a steady
-- stream waits for the next BATCH; the log is flushed every BATCH.
function Server:batcher()
  local flushed = 0
  while not self.closed do
    scheduler.sleep(live.POLL)
    local now = core.now()
    if now - flushed >= live.BATCH then
      self.store:flush()
      flushed = now
    end
    for client in pairs(self.clients) do
      if client.sent < self.store.seq and now - (client.last_frame or 0) >= live.BATCH then
        local r = live.pump(client, self.store, self.max_queued, self.max_events)
        if r == "catchup" or r == "closed" then self:drop_client(client)
        elseif r == "sent" then client.last_frame = now end
      end
    end
    -- connections that were ended: closed once written, or after LINGER
    now = core.now()
    for conn, deadline in pairs(self.lingering) do
      if now >= deadline or conn:closing() and conn:queued() == 0 then
        conn:close()
        self.lingering[conn] = nil
      end
    end
  end
end

function Server:acceptor()
  while not self.closed do
    scheduler.wait(self.listener)
    if self.closed then break end
    local conn, err = self.listener:accept()
    if conn then
      scheduler.spawn(function() self:connection(conn) end)
    elseif err then
      io.stderr:write("luasible: serve: ", err, "\n")
      scheduler.sleep(0.1)
    end
  end
end

--- Start a server. opts: address (default 127.0.0.1), port (0: a free
--- one), hosts (more names the Host header may give), public (a
--- non-loopback address is refused without it), log (the NDJSON log's path;
--- default a private temporary file), token, max_queued (bytes waiting on
--- a WebSocket client's socket before it is sent to catch-up), max_events
--- (events in one frame at most). Returns the server, or nil, err.
function M.new(opts)
  opts = opts or {}
  local address = opts.address or "127.0.0.1"
  if not auth_mod.is_loopback(address) and not opts.public then
    return nil, "serving on " .. address .. " (not loopback) needs --serve-public"
  end
  local listener, err = core.http_listen(address, opts.port or 0)
  if not listener then return nil, "cannot serve on " .. address .. ":" .. tostring(opts.port or 0) .. ": " .. err end
  local addr, port = listener:address()
  local store, serr = opts.store, nil
  if not store then store, serr = store_mod.new({ path = opts.log, now = core.wall }) end
  if not store then
    listener:close()
    return nil, serr
  end
  local auth = auth_mod.new({ address = addr, port = port, hosts = opts.hosts, token = opts.token })
  local self = setmetatable({ listener = listener, store = store, auth = auth, address = addr,
    port = port, clients = {}, conns = {}, lingering = {}, nconn = 0, closed = false,
    max_queued = opts.max_queued, max_events = opts.max_events }, Server)
  self.base_url = ("http://%s:%d/"):format(auth.shown, port)
  self.url = self.base_url .. "?token=" .. auth.token
  store:set_live(false) -- no client yet
  self.on_event = function(ev) self:feed(ev) end
  self.tasks = { scheduler.spawn(function() self:acceptor() end),
    scheduler.spawn(function() self:batcher() end) }
  return self
end

--- Take one event of the run (the runner's on_event: server.on_event).
function Server:feed(ev)
  if self.closed then return end
  self.store:add(ev)
end

--- Serve until interrupted (Ctrl-C: the scheduler raises the interrupt)
--- or closed.
function Server:wait()
  while not self.closed do scheduler.sleep(0.2) end
end

--- Stop: every client closed, the listener, the log.
function Server:close()
  if self.closed then return end
  self.closed = true
  self.store:flush()
  for client in pairs(self.clients) do
    if not client.conn:closing() then
      pcall(client.conn.send_close, client.conn, 1001, "server closing")
      client.conn:finish()
    end
  end
  for conn in pairs(self.conns) do conn:close() end
  for conn in pairs(self.lingering) do conn:close() end
  self.lingering = {}
  self.listener:close()
  self.store:close()
end

M.Server = Server
return M
