--- spec/helpers/fleet.lua: a test fleet of up to 65,000 distinct host
-- addresses answered by a few real OpenSSH servers (issue 13, "1,000 hosts
-- from one process"). Opt-in: for the #slow specs and bench/fleet_bench.lua.
--
--   local fleet = require "spec.helpers.fleet"
--   local f = fleet.start { hosts = 1000, servers = 4 }
--   f.hosts[i]   = { name = "f0001", address = "127.1.0.1", port = P, server = srv }
--   f:inventory(path)        -- an INI inventory of them all (group "fleet")
--   f:stop()                 -- also on __close
--
-- On Linux every address of 127.0.0.0/8 is local (the `local 127.0.0.0/8
-- dev lo` route): host i gets 127.1.X.Y (250 a /24, from 127.1.0.1 on),
-- so 1,000 hosts are 1,000 distinct destination addresses, each its own TCP
-- 4-tuple space, without a namespace or an interface per host. The servers
-- are spec/helpers/sshd.lua's, listening on 0.0.0.0 at a port each, so
-- every 127.x address reaches each of them; host i is served by server
-- ((i - 1) % servers) + 1. A login is accepted from 127.0.0.0/8 only
-- (AllowUsers USER@127.0.0.0/8: a listener on 0.0.0.0 takes no one from
-- outside), and MaxStartups is raised to 2000:30:4000: these "machines"
-- share a server, which real ones do not (luasible bounds handshakes per
-- address, so it would not protect a server that many addresses share).
-- Host keys are pinned per server (luasible_host_key, the fingerprint):
-- checked as strictly as known_hosts, without a 1,000-line file.
local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"

local M = {}

local Fleet = {}
Fleet.__index = Fleet

--- The address of host i (1-based): 127.1.X.Y.
function M.address(i)
  local n = i - 1
  return ("127.1.%d.%d"):format(n // 250, n % 250 + 1)
end

function M.start(opts)
  opts = opts or {}
  local n, k = opts.hosts or 1000, opts.servers or 4
  assert(n >= 1 and n <= 250 * 256, "fleet helper: hosts must be 1..64000")
  local f = setmetatable({ servers = {}, hosts = {} }, Fleet)
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

--- Processes of all the servers (listeners, per-connection children).
function Fleet:processes()
  local all = {}
  for _, srv in ipairs(self.servers) do
    for _, p in ipairs(srv:processes()) do all[#all + 1] = p end
  end
  return all
end

function Fleet:stop()
  for _, srv in ipairs(self.servers) do srv:stop() end
  self.servers = {}
end
Fleet.__close = Fleet.stop
Fleet.__gc = Fleet.stop

return M
