-- The open file limit of a fleet run (issue 13): the soft limit is raised
-- to the hard one before a play runs; when even the hard limit is too low,
-- an SSH host that finds no descriptor is unreachable with EMFILE naming
-- `ulimit -n`, and the others run. Real processes: bin/luasible under sh's
-- ulimit, 150 hosts on the local connection (each task leaves a file), and
-- a real sshd.
local files = require "spec.helpers.files"
local sshd = require "spec.helpers.sshd"

local function run(ulimit, tmp, forks)
  local errf = tmp .. "/stderr"
  local cmd = ("sh -c 'ulimit %s; exec bin/luasible run %s/play.lua -i %s/inv.ini -f %d' >%s/stdout 2>%s; echo $?")
    :format(ulimit, tmp, tmp, forks, tmp, errf)
  local p = assert(io.popen(cmd))
  local rc = tonumber(p:read("a"))
  p:close()
  return rc, files.read(errf) or "", files.read(tmp .. "/stdout") or ""
end

local function count_marks(tmp)
  local p = assert(io.popen("ls " .. tmp .. "/marks | wc -l"))
  local n = tonumber(p:read("a"))
  p:close()
  return n
end

describe("open file limit of a fleet run", function()
  local tmp
  before_each(function()
    tmp = os.tmpname()
    os.remove(tmp)
    assert(os.execute("mkdir -p " .. tmp .. "/marks"))
    files.write(tmp .. "/inv.ini", "[fleet]\nh[1:150] ansible_connection=local\n")
    files.write(tmp .. "/play.lua", ([[
return { hosts = "fleet", gather_facts = false, tasks = {
  { name = "mark", shell = "touch %s/marks/{{ inventory_hostname }}" } } }
]]):format(tmp))
  end)
  after_each(function() os.execute("rm -rf " .. tmp) end)

  it("raises a low soft limit to the hard limit and runs every host", function()
    local rc, err = run("-Sn 200", tmp, 150) -- soft 200, hard as it is (above 700 here)
    local p = io.popen("sh -c 'ulimit -Hn'")
    local hard = tonumber(p:read("a"))
    p:close()
    if hard and hard < 700 then
      pending("the hard open file limit here is " .. hard)
      return
    end
    assert.equal(0, rc, err)
    assert.equal(150, count_marks(tmp))
  end)

  it("runs with fewer hosts at once under the same low limit (forks)", function()
    local rc, err = run("-n 200", tmp, 20) -- 20 at once need ~144
    assert.equal(0, rc, err)
    assert.equal(150, count_marks(tmp))
  end)

  it("#ssh names ulimit -n for the SSH hosts that find no descriptor under a hard limit too low", function()
    local srv = sshd.start {}
    local lines = { "[all:vars]", "ansible_host=127.0.0.1", "ansible_port=" .. srv.port,
      "ansible_user=" .. srv.user, "ansible_ssh_private_key_file=" .. srv.key,
      "luasible_known_hosts=" .. srv.known_hosts, "luasible_ssh_config=none", "luasible_ssh_agent=false",
      "[fleet]" }
    for i = 1, 150 do lines[#lines + 1] = "h" .. i end
    files.write(tmp .. "/inv.ini", table.concat(lines, "\n") .. "\n")
    local rc, err, out = run("-n 64", tmp, 150)
    srv:stop()
    local all = out .. err
    assert.equal(4, rc, all:sub(1, 2000)) -- some hosts unreachable
    assert.truthy(all:find("EMFILE: socket() for " .. srv.user .. "@127.0.0.1:" .. srv.port
      .. ": Too many open files (the open file limit of this process: raise it with `ulimit -n`)", 1, true),
      all:sub(1, 2000))
    local ran = count_marks(tmp)
    assert.is_true(ran > 0 and ran < 150, "hosts that ran: " .. ran)
  end)
end)
