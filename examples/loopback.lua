#!/usr/bin/env lua5.4
--- Deploy the example app to three hosts over real SSH, all on this machine.
--
-- Starts a throwaway OpenSSH server on 127.0.0.1 (a free port, its own host
-- and client keys, in a fresh /tmp/luasible-sshd.* folder: nothing of yours is
-- touched), writes an inventory naming it web1, web2 and web3, runs luasible
-- against it, then stops the demo app and the server. From the repo root,
-- after `make`:
--
--   lua5.4 examples/loopback.lua                  deploy examples/deploy.lua, then stop everything
--   lua5.4 examples/loopback.lua -- CMD ARGS...   run your own command instead; {inventory} in it
--                                                 (and $LUASIBLE_INVENTORY) is the generated inventory:
--   lua5.4 examples/loopback.lua -- bin/luasible run examples/deploy.lua -i {inventory} --check
--   lua5.4 examples/loopback.lua -- bin/luasible exec web -i {inventory} -a 'echo $SSH_CONNECTION'
--   lua5.4 examples/loopback.lua -- bash          a shell to play in; the server stops when it exits
--
-- Needs /usr/sbin/sshd (Debian: openssh-server) and ssh-keygen. The server
-- logs in as you (root in a container), with a key made for it.
local root = (arg and arg[0] or ""):match("^(.*)/examples/[^/]*$") or "."
package.path = root .. "/?.lua;" .. root .. "/lua/?.lua;" .. package.path

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

if not exists("/usr/sbin/sshd") then
  io.stderr:write("loopback: /usr/sbin/sshd is missing (Debian: apt-get install openssh-server)\n")
  os.exit(1)
end

local cmd = {}
local sep
for i = 1, #arg do
  if sep then cmd[#cmd + 1] = arg[i] elseif arg[i] == "--" then sep = i end
end
if #arg > 0 and not sep then
  io.stderr:write("usage: lua5.4 examples/loopback.lua [-- COMMAND ARGS... ({inventory} = the inventory path)]\n")
  os.exit(1)
end

local sshd = require "spec.helpers.sshd"
local srv = sshd.start { aliases = { "web1", "web2", "web3" } }
local demo_root = srv.dir .. "/demo"   -- removed with the server's folder

local inventory = srv.dir .. "/inventory.ini"
local f = assert(io.open(inventory, "w"))
f:write(table.concat({
  "# written by examples/loopback.lua: three names for one sshd on 127.0.0.1",
  "[web]",
  "web[1:3]",
  "",
  "[web:vars]",
  "ansible_host=127.0.0.1",
  "ansible_port=" .. srv.port,
  "ansible_user=" .. srv.user,
  "ansible_ssh_private_key_file=" .. srv.key,
  "luasible_known_hosts=" .. srv.known_hosts,
  "luasible_ssh_config=none",
  "demo_root=" .. demo_root,
}, "\n"), "\n")
f:close()

local function run(line)
  io.stdout:write("\n$ ", line, "\n")
  io.stdout:flush()
  local ok, how, code = os.execute(line)
  if ok then return 0 end
  return how == "exit" and code or 128 + (code or 0)
end

local status
local ok, err = pcall(function()
  local luasible_bin = q(root .. "/bin/luasible")
  io.stdout:write(("sshd on 127.0.0.1:%d (%s), inventory %s\n"):format(srv.port, srv.dir, inventory))
  if #cmd > 0 then
    local words = {}
    for i, w in ipairs(cmd) do words[i] = q((w:gsub("{inventory}", inventory))) end
    status = run("LUASIBLE_INVENTORY=" .. q(inventory) .. " " .. table.concat(words, " "))
  else
    local play = q(root .. "/examples/deploy.lua")
    status = run(luasible_bin .. " run " .. play .. " -i " .. q(inventory))
    -- the demo app is a background process on each "host": stop it
    run(luasible_bin .. " run " .. play .. " -i " .. q(inventory) .. " --tags stop")
  end
end)
srv:stop() -- also ends every process started through it (the demo app included)
if not ok then
  io.stderr:write("loopback: ", tostring(err), "\n")
  os.exit(1)
end
io.stdout:write("\nsshd stopped, ", srv.dir, " removed\n")
os.exit(status)
