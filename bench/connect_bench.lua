--- Issue 13 benchmark: the connect alone, direct and through a ProxyJump
-- bastion, at a round-trip time made by bench/c/delay_proxy (as
-- bench/jump_bench.lua: the delay in front of the first machine each way
-- reaches; the bastion reaches the target over loopback). One connection at
-- a time, direct and jump alternating; prints the medians in ms and in
-- round trips, and the first command's time after the connect.
--   make && make -C bench && lua5.4 bench/connect_bench.lua [RTT_MS=20] [N=5]
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
local sshd = require "spec.helpers.sshd"
local system = require "system"
local files = require "spec.helpers.files"
local RTT, N = tonumber(arg[1]) or 20, tonumber(arg[2]) or 5
local PROXY = "bench/out/delay_proxy"
local function delay(port, one_way_ms)
  local out = os.tmpname()
  local p = assert(io.popen("exec " .. PROXY .. " " .. port .. " " .. one_way_ms .. " > " .. out, "w"))
  local got
  repeat system.sleep(0.01); got = (files.read(out) or ""):match("port (%d+)") until got
  return tonumber(got), function() p:close(); os.remove(out) end
end
local target = sshd.start { aliases = { "h1" } }
local bastion = sshd.start { aliases = { "bastion" } }
files.write(bastion.authorized_keys, files.read(bastion.authorized_keys) .. files.read(target.key .. ".pub"))
local function pub(srv) return files.read(srv.host_keys.ed25519 .. ".pub"):match("^(%S+ %S+)") end
local tport, st = delay(target.port, RTT / 2)
local bport, sb = delay(bastion.port, RTT / 2)
local kh = os.tmpname()
files.write(kh, ("[127.0.0.1]:%d %s\n[127.0.0.1]:%d %s\n[127.0.0.1]:%d %s\n"):format(
  tport, pub(target), bport, pub(bastion), target.port, pub(target)))
local function spec(jump)
  return { host = "127.0.0.1", port = jump and target.port or tport, user = target.user, identity = target.key,
    known_hosts = kh, agent = false, ssh_config = false,
    jump = jump and (bastion.user .. "@127.0.0.1:" .. bport) or nil }
end
local d, j, dx, jx = {}, {}, {}, {}
for _ = 1, N do
  for _, jmp in ipairs { false, true } do
    local t0 = system.monotime()
    local c = assert(luasible.connect(spec(jmp)))
    local t1 = system.monotime()
    assert(c:execute("true").rc == 0)
    local t2 = system.monotime()
    c:close()
    local tt = jmp and j or d
    tt[#tt + 1] = (t1 - t0) * 1000
    local xx = jmp and jx or dx
    xx[#xx + 1] = (t2 - t1) * 1000
  end
end
local function med(t) table.sort(t) return t[(#t + 1) // 2] end
print(("RTT %d ms: connect direct %.0f ms (%.1f RTT), jump %.0f ms (%.1f RTT); first exec direct %.0f, jump %.0f")
  :format(RTT, med(d), med(d) / RTT, med(j), med(j) / RTT, med(dx), med(jx)))
st(); sb(); target:stop(); bastion:stop()
