--- spec/helpers/fleet.lua: a test fleet of 1,000 (or more) distinct host
-- addresses answered by real OpenSSH servers (issue 13, "1,000 hosts from
-- one process"). Opt-in: for the #slow specs and bench/fleet_bench.lua.
--
--   local fleet = require "spec.helpers.fleet"
--   local f = fleet.start { hosts = 1000 }            -- kind = "netns"
--   f.hosts[i]   = { name = "f0001", address = "10.x.y.z", port = 22, server = srv }
--   f:inventory(path)        -- an INI inventory of them all (group "fleet")
--   f:stop()                 -- also on __close
--
-- Two kinds:
--   "netns" (the default): spec/helpers/fleet_netns.lua, the test hosts of
--     spec/helpers/testhosts.lua scaled out: hosts / per (50) network
--     namespaces, each with its own sshd, overlay root and 50 addresses of a
--     /24 of its own routed from here (20 machines, 20 sshd for 1,000 hosts).
--     Needs root (testhosts.available()); also f:sshd(k, "kill"|"stop"|"cont")
--     and f:unrouted(k, n) for hosts that fail (see that file).
--   "loopback" (fleet.start { kind = "loopback", servers = 4 }): every
--     address of 127.0.0.0/8 is local on Linux (the `local 127.0.0.0/8 dev
--     lo` route): host i gets 127.1.X.Y (250 a /24, from 127.1.0.1 on),
--     answered by `servers` sshd of spec/helpers/sshd.lua on 0.0.0.0 at a
--     port each (host i by server ((i - 1) % servers) + 1). No root needed.
--     A login is accepted from 127.0.0.0/8 only (AllowUsers USER@127.0.0.0/8:
--     a listener on 0.0.0.0 takes no one from outside).
-- In both MaxStartups is raised to 2000:30:4000: these "machines" share a
-- server, which real ones do not (luasible bounds handshakes per address,
-- so it would not protect a server that many addresses share). Host keys
-- are pinned per server (luasible_host_key, the fingerprint): checked as
-- strictly as known_hosts, without a 1,000-line file.
local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"
local netns = require "spec.helpers.fleet_netns"

local M = {}

local Fleet = {}
Fleet.__index = Fleet

--- The address of host i (1-based): 127.1.X.Y.
function M.address(i)
  local n = i - 1
  return ("127.1.%d.%d"):format(n // 250, n % 250 + 1)
end

local function start_loopback(opts)
  local n, k = opts.hosts or 1000, opts.servers or 4
  assert(n >= 1 and n <= 250 * 256, "fleet helper: hosts must be 1..64000")
  local f = setmetatable({ kind = "loopback", servers = {}, hosts = {} }, Fleet)
  local ok, err = pcall(function()
    for s = 1, k do
      local user = io.popen("id -un"):read("l")
      f.servers[s] = sshd.start {
        listen = "0.0.0.0", aliases = {},
        config = { "MaxStartups 2000:30:4000", "AllowUsers " .. user .. "@127.0.0.0/8",
          "MaxSessions 10" },
      }
    end
  end)
  if not ok then
    f:stop()
    error(err, 2)
  end
  for i = 1, n do
    local srv = f.servers[(i - 1) % k + 1]
    f.hosts[i] = { name = ("f%04d"):format(i), address = M.address(i), port = srv.port, server = srv }
  end
  return f
end

--- opts: kind ("netns" or "loopback"), hosts (1000), and the kind's own:
--- per (netns: addresses a namespace, 50), servers (loopback: 4), config.
function M.start(opts)
  opts = opts or {}
  local kind = opts.kind or "netns"
  if kind == "loopback" then return start_loopback(opts) end
  assert(kind == "netns", "fleet helper: kind must be netns or loopback")
  return netns.start(opts, Fleet)
end

--- Write an INI inventory of every host to path: group "fleet" made of a
-- group per server ("fleet_s1"...) whose vars say how to log in. extra:
-- more lines for [fleet:vars]. Returns path.
function Fleet:inventory(path, extra)
  local out = { "[fleet:children]" }
  for s = 1, #self.servers do out[#out + 1] = "fleet_s" .. s end
  out[#out + 1] = "[fleet:vars]"
  out[#out + 1] = "luasible_ssh_config=none"
  out[#out + 1] = "luasible_ssh_agent=false"
  for _, l in ipairs(extra or {}) do out[#out + 1] = l end
  for s, srv in ipairs(self.servers) do
    out[#out + 1] = ("[fleet_s%d:vars]"):format(s)
    out[#out + 1] = "ansible_port=" .. srv.port
    out[#out + 1] = "ansible_user=" .. srv.user
    out[#out + 1] = "ansible_ssh_private_key_file=" .. srv.key
    out[#out + 1] = "luasible_host_key=" .. srv.host_key_fingerprint
    out[#out + 1] = ("[fleet_s%d]"):format(s)
    for i = s, #self.hosts, #self.servers do
      local h = self.hosts[i]
      out[#out + 1] = h.name .. " ansible_host=" .. h.address
    end
  end
  files.write(path, table.concat(out, "\n") .. "\n")
  return path
end

function Fleet:stop()
  if self.kind == "netns" then return netns.methods.stop(self) end
  for _, srv in ipairs(self.servers) do srv:stop() end
  self.servers = {}
end
for name, fn in pairs(netns.methods) do
  if name ~= "stop" then
    Fleet[name] = function(self, ...)
      assert(self.kind == "netns", "fleet:" .. name .. " needs a netns fleet")
      return fn(self, ...)
    end
  end
end
Fleet.__close = Fleet.stop
Fleet.__gc = Fleet.stop

return M
