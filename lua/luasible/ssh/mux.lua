--- luasible.ssh.mux: the two processes of a persistent connection
-- (docs/SSH.md "Persistent connections"), run as scripts by
-- lua/luasible/ssh/persist.lua:
--   mux.lua serve SOCKET SPECFILE IDLE  the holder: one SSH connection
--     (made exactly as a direct one: host keys, keys, agent), served on a
--     unix socket (0600, peers of this user only) until IDLE seconds pass
--     with no request, then the socket is removed and it exits;
--   mux.lua exec SOCKET  a relay: the request in LUASIBLE_MUX_REQ, its
--     stdin sent on, the command's stdout, stderr and exit status its own.
-- Frames are JSON lines. Request: { line = "...", stdin = base64|nil };
-- answers: { o = bytes } (stdout), { e = bytes } (stderr), then
-- { rc = n, signal = "TERM"|nil, error = "NAME: msg"|nil }.
local core = require "luasible.core"
local cjson = require "cjson"

local M = {}

local HIGH = 1024 * 1024 -- bytes queued to a relay before the command waits

-- the bytes of a line event as the command printed them; the newline of a
-- plain line is held back until the next event or the end, where the byte
-- count tells whether the output ended without one
local function out_bytes(ev)
  if ev.partial then return ev.data, "" end
  if ev.cr then return ev.data .. "\r", "" end
  return ev.data, "\n"
end

local function serve_client(conn, c, scheduler, state)
  local line
  repeat
    line = c:read()
    if line == nil then scheduler.wait(c) end
  until line ~= nil
  if not line then return c:close() end
  local ok, req = pcall(cjson.decode, line)
  if not ok or type(req) ~= "table" or type(req.line) ~= "string" then
    c:write(cjson.encode({ rc = 255, error = "EINVAL: bad request" }) .. "\n")
    return c:close()
  end
  state.active = state.active + 1
  local stdin = type(req.stdin) == "string" and core.base64_decode(req.stdin) or nil
  local iter, s = conn:stream({ "/bin/sh", "-c", req.line }, { stdin = stdin })
  -- the relay gone (killed by its timeout, a cancel): the command is killed
  local over, gone = false, false
  scheduler.spawn(function()
    while not over do
      local l = c:read()
      if l == false then
        gone = true
        if not over and s and s.close then s:close() end
        return
      end
      scheduler.wait(c)
    end
  end)
  local held = { "", "" } -- the newline held back per fd
  local sent = { 0, 0 }
  for ev in iter, s do
    local t = ev.type
    if t == "stdout" or t == "stderr" then
      local i = t == "stdout" and 1 or 2
      local data, nl = out_bytes(ev)
      local chunk = held[i] .. data
      held[i] = nl
      sent[i] = sent[i] + #chunk
      c:write(cjson.encode(i == 1 and { o = chunk } or { e = chunk }) .. "\n")
      -- a relay that reads slowly holds the command back (its SSH window
      -- fills) instead of the holder's memory growing
      if c:queued() > HIGH then
        while not gone and c:queued() > HIGH // 2 do scheduler.sleep(0.002) end
      end
    elseif t == "done" or t == "error" then
      local r = ev.result or {}
      local bytes = { r.stdout_bytes or 0, r.stderr_bytes or 0 }
      for i = 1, 2 do
        if held[i] ~= "" and sent[i] < bytes[i] then
          c:write(cjson.encode(i == 1 and { o = held[i] } or { e = held[i] }) .. "\n")
        end
      end
      c:write(cjson.encode({ rc = r.rc, signal = r.signal,
        error = t == "error" and ev.error or nil }) .. "\n")
    end
  end
  state.active = state.active - 1
  state.last = core.now()
  over = true
  c:finish() -- what is queued goes out first
end

function M.serve(path, specfile, idle)
  local luasible = require "luasible"
  local scheduler = require "luasible.scheduler"
  local f = io.open(specfile)
  local text = f and f:read("a")
  if f then f:close() end
  os.remove(specfile)
  local spec = text and cjson.decode(text)
  if not spec then
    io.stderr:write("EINVAL: no connection spec\n")
    return 1
  end
  for k, v in pairs(spec) do if v == cjson.null then spec[k] = nil end end
  local conn, err = luasible.connect(spec)
  if not conn then
    io.stderr:write(err, "\n")
    return 1
  end
  local l, lerr, lname = core.unix_listen(path)
  if not l and lname == "EADDRINUSE" then
    -- another holder answers there: it serves; a stale socket: replaced
    local probe = core.unix_connect(path)
    scheduler.wait(probe)
    local alive = probe:read() ~= false
    probe:close()
    if alive then
      conn:close()
      return 0
    end
    os.remove(path)
    l, lerr = core.unix_listen(path)
  end
  if not l then
    io.stderr:write(lerr, "\n")
    conn:close()
    return 1
  end
  local state = { active = 0, last = core.now(), done = false }
  luasible.run(function()
    scheduler.spawn(function()
      while not state.done do
        scheduler.sleep(0.5)
        if state.active == 0 and core.now() - state.last >= idle then state.done = true end
      end
      l:close()
    end)
    while not state.done do
      scheduler.wait(l)
      if state.done then break end
      local c = l:accept()
      if c then
        state.last = core.now()
        scheduler.spawn(serve_client, conn, c, scheduler, state)
      end
    end
  end)
  os.remove(path)
  conn:close()
  return 0
end

function M.exec(path)
  local scheduler = require "luasible.scheduler"
  local req = cjson.decode((assert(os.getenv("LUASIBLE_MUX_REQ"), "LUASIBLE_MUX_REQ is not set")))
  local stdin = io.stdin:read("a")
  if stdin and stdin ~= "" then req.stdin = core.base64_encode(stdin) end
  local c = core.unix_connect(path)
  c:write(cjson.encode(req) .. "\n")
  io.stdout:setvbuf("no")
  io.stderr:setvbuf("no")
  while true do
    local line, err = c:read()
    if line then
      local m = cjson.decode(line)
      if m.o then io.stdout:write(m.o)
      elseif m.e then io.stderr:write(m.e)
      else
        c:close()
        if m.error and m.error ~= cjson.null and not m.rc then
          io.stderr:write("luasible: ", m.error, "\n")
          return 255
        end
        if m.signal and m.signal ~= cjson.null then
          return 128 + (core.signals[m.signal] or 0)
        end
        return math.tointeger(m.rc) or 255
      end
    elseif line == false then
      io.stderr:write("luasible: the connection holder at ", path, " went away",
        err ~= "" and (": " .. err) or "", "\n")
      return 255
    else
      scheduler.wait(c)
    end
  end
end

function M.main(args)
  if args[1] == "serve" then return M.serve(args[2], args[3], tonumber(args[4]) or 60) end
  if args[1] == "exec" then return M.exec(args[2]) end
  io.stderr:write("usage: mux.lua serve SOCKET SPECFILE IDLE | exec SOCKET\n")
  return 2
end

if ... ~= "luasible.ssh.mux" then os.exit(M.main({ ... })) end

return M
