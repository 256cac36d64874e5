local cjson = require "cjson"

local TMP = os.tmpname()
os.remove(TMP)
os.execute("mkdir -p " .. TMP)

-- Run bin/luasible with args; returns stdout, exit code, stderr.
local function cli(args, env)
  local errf = TMP .. "/stderr"
  local p = io.popen((env or "") .. " bin/luasible " .. args .. " 2>" .. errf)
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(errf)
  local err = f:read("a")
  f:close()
  return out, code, err
end

local write = require("spec.helpers.files").write

local INV = TMP .. "/inv.ini"
write(INV, "[web]\nw[1:2] ansible_connection=local\n[db]\nd1 ansible_connection=local\n")

describe("luasible CLI", function()
  teardown(function()
    os.execute("for p in " .. TMP .. "/demo/*/app.pid; do [ -f \"$p\" ] && kill $(cat \"$p\"); done 2>/dev/null; "
      .. "rm -rf " .. TMP)
  end)

  it("--version is fast and --help lists the commands", function()
    local out, code = cli("--version")
    assert.equal(0, code)
    assert.truthy(out:match("^luasible %d+%.%d+"))
    local t0 = os.clock()
    local p = io.popen("for i in 1 2 3 4 5 6 7 8 9 10; do bin/luasible --version; done >/dev/null; echo")
    p:read("a")
    p:close()
    assert.is_true(os.clock() - t0 < 0.3)
    out = cli("--help")
    assert.truthy(out:find("run", 1, true) and out:find("exec", 1, true))
  end)

  it("exec runs a shell command on the pattern's hosts with prefixed live lines", function()
    local out, code = cli("exec 'web:!w2' -i " .. INV .. " -a 'echo hi from $(hostname) a=b'")
    assert.equal(0, code)
    assert.truthy(out:find("\nw1 | hi from ", 1, true))
    assert.is_nil(out:find("w2 |", 1, true))
    assert.truthy(out:find("PLAY RECAP", 1, true))
    assert.is_nil(out:find("\27[", 1, true)) -- no colours when not a terminal
  end)

  it("exec takes -m and key=value args", function()
    local out, code = cli("exec all -i " .. INV .. " -m copy -a 'content=\"a b\" dest=" .. TMP .. "/c.txt'")
    assert.equal(0, code, out)
    assert.equal("a b", io.open(TMP .. "/c.txt"):read("a"))
  end)

  it("exec -m command takes creates= and chdir= out of -a as a playbook's task; -c picks the connection", function()
    local inv = TMP .. "/bare.ini"
    write(inv, "web1.invalid\n") -- no ansible_connection: SSH to a name that resolves nowhere, but for -c
    os.execute("mkdir -p " .. TMP .. "/cd")
    local a = " -a 'touch made creates=" .. TMP .. "/cd/made chdir=" .. TMP .. "/cd'"
    local out, code, err = cli("exec all -i " .. inv .. " -c local --no-color -m command" .. a)
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("changed: [web1.invalid]", 1, true), out)
    assert.truthy(io.open(TMP .. "/cd/made"), "touch ran in chdir=")
    out, code = cli("exec all -i " .. inv .. " -c local --no-color -m command" .. a)
    assert.equal(0, code, out)
    assert.truthy(out:find("ok: [web1.invalid] => Did not run command since '" .. TMP .. "/cd/made' exists", 1, true),
      out)
    -- the play's connection: keyword and the host's ansible_connection win over -c, as in Ansible
    local _
    _, code, err = cli("exec all -i " .. inv .. " -c nosuch -m ping")
    assert.equal(1, code)
    assert.truthy(err:find("host web1.invalid: unsupported ansible_connection 'nosuch'", 1, true), err)
    out, code = cli("exec all -i " .. INV .. " -c nosuch -m ping")
    assert.equal(0, code, out)
    _, code, err = cli("exec all -i " .. inv .. " -T 0 -m ping")
    assert.equal(5, code)
    assert.equal("luasible: error: --timeout must be a number of seconds above 0\n", err)
  end)

  it("exec -a takes a {{ }} value as key=value, and shows lists as JSON lists, [] when empty", function()
    local inv = TMP .. "/lone.ini"
    write(inv, "lone ansible_connection=local empty=[]\n[db]\nd1 ansible_connection=local\n")
    local out, code = cli("exec all -i " .. inv .. " -m debug -a 'msg={{ group_names }}'")
    assert.equal(0, code, out)
    assert.truthy(out:find('ok: [lone] => ["ungrouped"]', 1, true), out) -- as Ansible's group_names
    assert.truthy(out:find('ok: [d1] => ["db"]', 1, true), out)
    out, code = cli("exec lone -i " .. inv .. " -m debug -a 'msg={{ empty }}'")
    assert.equal(0, code, out)
    assert.truthy(out:find("ok: [lone] => []", 1, true), out)
    out, code = cli("exec lone -i " .. inv .. [[ -m debug -a 'msg="say \"hi\" to {{ inventory_hostname }}"']])
    assert.equal(0, code, out)
    assert.truthy(out:find('ok: [lone] => say "hi" to lone', 1, true), out)
  end)

  it("exits 2 when a host fails and prints the failure", function()
    local out, code = cli("exec all -i " .. INV .. " -a 'test $(hostname) = nope'")
    assert.equal(2, code)
    assert.truthy(out:find("failed: [w1] non-zero return code 1", 1, true))
  end)

  it("--json prints one parseable object per event", function()
    local out, code = cli("exec web -i " .. INV .. " --json -a 'echo one; echo two >&2'")
    assert.equal(0, code)
    local types, lines = {}, {}
    for l in out:gmatch("[^\n]+") do
      local ev = cjson.decode(l)
      types[ev.type] = (types[ev.type] or 0) + 1
      assert.is_number(ev.timestamp)
      if ev.type == "stdout" or ev.type == "stderr" then
        lines[#lines + 1] = ev.host .. ":" .. ev.type .. ":" .. ev.data
      end
      if ev.type == "host_task_result" then assert.equal("changed", ev.status) assert.equal(0, ev.result.rc) end
      if ev.type == "recap" then assert.equal(1, ev.recap.w1.changed) end
    end
    table.sort(lines)
    assert.same({ "w1:stderr:two", "w1:stdout:one", "w2:stderr:two", "w2:stdout:one" }, lines)
    assert.equal(1, types.play_start)
    assert.equal(2, types.host_task_result)
    assert.equal(1, types.recap)
  end)

  it("asks util/fs whether stdout is a terminal and how wide it is (no stty or test process)", function()
    local fs = require "luasible.util.fs"
    local isatty, tty_size, stdout = fs.isatty, fs.tty_size, io.stdout
    local asked, buf = {}, {}
    fs.isatty = function(fd) asked[#asked + 1] = "isatty " .. fd return true end
    fs.tty_size = function() asked[#asked + 1] = "tty_size" return 40, 20 end
    -- the renderer writes to io.stdout: a sink while main runs
    io.stdout = { -- luacheck: ignore 122
      write = function(self, ...) for _, x in ipairs({ ... }) do buf[#buf + 1] = x end return self end,
      flush = function() end }
    local ok, code = pcall(require("luasible.cli").main, { "exec", "w1", "-i", INV, "--no-color", "-a", "echo hi" })
    fs.isatty, fs.tty_size, io.stdout = isatty, tty_size, stdout -- luacheck: ignore 122
    assert(ok, code)
    assert.equal(0, code)
    assert.same({ "isatty 1", "tty_size" }, asked)
    local out = table.concat(buf)
    -- the headers fit the 40 columns it was told
    assert.truthy(out:find("\nTASK [shell] " .. string.rep("*", 40 - #"TASK [shell] ") .. "\n", 1, true), out)
    assert.truthy(out:find("w1 | hi\n", 1, true), out)
  end)

  describe("signals", function()
    local luasible = require "luasible"
    local proc = require "spec.helpers.proc"
    local SLEEPY = TMP .. "/sleepy.lua"
    write(SLEEPY, "return { name = 'sleepy', hosts = 'all', tasks = {\n"
      .. "  { name = 'quick', command = 'true' },\n"
      .. "  { name = 'nap', shell = 'echo pid $$; exec sleep 30' },\n"
      .. "  { name = 'never', shell = 'touch " .. TMP .. "/after-signal' } } }\n")

    -- Start the CLI as a process; once every host printed the pid of its
    -- sleep, send it `sig`. Returns exit code, stdout lines, stderr, the pids.
    local function interrupt(args, sig, nhosts)
      local conn = luasible.connect()
      local out, err, pids, final = {}, {}, {}, nil
      local iter, s = conn:stream({ "sh", "-c", "exec bin/luasible " .. args }, { timeout = 20 })
      local t0 = luasible.now()
      for ev in iter, s do
        if ev.type == "stdout" then
          out[#out + 1] = ev.data
          local pid = ev.data:match("| pid (%d+)$") or ev.data:match('"data":"pid (%d+)"')
          if pid then
            pids[#pids + 1] = tonumber(pid)
            if #pids == nhosts then os.execute("kill -" .. sig .. " " .. s:pid()) end
          end
        elseif ev.type == "stderr" then err[#err + 1] = ev.data
        elseif ev.type == "done" or ev.type == "error" then final = ev end
      end
      assert.is_true(luasible.now() - t0 < 10, "the CLI did not stop at once")
      return final.result.rc, out, table.concat(err, "\n"), pids
    end

    it("Ctrl-C stops the play: the command is killed, 'interrupted (SIGINT)', the recap, exit 99", function()
      local code, out, err, pids = interrupt("run " .. SLEEPY, "INT", 1)
      assert.equal(99, code, table.concat(out, "\n") .. err) -- ansible-playbook's "User interrupted execution"
      assert.equal(1, #pids)
      local text = table.concat(out, "\n")
      local n = select(2, text:gsub("interrupted %(SIGINT%)", ""))
      assert.equal(1, n, text)
      assert.truthy(text:find("PLAY RECAP", 1, true), text)
      assert.truthy(text:find("localhost : ok=1 ", 1, true), text) -- what ran before it
      assert.is_nil(text:find("TASK [never]", 1, true), text)
      assert.is_false(proc.alive(pids[1]), "the sleep still runs")
      assert.is_nil(io.open(TMP .. "/after-signal"))
    end)

    it("SIGTERM on several hosts at once kills every host's command, exit 143; --json says so", function()
      local code, out, err, pids = interrupt("run " .. SLEEPY .. " -i " .. INV .. " --json", "TERM", 3)
      assert.equal(143, code, table.concat(out, "\n") .. err)
      assert.equal(3, #pids)
      local types, recap = {}, nil
      for _, l in ipairs(out) do
        local ev = cjson.decode(l)
        types[ev.type] = (types[ev.type] or 0) + 1
        if ev.type == "interrupted" then assert.equal("SIGTERM", ev.signal) end
        if ev.type == "recap" then recap = ev.recap end
      end
      assert.equal(1, types.interrupted)
      assert.equal(1, recap.w1.ok)
      assert.truthy(err:find("interrupted (SIGTERM)", 1, true), err)
      for _, pid in ipairs(pids) do assert.is_false(proc.alive(pid), "a sleep still runs") end
      assert.is_nil(io.open(TMP .. "/after-signal"))
    end)

    it("SIGHUP stops an ad-hoc exec, exit 129", function()
      local code, out, _, pids = interrupt("exec all -i " .. INV .. " -a 'echo pid $$; exec sleep 30'", "HUP", 3)
      assert.equal(129, code)
      assert.truthy(table.concat(out, "\n"):find("interrupted (SIGHUP)", 1, true))
      for _, pid in ipairs(pids) do assert.is_false(proc.alive(pid), "a sleep still runs") end
    end)
  end)

  describe("bad input: one clear line, non-zero, nothing run", function()
    local marker = TMP .. "/ran"
    local function play(body)
      local path = TMP .. "/play.lua"
      write(path, body)
      return path
    end
    local cases = {
      { "unknown module", "return { hosts = 'all', tasks = { { shell = 'touch " .. marker .. "' }, { nosuch = {} } } }",
        "unknown module 'nosuch'" },
      { "bad argument", "return { hosts = 'all', tasks = { { shell = 'touch " .. marker .. "' }, "
        .. "{ file = { path = '/x', sate = 'absent' } } } }", "file: unknown argument 'sate'" },
      { "syntax error", "return { hosts = 'all', tasks = { { shell = 'touch " .. marker .. "' } }", "play.lua:1:" },
      { "unknown pattern", "return { hosts = 'nosuch', tasks = { { shell = 'touch " .. marker .. "' } } }",
        "host pattern 'nosuch' matches no host or group" },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local out, code, err = cli("run " .. play(c[2]) .. " -i " .. INV)
        assert.equal(1, code)
        assert.equal("", out)
        local n = select(2, err:gsub("\n", ""))
        assert.equal(1, n, err)
        assert.truthy(err:find(c[3], 1, true), err)
        assert.is_nil(io.open(marker))
      end)
    end

    it("missing inventory and missing play file", function()
      local _, code, err = cli("run " .. play("return { hosts = 'all', tasks = {} }") .. " -i /nonexistent.ini")
      assert.equal(1, code)
      assert.truthy(err:find("cannot read inventory /nonexistent.ini", 1, true))
      _, code, err = cli("run /nonexistent/play.lua")
      assert.equal(1, code)
      assert.truthy(err:find("cannot read play file /nonexistent/play.lua", 1, true))
      _, code, err = cli("exec all -m nosuchmod")
      assert.equal(1, code)
      assert.truthy(err:find("unknown module 'nosuchmod'", 1, true))
      assert.is_nil(err:find("/../", 1, true), err) -- the folders searched, as a person reads them
    end)
  end)

  it("runs the example deploy play against local hosts, idempotently", function()
    local args = "run examples/deploy.lua -i examples/local.ini -e app_root=" .. TMP .. "/demo"
    local out, code = cli(args)
    assert.equal(0, code, out)
    assert.truthy(out:find("web2 | compiling unit 3/5 (60%)", 1, true))
    assert.truthy(out:find("RUNNING HANDLER [restart app]", 1, true))
    assert.truthy(out:find("ok: [web3] => healthy", 1, true))
    assert.truthy(io.open(TMP .. "/demo/web1/app.conf"):read("a"):find("APP_PORT=8000", 1, true))
    out, code = cli(args .. " --skip-tags build -e app_port=8000")
    assert.equal(0, code, out)
    assert.truthy(out:find("web1 : ok=8    changed=0", 1, true), out)
    out, code = cli(args .. " --check -e app_port=9000")
    assert.equal(0, code, out)
    assert.truthy(out:find("changed: [web1] => would write " .. TMP .. "/demo/web1/app.conf", 1, true), out)
    assert.truthy(io.open(TMP .. "/demo/web1/app.conf"):read("a"):find("APP_PORT=8000", 1, true))
    -- the demo app runs in the background until `--tags stop`
    local pids = {}
    for i = 1, 3 do pids[i] = io.open(TMP .. "/demo/web" .. i .. "/app.pid"):read("l") end
    assert.is_true(os.execute("kill -0 " .. table.concat(pids, " ")))
    out, code = cli(args .. " --tags stop")
    assert.equal(0, code, out)
    assert.truthy(out:find("web3 | stopped", 1, true), out)
    assert.is_nil(io.open(TMP .. "/demo/web1/app.pid"))
    local function running(pid)
      local f = io.open("/proc/" .. pid .. "/stat")
      local state = f and f:read("a"):match("^%d+ %b() (%a)")
      if f then f:close() end
      return state ~= nil and state ~= "Z"
    end
    for _, pid in ipairs(pids) do
      for _ = 1, 50 do
        if not running(pid) then break end
        os.execute("sleep 0.05")
      end
      assert.is_false(running(pid), "app " .. pid .. " still runs")
    end
  end)
end)

describe("luasible CLI --json", function()
  setup(function() os.execute("mkdir -p " .. TMP) end)
  teardown(function() os.execute("rm -rf " .. TMP) end)

  it("writes valid UTF-8 only: bytes that are not become U+FFFD", function()
    local out, code = cli([[exec localhost --json -a "printf 'a\377b\n\303\251\355\240\200x'"]])
    assert.equal(0, code)
    local data, n = {}, 0
    for l in out:gmatch("[^\n]+") do
      n = n + 1
      assert.truthy(utf8.len(l), "invalid UTF-8 in: " .. l)
      local ev = cjson.decode(l)
      if ev.type == "stdout" then data[#data + 1] = ev.data end
      if ev.type == "host_task_result" then
        assert.equal("a\u{FFFD}b\né\u{FFFD}\u{FFFD}\u{FFFD}x", ev.result.stdout)
      end
    end
    assert.is_true(n > 3)
    assert.same({ "a\u{FFFD}b", "é\u{FFFD}\u{FFFD}\u{FFFD}x" }, data)
  end)

  it("refuses a play without hosts, running nothing", function()
    local d = os.tmpname()
    os.remove(d)
    os.execute("mkdir -p " .. d)
    write(d .. "/p.lua", "return { name = 'x', tasks = { { shell = 'touch " .. d .. "/ran' } } }")
    local _, code, err = cli("run " .. d .. "/p.lua")
    assert.equal(1, code)
    assert.truthy(err:find("play 'x' has no hosts", 1, true), err)
    assert.is_nil(io.open(d .. "/ran"))
    os.execute("rm -rf " .. d)
  end)

  it("names the play file and the task's line when a task is wrong; a play without name is named after its file",
    function()
      local d = require("spec.helpers.files").tmpdir()
      write(d .. "/site.lua", "return {\n  hosts = 'localhost',\n  tasks = {\n    { name = 'hello', debug = 'hi' },\n"
        .. "    { name = 'both', debug = 'x', shell = 'touch " .. d .. "/ran' },\n  },\n}\n")
      local _, code, err = cli("run " .. d .. "/site.lua")
      assert.equal(1, code)
      assert.equal("luasible: error: " .. d .. "/site.lua:5: play 'site.lua', task 2 ('both'): task has two modules:"
        .. " debug and shell\n", err)
      assert.is_nil(io.open(d .. "/ran"))
      write(d .. "/site.lua", "return { hosts = 'localhost', tasks = { { debug = 'hi' } } }\n")
      local out
      out, code = cli("run " .. d .. "/site.lua")
      assert.equal(0, code, out)
      assert.truthy(out:find("PLAY [site.lua]", 1, true), out)
    end)
end)

describe("luasible CLI: Ansible's playbook layout", function()
  local D
  setup(function() os.execute("mkdir -p " .. TMP) end)
  teardown(function() os.execute("rm -rf " .. TMP) end)
  before_each(function()
    D = os.tmpname()
    os.remove(D)
    os.execute("mkdir -p " .. D .. "/inv/group_vars " .. D .. "/play/group_vars " .. D .. "/play/host_vars")
    write(D .. "/inv/hosts", "[web]\nw1\nw2\n[web:vars]\nansible_connection=local\n")
  end)
  after_each(function() os.execute("rm -rf " .. D) end)

  it("run reads group_vars/ and host_vars/ next to the inventory and next to the play; exec only the inventory's",
    function()
      write(D .. "/inv/group_vars/all.yml", "greeting: inventory\nwho: all\n")
      write(D .. "/play/group_vars/web.yml", "greeting: play\n")
      write(D .. "/play/host_vars/w2", "who: w2\n")
      write(D .. "/play/p.lua", "return { hosts = 'web', tasks = { { debug = '{{ greeting }} {{ who }}' } } }")
      local out, code = cli("run " .. D .. "/play/p.lua -i " .. D .. "/inv/hosts")
      assert.equal(0, code, out)
      assert.truthy(out:find("ok: [w1] => play all", 1, true), out)
      assert.truthy(out:find("ok: [w2] => play w2", 1, true), out)
      out, code = cli("exec web -i " .. D .. "/inv/hosts -m debug -a '{{ greeting }} {{ who }}'")
      assert.equal(0, code, out)
      assert.truthy(out:find("ok: [w2] => inventory all", 1, true), out)
    end)

  it("keeps an empty mapping from -e a mapping: {} in to_json and messages, [] for an empty list", function()
    write(TMP .. "/ev.yml", "fh: {}\n")
    local out, code = cli("exec localhost -m debug -a 'msg=\"{{ h | to_json }} {{ l | to_json }} {{ fh }}\"'"
      .. [[ -e '{"h": {}, "l": []}' -e @]] .. TMP .. "/ev.yml")
    assert.equal(0, code, out)
    assert.truthy(out:find("ok: [localhost] => {} [] {}", 1, true), out)
    write(TMP .. "/bad.yml", "a: [1, 2\nb: 3\n")
    local _, bcode, err = cli("exec localhost -m ping -e @" .. TMP .. "/bad.yml")
    assert.equal(1, bcode)
    assert.truthy(err:find(TMP .. "/bad.yml:2: ", 1, true), err) -- where the YAML is wrong
  end)

  it("refuses a malformed vars file, or a vault-encrypted one without a vault secret: one line, nothing run", function()
    write(D .. "/play/p.lua", "return { hosts = 'web', tasks = { { shell = 'touch " .. D .. "/ran' } } }")
    write(D .. "/inv/group_vars/web.yml", "a: 1\n  b: 2\n")
    local out, code, err = cli("run " .. D .. "/play/p.lua -i " .. D .. "/inv/hosts")
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("^luasible: error: " .. D:gsub("%p", "%%%0") .. "/inv/group_vars/web%.yml:2: "), err)
    os.remove(D .. "/inv/group_vars/web.yml")
    write(D .. "/play/host_vars/w1.yml", "$ANSIBLE_VAULT;1.1;AES256\n3132\n")
    local _, code2, err2 = cli("run " .. D .. "/play/p.lua -i " .. D .. "/inv/hosts")
    assert.equal(1, code2)
    assert.truthy(err2:find("w1.yml: Attempting to decrypt but no vault secrets found", 1, true), err2)
    assert.is_nil(io.open(D .. "/ran"))
  end)

  it("shows each loop item's result (debug msg included); an empty loop is skipped", function()
    write(D .. "/play/loop.lua", "return { hosts = 'w1', vars = { nothing = {} }, tasks = {\n"
      .. "  { name = 'each', debug = { msg = 'value {{ item }}' }, loop = { 'x', 'y' } },\n"
      .. "  { name = 'empty', debug = '{{ item }}', loop = '{{ nothing }}' } } }\n")
    local out, code = cli("run " .. D .. "/play/loop.lua -i " .. D .. "/inv/hosts")
    assert.equal(0, code, out)
    assert.truthy(out:find("ok: [w1] => (item=x) => value x\nok: [w1] => (item=y) => value y\n", 1, true), out)
    assert.truthy(out:find("TASK %[empty%] %*+\nskipped: %[w1%]\n"), out)
    assert.truthy(out:find("w1 : ok=1    changed=0    unreachable=0    failed=0    skipped=1", 1, true), out)
  end)
end)
