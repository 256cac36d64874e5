-- Soak (#slow #soak: `make test-slow`, not `make test` nor `make test-asan`): 1 GB of output through
-- one stream over SSH (a real sshd on loopback) and locally, every line
-- carrying its sequence number and checked in order (nothing lost,
-- duplicated, reordered or changed) with a running SHA-256 of the whole
-- stream against the generator's; and 1 GB through put and get, checked by
-- SHA-256 on both sides. LUASIBLE_SOAK_BYTES sets another size.
local luasible = require "luasible"
local core = require "luasible.core"
local sshd = require "spec.helpers.sshd"
local files = require "spec.helpers.files"

local TOTAL = math.tointeger(tonumber(os.getenv("LUASIBLE_SOAK_BYTES") or "") or 1 << 30)

-- Line n of the stream: "<n> <payload>", the payload a letter repeated
-- 0..1499 times, and every 100,000th line 100,000 bytes long (longer than
-- max_line: it comes in chunks marked partial). The generator and the
-- checker share this text.
local LINE_OF = [[
local letters = "abcdefghijklmnopqrstuvwxyz"
local function payload_len(n) return n % 100000 == 0 and 100000 or (n * 7919) % 1500 end
local function line_of(n)
  local k = n % 26 + 1
  return n .. " " .. string.rep(letters:sub(k, k), payload_len(n))
end
]]
local payload_len = load(LINE_OF .. "return payload_len")()

local GENERATOR = LINE_OF .. [[
local total = math.tointeger(tonumber(arg[1]))
io.stdout:setvbuf("full", 1 << 16)
local n, sent, write = 0, 0, io.write
while sent < total do
  n = n + 1
  local line = line_of(n)
  write(line, "\n")
  sent = sent + #line + 1
end
]]

local function peak_rss_mib()
  local s = files.read("/proc/self/status")
  return tonumber(s:match("VmHWM:%s*(%d+)")) / 1024
end

-- Reads the events of one stream and checks each line's sequence number
-- and length; returns the lines, the bytes and the SHA-256 of the whole
-- output (each line and its "\n"), which checks every byte against the
-- generator's.
local function check_stream(iter, s)
  local n, bytes, sha, held = 0, 0, core.sha256_new(), nil
  local final
  for ev in iter, s do
    local t = ev.type
    if t == "stdout" then
      local data = ev.data
      if ev.partial then
        held = (held or "") .. data
      else
        if held then data, held = held .. data, nil end
        n = n + 1
        local seq = data:match("^%d+")
        if tonumber(seq) ~= n or #data ~= #seq + 1 + payload_len(n) then
          error(("line %d is wrong: %q..."):format(n, data:sub(1, 40)))
        end
        sha:update(data)
        sha:update("\n")
        bytes = bytes + #data + 1
      end
    elseif t == "stderr" then
      error("stderr: " .. ev.data)
    elseif t == "done" or t == "error" then
      final = ev
    end
  end
  assert.is_nil(held, "a line was cut")
  assert.equal("done", final.type, final.error)
  assert.is_true(final.result.ok)
  return n, bytes, sha:hex()
end

describe("soak #slow #soak", function()
  local dir, gen, expected_sha, expected_lines
  lazy_setup(function()
    dir = files.sh("mktemp -d /tmp/luasible-soak.XXXXXX")
    gen = dir .. "/gen.lua"
    files.write(gen, GENERATOR)
    expected_sha = files.sh(("lua5.4 '%s' %d | sha256sum"):format(gen, TOTAL)):match("^(%x+)")
  end)
  lazy_teardown(function()
    if dir then os.execute("rm -rf '" .. dir .. "'") end
  end)

  local function soak(conn, what)
    local t0 = luasible.now()
    local n, bytes, sha = check_stream(conn:stream({ "lua5.4", gen, tostring(TOTAL) }))
    local dt = luasible.now() - t0
    print(("\n%s: %d lines, %.0f MB in %.1f s = %.0f MB/s, %.0f lines/s; peak RSS %.1f MiB")
      :format(what, n, bytes / 1e6, dt, bytes / 1e6 / dt, n / dt, peak_rss_mib()))
    assert.is_true(bytes >= TOTAL)
    assert.equal(expected_sha, sha)
    if expected_lines then assert.equal(expected_lines, n) end
    expected_lines = n
  end

  it("1 GB through a local stream, every line in order", function()
    soak(luasible.connect(), "local")
  end)

  describe("#ssh over SSH", function()
    local srv, conn
    lazy_setup(function()
      srv = sshd.start()
      conn = assert(luasible.connect { host = "127.0.0.1", port = srv.port, user = srv.user,
        identity = srv.key, known_hosts = srv.known_hosts, agent = false, ssh_config = false })
    end)
    lazy_teardown(function()
      if conn then conn:close() end
      if srv then srv:stop() end
    end)

    it("1 GB through a stream, every line in order", function()
      soak(conn, "ssh")
    end)

    it("1 GB through put and get, the same bytes on both sides", function()
      local src, up, down = dir .. "/src.bin", srv.dir .. "/up.bin", dir .. "/down.bin"
      assert(os.execute(("head -c %d /dev/urandom > '%s'"):format(TOTAL, src)))
      local sum = files.sh("sha256sum '" .. src .. "'"):match("^(%x+)")
      local t0 = luasible.now()
      local res = assert(conn:put(src, up))
      local t1 = luasible.now()
      assert.equal(sum, res.sha256)
      assert.equal(TOTAL, res.bytes)
      assert.equal(sum, files.sh("sha256sum '" .. up .. "'"):match("^(%x+)"))
      res = assert(conn:get(up, down))
      local t2 = luasible.now()
      assert.equal(sum, res.sha256)
      assert.equal(sum, files.sh("sha256sum '" .. down .. "'"):match("^(%x+)"))
      print(("\nput %.0f MB/s, get %.0f MB/s (each with its checksums)")
        :format(TOTAL / 1e6 / (t1 - t0), TOTAL / 1e6 / (t2 - t1)))
      os.remove(src)
      os.remove(up)
      os.remove(down)
    end)
  end)
end)
