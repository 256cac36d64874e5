--- Issue 13 benchmark: the same work direct and through a ProxyJump bastion
-- at the same round-trip time. The RTT is made by bench/c/delay_proxy
-- (this kernel has no netem) in front of the first machine each way
-- reaches: the target's sshd (direct) or the bastion's (jump); the bastion
-- reaches the target over loopback, as a bastion sits next to its hosts.
--   make && make -C bench && lua5.4 bench/jump_bench.lua [RTT_MS...] [--rounds N] [--append]
-- Defaults: 20 and 100 ms, 5 rounds, each round direct then jump (and the
-- next jump then direct); medians. --append adds the table to bench/RESULTS.md.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local luasible = require "luasible"
local plays = require "luasible.play"
local sshd = require "spec.helpers.sshd"
local system = require "system"
local files = require "spec.helpers.files"

local APPEND, ROUNDS, RTTS = false, 5, {}
do
  local i = 1
  while i <= #arg do
    if arg[i] == "--append" then APPEND = true
    elseif arg[i] == "--rounds" then ROUNDS = tonumber(arg[i + 1]); i = i + 1
    else RTTS[#RTTS + 1] = tonumber(arg[i]) end
    i = i + 1
  end
  if #RTTS == 0 then RTTS = { 20, 100 } end
end

local PROXY = "bench/out/delay_proxy"
assert(io.open(PROXY), PROXY .. " is not built: make -C bench")

-- a delay proxy to 127.0.0.1:port; returns its port and a stop function.
-- Its stdin is a popen pipe (which later popen children do not inherit):
-- closing it ends the proxy.
local function delay(port, one_way_ms)
  local out = os.tmpname()
  local p = assert(io.popen("exec " .. PROXY .. " " .. port .. " " .. one_way_ms .. " > " .. out, "w"))
  local t0 = system.monotime()
  local got
  repeat
    system.sleep(0.01)
    got = (files.read(out) or ""):match("port (%d+)")
  until got or system.monotime() - t0 > 5
  assert(got, "delay_proxy did not start")
  return tonumber(got), function()
    p:close()
    os.remove(out)
  end
end

local function median(t)
  local s = { table.unpack(t) }
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end

local HOSTS = { "h1", "h2", "h3" }
local TASKS = 17 -- 3 hosts x 17 tasks: 51 commands
local target = sshd.start { aliases = HOSTS }
local bastion = sshd.start { aliases = { "bastion" } }
-- one key for the target and the bastion (the hop takes the target's
-- identity when its own config names none)
files.write(bastion.authorized_keys, files.read(bastion.authorized_keys) .. files.read(target.key .. ".pub"))
local function pub(srv) return files.read(srv.host_keys.ed25519 .. ".pub"):match("^(%S+ %S+)") end

local rows = {}
local function row(...)
  rows[#rows + 1] = "| " .. table.concat({ ... }, " | ") .. " |"
  print(rows[#rows])
end

local function play_once(inventory)
  local t0 = system.monotime()
  local tasks = {}
  for i = 1, TASKS do tasks[i] = { name = "t" .. i, shell = "true" } end
  local recap = assert(plays.play({ hosts = "all", gather_facts = false, tasks = tasks },
    { inventory = inventory, on_event = function() end }))
  for _, h in ipairs(HOSTS) do assert(recap[h].ok == TASKS, "host " .. h .. " did not run every task") end
  return system.monotime() - t0
end

local function seq_once(spec)
  local t0 = system.monotime()
  local c = assert(luasible.connect(spec))
  for _ = 1, 50 do assert(c:execute("true").rc == 0) end
  c:close()
  return system.monotime() - t0
end

for _, rtt in ipairs(RTTS) do
  local tport, stop_t = delay(target.port, rtt / 2)
  local bport, stop_b = delay(bastion.port, rtt / 2)
  local kh = os.tmpname()
  files.write(kh, ("[127.0.0.1]:%d %s\n[127.0.0.1]:%d %s\n[127.0.0.1]:%d %s\n"):format(
    tport, pub(target), bport, pub(bastion), target.port, pub(target)))
  local function vars(jump)
    local v = { ansible_host = "127.0.0.1", ansible_port = jump and target.port or tport, ansible_user = target.user,
      ansible_ssh_private_key_file = target.key, luasible_known_hosts = kh, luasible_ssh_config = "none",
      luasible_ssh_agent = false }
    if jump then v.ansible_ssh_common_args = "-o ProxyJump=" .. bastion.user .. "@127.0.0.1:" .. bport end
    return v
  end
  local function inventory(jump)
    local hs = {}
    for _, h in ipairs(HOSTS) do hs[h] = vars(jump) end
    return { all = { hosts = hs } }
  end
  local function spec(jump)
    return { host = "127.0.0.1", port = jump and target.port or tport, user = target.user, identity = target.key,
      known_hosts = kh, agent = false, ssh_config = false,
      jump = jump and (bastion.user .. "@127.0.0.1:" .. bport) or nil }
  end
  play_once(inventory(false)) -- warm-up (page cache, sshd)
  play_once(inventory(true))
  local pd, pj, sd, sj = {}, {}, {}, {}
  for r = 1, ROUNDS do
    local order = r % 2 == 1 and { false, true } or { true, false }
    for _, j in ipairs(order) do
      local t = play_once(inventory(j))
      if j then pj[#pj + 1] = t else pd[#pd + 1] = t end
    end
    for _, j in ipairs(order) do
      local t = seq_once(spec(j))
      if j then sj[#sj + 1] = t else sd[#sd + 1] = t end
    end
  end
  local mp, ms = median(pj) / median(pd), median(sj) / median(sd)
  row(("play, 3 hosts x %d tasks (`true`), %d ms RTT"):format(TASKS, rtt), ("%.3f s"):format(median(pj)),
    ("%.3f s"):format(median(pd)), ("%.2fx"):format(mp), "<= 1.2x", mp <= 1.2 and "met" or "NOT met")
  row(("50 sequential `true`, one connection (connect included), %d ms RTT"):format(rtt),
    ("%.3f s"):format(median(sj)), ("%.3f s"):format(median(sd)), ("%.2fx"):format(ms), "<= 1.2x",
    ms <= 1.2 and "met" or "NOT met")
  print(("  rounds: play direct %s | jump %s"):format(table.concat(pd, " "), table.concat(pj, " ")))
  stop_t()
  stop_b()
  os.remove(kh)
end

target:stop()
bastion:stop()

if APPEND then
  local f = assert(io.open("bench/RESULTS.md", "a"))
  f:write("\n## Issue 13: bastion\n\n`lua5.4 bench/jump_bench.lua ", table.concat(RTTS, " "), " --rounds ", ROUNDS,
    "` (", os.date("!%Y-%m-%d %H:%M UTC"), "; medians of ", ROUNDS, " rounds, direct and jump alternating)\n\n",
    "| what | through the bastion | direct | ratio | target | |\n|---|---|---|---|---|---|\n",
    table.concat(rows, "\n"), "\n")
  f:close()
end
