-- luasible.util.fs on the core's file-system binding: the controller's
-- files without a shell.
local fs = require "luasible.util.fs"
local core = require "luasible.core"
local files = require "spec.helpers.files"

describe("util.fs", function()
  local dir = files.tmpdir()

  describe("read", function()
    it("returns the whole content, binary included", function()
      local data = "a\0b\r\n" .. string.rep("x", 100000)
      files.write(dir .. "/bin", data)
      assert.equal(data, fs.read(dir .. "/bin"))
      files.write(dir .. "/empty", "")
      assert.equal("", fs.read(dir .. "/empty"))
    end)

    it("fails with the errno's name", function()
      local ok, err, name = fs.read(dir .. "/missing")
      assert.is_nil(ok)
      assert.equal("ENOENT", name)
      assert.equal("ENOENT: " .. dir .. "/missing: No such file or directory", err)
      ok, err, name = fs.read(dir)
      assert.is_nil(ok)
      assert.equal("EISDIR", name)
      assert.matches("^EISDIR: ", err)
    end)
  end)

  describe("stat", function()
    it("tells type, size, mode and mtime, following links", function()
      files.write(dir .. "/f", "12345")
      assert(core.chmod(dir .. "/f", tonumber("640", 8)))
      local st = assert(fs.stat(dir .. "/f"))
      assert.equal("file", st.type)
      assert.equal(5, st.size)
      assert.equal(tonumber("640", 8), st.mode)
      assert.is_true(math.abs(st.mtime - os.time()) < 60)
      assert.equal("directory", fs.stat(dir).type)
      assert(os.execute("ln -sfn f " .. dir .. "/lf"))
      assert.equal("file", fs.stat(dir .. "/lf").type)
      assert.equal("link", core.lstat(dir .. "/lf").type)
      assert.equal("other", fs.stat("/dev/null").type)
    end)

    it("fails for a missing path or a broken link", function()
      local ok, err, name = fs.stat(dir .. "/nope")
      assert.is_nil(ok)
      assert.equal("ENOENT", name)
      assert.matches("^ENOENT: ", err)
      assert(os.execute("ln -sfn /nonexistent/x " .. dir .. "/broken"))
      assert.is_nil(fs.stat(dir .. "/broken"))
      assert.equal("link", core.lstat(dir .. "/broken").type)
    end)
  end)

  describe("walk", function()
    local root
    before_each(function()
      root = dir .. "/tree"
      os.execute("rm -rf " .. root)
      assert(os.execute(table.concat({
        "mkdir -p " .. root .. "/a/b " .. root .. "/z " .. root .. "/other",
        "touch " .. root .. "/a/f " .. root .. "/a/b/g " .. root .. "/top " .. root .. "/other/o",
        "ln -s .. " .. root .. "/a/b/up",          -- a loop: back to a/
        "ln -s ../.. " .. root .. "/a/b/root",     -- a loop: back to the top
        "ln -s ../other " .. root .. "/z/other",   -- a link to a folder elsewhere: followed
        "ln -s ../top " .. root .. "/z/top",       -- a link to a file
        "ln -s /nonexistent " .. root .. "/z/broken",
        "mkfifo " .. root .. "/z/fifo",
      }, " && ")))
    end)

    it("lists files and folders below, sorted, following links as find -L", function()
      local got = {}
      for _, e in ipairs(fs.walk(root)) do got[#got + 1] = e.type:sub(1, 1) .. " " .. e.path end
      assert.same({
        "d a", "d a/b", "f a/b/g", "f a/f",
        "d other", "f other/o",
        "f top",
        "d z", "d z/other", "f z/other/o", "f z/top",
      }, got)
    end)

    it("lists what find -L lists", function()
      local want = files.sh("cd " .. root .. " && find -L . -mindepth 1 \\( -type f -o -type d \\) "
        .. "-printf '%y %P\\n' 2>/dev/null | LC_ALL=C sort -k2")
      local got = {}
      for _, e in ipairs(fs.walk(root)) do got[#got + 1] = e.type:sub(1, 1) .. " " .. e.path end
      assert.equal(want, table.concat(got, "\n"))
    end)

    it("follows a link given as the folder, and takes a trailing slash", function()
      assert(os.execute("ln -sfn " .. root .. "/a " .. dir .. "/alink"))
      local a, b = fs.walk(dir .. "/alink"), fs.walk(root .. "/a/")
      assert.same(b, a)
      assert.same({ path = "b", type = "directory" }, a[1])
    end)

    it("gives an empty list for a folder that does not exist, or a file", function()
      assert.same({}, fs.walk(dir .. "/nothing-here"))
      assert.same({}, fs.walk(root .. "/top"))
    end)
  end)

  describe("mkdir_p", function()
    it("makes a folder and its parents, and is fine when it exists", function()
      local p = dir .. "/m/n/o"
      assert.is_true(fs.mkdir_p(p))
      assert.equal("directory", fs.stat(p).type)
      assert.is_true(fs.mkdir_p(p))
      assert.is_true(fs.mkdir_p(dir .. "/m//n2/"))
      assert.equal("directory", fs.stat(dir .. "/m/n2").type)
    end)

    it("gives the last folder the mode it is asked for, when it creates it", function()
      local p = dir .. "/mode/a/b"
      assert.is_true(fs.mkdir_p(p, tonumber("700", 8)))
      assert.equal(tonumber("700", 8), fs.stat(p).mode)
      assert.is_true(fs.mkdir_p(p, tonumber("755", 8))) -- exists: unchanged, as mkdir -p -m
      assert.equal(tonumber("700", 8), fs.stat(p).mode)
    end)

    it("fails where a file is in the way", function()
      files.write(dir .. "/plain", "x")
      local ok, err, name = fs.mkdir_p(dir .. "/plain")
      assert.is_nil(ok)
      assert.equal("EEXIST", name)
      assert.matches("^EEXIST: ", err)
      ok, err, name = fs.mkdir_p(dir .. "/plain/sub")
      assert.is_nil(ok)
      assert.equal("EEXIST", name)
      assert.matches("plain: exists and is not a folder", err, 1, true)
      ok, err, name = fs.mkdir_p("/proc/luasible-cannot")
      assert.is_nil(ok)
      assert.is_string(name)
      assert.matches("^" .. name .. ": ", err)
    end)
  end)

  describe("the terminal", function()
    it("tells whether a descriptor is a terminal", function()
      assert.is_boolean(fs.isatty(1))
      -- a child whose stdout is a pipe
      local out = files.sh([[lua5.4 -e 'package.cpath = "./?.so;" .. package.cpath
        package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
        local fs = require "luasible.util.fs"
        print(fs.isatty(1), fs.isatty(0))' </dev/null]])
      assert.equal("false\tfalse", out)
    end)

    it("reads the size of a terminal, nil without one", function()
      -- setsid: no controlling terminal
      local out = files.sh([[setsid lua5.4 -e 'package.cpath = "./?.so;" .. package.cpath
        package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
        local cols, rows = require("luasible.util.fs").tty_size()
        print(cols, rows)' </dev/null 2>&1]])
      assert.equal("nil\tnil", out)
      if files.sh("command -v script") ~= "" then
        -- a pseudo-terminal of 77 columns and 11 rows
        out = files.sh([[script -qec "stty cols 77 rows 11; lua5.4 -e 'package.cpath = \"./?.so;\" .. package.cpath
          package.path = \"./lua/?.lua;./lua/?/init.lua;\" .. package.path
          print(require(\"luasible.util.fs\").tty_size())'" /dev/null </dev/null]])
        assert.matches("77\t11", out)
      end
    end)
  end)

  it("starts no process", function()
    local src = assert(files.read("lua/luasible/util/fs.lua"))
    assert.is_nil(src:find("popen", 1, true))
    assert.is_nil(src:find("execute", 1, true))
  end)
end)
