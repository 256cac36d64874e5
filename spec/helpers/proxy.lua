--- spec/helpers/proxy.lua: a TCP proxy that breaks connections on command,
-- between a spec and a real server (the loopback sshd of sshd.lua).
--
--   local proxy = require "spec.helpers.proxy"
--   local px = proxy.start(srv.port)    -- connect to px.host, px.port instead
--   px:stall()          -- nothing moves either way; the connections stay open
--   px:drip(64, 100)    -- at most 64 bytes every 100 ms, each way
--   px:forward()        -- full speed again (the start)
--   px:reset()          -- RST to both sides of every open connection
--   px:pause_accept()   -- new connections wait in the backlog, unanswered
--   px:accept()         -- accept again
--   px:count()          -- connections accepted so far, and open now
--   px:stop()           -- also on __close and __gc
--
-- The proxy is a real process: core/test/fault_proxy.c, a small poll(2)
-- program built by `make` next to the core (build/fault_proxy, or the
-- build of LUASIBLE_CPATH), on 127.0.0.1 at a free port. Each command
-- returns once the proxy answered that it is in force. It exits when the
-- spec process goes away (its stdin, our pipe, closes).
local system = require "system"

local M = {}

local function build_dir()
  local cwd = os.getenv("PWD") or "."
  local cpath = os.getenv("LUASIBLE_CPATH")
  local dir = cpath and cpath:match("^(.*)/%?%.so$") or (cwd .. "/build")
  if not dir:match("^/") then dir = cwd .. "/" .. dir end
  return dir
end

--- The proxy program, or nil and why not.
function M.program()
  local path = build_dir() .. "/fault_proxy"
  local f = io.open(path)
  if not f then return nil, path .. " is not built (make builds it)" end
  f:close()
  return path
end

local Proxy = {}
Proxy.__index = Proxy

-- The lines the proxy wrote since the last look join self.lines.
local function read_lines(self)
  local f = io.open(self.out)
  if not f then return end
  f:seek("set", self.offset)
  local text = f:read("a")
  f:close()
  for line in text:gmatch("([^\n]*)\n") do
    self.lines[#self.lines + 1] = line
    self.offset = self.offset + #line + 1
  end
end

-- Wait (a few seconds at most) for a line matching pattern; its captures.
-- That line and those before it are used up.
local function expect(self, pattern, what)
  local deadline = system.monotime() + 5
  repeat
    read_lines(self)
    for i, line in ipairs(self.lines) do
      if line:match("^error") then error("fault_proxy: " .. line, 3) end
      local caps = table.pack(line:match(pattern))
      if caps[1] then
        table.move(self.lines, i + 1, #self.lines + i, 1)
        return table.unpack(caps, 1, caps.n)
      end
    end
    system.sleep(0.002)
  until system.monotime() > deadline
  error("fault_proxy: no answer to " .. what, 3)
end

--- proxy.start(target_port[, target_host]) -> the proxy (fields host, port, pid)
function M.start(target_port, target_host)
  local prog = assert(M.program())
  local p = io.popen("mktemp -d /tmp/luasible-proxy.XXXXXX")
  local dir = p:read("l")
  p:close()
  local self = setmetatable({ dir = dir, out = dir .. "/out", offset = 0, lines = {},
    host = "127.0.0.1" }, Proxy)
  self.pipe = assert(io.popen(("exec %s %d %s > %s 2>&1"):format(prog, target_port,
    target_host or "127.0.0.1", self.out), "w"))
  self.port = tonumber(expect(self, "^port (%d+)$", "start"))
  self.pid = tonumber(expect(self, "^pid (%d+)$", "start"))
  return self
end

function Proxy:command(line)
  assert(self.pipe, "fault_proxy: stopped")
  self.pipe:write(line, "\n")
  self.pipe:flush()
  return expect(self, "^ok (" .. line:gsub("%p", "%%%0") .. ")", line)
end

function Proxy:stall() self:command("stall") end
function Proxy:forward() self:command("forward") end
function Proxy:reset() self:command("reset") end
function Proxy:pause_accept() self:command("pause_accept") end
function Proxy:accept() self:command("accept") end

function Proxy:drip(bytes, ms)
  self:command(("drip %d %d"):format(bytes, ms))
end

--- accepted, open: connections accepted so far, and open now
function Proxy:count()
  self.pipe:write("count\n")
  self.pipe:flush()
  local accepted, open = expect(self, "^ok count (%d+) (%d+)$", "count")
  return tonumber(accepted), tonumber(open)
end

function Proxy:stop()
  if not self.pipe then return end
  self.pipe:close() -- its stdin ends: it exits, and close waits for it
  self.pipe = nil
  os.execute("rm -rf '" .. self.dir .. "'")
end

Proxy.__close = Proxy.stop
Proxy.__gc = Proxy.stop

return M
