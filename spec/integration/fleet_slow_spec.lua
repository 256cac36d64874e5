-- 1,000 hosts from one process (issue 13): one `luasible exec` on the
-- 1,000 distinct addresses of spec/helpers/fleet.lua (real sshd, 4 of
-- them), every host at once (-f 1000). Every host ends ok with the
-- command's output, or unreachable with a reason; never a crash, a stall
-- or a missing host; bounded in time. #slow: `make test-slow`.
local cjson = require "cjson"
local fleet = require "spec.helpers.fleet"
local files = require "spec.helpers.files"

local N = 1000

local function run(f, tmp, cmd, limit)
  local inv = f:inventory(tmp .. "/inv.ini")
  local line = ("timeout %d bin/luasible exec fleet -i %s -f %d -m shell -a %s --json >%s/out 2>%s/err; echo $?")
    :format(limit, inv, N, "'" .. cmd .. "'", tmp, tmp)
  local p = assert(io.popen(line))
  local rc = tonumber(p:read("a"))
  p:close()
  local results, recap = {}, nil
  for l in (files.read(tmp .. "/out") or ""):gmatch("[^\n]+") do
    local ev = cjson.decode(l)
    if ev.type == "host_task_result" then results[ev.host] = ev end
    if ev.type == "recap" then recap = ev.recap end
  end
  return rc, results, recap, files.read(tmp .. "/err") or ""
end

local function check(rc, results, recap, err, want)
  assert.is_true(rc == 0 or rc == 4, "exit status " .. tostring(rc) .. " (124: the time limit)\n" .. err:sub(1, 2000))
  assert.is_table(recap, err:sub(1, 2000))
  local ok, unreachable, reasons = 0, 0, {}
  for i = 1, N do
    local name = ("f%04d"):format(i)
    local ev = results[name]
    assert.is_table(ev, name .. " has no result")
    if ev.status == "changed" then
      assert.are.equal(want, ev.result.stdout, name)
      ok = ok + 1
    else
      assert.are.equal("unreachable", ev.status, name .. ": " .. cjson.encode(ev.result))
      assert.matches("^E%u+: .+", ev.result.msg, name)
      unreachable = unreachable + 1
      reasons[ev.result.msg:gsub("127[%d.:]+", "ADDR"):gsub("f%d+", "HOST")] = true
    end
    assert.is_table(recap[name], name .. " is not in the recap")
  end
  assert.are.equal(N, ok + unreachable)
  local why = {}
  for r in pairs(reasons) do why[#why + 1] = r end
  -- the machine is shared: a few may time out, most must not
  assert.is_true(ok >= N * 0.95, ok .. " ok, " .. unreachable .. " unreachable: " .. table.concat(why, "; "))
end

describe("#slow #ssh 1,000 hosts from one process", function()
  local f, tmp
  lazy_setup(function()
    f = fleet.start { hosts = N, servers = 4 }
    tmp = os.tmpname()
    os.remove(tmp)
    assert(os.execute("mkdir -p " .. tmp))
  end)
  lazy_teardown(function()
    if f then f:stop() end
    if tmp then os.execute("rm -rf " .. tmp) end
  end)

  it("runs echo hi on all 1,000 at once", function()
    local rc, res, recap, err = run(f, tmp, "echo hi", 180)
    check(rc, res, recap, err, "hi")
  end)

  it("runs sleep 2; echo hi on all 1,000 at once", function()
    local rc, res, recap, err = run(f, tmp, "sleep 2; echo hi", 180)
    check(rc, res, recap, err, "hi")
  end)
end)
