-- A full remote disk during put (issue 8, finding 6), on a real full file
-- system: a test host with a small tmpfs mounted inside it. OpenSSH's
-- sftp-server answers a write that hits ENOSPC with a bare "failure":
-- statvfs@openssh.com tells it from other failures. The execute path
-- (via = "execute", and become through sudo) checks the room left after
-- a failed write. Each is ENOSPC, and nothing is left at the destination.
local luasible = require "luasible"
local th = require "spec.helpers.testhosts"

describe("#hosts put to a full disk", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end

  local hosts, conn
  local SMALL = "/mnt/small" -- 1 MiB
  local big = string.rep("0123456789abcdef", 3 * 65536) -- 3 MiB

  lazy_setup(function()
    hosts = th.start { n = 1 }
    local _, mounted, _, err = hosts[1]:exec("mkdir -p " .. SMALL .. " && mount -t tmpfs -o size=1m tmpfs " .. SMALL)
    assert(mounted, err)
    conn = assert(luasible.connect(hosts[1]:connect_args()))
  end)
  lazy_teardown(function()
    if conn then conn:close() end
    if hosts then hosts:stop() end
  end)

  local function listing()
    return (hosts[1]:exec("ls -A " .. SMALL))
  end

  local function assert_nospace(res, err, name, dest)
    assert.is_nil(res)
    assert.are.equal("ENOSPC", name, err)
    assert.matches("^ENOSPC: no space left on ", err)
    assert.matches(" bytes free, %d+ more to write", err)
    assert.matches(SMALL, err, 1, true)
    -- nothing at the destination, no temporary file beside it
    assert.are.equal("", listing())
    assert.is_false(select(2, hosts[1]:exec("test -e " .. dest)))
  end

  it("over SFTP: ENOSPC (statvfs@openssh.com), not EIO", function()
    local dest = SMALL .. "/big.bin"
    local res, err, name = conn:put(big, dest, { content = true })
    assert_nospace(res, err, name, dest)
    assert.matches("sftp write failed", err, 1, true)
    -- a file that fits still goes
    assert(conn:put("fits\n", SMALL .. "/small.txt", { content = true }))
    assert.are.equal("fits\n", (hosts[1]:exec("cat " .. SMALL .. "/small.txt")))
    hosts[1]:exec("rm -f " .. SMALL .. "/small.txt")
  end)

  it("from a local file over SFTP: ENOSPC", function()
    local src = os.tmpname()
    local f = assert(io.open(src, "wb"))
    f:write(big)
    f:close()
    local res, err, name = conn:put(src, SMALL .. "/from-file.bin")
    os.remove(src)
    assert_nospace(res, err, name, SMALL .. "/from-file.bin")
  end)

  it("through commands (via = \"execute\"): ENOSPC from the room left, not from the message", function()
    local dest = SMALL .. "/exec.bin"
    local res, err, name = conn:put(big, dest, { content = true, via = "execute" })
    assert_nospace(res, err, name, dest)
  end)

  it("a failed write on a file system that is not full stays EIO (/proc: no blocks at all)", function()
    local res, err, name = conn:put("x", "/proc/luasible-no-such-file", { content = true, via = "execute" })
    assert.is_nil(res)
    assert.are.equal("EIO", name, err)
  end)

  it("under become (sudo, the execute path of a play's copy): ENOSPC", function()
    local dest = SMALL .. "/become.bin"
    local results = {}
    luasible.play({ hosts = "testhosts", gather_facts = false, tasks = {
      { name = "fill", copy = { content = big, dest = dest }, become = true } } },
      { inventory = hosts:inventory(), on_event = function(ev)
        if ev.type == "host_task_result" then results[#results + 1] = ev end
      end })
    assert.are.equal(1, #results)
    assert.are.equal("failed", results[1].status)
    local msg = tostring(results[1].result.msg)
    assert.matches("ENOSPC: no space left on ", msg, 1, true)
    assert.are.equal("", listing())
  end)
end)
