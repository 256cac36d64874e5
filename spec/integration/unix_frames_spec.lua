-- core.unix_listen / unix_connect binary frames and core.unix_lock (the
-- transport of persistent connections, core/lua_unix.c): frames that
-- arrive byte by byte or many in one read, empty and 1 MiB payloads, a
-- connection that ends inside a frame, a frame longer than the limit, and
-- a lock that another open file description (here, or another process)
-- holds.
local luasible = require "luasible"
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"
local files = require "spec.helpers.files"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function next_frame(c)
  while true do
    local t, p = c:read_frame()
    if t ~= nil then return t, p end
    scheduler.wait(c)
  end
end

describe("#core unix frames and locks", function()
  local dir
  lazy_setup(function() dir = files.tmpdir() end)
  lazy_teardown(function() os.execute("rm -rf " .. q(dir)) end)

  -- run server(c) on the accepted end and client(c) on the other
  local function pair(path, server, client)
    local l = assert(core.unix_listen(path))
    luasible.run(function()
      local done = false
      scheduler.spawn(function()
        scheduler.wait(l)
        local c = assert(l:accept())
        server(c)
        done = true
      end)
      local c = core.unix_connect(path)
      client(c)
      while not done do scheduler.sleep(0.01) end
    end)
    l:close()
    os.remove(path)
  end

  it("carries frames whole, in order, however the bytes arrive", function()
    local got = {}
    local big = string.rep("\0\255\n", 350000) -- 1 MiB and more, with NULs and newlines
    pair(dir .. "/a", function(c)
      for _ = 1, 5 do
        local t, p = next_frame(c)
        got[#got + 1] = { t, p }
      end
      local t, err = next_frame(c)
      got.last = { t, err }
      c:close()
    end, function(c)
      c:write_frame("p")
      c:write_frame("o", "hello\nworld")
      c:write_frame("i", big)
      -- two frames written byte by byte
      local raw = "e" .. string.pack(">I4", 3) .. "abc" .. "x" .. string.pack(">I4", 0)
      for i = 1, #raw do
        c:write(raw:sub(i, i))
        scheduler.sleep(0.001)
      end
      c:finish()
    end)
    assert.same({ "p", "" }, got[1])
    assert.same({ "o", "hello\nworld" }, got[2])
    assert.equal("i", got[3][1])
    assert.is_true(got[3][2] == big)
    assert.same({ "e", "abc" }, got[4])
    assert.same({ "x", "" }, got[5])
    assert.same({ false, "" }, got.last) -- a clean end
  end)

  it("an end inside a frame is EPROTO; a frame over 16 MiB is E2BIG, never buffered", function()
    local cut, huge
    pair(dir .. "/b", function(c)
      cut = { next_frame(c) }
      c:close()
    end, function(c)
      c:write("o" .. string.pack(">I4", 10) .. "abc")
      c:finish()
    end)
    assert.same({ false, "EPROTO: the connection ended inside a frame" }, cut)
    pair(dir .. "/c", function(c)
      huge = { next_frame(c) }
      c:close()
    end, function(c)
      c:write("o" .. string.pack(">I4", 16 * 1024 * 1024 + 1) .. "abc")
      scheduler.sleep(0.2)
      c:close()
    end)
    assert.is_false(huge[1])
    assert.truthy(huge[2]:find("^E2BIG"), huge[2])
    -- and the writer refuses one
    pair(dir .. "/d", function(c) c:close() end, function(c)
      local ok, err = pcall(c.write_frame, c, "o", string.rep("x", 16 * 1024 * 1024 + 1))
      assert.is_false(ok)
      assert.truthy(tostring(err):find("larger than 16 MiB", 1, true))
      ok, err = pcall(c.write_frame, c, "oo", "")
      assert.is_false(ok)
      assert.truthy(tostring(err):find("one-byte frame type", 1, true))
      c:close()
    end)
  end)

  it("unix_lock: one holder at a time, in this process or another; released by close or exit", function()
    local path = dir .. "/l.lock"
    local a = assert(core.unix_lock(path))
    assert.is_nil(core.unix_lock(path)) -- another open of it, here
    assert.equal(tonumber("600", 8), core.stat(path).mode & tonumber("777", 8))
    -- another process cannot take it either (flock -n fails) while it is held
    assert.is_false(os.execute("flock -n " .. q(path) .. " true") == true)
    a:close()
    assert.is_true(os.execute("flock -n " .. q(path) .. " true") == true)
    -- held by another process: nil here until that process ends
    os.execute("(flock " .. q(path) .. " sleep 0.6 &) ; sleep 0.1")
    assert.is_nil(core.unix_lock(path))
    local t0 = luasible.now()
    local b
    while not b and luasible.now() - t0 < 5 do
      b = core.unix_lock(path)
      if not b then luasible.sleep(0.02) end
    end
    assert.truthy(b)
    b:close()
    -- an error is named
    local c, err = core.unix_lock(dir .. "/no/such/folder.lock")
    assert.is_nil(c)
    assert.truthy(err:find("^ENOENT"), err)
  end)
end)
