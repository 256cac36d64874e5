--- spec/helpers/fleet_run.lua: one `bin/luasible exec` on a test fleet
-- (spec/helpers/fleet.lua) and the check of its per-host outcome, for
-- spec/integration/fleet_slow_spec.lua and fleet_hosts_spec.lua.
local cjson = require "cjson"
local files = require "spec.helpers.files"
local C = require "spec.helpers.sshd_common"

local M = {}

--- Run cmd on every host of inventory inv (-f forks), under `timeout limit`.
--- Returns { rc =, results = { [host] = host_task_result event }, recap =,
--- err = stderr, wall = seconds }.
function M.exec(inv, tmp, cmd, forks, limit)
  local line = ("timeout %d bin/luasible exec fleet -i %s -f %d -m shell -a %s --json >%s/out 2>%s/err; echo $?")
    :format(limit, inv, forks, C.q(cmd), tmp, tmp)
  local t0 = C.now()
  local p = assert(io.popen(line))
  local rc = tonumber(p:read("a"))
  p:close()
  local wall = C.now() - t0
  local results, recap = {}, nil
  for l in (files.read(tmp .. "/out") or ""):gmatch("[^\n]+") do
    local ev = cjson.decode(l)
    if ev.type == "host_task_result" then results[ev.host] = ev end
    if ev.type == "recap" then recap = ev.recap end
  end
  return { rc = rc, results = results, recap = recap, err = files.read(tmp .. "/err") or "", wall = wall }
end

--- Check run r (M.exec's) on every host of names: want[name] is the stdout expected ("hi") or
--- an error name ("ECONNREFUSED", "ETIMEDOUT") that its unreachable result
--- must start with. Hosts expected ok may end unreachable (a shared machine)
--- up to 5 %; the ones expected to fail must fail with their reason.
--- Returns the counts { ok =, unreachable =, reasons = { ... } }.
function M.check(r, names, want)
  local rc, results, recap, err = r.rc, r.results, r.recap, r.err
  assert(rc == 0 or rc == 4, "exit status " .. tostring(rc) .. " (124: the time limit)\n" .. err:sub(1, 2000))
  assert(type(recap) == "table", "no recap: " .. err:sub(1, 2000))
  local ok, unreachable, healthy, reasons = 0, 0, 0, {}
  for _, name in ipairs(names) do
    local ev = results[name]
    assert(type(ev) == "table", name .. " has no result")
    assert(type(recap[name]) == "table", name .. " is not in the recap")
    local w = want[name]
    local is_err = w:match("^E%u+$")
    if not is_err then healthy = healthy + 1 end
    if ev.status == "changed" then
      assert(not is_err, name .. " should be unreachable (" .. w .. ") but ran: " .. cjson.encode(ev.result))
      assert(ev.result.stdout == w, name .. ": stdout " .. tostring(ev.result.stdout))
      ok = ok + 1
    else
      assert(ev.status == "unreachable", name .. ": " .. cjson.encode(ev.result))
      local msg = ev.result.msg
      assert(type(msg) == "string" and msg:match("^E%u+: .+"), name .. ": no reason: " .. tostring(msg))
      if is_err then
        assert(msg:sub(1, #w + 1) == w .. ":", name .. ": want " .. w .. ", got " .. msg)
      end
      unreachable = unreachable + 1
      reasons[(msg:gsub("[%d.]+:%d+", "ADDR"))] = true
    end
  end
  local why = {}
  for msg in pairs(reasons) do why[#why + 1] = msg end
  table.sort(why)
  local expected_bad = #names - healthy
  assert(ok >= healthy * 0.95, ok .. " ok of " .. healthy .. ", " .. unreachable .. " unreachable ("
    .. expected_bad .. " expected): " .. table.concat(why, "; "))
  return { ok = ok, unreachable = unreachable, reasons = why }
end

--- The failure mix on fleet f (a netns fleet): namespace 1's sshd killed
--- (its addresses refuse), namespace 2's stopped (TCP handshake, then
--- nothing), `unrouted` addresses routed into namespace 3 that nothing holds
--- (SYNs dropped). Appends those hosts to the INI inventory at path. Returns
--- names (every host) and want (as M.check takes it).
function M.break_some(f, path, unrouted)
  local names, want = {}, {}
  for _, h in ipairs(f.hosts) do
    names[#names + 1] = h.name
    want[h.name] = (h.ns == 1 and "ECONNREFUSED") or (h.ns == 2 and "ETIMEDOUT") or "hi"
  end
  f:sshd(1, "kill")
  f:sshd(2, "stop")
  local lines = { "[fleet_s3]" }
  for i, a in ipairs(f:unrouted(3, unrouted)) do
    local name = ("u%03d"):format(i)
    lines[#lines + 1] = name .. " ansible_host=" .. a
    names[#names + 1], want[name] = name, "ETIMEDOUT"
  end
  files.write(path, (files.read(path) or "") .. table.concat(lines, "\n") .. "\n")
  return names, want
end

return M
