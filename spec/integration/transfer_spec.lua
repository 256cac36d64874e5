-- transfer.put / transfer.get on the local connection: the execute path
-- (checksum, mode before the rename, cleanup), error names from where they
-- arise, and the shell text of luasible.remote.
local luasible = require "luasible"
local core = require "luasible.core"
local transfer = require "luasible.transfer"
local remote = require "luasible.remote"
local files = require "spec.helpers.files"

local read, write, sh = files.read, files.write, files.sh

local function leftovers(dir)
  return sh("ls -a '" .. dir .. "' | grep luasible- || true")
end

describe("transfer.put's execute path", function()
  local dir = files.tmpdir()
  local conn = luasible.connect()

  -- run = conn:execute, recording every command and its stdin
  local function recorder(edit)
    local log = {}
    return log, function(cmd, ropts)
      ropts = ropts or {}
      log[#log + 1] = { cmd = cmd, stdin = ropts.stdin }
      if edit then cmd, ropts = edit(cmd, ropts) end
      return conn:execute(cmd, ropts)
    end
  end

  it("writes the content through run, on stdin in chunks, never on a command line", function()
    local content = ("secret-" .. math.random(1e9) .. "\0\255"):rep(200000) -- > 2 chunks
    local log, run = recorder()
    local progress = {}
    local res, err = transfer.put(conn, content, dir .. "/a.bin", { content = true, via = "execute", run = run,
      mode = tonumber("640", 8), on_progress = function(p) progress[#progress + 1] = p end })
    assert.is_table(res, err)
    assert.equal(core.sha256(content), res.sha256)
    assert.equal(#content, res.bytes)
    assert.is_true(read(dir .. "/a.bin") == content)
    assert.equal("640", sh("stat -c %a " .. dir .. "/a.bin"))
    local fed = {}
    for _, c in ipairs(log) do
      assert.is_nil(c.cmd:find("secret-", 1, true), c.cmd)
      if c.stdin then fed[#fed + 1] = c.stdin end
    end
    assert.is_true(#fed >= 3)
    assert.is_true(table.concat(fed) == content)
    assert.truthy(log[1].cmd:find("set -C && umask 077", 1, true), log[1].cmd)
    assert.equal(#content, progress[#progress].bytes_done)
    assert.equal(res.sha256, progress[#progress].sha256)
    assert.equal("", leftovers(dir))
  end)

  it("detects a checksum mismatch, leaves the target alone and removes the temporary file", function()
    write(dir .. "/b.txt", "old\n")
    local _, run = recorder(function(cmd, ropts)
      if ropts.stdin then ropts.stdin = ropts.stdin .. "corrupted" end
      return cmd, ropts
    end)
    local res, err, name = transfer.put(conn, "new\n", dir .. "/b.txt", { content = true, via = "execute", run = run })
    assert.is_nil(res)
    assert.equal("ECHECKSUM", name)
    assert.matches("^ECHECKSUM: checksum mismatch", err)
    assert.equal("old\n", read(dir .. "/b.txt"))
    assert.equal("", leftovers(dir))
    -- checksum = false: what was written is installed
    res = transfer.put(conn, "new\n", dir .. "/b.txt", { content = true, via = "execute", run = run, checksum = false })
    assert.is_table(res)
    assert.equal("new\ncorrupted", read(dir .. "/b.txt"))
  end)

  it("applies the mode to the temporary file before the rename", function()
    -- an mv that records the mode of what it moves, then moves it
    local bin = dir .. "/bin"
    os.execute("mkdir -p " .. bin)
    write(bin .. "/mv", "#!/bin/sh\nfor a; do f=$a; done\n"
      .. "for a; do [ \"$a\" != \"$f\" ] && s=$a; done\nstat -c %a \"$s\" > " .. dir .. "/mode-at-mv\n"
      .. "exec /bin/mv \"$@\"\n")
    os.execute("chmod 755 " .. bin .. "/mv")
    local _, run = recorder(function(cmd, ropts)
      ropts.env = { PATH = bin .. ":/usr/bin:/bin" }
      return cmd, ropts
    end)
    local res, err = transfer.put(conn, "x", dir .. "/c.txt", { content = true, via = "execute", run = run,
      mode = tonumber("600", 8) })
    assert.is_table(res, err)
    assert.equal("600", read(dir .. "/mode-at-mv"):match("%d+"))
    assert.equal("600", sh("stat -c %a " .. dir .. "/c.txt"))
    -- no mode: the mode of the file replaced, kept before the rename too
    os.execute("chmod 604 " .. dir .. "/c.txt")
    res, err = transfer.put(conn, "y", dir .. "/c.txt", { content = true, via = "execute", run = run })
    assert.is_table(res, err)
    assert.equal("604", read(dir .. "/mode-at-mv"):match("%d+"))
    assert.equal("604", sh("stat -c %a " .. dir .. "/c.txt"))
    os.remove(dir .. "/mode-at-mv")
    os.execute("rm -rf " .. bin)
    assert.equal("", leftovers(dir))
  end)

  it("removes the temporary file when a later step fails", function()
    -- a write of the second chunk fails
    local n = 0
    local _, run = recorder(function(cmd, ropts)
      if ropts.stdin then
        n = n + 1
        if n == 2 then cmd = "cat >/dev/null; echo 'disk full' >&2; exit 1" end
      end
      return cmd, ropts
    end)
    local res, err, name = transfer.put(conn, ("z"):rep(3 * 1024 * 1024), dir .. "/d.bin",
      { content = true, via = "execute", run = run })
    assert.is_nil(res)
    assert.equal("EIO", name)
    assert.matches("disk full", err, 1, true)
    assert.equal("", leftovers(dir))
    assert.is_nil(read(dir .. "/d.bin"))
    -- the rename fails
    local bin = dir .. "/failing"
    os.execute("mkdir -p " .. bin)
    write(bin .. "/mv", "#!/bin/sh\necho 'mv: refused' >&2; exit 1\n")
    os.execute("chmod 755 " .. bin .. "/mv")
    _, run = recorder(function(cmd, ropts)
      ropts.env = { PATH = bin .. ":/usr/bin:/bin" }
      return cmd, ropts
    end)
    res, err, name = transfer.put(conn, "e", dir .. "/e.txt", { content = true, via = "execute", run = run })
    os.execute("rm -rf " .. bin)
    assert.is_nil(res)
    assert.equal("EIO", name)
    assert.matches("^EIO: finishing the upload of .*mv: refused", err)
    assert.is_nil(read(dir .. "/e.txt"))
    assert.equal("", leftovers(dir))
    -- a folder stands where the file goes: never moved into it
    os.execute("mkdir -p " .. dir .. "/folder")
    for _, via in ipairs { "execute", false } do
      res, err, name = transfer.put(conn, "e", dir .. "/folder", { content = true, via = via or nil })
      assert.is_nil(res)
      assert.equal("EISDIR", name, err)
      assert.equal("", leftovers(dir))
      assert.equal("", leftovers(dir .. "/folder"))
    end
    -- the folder does not exist: nothing is created
    res, _, name = transfer.put(conn, "e", dir .. "/nodir/e.txt", { content = true, via = "execute" })
    assert.is_nil(res)
    assert.equal("EIO", name)
  end)

  it("sends a local file, and an empty content creates an empty file", function()
    local src = dir .. "/src.txt"
    write(src, "from a file\n")
    local res = assert(transfer.put(conn, src, dir .. "/f.txt", { via = "execute" }))
    assert.equal("from a file\n", read(dir .. "/f.txt"))
    assert.equal("644", sh("stat -c %a " .. dir .. "/f.txt"))
    assert.equal(core.sha256("from a file\n"), res.sha256)
    res = assert(conn:put("", dir .. "/empty.txt", { content = true, via = "execute" }))
    assert.equal(0, res.bytes)
    assert.equal("", read(dir .. "/empty.txt"))
  end)

  it("checks via", function()
    assert.has_error(function() conn:put("x", dir .. "/x", { content = true, via = "scp" }) end,
      "bad option 'via' to 'put' (\"execute\" expected, got \"scp\")")
    assert.has_error(function() conn:get(dir .. "/x", dir .. "/y", { via = "execute" }) end,
      "bad argument #3 to 'get' (unknown option 'via')")
  end)

  it("hands a connection of its own making to its own put", function()
    local got
    local own = { put = function(_, src, dest, opts) got = { src, dest, opts.mode } return { ok = true } end }
    assert.same({ ok = true }, transfer.put(own, "c", "/d", { content = true, mode = 384 }))
    assert.same({ "c", "/d", 384 }, got)
    -- one with execute only goes the execute path
    local dest = dir .. "/exec-only.txt"
    local exec_only = { execute = function(_, ...) return conn:execute(...) end }
    assert(transfer.put(exec_only, "eo", dest, { content = true }))
    assert.equal("eo", read(dest))
  end)

  it("lets a caught signal that comes while it cleans up after a failure stop the caller", function()
    -- in a process of its own (it catches SIGINT): the upload fails, and the
    -- signal arrives while the temporary file is being removed
    local script = dir .. "/interrupt.lua"
    write(script, ([[
      package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
      package.cpath = %q .. ";" .. package.cpath
      local luasible = require "luasible"
      local transfer = require "luasible.transfer"
      local conn = luasible.connect()
      luasible.catch_signals()
      local function run(cmd, ropts)
        if cmd:find("^set %%-C") then return { ok = false, rc = 1, stdout = "", stderr = "refused" } end
        if cmd:find("^rm %%-f") then cmd = "kill -INT $PPID; sleep 2; " .. cmd end
        return conn:execute(cmd, ropts)
      end
      local ok, res, err = pcall(transfer.put, conn, "x", %q, { content = true, via = "execute", run = run })
      print(ok and ("returned " .. tostring(res) .. ", " .. tostring(err)) or ("raised " .. tostring(res)))
    ]]):format(os.getenv("LUASIBLE_CPATH") or "./?.so", dir .. "/int.txt"))
    -- the interpreter that can load that core (the ASan build needs its lua_host)
    local cpath = os.getenv("LUASIBLE_CPATH")
    local lua = cpath and (cpath:match("^(.*)/%?%.so$") .. "/lua_host") or "lua5.4"
    local out = files.run(lua .. " " .. script .. " 2>&1")
    assert.equal("raised EINTR: interrupted by SIGINT\n", out)
  end)

  it("leaves no temporary file when a local copy is cancelled midway (a play's abort on Ctrl-C)", function()
    local sub = dir .. "/cancelled"
    os.execute("mkdir -p " .. sub)
    local content = ("c"):rep(64 * 1024 * 1024) -- 64 chunks: the task yields between them
    local seen
    luasible.run(function()
      local t = luasible.spawn(function() return transfer.put(conn, content, sub .. "/big", { content = true }) end)
      repeat luasible.sleep(0) until leftovers(sub) ~= ""
      seen = leftovers(sub)
      t:cancel()
    end)
    assert.matches("%.big%.luasible%-", seen)
    assert.equal("", leftovers(sub))
    assert.is_nil(read(sub .. "/big"))
  end)
end)

describe("error names from where they arise", function()
  local dir = files.tmpdir()
  local conn = luasible.connect()

  it("a missing local source is ENOENT, a folder EISDIR, on every path", function()
    for _, via in ipairs { false, "execute" } do
      local res, err, name = conn:put(dir .. "/missing", dir .. "/x", { via = via or nil })
      assert.is_nil(res)
      assert.equal("ENOENT", name)
      assert.equal("ENOENT: " .. dir .. "/missing: No such file or directory", err)
      res, err, name = conn:put(dir, dir .. "/x", { via = via or nil })
      assert.is_nil(res)
      assert.equal("EISDIR", name, err)
    end
    local res, _, name = conn:get(dir .. "/missing", dir .. "/x")
    assert.is_nil(res)
    assert.equal("ENOENT", name)
    assert.equal("", leftovers(dir))
  end)

  it("a target folder that does not exist is ENOENT, one not writable EACCES", function()
    local _, err, name = conn:put("x", dir .. "/no/such/x", { content = true })
    assert.equal("ENOENT", name)
    assert.matches("^ENOENT: ", err)
    assert(conn:put("x", dir .. "/x", { content = true, atomic = false, mode = 0 }))
    if sh("id -u") ~= "0" then -- root writes anyway
      _, err, name = conn:put("y", dir .. "/x", { content = true, atomic = false })
      assert.equal("EACCES", name, err)
    end
  end)

  it("a stream that cannot start carries its name as code", function()
    local evs = {}
    for ev in conn:stream({ "/nonexistent/prog" }) do evs[#evs + 1] = ev end
    assert.equal(1, #evs)
    assert.equal("error", evs[1].type)
    assert.equal("ENOENT", evs[1].code)
    local res, err, name = conn:execute("sleep 5", { timeout = 0.1 })
    assert.is_true(res.timed_out, err)
    assert.is_nil(name)
  end)
end)

describe("luasible.remote", function()
  it("builds the command line: cd, env, sudo, the server's timeout", function()
    assert.equal("exec /bin/sh -c 'echo hi'", remote.command_line("echo hi", {}))
    assert.equal("cd '/a b' && exec env 'A=1' 'B=x y' ls -l", remote.command_line({ "ls", "-l" },
      { cwd = "/a b", env = { B = "x y", A = "1" } }))
    assert.equal("exec sudo -n -- true", remote.command_line({ "true" }, {}, { "sudo", "-n", "--" }))
    assert.equal("if command -v timeout >/dev/null 2>&1; then exec timeout -k 2 1.5 true; else exec true; fi",
      remote.command_line({ "true" }, { timeout = 1 }))
  end)

  it("asks sudo for a password only when it needs one, and feeds it on stdin", function()
    assert.same({ nil, "in" }, { remote.sudo({ stdin = "in" }) })
    local asked
    local prefix, stdin = remote.sudo({ user = "bob", sudo_password = "pw", stdin = "in" }, function(p, argv)
      asked = table.concat(p, " ") .. " " .. table.concat(argv, " ")
      return { ok = false }
    end)
    assert.equal("sudo -n -u bob -- true", asked)
    assert.same({ "sudo", "-k", "-S", "-p", "", "-u", "bob", "--" }, prefix)
    assert.equal("pw\nin", stdin)
    prefix, stdin = remote.sudo({ sudo = true, sudo_password = "pw" }, function() return { ok = true } end)
    assert.same({ "sudo", "-n", "--" }, prefix)
    assert.is_nil(stdin)
  end)

  it("gives the SSH channel its marker and kill line", function()
    local line, o = remote.channel("exec true")
    assert.equal("printf '" .. remote.PGID_MARK .. "%s\\n' \"$$\" >&2; exec true", line)
    assert.equal(remote.PGID_MARK, o.pgid_mark)
    assert.equal("kill -TERM -{pgid} 2>/dev/null; (sleep 2; kill -KILL -{pgid}) >/dev/null 2>&1 </dev/null &",
      o.kill)
  end)

  it("finishes an upload: checksum, then mode, then rename, quoting every name", function()
    local s = remote.finish("/d/.a b.tmp", "/d/a b", { sha256 = "ab12", mode = tonumber("640", 8) })
    local h, c, m = s:find("sha256sum < '/d/.a b.tmp'", 1, true), s:find("chmod 0640 '/d/.a b.tmp'", 1, true),
      s:find("mv -f -- '/d/.a b.tmp' '/d/a b'", 1, true)
    assert.truthy(h and c and m, s)
    assert.is_true(h < c and c < m, s)
    assert.is_nil(remote.finish("t", "d", {}):find("sha256sum", 1, true))
    assert.equal("mkdir -p -m 0755 -- '/x y'", remote.mkdir("/x y", tonumber("755", 8)))
    assert.equal("rm -f -- -x", remote.rm("-x"))
    assert.equal("rm -f -- 'a=b'", remote.rm("a=b"))
  end)
end)
