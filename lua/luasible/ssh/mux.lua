--- luasible.ssh.mux: the two processes of a persistent connection
-- (docs/SSH.md "Persistent connections"), run as scripts by
-- lua/luasible/ssh/persist.lua:
--   mux.lua serve SOCKET SPECFILE IDLE  the holder: one SSH connection
--     (made exactly as a direct one: host keys, keys, agent), served on a
--     unix socket (0600, peers of this user only) until IDLE seconds pass
--     with no request, then the socket is removed and it exits;
--   mux.lua exec SOCKET  a relay: the request in LUASIBLE_MUX_REQ, its
--     stdin sent on, the command's stdout, stderr and exit status its own.
-- Binary frames (core unix_conn read_frame/write_frame: a type byte, a
-- 32-bit length, the bytes). From a client: "p" (ping: answered "p", and
-- the holder lives IDLE seconds more), "s" (stop: answered "s"; the socket
-- is removed at once, so the next client starts a new holder and a new SSH
-- connection, and this one ends when its commands have; Ansible's
-- reset_connection), or "q" { line, stdin = N bytes }
-- then "i" frames of stdin until N bytes came. To a relay: "o" (stdout
-- bytes), "e" (stderr bytes) as the channel gives them, never split into
-- lines, then "x" { rc, signal, error }.
local core = require "luasible.core"
local cjson = require "cjson"

local M = {}

local HIGH = 1024 * 1024 -- bytes queued to a relay before the command waits
local STDIN_FRAME = 1024 * 1024
M.STDIN_FRAME = STDIN_FRAME

-- the next frame of c: type, payload, or false at the end
local function next_frame(c, scheduler)
  while true do
    local t, p = c:read_frame()
    if t ~= nil then return t, p end
    scheduler.wait(c)
  end
end
M.next_frame = next_frame

local function refuse(c, why)
  c:write_frame("x", cjson.encode({ rc = 255, error = why }))
  c:finish()
end

local function serve_client(conn, c, scheduler, state)
  local t, payload = next_frame(c, scheduler)
  if t == "p" then
    state.last = core.now()
    c:write_frame("p")
    return c:finish()
  end
  if t == "s" then
    -- under the lock: never between another client's ping and its relay
    -- (closing the listener unlinks its path: ours while the lock is held)
    local lk = M.lock(state.path, scheduler, 30)
    if not state.stop then
      state.stop = true
      state.listener:close()
    end
    if lk then lk:close() end
    c:write_frame("s")
    return c:finish()
  end
  if t ~= "q" then return c:close() end -- a probe that only connected
  local ok, req = pcall(cjson.decode, payload)
  if not ok or type(req) ~= "table" or type(req.line) ~= "string" then return refuse(c, "EINVAL: bad request") end
  local stdin
  local want = math.tointeger(req.stdin)
  if want and want > 0 then
    local parts, got = {}, 0
    while got < want do
      t, payload = next_frame(c, scheduler)
      if t ~= "i" then return refuse(c, "EINVAL: stdin cut short") end
      parts[#parts + 1] = payload
      got = got + #payload
    end
    stdin = table.concat(parts)
  end
  state.active = state.active + 1
  local s, err, name = conn:_start({ "/bin/sh", "-c", req.line }, { stdin = stdin },
    { lines = false, chunks = true, progress = false })
  if not s then
    state.active = state.active - 1
    state.last = core.now()
    return refuse(c, (name and not err:find("^%u+:") and (name .. ": ") or "") .. tostring(err))
  end
  -- the relay gone (killed by its timeout, a cancel): the command is killed
  local over, gone = false, false
  scheduler.spawn(function()
    while not over do
      local ft = c:read_frame()
      if ft == false then
        gone = true
        if not over then s:cancel("the relay went away") end -- kills it over there
        return
      end
      if ft == nil then scheduler.wait(c) end
    end
  end)
  while not gone do
    local data, is_err = s:pop_line() -- a chunk of bytes (chunks mode)
    if data then
      c:write_frame(is_err and "e" or "o", data)
      -- a relay that reads slowly holds the command back (its SSH window
      -- fills) instead of the holder's memory growing
      if c:queued() > HIGH then
        while not gone and c:queued() > HIGH // 2 do scheduler.sleep(0.002) end
      end
    elseif data == false then
      break
    else
      scheduler.wait(s)
    end
  end
  over = true
  if not gone then
    local r = s:result() or {}
    c:write_frame("x", cjson.encode({ rc = r.rc, signal = r.signal, error = r.error }))
  end
  s:close()
  state.active = state.active - 1
  state.last = core.now()
  c:finish() -- what is queued goes out first
end

-- a holder answers a ping on path
local function alive(path, scheduler)
  local c = core.unix_connect(path)
  c:write_frame("p")
  local t = next_frame(c, scheduler)
  c:close()
  return t == "p"
end
M.alive = alive

-- the lock that serializes starting and ending holders of path: a lock,
-- or nil, err, name (not got within `seconds`)
function M.lock(path, scheduler, seconds)
  local t0 = core.now()
  while true do
    local lk, err, name = core.unix_lock(path .. ".lock")
    if lk then return lk end
    if err then return nil, err, name end
    if core.now() - t0 > seconds then
      return nil, "ETIMEDOUT: the lock " .. path .. ".lock is held for more than " .. seconds .. "s", "ETIMEDOUT"
    end
    scheduler.sleep(0.01)
  end
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
  -- started under the client's lock (persist.ensure), which found no holder
  -- answering: what is there is a stale socket, replaced
  local l, lerr, lname = core.unix_listen(path)
  if not l and lname == "EADDRINUSE" then
    os.remove(path)
    l, lerr = core.unix_listen(path)
  end
  if not l then
    io.stderr:write(lerr, "\n")
    conn:close()
    return 1
  end
  local state = { active = 0, last = core.now(), done = false, path = path, listener = l }
  luasible.run(function()
    scheduler.spawn(function()
      while not state.done do
        scheduler.sleep(math.min(0.5, idle / 4))
        if state.active == 0 and state.stop then -- "s": its socket is gone already (a new holder's may be there)
          state.done = true
        elseif state.active == 0 and core.now() - state.last >= idle then
          -- the end under the lock: no client is between its ping and
          -- its relay, and a new holder binds only once this one is gone
          local lk = M.lock(path, scheduler, 30)
          if lk and state.active == 0 and core.now() - state.last >= idle then
            state.done = true
            l:close()
            os.remove(path)
          end
          if lk then lk:close() end
        end
      end
    end)
    while not state.done and not state.stop do
      scheduler.wait(l)
      if state.done or state.stop then break end
      local c = l:accept()
      if c then
        state.last = core.now()
        scheduler.spawn(serve_client, conn, c, scheduler, state)
      end
    end
  end)
  conn:close()
  return 0
end

function M.exec(path)
  local scheduler = require "luasible.scheduler"
  local req = cjson.decode((assert(os.getenv("LUASIBLE_MUX_REQ"), "LUASIBLE_MUX_REQ is not set")))
  local stdin = io.stdin:read("a") or ""
  local c = core.unix_connect(path)
  c:write_frame("q", cjson.encode({ line = req.line, stdin = #stdin > 0 and #stdin or nil }))
  for i = 1, #stdin, STDIN_FRAME do c:write_frame("i", stdin:sub(i, i + STDIN_FRAME - 1)) end
  io.stdout:setvbuf("no")
  io.stderr:setvbuf("no")
  local out, err = io.stdout, io.stderr
  while true do
    local t, p = c:read_frame()
    if t == "o" or t == "e" then
      -- never a silent loss: a write that fails ends the relay with 255
      local ok, werr = (t == "o" and out or err):write(p)
      if not ok then
        c:close()
        pcall(err.write, err, "luasible: cannot write the command's output: ", tostring(werr), "\n")
        return 255
      end
    elseif t == "x" then
      c:close()
      local m = cjson.decode(p)
      if m.error and m.error ~= cjson.null and not m.rc then
        err:write("luasible: ", m.error, "\n")
        return 255
      end
      if m.signal and m.signal ~= cjson.null then
        return 128 + (core.signals[m.signal] or 0)
      end
      return math.tointeger(m.rc) or 255
    elseif t == false then
      err:write("luasible: the connection holder at ", path, " went away",
        p ~= "" and (": " .. p) or "", "\n")
      return 255
    elseif t == nil then
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
