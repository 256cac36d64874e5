-- put/get over SFTP against a real OpenSSH server, and the same contract on
-- the local connection: progress in order, checksum, mode, atomic writes.
local luasible = require "luasible"
local core = require "luasible.core"
local sshd = require "spec.helpers.sshd"

local files = require "spec.helpers.files"
local read_file, write_file = files.read, files.write

local function mode_of(path)
  local p = io.popen("stat -c %a '" .. path .. "'")
  local m = p:read("l")
  p:close()
  return m
end

local function leftovers(dir)
  local p = io.popen("ls -a '" .. dir .. "' | grep luasible- || true")
  local s = p:read("a")
  p:close()
  return s
end

local function big_content(n)
  -- varied bytes so that a misplaced chunk changes the checksum
  local parts, seed = {}, 12345
  local chunk = {}
  for i = 1, 4096 do
    seed = (seed * 1103515245 + 12345) % 2147483648
    chunk[i] = string.char(seed % 256)
  end
  local block = table.concat(chunk)
  for i = 1, n // #block do parts[i] = block:sub(i % 7 + 1) .. block:sub(1, i % 7) end
  return table.concat(parts)
end

local function check_progress(events, total)
  assert.is_true(#events >= 3, "only " .. #events .. " progress events")
  local last = -1
  for _, p in ipairs(events) do
    assert.are.equal("transferring", p.stage)
    assert.is_true(p.bytes_done >= last, "bytes_done went back")
    last = p.bytes_done
    assert.are.equal(total, p.bytes_total)
  end
  assert.are.equal(total, events[#events].bytes_done)
  assert.are.equal(100, events[#events].percentage)
end

for _, kind in ipairs { "ssh", "local" } do
  describe((kind == "ssh" and "#ssh " or "") .. kind .. " put/get", function()
    local srv, conn, dir
    local data = big_content(20 * 1024 * 1024)
    local src

    lazy_setup(function()
      srv = sshd.start()
      dir = srv.dir .. "/files"
      os.execute("mkdir -p '" .. dir .. "'")
      src = dir .. "/src.bin"
      write_file(src, data)
      if kind == "ssh" then
        conn = assert(luasible.connect { host = "127.0.0.1", port = srv.port, user = srv.user,
          identity = srv.key, known_hosts = srv.known_hosts, agent = false, ssh_config = false })
      else
        conn = luasible.connect("local")
      end
    end)
    lazy_teardown(function()
      if conn then conn:close() end
      if srv then srv:stop() end
    end)

    it("puts a 20 MB file with live progress and a verified checksum", function()
      local events = {}
      local res = assert(conn:put(src, dir .. "/up.bin", { on_progress = function(p) events[#events + 1] = p end }))
      assert.is_true(res.ok)
      assert.are.equal(core.sha256(data), res.sha256)
      assert.are.equal(#data, res.bytes)
      assert.is_true(read_file(dir .. "/up.bin") == data, "content differs")
      check_progress(events, #data)
      assert.are.equal("", leftovers(dir))
    end)

    it("gets a 20 MB file with live progress and a verified checksum", function()
      local events = {}
      local res = assert(conn:get(src, dir .. "/down.bin", { on_progress = function(p) events[#events + 1] = p end }))
      assert.are.equal(core.sha256(data), res.sha256)
      assert.is_true(read_file(dir .. "/down.bin") == data, "content differs")
      check_progress(events, #data)
      assert.are.equal("", leftovers(dir))
    end)

    it("puts a string with content = true and sets the mode", function()
      local res = assert(conn:put("hello\n", dir .. "/c.txt", { content = true, mode = tonumber("640", 8) }))
      assert.are.equal(core.sha256("hello\n"), res.sha256)
      assert.are.equal("hello\n", read_file(dir .. "/c.txt"))
      assert.are.equal("640", mode_of(dir .. "/c.txt"))
      -- replaces an existing file atomically
      assert(conn:put("two\n", dir .. "/c.txt", { content = true }))
      assert.are.equal("two\n", read_file(dir .. "/c.txt"))
    end)

    it("keeps the mode of a file it replaces when no mode is asked, 0644 for a new one", function()
      local dest = dir .. "/kept-mode.txt"
      write_file(dest, "old")
      os.execute("chmod 640 '" .. dest .. "'")
      assert(conn:put("new content", dest, { content = true }))
      assert.are.equal("640", mode_of(dest))
      local fresh = dir .. "/fresh-mode.txt"
      os.remove(fresh)
      assert(conn:put("x", fresh, { content = true }))
      assert.are.equal("644", mode_of(fresh))
    end)

    it("lets other tasks run while it transfers", function()
      local ticks, done = 0, false
      luasible.run(function()
        local a = luasible.spawn(function()
          local res = assert(conn:put(data, dir .. "/while.bin", { content = true }))
          done = true
          return res
        end)
        local b = luasible.spawn(function()
          while not done do luasible.sleep(0.001); ticks = ticks + 1 end
        end)
        a:wait(); b:wait()
      end)
      assert.is_true(ticks >= 3, "the other task ran " .. ticks .. " times")
    end)

    it("fails clearly and leaves nothing behind", function()
      local res, err, name = conn:put(src, dir .. "/no/such/dir/x.bin")
      assert.is_nil(res)
      assert.are.equal("ENOENT", name)
      assert.matches("^ENOENT: ", err)
      assert.is_nil(err:find("ENOENT: ENOENT", 1, true), err) -- named once
      local r2, _, n2 = conn:get(dir .. "/missing.bin", dir .. "/got.bin")
      assert.is_nil(r2)
      assert.are.equal("ENOENT", n2)
      assert.is_nil(read_file(dir .. "/got.bin"))
      local r3, _, n3 = conn:put(dir .. "/missing-local.bin", dir .. "/x.bin")
      assert.is_nil(r3)
      assert.are.equal("ENOENT", n3)
      assert.are.equal("", leftovers(dir))
    end)

    it("puts through commands (via = \"execute\") with the same steps", function()
      local res = assert(conn:put(data, dir .. "/exec.bin", { content = true, via = "execute",
        mode = tonumber("600", 8) }))
      assert.are.equal(core.sha256(data), res.sha256)
      assert.is_true(read_file(dir .. "/exec.bin") == data, "content differs")
      assert.are.equal("600", mode_of(dir .. "/exec.bin"))
      assert.are.equal("", leftovers(dir))
    end)

    it("never moves a file into a folder standing at the target", function()
      os.execute("mkdir -p '" .. dir .. "/a-folder'")
      for _, via in ipairs { false, "execute" } do
        local res, err, name = conn:put("x", dir .. "/a-folder", { content = true, via = via or nil })
        assert.is_nil(res)
        assert.are.equal("EISDIR", name, err)
        assert.are.equal("", leftovers(dir))
        assert.are.equal("", leftovers(dir .. "/a-folder"))
      end
    end)

    it("checks its arguments", function()
      assert.has_error(function() conn:put(src, dir .. "/x", { colour = 1 }) end,
        "bad argument #3 to 'put' (unknown option 'colour')")
      assert.has_error(function() conn:get(src, 42) end)
    end)
  end)
end

describe("core.sha256", function()
  it("hashes in one go and streaming", function()
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", core.sha256("abc"))
    local h = core.sha256_new()
    h:update("a"):update("bc")
    assert.are.equal(core.sha256("abc"), h:hex())
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", core.sha256(""))
  end)
end)
