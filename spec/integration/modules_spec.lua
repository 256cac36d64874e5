local luasible = require "luasible"
local runner = require "luasible.play"
local modules = require "luasible.module"
local context = require "luasible.module.context"
local core = require "luasible.core"

local TMP = os.tmpname()
os.remove(TMP)
os.execute("mkdir -p " .. TMP)

local files = require "spec.helpers.files"
local read, write = files.read, files.write

-- A connection a user could write in Lua: only execute, synchronous, via io.popen.
local function execute_only_connection()
  return {
    kind = "popen", name = "popen",
    execute = function(_, cmd, opts)
      assert(type(cmd) == "string" or type(cmd) == "table")
      if type(cmd) == "table" then cmd = table.concat((function()
        local q = {}
        for i, a in ipairs(cmd) do q[i] = require("luasible.util.shell").quote(a) end
        return q
      end)(), " ") end
      local errf, inf = os.tmpname(), os.tmpname()
      write(inf, opts and opts.stdin or "")
      local p = io.popen("(" .. cmd .. ") 2>" .. errf .. " <" .. inf, "r")
      local out = p:read("a")
      local _, _, rc = p:close()
      local err = read(errf) or ""
      os.remove(errf)
      os.remove(inf)
      return { rc = rc, stdout = out, stderr = err, ok = rc == 0, timed_out = false, duration = 0 }
    end,
  }
end

-- Run one task on the local host (or on `conn`); returns the result and the events.
local function run_task(task, opts)
  opts = opts or {}
  local events = {}
  local conn = opts.conn
  local recap, details = runner.play({ hosts = "localhost", tasks = { task }, module_path = opts.module_path },
    { check = opts.check, on_event = function(ev) events[#events + 1] = ev end, base_dir = opts.base_dir,
      connect = conn and function() return conn end or nil })
  assert(recap, details)
  return details.hosts.localhost[1].result, events, details.hosts.localhost[1].status
end

describe("module arguments", function()
  local mod = { name = "m", free_form = "cmd", params = {
    cmd = { type = "string" }, n = { type = "integer" }, on = { type = "boolean", default = false },
    list = { type = "list" }, mode = { type = "mode" }, state = { type = "string", choices = { "a", "b" } },
    path = { type = "path", aliases = { "dest" } },
  } }

  it("coerces strings from the command line", function()
    local a = assert(modules.validate(mod, { n = "3", on = "yes", list = "x, y", mode = 644, dest = "/p" }))
    assert.same({ n = 3, on = true, list = { "x", "y" }, mode = "644", path = "/p" }, a)
  end)

  it("fills defaults and maps free-form text", function()
    assert.same({ cmd = "echo hi", on = false }, assert(modules.validate(mod, "echo hi")))
  end)

  it("refuses unknown names, bad types and bad choices with a clear message", function()
    -- the third value: the argument concerned (a message can give its line)
    assert.same({ nil, "m: unknown argument 'colour' (known: cmd, list, mode, n, on, path, state)", "colour" },
      { modules.validate(mod, { colour = 1 }) })
    assert.same({ nil, "m: argument 'n' must be an integer, got a string ('x')", "n" },
      { modules.validate(mod, { n = "x" }) })
    assert.same({ nil, "m: argument 'state' must be one of a, b, got 'c'", "state" },
      { modules.validate(mod, { state = "c" }) })
    assert.same({ nil, "m: argument 'mode' must be a file mode ('0644', 'u+rwx', ...), got a string ('rwx')", "mode" },
      { modules.validate(mod, { mode = "rwx" }) })
    -- a value that would break the message onto two lines is escaped; a mode that is no integer is refused
    assert.same({ nil, "m: argument 'n' must be an integer, got a string ('a\\nb')", "n" },
      { modules.validate(mod, { n = "a\nb" }) })
    assert.same({ nil, "m: argument 'mode' must be a file mode ('0644', 'u+rwx', ...), got a number (1.5)", "mode" },
      { modules.validate(mod, { mode = 1.5 }) })
  end)

  it("leaves templated values for later in partial mode", function()
    assert.truthy(modules.validate(mod, { n = "{{ x }}" }, true))
  end)

  it("parses ad-hoc key=value strings", function()
    assert.same({ a = "1", b = "two words", _raw = "free text" }, modules.parse_kv([[a=1 free b="two words" text]]))
  end)

  it("parses ad-hoc quotes and backslashes as shlex does, and keeps a {{ }} whole", function()
    assert.same({ msg = 'say "hi"', x = 'a"b', y = "c\\d", z = "q\\", w = "'x", v = "1\\2" },
      modules.parse_kv([[msg="say \"hi\"" x=a\"b y="c\d" z='q\' w=\'x v="1\\2"]]))
    assert.same({ msg = "{{ group_names }}" }, modules.parse_kv("msg={{ group_names }}"))
    assert.same({ msg = "{{ a }}", b = "{{ x | join(', ') }}", _raw = "c" },
      modules.parse_kv([[msg="{{ a }}" b={{ x | join(', ') }} c]]))
    assert.same({ _raw = "echo hi {{ x }}" }, modules.parse_kv("echo hi {{ x }}"))
    assert.same({ nil, "unterminated quote in: 'a=\"x\\\"'" }, { modules.parse_kv([[a="x\"]]) })
  end)

  it("checks every built-in module loads and has typed params", function()
    for _, name in ipairs({ "command", "shell", "streaming_shell", "copy", "fetch", "file", "template",
      "lineinfile", "apt", "package", "systemd", "service", "wait_for", "ping", "debug", "setup",
      "blockinfile", "replace", "ini_file", "stat", "slurp", "find", "tempfile", "unarchive", "archive" }) do
      local m = assert(modules.load(name))
      for p, spec in pairs(m.params) do assert.is_string(spec.type, name .. "." .. p) end
    end
  end)

  it("finds user modules on the module path", function()
    local m, path = modules.load("marker", modules.search_path("spec/fixtures/usermods"))
    assert.is_function(m.run)
    assert.equal("spec/fixtures/usermods/marker.lua", path)
    local dest = TMP .. "/marker"
    local res = run_task({ module = "marker", args = { path = dest } }, { module_path = "spec/fixtures/usermods" })
    assert.is_true(res.changed)
    assert.equal("marked", read(dest))
    res = run_task({ module = "marker", args = { path = dest } }, { module_path = "spec/fixtures/usermods" })
    assert.is_false(res.changed)
  end)

  it("ctx:module finds another module where the play finds its own (its library/)", function()
    local base = TMP .. "/with-library"
    os.execute("mkdir -p " .. base .. "/library")
    write(base .. "/library/greet_base.lua", "return { params = {}, run = function() return {} end,\n"
      .. "  greeting = function(who) return 'hello ' .. who end }\n")
    write(base .. "/library/greet.lua", "return { params = { who = { type = 'string' } }, run = function(ctx, args)\n"
      .. "  local b, err = ctx:module('greet_base')\n"
      .. "  if not b then return { failed = true, msg = err } end\n"
      .. "  return { changed = false, msg = b.greeting(args.who) } end }\n")
    local res, _, status = run_task({ greet = { who = "you" } }, { base_dir = base })
    assert.equal("ok", status, res.msg)
    assert.equal("hello you", res.msg)
  end)
end)

describe("modules and their ctx", function()
  it("modules require nothing of luasible's: everything they use is on their ctx", function()
    local p = assert(io.popen("ls modules/*.lua examples/library/*.lua spec/fixtures/usermods/*.lua"))
    local n = 0
    for file in p:lines() do
      n = n + 1
      local src = assert(read(file))
      for call in src:gmatch("require%s*%(?%s*[\"']([^\"']+)") do
        assert.is_nil(call:match("^luasible"), file .. " requires " .. call)
      end
      assert.is_nil(src:find("luasible.module", 1, true), file)
    end
    p:close()
    assert.is_true(n >= 17)
  end)

  it("ctx.lib gives the helper libraries of modules; a module's lib offers their functions as its own", function()
    local ctx = context.new({})
    local http = ctx.lib("http_request")
    local get_url = assert(modules.load("get_url"))
    for _, k in ipairs({ "fetch_stdin", "fetch_sh", "markers", "parse_headers" }) do
      assert.is_function(http[k], k)
      assert.equal(http[k], get_url[k], k)
    end
    for _, bad in ipairs({ "no_such_lib", "../http_request", 7 }) do
      local ok, err = pcall(ctx.lib, bad)
      assert.is_false(ok)
      assert.equal("ctx.lib: no helper library '" .. tostring(bad) .. "' (lua/luasible/module/lib/)", err)
    end
    local dir = TMP .. "/badlib"
    os.execute("mkdir -p " .. dir)
    write(dir .. "/badlib.lua", "return { lib = 'nope', params = {}, run = function() return {} end }\n")
    local m, err = modules.load("badlib", modules.search_path(dir))
    assert.is_nil(m)
    assert.equal("module badlib: ctx.lib: no helper library 'nope' (lua/luasible/module/lib/)", err)
  end)

  it("param_groups give modules the arguments they share", function()
    local shell, command = assert(modules.load("shell")), assert(modules.load("command"))
    for _, k in ipairs({ "chdir", "creates", "removes", "stdin", "timeout", "env" }) do
      assert.truthy(shell.params[k], k)
      assert.equal(shell.params[k], command.params[k], k)
    end
    local copy, template = assert(modules.load("copy")), assert(modules.load("template"))
    for _, k in ipairs({ "dest", "mode", "owner", "group", "backup", "force", "follow" }) do
      assert.truthy(copy.params[k], k)
      assert.equal(copy.params[k], template.params[k], k)
    end
    assert.is_true(copy.params.dest.required)
    assert.same({ nil, "shell: unknown argument 'nope' (known: chdir, cmd, creates, env, executable, removes, stdin,"
      .. " stdin_add_newline, strip_empty_ends, timeout)", "nope" },
      { modules.validate(shell, { cmd = "x", nope = 1 }) })
    local dir = files.tmpdir()
    write(dir .. "/odd.lua", "return { param_groups = { 'nosuch' }, run = function() end }")
    local mod, err = modules.load("odd", { dir })
    assert.is_nil(mod)
    assert.truthy(err:find("unknown param group 'nosuch'", 1, true), err)
  end)

  it("loads each module once per search path, and again through a new one", function()
    local dir = files.tmpdir()
    write(dir .. "/counted.lua", "COUNTED_LOADS = (COUNTED_LOADS or 0) + 1 return { run = function() end }")
    local path = modules.search_path(dir)
    local a = assert(modules.load("counted", path))
    assert.equal(a, (modules.load("counted", path)))
    assert.equal(1, _G.COUNTED_LOADS)
    local b = assert(modules.load("counted", modules.search_path(dir)))
    assert.are_not.equal(a, b)
    assert.equal(2, _G.COUNTED_LOADS)
    _G.COUNTED_LOADS = nil
  end)

  it("streaming_shell keeps the lines the stream delivers once: stdout_lines, stdout, and its events", function()
    -- a stream as the core gives it: lines, a redraw ("\r"), a long line in chunks
    local evs = {
      { type = "stdout", data = "first" },
      { type = "stdout", data = "50%", cr = true },
      { type = "stdout", data = "one long ", partial = true },
      { type = "stdout", data = "line" },
      { type = "stderr", data = "warn" },
      { type = "stdout", data = "" },
      { type = "done", result = { rc = 0, ok = true, timed_out = false, duration = 0.1 } },
    }
    local conn = { kind = "fake", streaming = true, execute = function() error("not used") end,
      stream = function()
        local i = 0
        return function() i = i + 1 return evs[i] end
      end }
    local res, events = run_task({ streaming_shell = "whatever", register = "r" }, { conn = conn })
    assert.is_true(res.streamed)
    assert.same({ "first", "one long line" }, res.stdout_lines)
    assert.equal("first\none long line", res.stdout)
    assert.same({ "warn" }, res.stderr_lines)
    assert.equal("warn", res.stderr)
    assert.equal(4, res.lines) -- the empty last one too; a redraw is not a line
    local shown = {}
    for _, ev in ipairs(events) do
      if ev.type == "stdout" or ev.type == "stderr" then shown[#shown + 1] = ev.data end
    end
    assert.same({ "first", "50%", "one long ", "line", "warn", "" }, shown)
    -- and on the local connection: the lines of the output, as a list
    res = run_task({ streaming_shell = "printf 'a\\n\\nb\\n\\n'" })
    assert.same({ "a", "", "b" }, res.stdout_lines)
    assert.equal("a\n\nb", res.stdout)
  end)
end)

describe("modules on the local connection", function()
  teardown(function() os.execute("rm -rf " .. TMP) end)

  it("command runs argv without a shell", function()
    local res = run_task({ command = { argv = { "printf", "%s|", "a b", "$HOME;" } } })
    assert.equal("a b|$HOME;|", res.stdout)
    res = run_task({ command = "echo 'x  y' $HOME" })
    assert.equal("x  y $HOME", res.stdout)
  end)

  it("shell runs through sh, honours creates and reports failures", function()
    local res = run_task({ shell = "echo $((1+2)); exit 3" })
    assert.equal("3", res.stdout)
    assert.equal(3, res.rc)
    assert.is_true(res.failed)
    res = run_task({ shell = { cmd = "echo no", creates = "/" } })
    assert.is_false(res.changed)
  end)

  it("streaming_shell streams lines and progress from percentages", function()
    local res, events = run_task({ streaming_shell = {
      cmd = "echo 'step 1/4 25%'; echo 'halfway 50%'; echo 'done: 100%' >&2" } })
    assert.is_true(res.streamed)
    assert.equal(3, res.lines)
    local lines, pcts = {}, {}
    for _, ev in ipairs(events) do
      if ev.type == "stdout" or ev.type == "stderr" then lines[#lines + 1] = ev.type .. ":" .. ev.data end
      if ev.type == "progress" and ev.progress.percentage and ev.progress.stage == "executing"
        and ev.progress.message then pcts[#pcts + 1] = ev.progress.percentage end
    end
    assert.same({ "stdout:step 1/4 25%", "stdout:halfway 50%", "stderr:done: 100%" }, lines)
    assert.same({ 25, 50, 100 }, pcts)
    res = run_task({ streaming_shell = { cmd = "echo 'item 3 of 10'", progress_pattern = "item (%d+)" } })
    assert.is_true(res.streamed)
  end)

  it("streaming_shell falls back to execute on a connection that cannot stream", function()
    local res, events = run_task({ streaming_shell = { cmd = "echo a; echo 40%" } },
      { conn = execute_only_connection() })
    assert.is_false(res.streamed)
    assert.truthy(res.msg:find("cannot stream", 1, true))
    assert.equal(2, res.lines)
    local got = {}
    for _, ev in ipairs(events) do if ev.type == "stdout" then got[#got + 1] = ev.data end end
    assert.same({ "a", "40%" }, got)
  end)

  it("copy writes, is idempotent by checksum, sets mode and keeps a backup", function()
    local dest = TMP .. "/copy.txt"
    local res = run_task({ copy = { content = "one\n", dest = dest, mode = "0640" } })
    assert.is_true(res.changed)
    assert.equal("one\n", read(dest))
    assert.equal("640", io.popen("stat -c %a " .. dest):read("l"))
    res = run_task({ copy = { content = "one\n", dest = dest, mode = "0640" } })
    assert.is_false(res.changed)
    res = run_task({ copy = { content = "two\n", dest = dest, backup = true } })
    assert.is_true(res.changed)
    assert.equal("one\n", read(res.backup_file))
    assert.equal("640", io.popen("stat -c %a " .. dest):read("l"))
    res = run_task({ copy = { content = "three\n", dest = dest } }, { check = true })
    assert.is_true(res.changed)
    assert.equal("two\n", read(dest))
  end)

  it("copy copies a local src, also over an execute-only connection", function()
    local src = TMP .. "/src.bin"
    local bytes = {}
    for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
    write(src, table.concat(bytes):rep(300))
    local dest = TMP .. "/dest.bin"
    local res = run_task({ copy = { src = src, dest = dest } }, { conn = execute_only_connection() })
    assert.is_true(res.changed, res.msg)
    assert.equal(read(src), read(dest))
    res = run_task({ copy = { src = src, dest = dest } }, { conn = execute_only_connection() })
    assert.is_false(res.changed)
  end)

  it("copy and fetch move files with conn:put/get when the connection has them, with progress", function()
    local lc = luasible.connect()
    local calls = { put = 0, get = 0 }
    local conn = { kind = "wrapped", streaming = true,
      execute = function(_, ...) return lc:execute(...) end,
      stream = function(_, ...) return lc:stream(...) end,
      put = function(_, ...) calls.put = calls.put + 1 return lc:put(...) end,
      get = function(_, ...) calls.get = calls.get + 1 return lc:get(...) end }
    local dest = TMP .. "/put.txt"
    local content = ("x"):rep(100000)
    local res, events = run_task({ copy = { content = content, dest = dest, mode = "0600" } }, { conn = conn })
    assert.is_true(res.changed, res.msg)
    assert.equal(1, calls.put)
    assert.equal(content, read(dest))
    assert.equal("600", io.popen("stat -c %a " .. dest):read("l"))
    local last
    for _, ev in ipairs(events) do
      if ev.type == "progress" then
        assert.equal("transferring", ev.progress.stage)
        assert.equal(dest, ev.progress.message)
        last = ev.progress
      end
    end
    assert.equal(#content, last.bytes_total)
    assert.equal(#content, last.bytes_done)
    assert.equal(core.sha256(content), last.sha256)
    res = run_task({ fetch = { src = dest, dest = TMP .. "/got", flat = true } }, { conn = conn })
    assert.is_true(res.changed, res.msg)
    assert.equal(1, calls.get)
    assert.equal(content, read(TMP .. "/got"))
    -- the same through an execute-only connection: no put/get, still progress
    local dest2 = TMP .. "/noput.txt"
    res, events = run_task({ copy = { content = content, dest = dest2, mode = "0600" } },
      { conn = execute_only_connection() })
    assert.is_true(res.changed, res.msg)
    assert.equal(content, read(dest2))
    assert.equal("600", io.popen("stat -c %a " .. dest2):read("l"))
    local n = 0
    for _, ev in ipairs(events) do if ev.type == "progress" then n = n + 1 last = ev.progress end end
    assert.is_true(n >= 2)
    assert.equal(#content, last.bytes_done)
    assert.is_nil(io.popen("ls -a " .. TMP .. " | grep -c luasible"):read("l"):match("^[1-9]"))
  end)

  it("hashes with the C core (ctx.sha256)", function()
    local ctx = context.new({})
    assert.equal(core.sha256, ctx.sha256)
    for s, want in pairs({ [""] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        [("a"):rep(55)] = "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
        [("a"):rep(64)] = "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" }) do
      assert.equal(want, ctx.sha256(s))
    end
  end)

  it("template renders with host vars and installs like copy", function()
    local dest = TMP .. "/app.conf"
    local res = runner.play({ hosts = "localhost", vars = { app = "shop", port = 8080, workers = { "a", "b" },
      debug = false }, tasks = { { template = { src = "template.conf.tmpl", dest = dest } } } },
      { base_dir = "spec/fixtures" })
    assert.equal(1, res.localhost.changed)
    assert.equal("# shop on localhost\nport = 8080\nworker 1 = a\nworker 2 = b\n", read(dest))
  end)

  it("file manages directories, touch, links, modes and absence", function()
    local d = TMP .. "/dir/sub"
    assert.is_true(run_task({ file = { path = d, state = "directory", mode = "0750" } }).changed)
    assert.is_false(run_task({ file = { path = d, state = "directory", mode = "0750" } }).changed)
    assert.is_true(run_task({ file = { path = d .. "/f", state = "touch" } }).changed)
    assert.is_true(run_task({ file = { path = TMP .. "/link", state = "link", src = d } }).changed)
    assert.is_false(run_task({ file = { path = TMP .. "/link", state = "link", src = d } }).changed)
    assert.is_true(run_task({ file = { path = TMP .. "/dir", state = "directory", mode = "0700",
      recurse = true } }).changed)
    assert.equal("700", io.popen("stat -c %a " .. d):read("l"))
    assert.is_true(run_task({ file = { path = TMP .. "/dir", state = "absent" } }, { check = true }).changed)
    assert.equal("700", io.popen("stat -c %a " .. d):read("l"))
    assert.is_true(run_task({ file = { path = TMP .. "/dir", state = "absent" } }).changed)
    assert.is_false(run_task({ file = { path = TMP .. "/dir", state = "absent" } }).changed)
    assert.is_nil(read(d .. "/f"))
  end)

  it("lineinfile adds, replaces and removes lines", function()
    local f = TMP .. "/conf"
    write(f, "a=1\nb=2\n")
    assert.is_true(run_task({ lineinfile = { path = f, regexp = "^b=", line = "b=3" } }).changed)
    assert.equal("a=1\nb=3\n", read(f))
    assert.is_false(run_task({ lineinfile = { path = f, regexp = "^b=", line = "b=3" } }).changed)
    assert.is_true(run_task({ lineinfile = { path = f, line = "c=4", insertbefore = "^b=" } }).changed)
    assert.equal("a=1\nc=4\nb=3\n", read(f))
    assert.is_true(run_task({ lineinfile = { path = f, regexp = "^a=", state = "absent" } }).changed)
    assert.equal("c=4\nb=3\n", read(f))
    local res, _, status = run_task({ lineinfile = { path = TMP .. "/nofile", line = "x" } })
    assert.equal("failed", status)
    assert.truthy(res.msg:find("does not exist", 1, true))
  end)

  it("fetch brings a file back into dest/<host>/path", function()
    write(TMP .. "/remote.txt", "data\n")
    local res = run_task({ fetch = { src = TMP .. "/remote.txt", dest = TMP .. "/fetched" } })
    assert.is_true(res.changed)
    assert.equal("data\n", read(TMP .. "/fetched/localhost" .. TMP .. "/remote.txt"))
    assert.is_false(run_task({ fetch = { src = TMP .. "/remote.txt", dest = TMP .. "/fetched" } }).changed)
  end)

  it("apt reports an installed package as unchanged without downloading", function()
    local res = run_task({ apt = { name = { "bash", "coreutils" }, state = "present" } })
    assert.is_false(res.failed, res.msg)
    assert.is_false(res.changed)
    res = run_task({ package = { name = "bash" } })
    assert.is_false(res.changed)
    res = run_task({ apt = { name = "luasible-no-such-package-xyz" } }, { check = true })
    assert.is_true(res.changed)
    assert.truthy(res.msg:find("would run: apt-get install", 1, true))
  end)

  it("apt leaves recommends to apt's own setting unless install_recommends says", function()
    local res = run_task({ apt = { name = "luasible-no-such-package-xyz" } }, { check = true })
    assert.equal("would run: apt-get install -y -q luasible-no-such-package-xyz", res.msg)
    res = run_task({ apt = { name = "luasible-no-such-package-xyz", install_recommends = false } }, { check = true })
    assert.equal("would run: apt-get install -y -q -o APT::Install-Recommends=no luasible-no-such-package-xyz", res.msg)
    res = run_task({ apt = "name=luasible-no-such-package-xyz install_recommends=yes" }, { check = true })
    assert.equal("would run: apt-get install -y -q -o APT::Install-Recommends=yes luasible-no-such-package-xyz",
      res.msg)
  end)

  it("apt state=latest installs a missing package (judged by apt-get -s, not by translated text)", function()
    local p = io.popen("apt-get -s install sl 2>/dev/null | grep -c '^Inst sl'")
    local can = p:read("l") == "1"
    p:close()
    if not can or os.execute("dpkg-query -W sl >/dev/null 2>&1") then
      return pending("needs apt lists knowing 'sl', not installed")
    end
    local res = run_task({ apt = { name = "sl", state = "latest" } }, { check = true })
    assert.is_false(res.failed, res.msg)
    assert.is_true(res.changed, res.msg)
    assert.equal("would install or upgrade: sl", res.msg)
    assert.is_falsy(os.execute("dpkg-query -W sl >/dev/null 2>&1"))
    res = run_task({ apt = { name = "luasible-no-such-package-xyz", state = "latest" } }, { check = true })
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("luasible-no-such-package-xyz", 1, true), res.msg)
  end)

  it("systemd and service fail clearly without systemd", function()
    if os.execute("test -d /run/systemd/system") then return pending("systemd runs here") end
    local res, _, status = run_task({ systemd = { name = "nginx", state = "started" } })
    assert.equal("failed", status)
    assert.truthy(res.msg:find("systemd is not running on localhost", 1, true))
    res, _, status = run_task({ service = { name = "luasible-nosuch", state = "started" } })
    assert.equal("failed", status)
    assert.truthy(res.msg:find("no service manager for 'luasible-nosuch'", 1, true))
  end)

  it("service without systemd honours enabled through update-rc.d, or fails saying it cannot", function()
    if os.execute("test -d /run/systemd/system") then return pending("systemd runs here") end
    if not os.execute("test -w /etc/init.d && command -v update-rc.d >/dev/null") then
      return pending("needs root and update-rc.d")
    end
    local name = "luasible-spec-" .. math.random(1e6)
    local script = "/etc/init.d/" .. name
    local function links() return files.sh("ls /etc/rc2.d /etc/rc3.d | grep -c '^S[0-9][0-9]" .. name .. "$'") end
    write(script, "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: " .. name .. "\n# Required-Start:\n# Required-Stop:\n"
      .. "# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n# Short-Description: spec\n### END INIT INFO\n"
      .. "case \"$1\" in status) exit 3;; *) exit 0;; esac\n")
    finally(function() os.execute("update-rc.d -f " .. name .. " remove >/dev/null 2>&1; rm -f " .. script) end)
    os.execute("chmod 755 " .. script)
    local res, _, status = run_task({ service = { name = name, enabled = true } }, { check = true })
    assert.equal("changed", status, res.msg)
    assert.equal("would enable " .. name, res.msg)
    assert.equal("0", links())
    res, _, status = run_task({ service = { name = name, enabled = true } })
    assert.equal("changed", status, res.msg)
    assert.equal("2", links())
    res, _, status = run_task({ service = { name = name, enabled = true } })
    assert.equal("ok", status, res.msg)
    res, _, status = run_task({ service = { name = name, enabled = false, state = "started" } })
    assert.equal("changed", status, res.msg)
    assert.equal("0", links())
    -- a host without update-rc.d (its PATH has no sbin): enabled cannot be honoured, and says so
    local lc = luasible.connect()
    local nosbin = { execute = function(_, cmd, o)
      o = o or {}
      o.env = { PATH = "/usr/bin:/bin" }
      return lc:execute(cmd, o)
    end }
    res, _, status = run_task({ service = { name = name, enabled = true } }, { conn = nosbin })
    assert.equal("failed", status)
    assert.equal("cannot honour enabled=true for '" .. name .. "' on localhost: systemd is not running and"
      .. " update-rc.d is not available", res.msg)
    assert.equal("0", links())
    lc:close()
  end)

  it("wait_for with only timeout waits that long (a plain sleep), ok and not changed", function()
    local t0 = luasible.now()
    local res, _, status = run_task({ wait_for = { timeout = 0.3 } })
    assert.equal("ok", status, res.msg)
    assert.is_false(res.changed)
    assert.is_true(luasible.now() - t0 >= 0.3)
    assert.is_true(res.elapsed >= 0.3 and res.elapsed < 2, tostring(res.elapsed))
    res, _, status = run_task({ wait_for = "timeout=0.1 delay=0.1" })
    assert.equal("ok", status, res.msg)
    assert.is_true(res.elapsed >= 0.2, tostring(res.elapsed))
  end)

  it("wait_for refuses host, search_regex or state without port or path (no silent sleep)", function()
    for _, args in ipairs({ { host = "10.0.0.1", timeout = 5 }, { search_regex = "ready", timeout = 5 },
        { state = "stopped", timeout = 5 }, { state = "started" } }) do
      local r, err = runner.play({ hosts = "localhost", tasks = { { wait_for = args } } },
        { on_event = function() end })
      assert.is_nil(r)
      assert.truthy(err:find("wait_for: host/search_regex/state need port or path", 1, true), err)
    end
    -- a templated port is only known per host: not refused before
    local res, _, status = run_task({ wait_for = { port = "{{ 1 }}", host = "127.0.0.1", state = "stopped",
      timeout = 1 } })
    assert.equal("ok", status, res.msg)
  end)

  it("apt and package refuse a package name that starts with '-' (it would be an option)", function()
    for _, task in ipairs({ { apt = { name = { "bash", "-x" } } }, { package = { name = "-y" } },
        { apt = "name=--purge" } }) do
      local r, err = runner.play({ hosts = "localhost", tasks = { task } }, { on_event = function() end })
      assert.is_nil(r)
      assert.truthy(err:find("package name '%-[%-xy]%a*' starts with '%-': it would be taken for an option"), err)
    end
    local res = run_task({ apt = { name = "{{ '-q' }}" } }, { check = true })
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("package name '-q'", 1, true), res.msg)
  end)

  it("wait_for waits for a path and times out clearly", function()
    local p = TMP .. "/appears"
    local t0 = luasible.now()
    local res
    luasible.run(function()
      luasible.spawn(function() luasible.sleep(0.3); write(p, "x") end)
      res = run_task({ wait_for = { path = p, timeout = 5, sleep = 0.05 } })
    end)
    assert.is_false(res.failed)
    assert.is_true(luasible.now() - t0 >= 0.3)
    local r2, _, status = run_task({ wait_for = { port = 1, timeout = 0.3, sleep = 0.1 } })
    assert.equal("failed", status)
    assert.truthy(r2.msg:find("timeout after 0.3s waiting for 127.0.0.1:1 to be started", 1, true))
  end)

  it("ping, debug and setup", function()
    assert.equal("pong", run_task({ ping = {} }).ping)
    assert.equal("hello", run_task({ debug = { msg = "hello" } }).msg)
    local res = runner.play({ hosts = "localhost", tasks = { { debug = { var = "ansible_become_password" } } } },
      { inventory = { all = { hosts = { localhost = { ansible_connection = "local",
          ansible_become_password = "s3" } } } },
        on_event = function(ev) assert.is_nil(require("luasible.json").encode(ev):find("s3", 1, true)) end })
    assert.equal(1, res.localhost.ok)
    local facts = run_task({ setup = {} }).ansible_facts
    assert.equal("Debian", facts.os_family)
    assert.is_true(facts.processor_count >= 1)
    assert.is_true(facts.memtotal_mb > 0)
    assert.is_string(facts.hostname)
  end)

  it("debug var= shows a secret masked, never nothing, and a table as JSON with sorted keys", function()
    local shown = {}
    local recap = runner.play({ hosts = "localhost", vars = { api_token = "t0k", db = { Password = "pw1", user = "u" },
        r = { z = 1, a = { 2, 1 }, m = "x", e = {} } },
      tasks = {
        { name = "bp", debug = { var = "ansible_become_password" } },
        { name = "tok", debug = { var = "api_token" } },
        { name = "nested", debug = { var = "db" } },
        { name = "leaf", debug = { var = "db.Password" } },
        { name = "r", debug = { var = "r" } },
        { name = "undef", debug = { var = "nosuch" } },
      } },
      { inventory = { all = { hosts = {
          localhost = { ansible_connection = "local", ansible_become_password = "s3" } } } },
        on_event = function(ev)
          local line = require("luasible.json").encode(ev)
          for _, sec in ipairs({ "s3", "t0k", "pw1" }) do assert.is_nil(line:find(sec, 1, true), line) end
          if ev.type == "host_task_result" then shown[ev.task] = ev.result.msg end
        end })
    assert.equal(6, recap.localhost.ok)
    assert.equal("ansible_become_password = ********", shown.bp)
    assert.equal("api_token = ********", shown.tok)
    assert.equal('db = {"Password":"********","user":"u"}', shown.nested)
    assert.equal("db.Password = ********", shown.leaf)
    assert.equal('r = {"a":[2,1],"e":[],"m":"x","z":1}', shown.r)
    assert.truthy(shown.undef:find("nosuch: VARIABLE IS NOT DEFINED", 1, true), shown.undef)
  end)

  describe("setup facts as Ansible names them", function()
    local function os_release()
      local t = {}
      for l in (read("/etc/os-release") or ""):gmatch("[^\n]+") do
        local k, v = l:match("^([%w_]+)=(.*)$")
        if k then t[k] = v:gsub('^"(.*)"$', "%1") end
      end
      return t
    end

    it("gives this host's distribution, version, release and family from os-release", function()
      local osr = os_release()
      local facts = run_task({ setup = {} }).ansible_facts
      local names = { debian = "Debian", ubuntu = "Ubuntu" }
      assert.equal(names[osr.ID] or facts.distribution, facts.distribution)
      assert.equal("Debian", facts.os_family)
      assert.equal(osr.VERSION_ID:match("^%d+"), facts.distribution_major_version)
      assert.equal(facts.distribution_major_version, facts.distribution_version:match("^%d+"))
      assert.equal(osr.VERSION_CODENAME or "NA", facts.distribution_release)
      local dv = read("/etc/debian_version")
      if osr.ID == "debian" and dv and dv:match("^%d+%.%d+") then
        assert.equal(dv:match("^(%d+%.%d+)"), facts.distribution_version)
      end
      -- what `when: ansible_distribution == 'Debian'` needs
      local recap, details = runner.play({ hosts = "localhost", gather_facts = true, tasks = {
        { name = "deb", debug = "on {{ ansible_distribution }} {{ ansible_distribution_major_version }}",
          when = "ansible_distribution == 'Debian' and ansible_os_family == 'Debian'" } } })
      assert.equal(0, recap.localhost.skipped)
      assert.equal("on Debian " .. osr.VERSION_ID:match("^%d+"), details.hosts.localhost[2].result.msg)
    end)

    it("maps os-release IDs like Ansible", function()
      local setup = assert(modules.load("setup"))
      local cases = {
        { { ID = "debian", NAME = "Debian GNU/Linux", VERSION_ID = "12", VERSION_CODENAME = "bookworm" },
          "Debian", "Debian", "12", "bookworm" },
        { { ID = "ubuntu", ID_LIKE = "debian", NAME = "Ubuntu", VERSION_ID = "22.04",
            VERSION_CODENAME = "jammy" }, "Ubuntu", "Debian", "22.04", "jammy" },
        { { ID = "centos", NAME = "CentOS Stream", VERSION_ID = "9" }, "CentOS", "RedHat", "9", "NA" },
        { { ID = "rhel", NAME = "Red Hat Enterprise Linux", VERSION_ID = "9.3", VERSION = "9.3 (Plow)" },
          "RedHat", "RedHat", "9.3", "Plow" },
        { { ID = "fedora", NAME = "Fedora Linux", VERSION_ID = "39" }, "Fedora", "RedHat", "39", "NA" },
        { { ID = "rocky", ID_LIKE = "rhel centos fedora", NAME = "Rocky Linux", VERSION_ID = "9.3" },
          "Rocky", "RedHat", "9.3", "NA" },
        { { ID = "almalinux", NAME = "AlmaLinux", VERSION_ID = "8.9" }, "AlmaLinux", "RedHat", "8.9", "NA" },
        { { ID = "alpine", NAME = "Alpine Linux", VERSION_ID = "3.19.1" }, "Alpine", "Alpine", "3.19.1", "NA" },
        { { ID = "arch", NAME = "Arch Linux" }, "Archlinux", "Archlinux", "NA", "NA" },
        { { ID = "opensuse-leap", ID_LIKE = "suse opensuse", NAME = "openSUSE Leap", VERSION_ID = "15.5" },
          "openSUSE Leap", "Suse", "15.5", "NA" },
        { { ID = "sles", NAME = "SLES", VERSION_ID = "15.5" }, "SLES", "Suse", "15.5", "NA" },
        { { ID = "amzn", ID_LIKE = "centos rhel fedora", NAME = "Amazon Linux", VERSION_ID = "2023" },
          "Amazon", "RedHat", "2023", "NA" },
        { { ID = "zorin", ID_LIKE = "ubuntu debian", NAME = "Zorin OS", VERSION_ID = "17" },
          "Zorin", "Debian", "17", "NA" },
      }
      for _, c in ipairs(cases) do
        local f = setup.distribution_facts(c[1], nil, "Linux")
        assert.same({ c[2], c[3], c[4], c[5] },
          { f.distribution, f.os_family, f.distribution_version, f.distribution_release }, c[1].ID)
        assert.equal(c[4]:match("^%d+") or "NA", f.distribution_major_version)
      end
      local deb = { ID = "debian", VERSION_ID = "12" }
      assert.equal("12.5", setup.distribution_facts(deb, "12.5").distribution_version)
      assert.equal("5", setup.distribution_facts(deb, "12.5").distribution_minor_version)
      assert.equal("12", setup.distribution_facts(deb, "trixie/sid").distribution_version)
    end)

    it("gives ansible_default_ipv4 as a table: address, interface, gateway", function()
      local facts = run_task({ setup = {} }).ansible_facts
      local p = io.popen("ip -4 route get 8.8.8.8 2>/dev/null")
      local route = p:read("a")
      p:close()
      assert.is_table(facts.default_ipv4)
      if route:find(" dev ") then
        assert.equal(route:match(" dev (%S+)"), facts.default_ipv4.interface)
        assert.equal(route:match(" src (%S+)"), facts.default_ipv4.address)
        assert.equal(route:match(" via (%S+)"), facts.default_ipv4.gateway)
        assert.truthy(facts.default_ipv4.netmask:match("^%d+%.%d+%.%d+%.%d+$"))
        assert.is_string(facts.default_ipv4.prefix)
        local recap, details = runner.play({ hosts = "localhost", gather_facts = true, tasks = {
          { name = "ip", debug = "{{ ansible_default_ipv4.address }} via {{ ansible_default_ipv4.interface }}" } } })
        assert.equal(1, recap.localhost.ok - 1)
        assert.equal(facts.default_ipv4.address .. " via " .. facts.default_ipv4.interface,
          details.hosts.localhost[2].result.msg)
      else
        assert.same({}, facts.default_ipv4)
      end
    end)
  end)

  describe("a command that cannot run is a failed task, not an unreachable host", function()
    it("a missing program, a missing or wrong chdir: failed with the message; ignore_errors works", function()
      local recap, details = runner.play({ hosts = "localhost", tasks = {
        { name = "noprog", command = "no_such_prog_xyz", ignore_errors = true },
        { name = "nodir", shell = { cmd = "echo hi", chdir = "/nonexistent" }, ignore_errors = true },
        { name = "notdir", shell = { cmd = "echo hi", chdir = "/etc/passwd" }, ignore_errors = true },
        { name = "after", command = "true" },
      } }, {})
      local d = details.hosts.localhost
      assert.equal("failed", d[1].status)
      assert.truthy(d[1].result.msg:find("^ENOENT: .*no_such_prog_xyz"), d[1].result.msg)
      assert.equal("failed", d[2].status)
      assert.truthy(d[2].result.msg:find("^ENOENT: .*/nonexistent"), d[2].result.msg)
      assert.equal("failed", d[3].status)
      assert.truthy(d[3].result.msg:find("^ENOTDIR"), d[3].result.msg)
      assert.equal("changed", d[4].status)
      assert.same({ ok = 4, changed = 1, failed = 0, unreachable = 0, skipped = 0, ignored = 3 }, recap.localhost)
    end)

    it("a lost connection is still unreachable", function()
      for _, e in ipairs({ "ECONNRESET: connection to u@h:22 lost", "EHOSTKEY: host key of h changed",
          "ENOENT: cannot resolve host of u@h:22: unknown node", "EPIPE: broken pipe" }) do
        local conn = { kind = "broken", execute = function() return nil, e, e:match("^(%u+)") end }
        local _, _, status = run_task({ shell = "true", ignore_errors = true }, { conn = conn })
        assert.equal("unreachable", status, e)
      end
      -- a stream that cannot start: the same names decide
      for e, want in pairs({ ["EAUTH: no method worked"] = "unreachable", ["ECONNRESET: lost"] = "unreachable",
          ["ENOENT: cwd '/nope': No such file or directory"] = "failed" }) do
        local conn = { kind = "broken", streaming = true, stream = function()
          local sent = false
          return function()
            if sent then return nil end
            sent = true
            local name = e:match("^%u+") -- contract 1: the event carries its name
            return { type = "error", error = e, code = name, result = { ok = false, timed_out = false, code = name } }
          end
        end }
        local _, _, status = run_task({ streaming_shell = "true", ignore_errors = true }, { conn = conn })
        assert.equal(want, status, e)
      end
      assert.is_true(context.is_unreachable("ETIMEDOUT: connect to h:22 timed out", "ETIMEDOUT"))
      assert.is_false(context.is_unreachable("EACCES: cannot execute 'x': permission denied", "EACCES"))
      -- the name decides, never a message read for one
      assert.is_false(context.is_unreachable("ECONNRESET: lost", nil))
    end)
  end)

  describe("files written safely", function()
    -- the local connection, recording every command line and put
    local function spy()
      local lc = luasible.connect()
      local log = {}
      local conn = { kind = "spy", streaming = true, log = log,
        execute = function(_, cmd, opts)
          log[#log + 1] = { cmd = type(cmd) == "table" and table.concat(cmd, " ") or cmd, stdin = opts and opts.stdin }
          return lc:execute(cmd, opts)
        end,
        put = function(_, src, dest, opts)
          log[#log + 1] = { put = dest, mode = opts and opts.mode }
          return lc:put(src, dest, opts)
        end }
      return conn
    end

    it("with become (or without put) the content goes on stdin, never on a command line", function()
      local conn = spy()
      conn.put = nil
      local secret = "top-secret-" .. math.random(1e9)
      local content = secret .. "\n" .. ("\0\255binary"):rep(10)
      local dest = TMP .. "/stdin.txt"
      local res = run_task({ copy = { content = content, dest = dest, mode = "0600" } }, { conn = conn })
      assert.is_true(res.changed, res.msg)
      assert.equal(content, read(dest))
      assert.equal("600", io.popen("stat -c %a " .. dest):read("l"))
      local b64 = files.base64(content)
      local fed = false
      for _, c in ipairs(conn.log) do
        assert.is_nil(c.cmd:find(secret, 1, true), c.cmd)
        assert.is_nil(c.cmd:find(b64:sub(1, 16), 1, true), c.cmd)
        fed = fed or c.stdin == content
      end
      assert.is_true(fed)
      -- an empty file too
      res = run_task({ copy = { content = "", dest = TMP .. "/empty.txt" } }, { conn = conn })
      assert.is_true(res.changed, res.msg)
      assert.equal("", read(TMP .. "/empty.txt"))
      -- and a line through lineinfile
      conn = spy()
      conn.put = nil
      res = run_task({ lineinfile = { path = TMP .. "/li.txt", line = secret, create = true } }, { conn = conn })
      assert.is_true(res.changed, res.msg)
      for _, c in ipairs(conn.log) do assert.is_nil(c.cmd:find(secret, 1, true), c.cmd) end
      assert.equal(secret .. "\n", read(TMP .. "/li.txt"))
    end)

    it("the mode is given to put (before the rename), symbolic modes included, never chmod after", function()
      local conn = spy()
      local dest = TMP .. "/secret.txt"
      local res = run_task({ copy = { content = "s3cret\n", dest = dest, mode = "u=rw,go=" } }, { conn = conn })
      assert.is_true(res.changed, res.msg)
      local put
      for _, c in ipairs(conn.log) do
        if c.put then put = c
        elseif put then assert.is_nil(c.cmd:find("chmod", 1, true), c.cmd) end
      end
      assert.equal(tonumber("600", 8), put.mode)
      assert.equal("600", io.popen("stat -c %a " .. dest):read("l"))
      -- idempotent with a symbolic mode
      res = run_task({ copy = { content = "s3cret\n", dest = dest, mode = "u=rw,go=" } }, { conn = spy() })
      assert.is_false(res.changed)
      assert.equal(tonumber("755", 8), context.new({}).mode_bits("u+x,go+rx", tonumber("644", 8)))
      assert.equal(tonumber("640", 8), context.new({}).mode_bits("g-w,o=", tonumber("664", 8)))
      assert.equal(tonumber("755", 8), context.new({}).mode_bits("+X", tonumber("644", 8), true))
      assert.equal(tonumber("644", 8), context.new({}).mode_bits("+X", tonumber("644", 8), false))
      assert.equal(tonumber("4711", 8), context.new({}).mode_bits("u+s,go=x", tonumber("700", 8)))
    end)

    it("without put the temporary file is 0600 and gets its mode before the rename", function()
      local conn = spy()
      conn.put = nil
      local dest = TMP .. "/fallback-mode.txt"
      local res = run_task({ copy = { content = "x\n", dest = dest, mode = "0640" } }, { conn = conn })
      assert.is_true(res.changed, res.msg)
      local create, final
      for _, c in ipairs(conn.log) do
        if c.cmd:find("umask 077", 1, true) then create = c.cmd end
        if c.cmd:find("mv -f", 1, true) then final = c.cmd end
      end
      assert.truthy(create, "no umask 077")
      assert.truthy(final:find("chmod 0640 [^;]*&& mv %-f"), final)
      assert.equal("640", io.popen("stat -c %a " .. dest):read("l"))
    end)

    it("the local put never leaves the content readable by others, not even while it moves", function()
      local lc = luasible.connect()
      local dest = TMP .. "/moving.txt"
      local seen = {}
      local res = assert(lc:put(("s"):rep(3 * 1024 * 1024), dest, { content = true, mode = tonumber("600", 8),
        on_progress = function()
          local p = io.popen("stat -c %a " .. TMP .. "/.moving.txt.luasible-*.tmp 2>/dev/null")
          seen[#seen + 1] = p:read("l")
          p:close()
        end }))
      assert.is_true(res.ok)
      assert.equal("600", io.popen("stat -c %a " .. dest):read("l"))
      for _, m in ipairs(seen) do assert.equal("600", m) end
    end)

    it("copy is idempotent for file names holding a backslash or a newline", function()
      for _, name in ipairs({ "back\\slash.txt", "new\nline.txt" }) do
        local dest = TMP .. "/" .. name
        assert.is_true(run_task({ copy = { content = "c\n", dest = dest } }).changed)
        local res = run_task({ copy = { content = "c\n", dest = dest } })
        assert.is_false(res.changed, name)
        assert.equal("c\n", read(dest))
      end
    end)
  end)
end)

describe("files behind symbolic links and copy's errors", function()
  local D = files.tmpdir()
  local sh = files.sh

  it("copy to a link to a folder copies into the folder", function()
    os.execute("mkdir -p " .. D .. "/realdir && ln -sfn " .. D .. "/realdir " .. D .. "/dirlink")
    write(D .. "/s.txt", "s\n")
    local res = run_task({ copy = { src = D .. "/s.txt", dest = D .. "/dirlink" } })
    assert.is_true(res.changed, res.msg)
    assert.equal("s\n", read(D .. "/realdir/s.txt"))
    assert.equal("symbolic link", sh("stat -c %F " .. D .. "/dirlink"))
    assert.is_false(run_task({ copy = { src = D .. "/s.txt", dest = D .. "/dirlink" } }).changed)
    -- template into a linked folder takes the template's name; content cannot
    write(D .. "/t.j2", "{{ 1 + 1 }}\n")
    assert.is_true(run_task({ template = { src = D .. "/t.j2", dest = D .. "/dirlink" } }).changed)
    assert.equal("2\n", read(D .. "/realdir/t.j2"))
    local bad = run_task({ copy = { content = "c", dest = D .. "/dirlink" } })
    assert.is_true(bad.failed)
    assert.truthy(bad.msg:find("is a directory", 1, true), bad.msg)
  end)

  it("copy and template replace a link to a file by a file, keeping the target's mode, as Ansible does", function()
    write(D .. "/rtarget.txt", "old\n")
    os.execute("chmod 600 " .. D .. "/rtarget.txt && ln -sfn " .. D .. "/rtarget.txt " .. D .. "/rlink")
    -- the same content: nothing to do, the link stays
    assert.is_false(run_task({ copy = { content = "old\n", dest = D .. "/rlink" } }).changed)
    assert.equal("symbolic link", sh("stat -c %F " .. D .. "/rlink"))
    local res = run_task({ copy = { content = "new\n", dest = D .. "/rlink" } })
    assert.is_true(res.changed, res.msg)
    assert.equal("regular file", sh("stat -c %F " .. D .. "/rlink"))
    assert.equal("600", sh("stat -c %a " .. D .. "/rlink")) -- never the link's own 777
    os.execute("ln -sfn " .. D .. "/rtarget.txt " .. D .. "/rlink3")
    assert.is_true(run_task({ copy = { content = "m\n", dest = D .. "/rlink3", mode = "u+x" } }).changed)
    assert.equal("700", sh("stat -c %a " .. D .. "/rlink3")) -- a symbolic mode on the target's
    assert.equal("new\n", read(D .. "/rlink"))
    assert.equal("old\n", read(D .. "/rtarget.txt"))
    os.execute("ln -sfn " .. D .. "/rtarget.txt " .. D .. "/rlink2")
    write(D .. "/r.j2", "tpl\n")
    assert.is_true(run_task({ template = { src = D .. "/r.j2", dest = D .. "/rlink2" } }).changed)
    assert.equal("regular file", sh("stat -c %F " .. D .. "/rlink2"))
    assert.equal("old\n", read(D .. "/rtarget.txt"))
    -- a dangling link: replaced by a new file, nothing created where it pointed
    os.execute("ln -sfn " .. D .. "/nowhere.txt " .. D .. "/rdangling")
    assert.is_true(run_task({ copy = { content = "n\n", dest = D .. "/rdangling" } }).changed)
    assert.equal("regular file", sh("stat -c %F " .. D .. "/rdangling"))
    assert.equal("644", sh("stat -c %a " .. D .. "/rdangling"))
    assert.is_nil(read(D .. "/nowhere.txt"))
  end)

  it("copy and template with follow = true, and lineinfile, update the target of a link in place", function()
    write(D .. "/target.txt", "old\n")
    os.execute("chmod 600 " .. D .. "/target.txt && ln -sfn " .. D .. "/target.txt " .. D .. "/flink")
    local res = run_task({ copy = { content = "new\n", dest = D .. "/flink", follow = true } })
    assert.is_true(res.changed, res.msg)
    assert.equal("symbolic link", sh("stat -c %F " .. D .. "/flink"))
    assert.equal("new\n", read(D .. "/target.txt"))
    assert.equal("600", sh("stat -c %a " .. D .. "/target.txt"))
    assert.is_false(run_task({ copy = { content = "new\n", dest = D .. "/flink", follow = true } }).changed)
    write(D .. "/t2.j2", "tpl\n")
    assert.is_true(run_task({ template = { src = D .. "/t2.j2", dest = D .. "/flink", follow = true } }).changed)
    assert.equal("tpl\n", read(D .. "/target.txt"))
    res = run_task({ lineinfile = { path = D .. "/flink", line = "added" } })
    assert.is_true(res.changed, res.msg)
    assert.equal("tpl\nadded\n", read(D .. "/target.txt"))
    assert.equal("symbolic link", sh("stat -c %F " .. D .. "/flink"))
    assert.equal("600", sh("stat -c %a " .. D .. "/target.txt"))
    -- a dangling link: the file is created where it points, not world-writable
    os.execute("ln -sfn " .. D .. "/new-target.txt " .. D .. "/dangling")
    assert.is_true(run_task({ copy = { content = "n\n", dest = D .. "/dangling", follow = true } }).changed)
    assert.equal("n\n", read(D .. "/new-target.txt"))
    assert.equal("644", sh("stat -c %a " .. D .. "/new-target.txt"))
  end)

  it("copy says plainly when the folder is missing, src is a folder or the owner does not exist", function()
    local res = run_task({ copy = { content = "a", dest = D .. "/nodir/a.txt" } })
    assert.is_true(res.failed)
    assert.equal("cannot write " .. D .. "/nodir/a.txt: the folder " .. D .. "/nodir does not exist", res.msg)
    os.execute("mkdir -p " .. D .. "/srcdir")
    res = run_task({ copy = { src = D .. "/srcdir", dest = D .. "/x" } })
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("is a directory", 1, true), res.msg)
    res = run_task({ copy = { content = "a", dest = D .. "/own.txt", owner = "no-such-user-xyz" } })
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("no such user 'no-such-user-xyz'", 1, true), res.msg)
    assert.is_nil(read(D .. "/own.txt"))
    res = run_task({ copy = { content = "a", dest = D .. "/own.txt", group = "no-such-group-xyz" } })
    assert.truthy(res.msg:find("no such group", 1, true), res.msg)
    assert.is_nil(read(D .. "/own.txt"))
  end)
end)

describe("file reports changed only when something changes", function()
  local D = files.tmpdir()
  local sh = files.sh

  it("recurse with a mode, symbolic modes and numeric owners are idempotent", function()
    os.execute("mkdir -p " .. D .. "/tree/sub && touch " .. D .. "/tree/a " .. D .. "/tree/sub/b")
    local t = { file = { path = D .. "/tree", state = "directory", mode = "0750", recurse = true } }
    assert.is_true(run_task(t).changed)
    assert.equal("750", sh("stat -c %a " .. D .. "/tree/sub/b"))
    assert.is_false(run_task(t).changed)
    os.execute("chmod 600 " .. D .. "/tree/sub/b")
    assert.is_true(run_task(t, { check = true }).changed)
    assert.equal("600", sh("stat -c %a " .. D .. "/tree/sub/b"))
    assert.is_true(run_task(t).changed)
    local f = D .. "/sym"
    os.execute("touch " .. f .. " && chmod 644 " .. f)
    assert.is_true(run_task({ file = { path = f, mode = "u+x" } }).changed)
    assert.equal("744", sh("stat -c %a " .. f))
    assert.is_false(run_task({ file = { path = f, mode = "u+x" } }).changed)
    assert.is_false(run_task({ file = { path = f, mode = "u=rwx,go=r" } }).changed)
    local uid, gid = sh("id -u"), sh("id -g")
    assert.is_false(run_task({ file = { path = f, owner = uid, group = gid } }).changed)
    assert.is_false(run_task({ file = { path = f, owner = sh("id -un"), group = sh("id -gn") } }).changed)
    local bad = run_task({ file = { path = f, owner = "no-such-user-xyz" } })
    assert.is_true(bad.failed)
    assert.truthy(bad.msg:find("no such user", 1, true), bad.msg)
  end)

  it("recurse on a host whose find has no -printf (busybox, BSD) still applies the change", function()
    os.execute("mkdir -p " .. D .. "/bb/tree/sub " .. D .. "/bb/bin && touch " .. D .. "/bb/tree/sub/f"
      .. " && chmod 600 " .. D .. "/bb/tree/sub/f")
    write(D .. "/bb/bin/find", "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = -printf ] && "
      .. "{ echo 'find: unrecognized: -printf' >&2; exit 1; }; done\nexec /usr/bin/find \"$@\"\n")
    os.execute("chmod 755 " .. D .. "/bb/bin/find")
    local lc = luasible.connect()
    local busybox = { execute = function(_, cmd, o)
      o = o or {}
      o.env = { PATH = D .. "/bb/bin:/usr/bin:/bin" }
      return lc:execute(cmd, o)
    end }
    local t = { file = { path = D .. "/bb/tree", state = "directory", mode = "0750", recurse = true } }
    local res, _, status = run_task(t, { conn = busybox })
    assert.equal("changed", status, res.msg)
    assert.equal("750", sh("stat -c %a " .. D .. "/bb/tree/sub/f"))
    lc:close()
  end)

  it("paths starting with a dash are paths, not options", function()
    os.execute("cd " .. D .. " && touch ./-rf && chmod 644 ./-rf")
    -- a relative path: the spec's cwd is the repository, so go through the folder with chdir-free paths
    local p = D .. "/-rf"
    assert.is_true(run_task({ file = { path = p, mode = "0600" } }).changed)
    assert.equal("600", sh("stat -c %a " .. p))
    local res = run_task({ copy = { content = "x", dest = p, mode = "0640" } })
    assert.is_true(res.changed, res.msg)
    assert.equal("640", sh("stat -c %a " .. p))
    -- relative names starting with a dash, run from D
    local function in_d()
      local conn = luasible.connect()
      local orig = conn.execute
      conn.execute = function(self, cmd, opts)
        opts = opts or {}
        opts.cwd = opts.cwd or D
        return orig(self, cmd, opts)
      end
      return conn
    end
    res = run_task({ file = { path = "-rf", mode = "0604" } }, { conn = in_d() })
    assert.is_true(res.changed, res.msg)
    assert.equal("604", sh("stat -c %a " .. p))
    res = run_task({ file = { path = "-rf", mode = "0604" } }, { conn = in_d() })
    assert.is_false(res.changed, res.msg)
    res = run_task({ file = { path = "-rf", mode = "u+x", owner = sh("id -u") } }, { conn = in_d() })
    assert.is_true(res.changed, res.msg)
    assert.equal("704", sh("stat -c %a " .. p))
  end)

  it("state=link with force replaces a file or an empty folder, never a folder with files in it", function()
    local l = D .. "/l"
    os.execute("mkdir -p " .. l .. " " .. D .. "/target")
    local res = run_task({ file = { path = l, state = "link", src = D .. "/target" } })
    assert.is_true(res.failed)
    res = run_task({ file = { path = l, state = "link", src = D .. "/target", force = true } })
    assert.is_true(res.changed, res.msg)
    assert.equal(D .. "/target", sh("readlink " .. l))
    os.execute("rm " .. l .. " && mkdir -p " .. l .. " && touch " .. l .. "/keep")
    res = run_task({ file = { path = l, state = "link", src = D .. "/target", force = true } })
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("not empty", 1, true), res.msg)
    assert.equal("directory", sh("stat -c %F " .. l))
    assert.is_nil(io.open(l .. "/target"))
  end)
end)

describe("lineinfile", function()
  local D = files.tmpdir()
  local sh = files.sh

  it("applies mode (and owner/group) when the line is already there", function()
    local f = D .. "/cfg"
    write(f, "a=1\nb=2")
    os.execute("chmod 644 " .. f)
    local res = run_task({ lineinfile = { path = f, line = "a=1", mode = "0600" } }, { check = true })
    assert.is_true(res.changed, res.msg)
    assert.equal("644", sh("stat -c %a " .. f))
    res = run_task({ lineinfile = { path = f, line = "a=1", mode = "0600" } })
    assert.is_true(res.changed, res.msg)
    assert.equal("600", sh("stat -c %a " .. f))
    assert.equal("a=1\nb=2", read(f)) -- the content is left as it was
    assert.is_false(run_task({ lineinfile = { path = f, line = "a=1", mode = "0600" } }).changed)
    assert.is_false(run_task({ lineinfile = { path = f, line = "a=1", mode = "0600", owner = sh("id -un"),
      group = sh("id -g") } }).changed)
  end)
end)

describe("lineinfile regular expressions", function()
  it("takes Python regexes and refuses malformed ones, naming the argument, before anything runs", function()
    local function prep(args)
      return runner.play({ hosts = "localhost", tasks = { { lineinfile = args } } }, { on_event = function() end })
    end
    for arg, bad in pairs({ regexp = "^(foo", insertafter = "[a", insertbefore = "a{1,x}(" }) do
      local r, err = prep({ path = "/tmp/x", line = "l", [arg] = bad })
      assert.is_nil(r, bad)
      assert.truthy(err:find("lineinfile: argument '" .. arg .. "' is not a valid regular expression: bad regex", 1,
        true), err)
    end
    -- a pattern that is only known per host fails that host's task with the same clean message
    local res = run_task({ lineinfile = { path = "/tmp/x", line = "l", regexp = "{{ '^(foo' }}" } })
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("is not a valid regular expression", 1, true), res.msg)
    assert.is_nil(res.msg:find("lineinfile.lua", 1, true), res.msg)
    local f = os.tmpname()
    write(f, "a|b\n  Port 22\n")
    res = run_task({ lineinfile = { path = f, line = "x|y", regexp = [[^a\|b$]] } })
    assert.is_true(res.changed, res.msg)
    res = run_task({ lineinfile = { path = f, line = "Port 2222", regexp = [[^\s*Port\s+\d+]] } })
    assert.is_true(res.changed, res.msg)
    assert.equal("x|y\nPort 2222\n", read(f))
    os.remove(f)
  end)
end)
