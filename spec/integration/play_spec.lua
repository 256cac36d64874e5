local luasible = require "luasible"
local plays = require "luasible.play"
local files = require "spec.helpers.files"

local TMP = files.tmpdir()

local function local_hosts(n, extra)
  local hosts = {}
  for i = 1, n do hosts["h" .. i] = { ansible_connection = "local", idx = i } end
  local inv = { all = { hosts = hosts, vars = { where = "inventory", level = "inventory" } } }
  for k, v in pairs(extra or {}) do inv[k] = v end
  return inv
end

-- Run a play, collecting events. Returns recap, events, details.
local function play(p, opts)
  local events = {}
  opts = opts or {}
  opts.inventory = opts.inventory or local_hosts(1)
  opts.on_event = function(ev) events[#events + 1] = ev end
  local recap, details = plays.play(p, opts)
  return recap, events, details
end

local function results(events, task)
  local out = {}
  for _, ev in ipairs(events) do
    if ev.type == "host_task_result" and ev.task == task then out[ev.host] = ev end
  end
  return out
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

describe("play", function()
  teardown(function() os.execute("rm -rf " .. TMP) end)

  it("runs each task on all hosts at once, task by task", function()
    local t0 = luasible.now()
    local recap, events = play({ hosts = "all", tasks = {
      { name = "one", shell = "sleep 0.3; echo one {{ inventory_hostname }}" },
      { name = "two", shell = "echo two" },
    } }, { inventory = local_hosts(3) })
    local elapsed = luasible.now() - t0
    assert.is_true(elapsed < 0.9, "took " .. elapsed)
    for i = 1, 3 do
      assert.same({ ok = 2, changed = 2, failed = 0, unreachable = 0, skipped = 0, ignored = 0 }, recap["h" .. i])
    end
    -- every result of task one comes before any start of task two
    local last_one, first_two = 0, math.huge
    for i, ev in ipairs(events) do
      if ev.type == "host_task_result" and ev.task == "one" then last_one = i end
      if ev.type == "host_task_start" and ev.task == "two" then first_two = math.min(first_two, i) end
    end
    assert.is_true(last_one < first_two)
    local lines = {}
    for _, ev in ipairs(events) do
      if ev.type == "stdout" and ev.task == "one" then lines[ev.host] = ev.data end
    end
    assert.same({ h1 = "one h1", h2 = "one h2", h3 = "one h3" }, lines)
    assert.equal("play_start", events[1].type)
    assert.equal("recap", events[#events].type)
  end)

  it("runs at most `forks` hosts at once", function()
    local t0 = luasible.now()
    play({ hosts = "all", forks = 1, tasks = { { shell = "sleep 0.2" } } }, { inventory = local_hosts(3) })
    assert.is_true(luasible.now() - t0 >= 0.6)
  end)

  it("templates args with inventory, play, registered and extra vars by precedence", function()
    local _, events = play({ hosts = "all", vars = { level = "play", p = "P" }, tasks = {
      { name = "reg", shell = "echo {{ where }}-{{ level }}-{{ p }}-{{ e }}", register = "r" },
      { name = "use", debug = { msg = "{{ r.stdout | trim }}/{{ r.rc }}/{{ r.stdout_lines | length }}" } },
    } }, { extra_vars = { e = "E", p = "X" } })
    assert.equal("inventory-play-X-E", results(events, "reg").h1.result.stdout:match("^(.-)\n?$"))
    assert.equal("inventory-play-X-E/0/1", results(events, "use").h1.result.msg)
  end)

  it("evaluates when as a safe expression or a Lua function, per loop item", function()
    local recap, events = play({ hosts = "all", vars = { n = 3 }, tasks = {
      { name = "yes", debug = { msg = "x" }, when = "n > 2 and inventory_hostname == 'h1'" },
      { name = "no", debug = { msg = "x" }, when = function(v) return v.n == 4 end },
      { name = "items", shell = "echo {{ item }}", loop = { 1, 2, 3 }, when = "item != 2", register = "lr" },
      { name = "after", debug = { msg = "{{ lr.results | length }}" } },
    } })
    assert.equal("ok", results(events, "yes").h1.status)
    assert.equal("skipped", results(events, "no").h1.status)
    local items = results(events, "items").h1.result.results
    assert.equal(3, #items)
    assert.is_true(items[2].skipped)
    assert.equal("1", items[1].stdout)
    assert.equal("3", results(events, "after").h1.result.msg)
    assert.equal(1, recap.h1.skipped)
  end)

  it("applies changed_when, failed_when and until/retries", function()
    local marker = TMP .. "/count"
    local _, events = play({ hosts = "all", tasks = {
      { name = "cw", shell = "echo same", changed_when = "'changed' in result.stdout" },
      { name = "fw", shell = "echo ERROR; exit 0", failed_when = "'ERROR' in result.stdout", ignore_errors = true },
      { name = "until", shell = "echo x >> " .. marker .. "; wc -l < " .. marker, register = "u",
        ["until"] = "u.stdout | trim | int >= 3", retries = 5, delay = 0.01 },
    } })
    assert.equal("ok", results(events, "cw").h1.status)
    local fw = results(events, "fw").h1
    assert.equal("failed", fw.status)
    assert.is_true(fw.result.ignored)
    local u = results(events, "until").h1.result
    assert.equal(3, u.attempts)
    assert.is_false(u.failed)
  end)

  it("drops a failed host from the rest of the play, keeps the others", function()
    local recap, events = play({ hosts = "all", tasks = {
      { name = "maybe", shell = "test {{ idx }} != 2" },
      { name = "next", shell = "true" },
    } }, { inventory = local_hosts(3) })
    assert.equal(1, recap.h2.failed)
    assert.equal(0, recap.h2.ok)
    assert.is_nil(results(events, "next").h2)
    assert.equal("changed", results(events, "next").h3.status)
    assert.equal(2, plays.exit_code(recap))
    assert.equal("non-zero return code 1", results(events, "maybe").h2.result.msg)
  end)

  it("reports an unreachable host as unreachable, not failed", function()
    local recap, events = play({ hosts = "all", tasks = { { name = "t", shell = "true" } } }, {
      inventory = local_hosts(2),
      connect = function(_, host)
        if host == "h2" then return nil, "ECONNREFUSED: connection refused by h2:22" end
        return luasible.connect("local")
      end,
    })
    assert.equal(1, recap.h2.unreachable)
    assert.equal(0, recap.h2.failed)
    assert.equal("unreachable", results(events, "t").h2.status)
    assert.truthy(results(events, "t").h2.result.msg:find("ECONNREFUSED", 1, true))
    assert.equal(4, plays.exit_code(recap))
  end)

  it("runs notified handlers once at the end, only where something changed", function()
    local _, events = play({ hosts = "all", tasks = {
      { name = "a", shell = "true", notify = "restart", changed_when = "inventory_hostname == 'h1'" },
      { name = "b", shell = "true", notify = { "restart" } },
      { name = "c", shell = "true" },
    }, handlers = {
      { name = "restart", debug = { msg = "restarting" } },
      { name = "unused", debug = { msg = "never" } },
    } }, { inventory = local_hosts(2) })
    local starts = 0
    for _, ev in ipairs(events) do
      if ev.type == "task_start" and ev.task == "restart" then starts = starts + 1 end
    end
    assert.equal(1, starts)
    assert.is_not_nil(results(events, "restart").h1)
    assert.is_not_nil(results(events, "restart").h2)
    assert.is_nil(results(events, "unused").h1)
    local seen_c, i_restart = 0, 0
    for i, ev in ipairs(events) do
      if ev.type == "task_start" and ev.task == "c" then seen_c = i end
      if ev.type == "task_start" and ev.task == "restart" then i_restart = i end
    end
    assert.is_true(i_restart > seen_c)
  end)

  it("selects tasks by tags and skip_tags", function()
    local p = { hosts = "all", tasks = {
      { name = "a", debug = { msg = "a" }, tags = "web" },
      { name = "b", debug = { msg = "b" }, tags = { "db" } },
      { name = "c", debug = { msg = "c" }, tags = "always" },
      { name = "d", debug = { msg = "d" } },
    } }
    local _, events = play(p, { tags = { "web" } })
    assert.is_not_nil(results(events, "a").h1)
    assert.is_nil(results(events, "b").h1)
    assert.is_not_nil(results(events, "c").h1)
    assert.is_nil(results(events, "d").h1)
    _, events = play(p, { skip_tags = { "web" } })
    assert.is_nil(results(events, "a").h1)
    assert.is_not_nil(results(events, "b").h1)
  end)

  it("runs run_once tasks on the first host and registers the result on all", function()
    local _, events = play({ hosts = "all", tasks = {
      { name = "once", shell = "echo {{ inventory_hostname }}", run_once = true, register = "o" },
      { name = "show", debug = { msg = "{{ o.stdout | trim }}" } },
    } }, { inventory = local_hosts(3) })
    local once = results(events, "once")
    assert.is_not_nil(once.h1)
    assert.is_nil(once.h2)
    assert.equal("h1", results(events, "show").h3.result.msg)
  end)

  it("gathers facts and exposes them as variables", function()
    local _, events = play({ hosts = "all", gather_facts = true, tasks = {
      { name = "f", debug = { msg = "{{ ansible_os_family }} {{ ansible_facts.processor_count > 0 }}" } },
    } })
    assert.equal("Debian True", results(events, "f").h1.result.msg) -- Python's str(True)
  end)

  it("check mode changes nothing and reports what would change", function()
    local dest = TMP .. "/check.txt"
    local recap, events = play({ hosts = "all", tasks = {
      { name = "copy", copy = { content = "x\n", dest = dest } },
      { name = "sh", shell = "touch " .. dest },
    } }, { check = true })
    assert.is_false(exists(dest))
    assert.equal("changed", results(events, "copy").h1.status)
    assert.equal("skipped", results(events, "sh").h1.status)
    assert.equal(0, recap.h1.failed)
  end)

  it("a task with check_mode = true runs in check mode even without --check", function()
    local dest = TMP .. "/check_true.txt"
    local recap, events = play({ hosts = "all", tasks = {
      { name = "copy", copy = { content = "x\n", dest = dest }, check_mode = true },
      { name = "sh", shell = "touch " .. dest, check_mode = true },
      { name = "real", copy = { content = "y\n", dest = dest .. ".real" }, check_mode = false },
      { name = "sees", debug = { msg = "{{ ansible_check_mode }}" }, check_mode = true },
      { name = "plain", debug = { msg = "{{ ansible_check_mode }}" } },
    } })
    assert.equal("true", results(events, "sees").h1.result.msg) -- the task's own mode
    assert.equal("false", results(events, "plain").h1.result.msg)
    assert.is_false(exists(dest))
    assert.equal("changed", results(events, "copy").h1.status)
    assert.truthy(results(events, "copy").h1.result.msg:find("would", 1, true))
    assert.equal("skipped", results(events, "sh").h1.status)
    assert.is_true(exists(dest .. ".real"))
    assert.equal(0, recap.h1.failed)
    local _, err = plays.play({ hosts = "all", tasks = { { debug = "x", check_mode = "yes" } } },
      { inventory = local_hosts(1) })
    assert.truthy(err:find("task 1: check_mode must be true or false", 1, true), err)
  end)

  describe("refuses bad input before touching any host", function()
    local marker = TMP .. "/must-not-exist"
    local cases = {
      { "unknown module", { { shell = "touch " .. marker }, { module = "nosuch" } },
        "task 2: unknown module 'nosuch'" },
      { "bad argument", { { shell = "touch " .. marker }, { copy = { dest = "/x", content = "y", colour = 1 } } },
        "task 2: copy: unknown argument 'colour'" },
      { "wrong type", { { shell = "touch " .. marker }, { wait_for = { port = "eighty" } } },
        "wait_for: argument 'port' must be an integer, got a string ('eighty')" },
      { "bad choice", { { shell = "touch " .. marker }, { file = { path = "/x", state = "gone" } } },
        "file: argument 'state' must be one of file, directory, absent, touch, link, got 'gone'" },
      { "missing argument", { { shell = "touch " .. marker }, { copy = { content = "x" } } },
        "copy: missing required argument 'dest'" },
      { "bad when", { { shell = "touch " .. marker }, { shell = "true", when = "a ==" } }, "bad when" },
      { "unknown task field", { { shell = "touch " .. marker }, { shell = "true", regster = "x" } },
        "unknown task field 'regster'" },
      { "two module keys", { { shell = "touch " .. marker }, { debug = { msg = "x" }, shell = "true" } },
        "task 2: task has two modules: debug and shell" },
      { "module and a module key", { { shell = "touch " .. marker }, { module = "shell", args = "true", debug = "x" } },
        "task 2: task has two modules: debug and shell" },
      { "module not a string", { { shell = "touch " .. marker }, { module = 5, foo = 1 } },
        "task 2: module must be a module name, got a number (5)" },
      { "unknown filter in an argument", { { shell = "touch " .. marker },
        { name = "t", debug = { msg = "a {{ x | nofilter }} b" } } },
        "task 2 ('t'): argument 'msg': column 10: no filter named 'nofilter'" },
      { "unclosed {{ in a free-form argument", { { shell = "touch " .. marker }, { shell = "echo {{ x" } },
        "task 2: argument 'cmd': column 10: unexpected end of template, expected '}}'" },
      { "unknown test deep in an argument", { { shell = "touch " .. marker },
        { copy = { dest = "/x", content = "{% if a is nosuchtest %}y{% endif %}" } } },
        "task 2: argument 'content': column 12: no test named 'nosuchtest'" },
      { "a bad template on line 2", { { shell = "touch " .. marker },
        { copy = { dest = "/x", content = "a\n{{ b | x1 }}" } } },
        "task 2: argument 'content': line 2: no filter named 'x1'" },
      { "bad template in a name", { { shell = "touch " .. marker }, { name = "n {{ a |", debug = "x" } },
        "task 2 ('n {{ a |'): name: " },
      { "bad template in a loop", { { shell = "touch " .. marker }, { debug = "x", loop = "{{ l | nope }}" } },
        "task 2: loop: column 8: no filter named 'nope'" },
      { "bad template in task vars",
        { { shell = "touch " .. marker }, { debug = "x", vars = { a = { "{{ a + }}" } } } },
        "task 2: variable 'a'[1]: column 8: unexpected end of print statement, expected an expression"
      },
      { "bad template in a handler", { { shell = "touch " .. marker } , { debug = "x", notify = "h" } },
        "handler 1 ('h'): argument 'cmd': column 8: no filter named 'nope'",
        { { name = "h", shell = "{{ 1 | nope }}" } } },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local recap, err = plays.play({ name = "p", hosts = "all", tasks = c[2], handlers = c[4] },
          { inventory = local_hosts(1) })
        assert.is_nil(recap)
        assert.truthy(err:find(c[3], 1, true), err)
        assert.is_false(exists(marker))
      end)
    end

    it("play vars, module_path, play and task names of the wrong type, with the play and task named", function()
      local function prep(p)
        p.hosts = "all"
        p.tasks = p.tasks or { { shell = "touch " .. marker } }
        local recap, err = plays.play(p, { inventory = local_hosts(1) })
        assert.is_nil(recap)
        assert.is_false(exists(marker))
        return err
      end
      assert.equal("play 'p': vars must be a mapping of names to values, got a string ('s')",
        prep({ name = "p", vars = "s" }))
      assert.equal("play 'p': module_path must be a folder or a list of folders (strings), got a number (5)",
        prep({ name = "p", module_path = 5 }))
      assert.equal("play 'p': module_path[2] must be a folder (a non-empty string without NUL), got a number (5)",
        prep({ name = "p", module_path = { "lib", 5 } }))
      assert.equal("play 'play': name must be a string, got a number (5)", prep({ name = 5 }))
      assert.equal("play 'p', task 2: name must be a string, got a number (5)",
        prep({ name = "p", tasks = { { shell = "touch " .. marker }, { name = 5, debug = "x" } } }))
      assert.equal("play 'p', task 2 ('t'): vars must be a mapping of names to values, got a string ('s')",
        prep({ name = "p", tasks = { { shell = "touch " .. marker }, { name = "t", debug = "x", vars = "s" } } }))
    end)

    it("a bad template in play vars; an undefined variable is not an error before the run", function()
      local recap, err = plays.play({ name = "p", hosts = "all", vars = { v = "{{ a | nofilter }}" },
        tasks = { { shell = "touch " .. marker } } }, { inventory = local_hosts(1) })
      assert.is_nil(recap)
      assert.equal("play 'p': variable 'v': column 8: no filter named 'nofilter'", err)
      assert.is_false(exists(marker))
      local events
      recap, events = play({ hosts = "all", tasks = { { name = "u", debug = "{{ nosuch }}", ignore_errors = true } } })
      assert.equal(1, recap.h1.ignored)
      assert.truthy(results(events, "u").h1.result.msg:find("'nosuch' is undefined", 1, true))
    end)

    it("unknown host pattern and missing inventory", function()
      local recap, err = plays.play({ hosts = "nosuch", tasks = { { shell = "touch " .. marker } } },
        { inventory = local_hosts(1) })
      assert.is_nil(recap)
      assert.truthy(err:find("host pattern 'nosuch' matches no host or group", 1, true))
      recap, err = plays.play({ hosts = "all", tasks = {} }, { inventory = "/nonexistent/inv.ini" })
      assert.is_nil(recap)
      assert.truthy(err:find("cannot read inventory /nonexistent/inv.ini", 1, true))
      assert.is_false(exists(marker))
    end)
  end)

  it("runs the implicit localhost without an inventory", function()
    local recap = plays.play({ hosts = "localhost", tasks = { { ping = {} } } })
    assert.equal(1, recap.localhost.ok)
  end)

  it("runs a list of plays", function()
    local recap = plays.play({
      { hosts = "h1", tasks = { { ping = {} } } },
      { hosts = "h2", tasks = { { ping = {} }, { ping = {} } } },
    }, { inventory = local_hosts(2) })
    assert.equal(1, recap.h1.ok)
    assert.equal(2, recap.h2.ok)
  end)

  it("works from inside luasible.run and spawned tasks", function()
    local recap = luasible.run(function()
      return luasible.play({ hosts = "all", tasks = { { shell = "true" } } }, { inventory = local_hosts(2) })
    end)
    assert.equal(1, recap.h2.changed)
  end)

  it("no_log hides the live output and progress of a task too, not only its result", function()
    local recap, events = play({ hosts = "all", tasks = {
      { name = "quiet", streaming_shell = "echo hush-1; echo hush-2 >&2; echo 'hush 50%'", no_log = true },
      { name = "quiet copy", copy = { content = "hush-3", dest = TMP .. "/nolog.txt" }, no_log = true },
      { name = "loud", shell = "echo shown" },
    } })
    assert.equal(3, recap.h1.changed)
    local seen, progress = {}, 0
    for _, ev in ipairs(events) do
      local json = require("luasible.json").encode(ev)
      assert.is_nil(json:find("hush", 1, true), json)
      if ev.type == "stdout" then seen[#seen + 1] = ev.task .. ":" .. ev.data end
      if ev.type == "progress" then progress = progress + 1 end
    end
    assert.same({ "loud:shown" }, seen)
    assert.is_true(progress > 0) -- still shown moving, without what it says
  end)

  it("never renders host data (facts, registered output, items from it) as a template again", function()
    local lc = luasible.connect()
    -- a host whose facts and output hold template text
    local evil = "{{ ansible_become_password }}"
    local conn = { kind = "evil", streaming = true,
      execute = function(_, cmd, o)
        if type(cmd) == "string" and cmd:find("os-release", 1, true) then
          return { rc = 0, ok = true, stdout = "osr_ID=debian\nhostname=" .. evil .. "\n", stderr = "",
            duration = 0, timed_out = false }
        end
        return lc:execute(cmd, o)
      end,
      stream = function(_, ...) return lc:stream(...) end }
    local write_tmpl = io.open(TMP .. "/evil.tmpl", "w")
    write_tmpl:write("{% for l in out.stdout_lines %}{{ l }};{% endfor %}{{ ansible_hostname }}\n")
    write_tmpl:close()
    local recap, _, details = play({ hosts = "all", gather_facts = true,
      vars = { app = "{{ root }}/app", root = "/srv" },
      tasks = {
        { name = "fact", debug = { msg = "{{ ansible_hostname }} {{ app }}" } },
        { name = "out", shell = "printf '%s%s ansible_become_password }}\\n%s%s root }}\\n' '{' '{' '{' '{'",
          register = "out" },
        { name = "items", debug = { msg = "{{ item }}" }, loop = "{{ out.stdout_lines }}" },
        { name = "lines", debug = { msg = "{{ item }}" }, loop = "{{ out.stdout.splitlines() }}" },
        { name = "when", debug = { msg = "ok" }, when = "item == '{{ root }}'", loop = "{{ out.stdout_lines }}" },
        { name = "tmpl", template = { src = TMP .. "/evil.tmpl", dest = TMP .. "/evil.out" } },
      } }, { inventory = { all = { hosts = { h1 = { ansible_become_password = "pw-secret" } } } },
      connect = function() return conn end })
    assert.equal(0, recap.h1.failed)
    local d = details.hosts.h1
    local function res(name) for _, r in ipairs(d) do if r.task == name then return r.result end end end
    assert.equal(evil .. " /srv/app", res("fact").msg)
    assert.same({ evil, "{{ root }}" }, { res("items").results[1].msg, res("items").results[2].msg })
    assert.same({ evil, "{{ root }}" }, { res("lines").results[1].msg, res("lines").results[2].msg })
    assert.is_true(res("when").results[1].skipped)
    -- the condition's own '{{ root }}' is rendered first (Ansible's Conditional), the item never:
    -- '{{ root }}' (the host's text) is not '/srv'
    assert.is_true(res("when").results[2].skipped)
    local f = io.open(TMP .. "/evil.out")
    assert.equal(evil .. ";{{ root }};" .. evil .. "\n", f:read("a"))
    f:close()
  end)

  it("stamps events with the core's wall clock (seconds since the epoch, with a fraction)", function()
    local saved = package.loaded.system
    package.loaded.system = { gettime = function() return 12345.5 end } -- not what the play asks
    local before = luasible.wall()
    local _, events = play({ hosts = "all", tasks = { { shell = "sleep 0.05" } } })
    local after = luasible.wall()
    package.loaded.system = saved
    local last = 0
    for _, ev in ipairs(events) do
      assert.is_true(ev.timestamp >= before - 0.01 and ev.timestamp <= after + 0.01, ev.type .. " " .. ev.timestamp)
      assert.is_true(ev.timestamp >= last)
      last = ev.timestamp
    end
    assert.is_true(events[#events].timestamp - events[1].timestamp >= 0.05)
  end)

  it("an interrupt (caught signal) stops every host's command, closes the connections, and raises", function()
    local script = TMP .. "/interrupt.lua"
    local f = assert(io.open(script, "w"))
    f:write([=[
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local luasible = require "luasible"
luasible.catch_signals()
local me = io.open("/proc/self/stat"):read("a"):match("^(%d+)")
local types = {}
local ok, err = pcall(luasible.play, { hosts = "all", tasks = {
  { shell = "echo $$ >> ]=] .. TMP .. [=[/pids; if [ {{ inventory_hostname }} = a ]; then "
    .. "(sleep 0.3; kill -INT " .. me .. ") & fi; exec sleep 30" } } },
  { inventory = { all = { hosts = { a = { ansible_connection = "local" }, b = { ansible_connection = "local" },
    c = { ansible_connection = "local" } } } }, on_event = function(ev) types[#types + 1] = ev.type end })
print(ok, err)
print(types[#types - 1], types[#types])
-- the loop and the scheduler still work afterwards
print(luasible.run(function() return luasible.connect():execute("echo again").stdout end))
]=])
    f:close()
    local p = io.popen("timeout 20 lua5.4 " .. script .. " 2>&1")
    local out = p:read("a")
    p:close()
    assert.equal("false\tEINTR: interrupted by SIGINT\ninterrupted\trecap\nagain\n\n", out)
    local n = 0
    for pid in io.open(TMP .. "/pids"):lines() do
      n = n + 1
      assert.is_false(require("spec.helpers.proc").alive(tonumber(pid)), "a command still runs")
    end
    assert.equal(3, n)
  end)
end)

describe("play: review fixes", function()
  it("registers command/shell output without its trailing newline, with stdout_lines and stderr_lines", function()
    local _, events = play({ hosts = "all", tasks = {
      { name = "sh", shell = "echo yes; printf 'e1\\n\\ne3\\n' >&2", register = "r" },
      { name = "match", debug = { msg = "match" }, when = "r.stdout == 'yes'" },
      { name = "cmd", command = "printf 'a\\n\\nb\\n\\n'", register = "c" },
      { name = "ss", streaming_shell = "echo yes", register = "s" },
      { name = "ss-match", debug = { msg = "match" }, when = "s.stdout == 'yes'" },
    } })
    local r = results(events, "sh").h1.result
    assert.equal("yes", r.stdout)
    assert.equal("e1\n\ne3", r.stderr)
    assert.same({ "yes" }, r.stdout_lines)
    assert.same({ "e1", "", "e3" }, r.stderr_lines)
    assert.equal("ok", results(events, "match").h1.status)
    local c = results(events, "cmd").h1.result
    assert.equal("a\n\nb", c.stdout)
    assert.same({ "a", "", "b" }, c.stdout_lines)
    assert.equal("ok", results(events, "ss-match").h1.status)
  end)
end)

describe("play: plays refused before anything runs", function()
  local D = files.tmpdir()

  it("refuses a notify that names no handler (names and listen count), naming the task and the handler", function()
    local recap, err = plays.play({ name = "p", hosts = "all", tasks = {
      { name = "t", shell = "touch " .. D .. "/ran", notify = "restart ngnix" } },
      handlers = { { name = "restart nginx", debug = { msg = "restarted" } } } }, { inventory = local_hosts(1) })
    assert.is_nil(recap)
    assert.equal("play 'p', task 1 ('t'): notify names the handler 'restart ngnix', but the play has no handler"
      .. " of that name or listen", err)
    assert.is_false(exists(D .. "/ran"))
    local r, events = play({ hosts = "all", tasks = {
      { name = "t", shell = "true", notify = { "restart nginx", "web" } } },
      handlers = { { name = "restart nginx", debug = { msg = "one" } },
        { name = "other", listen = "web", debug = { msg = "two" } } } })
    assert.truthy(r)
    assert.equal("ok", results(events, "restart nginx").h1.status)
    assert.equal("ok", results(events, "other").h1.status)
  end)

  it("refuses a play without hosts", function()
    local recap, err = plays.play({ name = "nohosts", tasks = { { shell = "touch " .. D .. "/ran2" } } },
      { inventory = local_hosts(2) })
    assert.is_nil(recap)
    assert.equal("play 'nohosts' has no hosts", err)
    assert.is_false(exists(D .. "/ran2"))
  end)

  it("resolves the play's module_path against the play's folder", function()
    os.execute("mkdir -p " .. D .. "/play/m2")
    local f = assert(io.open(D .. "/play/m2/hello_m2.lua", "w"))
    f:write("return { run = function() return { changed = false, msg = 'hello from m2' } end }\n")
    f:close()
    local recap, events = play({ hosts = "all", module_path = "m2", tasks = { { name = "hi", hello_m2 = {} } } },
      { base_dir = D .. "/play" })
    assert.truthy(recap, events)
    assert.equal("hello from m2", results(events, "hi").h1.result.msg)
    recap = play({ hosts = "all", module_path = { D .. "/play/m2" }, tasks = { { name = "hi", hello_m2 = {} } } },
      { base_dir = "/nonexistent" })
    assert.truthy(recap)
  end)

  it("loads group_vars/ and host_vars/ of the inventory's and the play's folders, Ansible's precedence", function()
    local write = files.write
    local G = TMP .. "/gv"
    os.execute("mkdir -p " .. G .. "/inv/group_vars " .. G .. "/inv/host_vars " .. G .. "/play/group_vars/web "
      .. G .. "/play/host_vars")
    write(G .. "/inv/hosts.ini", "[all:vars]\nansible_connection=local\n[web]\nh1 hl=line\nh2\n")
    write(G .. "/inv/group_vars/all.yml", "a: inv_all\nb: inv_all\nc: inv_all\nd: inv_all\ne: inv_all\n")
    write(G .. "/inv/group_vars/web.yml", "b: inv_web\nc: inv_web\n")
    write(G .. "/inv/host_vars/h1.yml", "hl: inv_host\nhv: inv_host\n")
    write(G .. "/play/group_vars/all.yml", "a: play_all\nb: play_all\nd: play_all\ne: play_all\n")
    write(G .. "/play/group_vars/web/main.yml", "c: play_web\n")
    write(G .. "/play/host_vars/h1.json", '{"hv": "play_host"}')
    local p = { hosts = "web", vars = { d = "play_vars" }, tasks = {
      { name = "show", debug = { msg = "{{ a }} {{ b }} {{ c }} {{ d }} {{ e }} {{ hl | default('-') }}"
        .. " {{ hv | default('-') }}" } } } }
    local recap, events = play(p, { inventory = G .. "/inv/hosts.ini", base_dir = G .. "/play",
      extra_vars = { e = "extra" } })
    assert.truthy(recap)
    local r = results(events, "show")
    -- play group_vars/all > inventory group_vars/all; inventory group_vars/web > play group_vars/all;
    -- play group_vars/web > inventory group_vars/web; play vars and -e above all of these
    assert.equal("play_all inv_web play_web play_vars extra inv_host play_host", r.h1.result.msg)
    assert.equal("play_all inv_web play_web play_vars extra - -", r.h2.result.msg)
    -- without the play's folder only the inventory's apply
    local _, events2 = play(p, { inventory = G .. "/inv/hosts.ini" })
    assert.equal("inv_all inv_web inv_web play_vars inv_all inv_host inv_host", results(events2, "show").h1.result.msg)
    -- a malformed file next to the play is refused before anything runs
    write(G .. "/play/host_vars/h2.yml", "x: [\n")
    local err
    recap, err = plays.play(p, { inventory = G .. "/inv/hosts.ini", base_dir = G .. "/play" })
    assert.is_nil(recap)
    assert.truthy(err:find(G .. "/play/host_vars/h2.yml:", 1, true), err)
  end)

  describe("a list of plays, as an Ansible playbook", function()
    it("keeps registered results and facts per host and drops failed hosts from the later plays", function()
      local recap, events = play({
        { name = "one", hosts = "all", gather_facts = true, tasks = {
          { name = "reg", shell = "echo from-{{ inventory_hostname }}", register = "r1" },
          { name = "boom", shell = "exit 1", when = "inventory_hostname == 'h1'" },
        } },
        { name = "two", hosts = "all", tasks = {
          { name = "show", debug = { msg = "{{ r1.stdout }} {{ ansible_facts.hostname == ansible_hostname }}" } },
        } },
      }, { inventory = local_hosts(3) })
      local r = results(events, "show")
      assert.is_nil(r.h1)
      assert.equal("from-h2 True", r.h2.result.msg)
      assert.equal("from-h3 True", r.h3.result.msg)
      -- play two's hosts leave h1 out; the recap sums over both plays
      for _, ev in ipairs(events) do
        if ev.type == "play_start" and ev.play == "two" then assert.same({ "h2", "h3" }, ev.hosts) end
        assert.is_not.equal("no_hosts_left", ev.type)
      end
      assert.same({ ok = 2, changed = 1, failed = 1, unreachable = 0, skipped = 0, ignored = 0 }, recap.h1)
      assert.same({ ok = 3, changed = 1, failed = 0, unreachable = 0, skipped = 1, ignored = 0 }, recap.h2)
    end)

    it("drops an unreachable host from the later plays", function()
      local inv = local_hosts(1)
      inv.all.hosts.down = { ansible_host = "127.0.0.1", ansible_port = 1, luasible_ssh_config = "none",
        ansible_ssh_timeout = 3 }
      local recap, events = play({
        { name = "one", hosts = "all", tasks = { { name = "a", ping = {} } } },
        { name = "two", hosts = "all", tasks = { { name = "b", ping = {} } } },
      }, { inventory = inv })
      assert.equal(1, recap.down.unreachable)
      assert.is_nil(results(events, "b").down)
      assert.equal("ok", results(events, "b").h1.status)
      assert.equal(2, recap.h1.ok)
    end)

    it("stops the run when every host of a play failed (no more hosts left)", function()
      local inv = local_hosts(2, { other = { hosts = { o1 = { ansible_connection = "local" } } } })
      local recap, events = play({
        { name = "one", hosts = "h1:h2", tasks = { { name = "boom", shell = "exit 3" } } },
        { name = "two", hosts = "other", tasks = { { name = "later", ping = {} } } },
      }, { inventory = inv })
      assert.equal(1, recap.h1.failed)
      assert.is_nil(recap.o1)
      assert.is_nil(next(results(events, "later")))
      local kinds = {}
      for _, ev in ipairs(events) do kinds[#kinds + 1] = ev.type end
      assert.equal("no_hosts_left", kinds[#kinds - 1])
      assert.equal("recap", kinds[#kinds])
      assert.equal(2, plays.exit_code(recap))
    end)
  end)

  it("takes when (and changed_when, failed_when) as a list of conditions: all must hold", function()
    local recap, events = play({ hosts = "all", vars = { a = true, n = 3 }, tasks = {
      { name = "all true", debug = "ran", when = { "a", "n > 2", function(v) return v.idx == 1 end, true } },
      { name = "one false", debug = "ran", when = { "a", "n > 5" } },
      { name = "fn false", debug = "ran", when = { "a", function() return false end } },
      { name = "empty", debug = "ran", when = {} },
      { name = "items", debug = "{{ item }}", loop = { 1, 2, 3, 4 }, when = { "item > 1", "item < 4" } },
      { name = "fw", shell = "exit 3", register = "r", failed_when = { "r.rc != 0", "r.rc != 3" } },
      { name = "cw", shell = "true", changed_when = { "true", "false" } },
      { name = "fw empty", shell = "true", failed_when = {} },
      { name = "cw empty", debug = "x", changed_when = {} },
      { name = "both empty", shell = "exit 2", failed_when = {}, changed_when = {}, ignore_errors = true },
    } })
    local function st(t) return results(events, t).h1.status end
    assert.equal("ok", st("all true"))
    assert.equal("skipped", st("one false"))
    assert.equal("skipped", st("fn false"))
    assert.equal("ok", st("empty"))
    local items = results(events, "items").h1.result.results
    assert.same({ true, false, false, true }, { items[1].skipped or false, items[2].skipped or false,
      items[3].skipped or false, items[4].skipped or false })
    assert.equal("changed", st("fw")) -- not failed: rc 3 is allowed
    -- empty lists of changed_when / failed_when are no condition (as Ansible), not "all hold"
    assert.equal("changed", st("fw empty"))
    assert.equal("ok", st("cw empty"))
    assert.equal("failed", st("both empty"))
    assert.equal(1, recap.h1.ignored)
    assert.equal("ok", st("cw"))
    assert.equal(0, recap.h1.failed)
    -- checked before anything runs
    local _, err = plays.play({ hosts = "all", tasks = { { debug = "x", when = { "a", "b ==" } } } },
      { inventory = local_hosts(1) })
    assert.truthy(err:find("task 1: bad when (condition 2): ", 1, true), err)
    _, err = plays.play({ hosts = "all", tasks = { { debug = "x", when = { "a", { "b" } } } } },
      { inventory = local_hosts(1) })
    assert.truthy(err:find("task 1: when[2] must be an expression (a string), a function or a boolean, got a list",
      1, true), err)
    -- an undefined name in the second condition says which
    _, events = play({ hosts = "all", tasks = { { name = "u", debug = "x", when = { "true", "nosuch" } } } })
    local r = results(events, "u").h1
    assert.equal("failed", r.status)
    assert.truthy(r.result.msg:find("when: condition 2: ", 1, true), r.result.msg)
  end)

  it("emits each loop item's result as it comes; an empty loop is skipped", function()
    local recap, events = play({ hosts = "all", vars = { nothing = {} }, tasks = {
      { name = "each", debug = { msg = "v {{ item }}" }, loop = { "a", "b" } },
      { name = "empty", debug = "{{ item }}", loop = "{{ nothing }}", register = "e" },
      { name = "seen", debug = "{{ e is skipped }}" },
    } })
    local items = {}
    for _, ev in ipairs(events) do
      if ev.type == "item_result" then items[#items + 1] = ev.task .. ":" .. ev.item .. ":" .. ev.result.msg end
    end
    assert.same({ "each:a:v a", "each:b:v b" }, items)
    assert.equal("skipped", results(events, "empty").h1.status)
    assert.equal("true", results(events, "seen").h1.result.msg)
    assert.equal(1, recap.h1.skipped)
  end)

  it("names the play file and the task's line in a message about a task; the play is named after its file", function()
    local d = files.tmpdir()
    local f = d .. "/site.lua"
    files.write(f, table.concat({
      "return {",
      "  hosts = 'all',",
      "  tasks = {",
      "    { name = 'first', debug = { msg = 'a' } },",
      "    { name = 'second', copy = { dest = '/x', content = 'y', colour = 1 } },",
      "  },",
      "}",
    }, "\n"))
    local recap, err = plays.play(dofile(f), { inventory = local_hosts(1), play_file = f })
    assert.is_nil(recap)
    assert.equal(f .. ":5: play 'site.lua', task 2 ('second'): copy: unknown argument 'colour'"
      .. " (known: backup, content, decrypt, dest, follow, force, group, mode, owner, src)", err)
    -- a task of the same name later in the file gets its own line; no name: the index
    files.write(f, "return {\n  { name = 'a', hosts = 'all', tasks = { { name = 't', debug = 'x' } } },\n"
      .. "  { name = 'b', hosts = 'all', tasks = {\n    { name = 't', debug = 'x' },\n"
      .. "    { name = 't', debug = 'x', regster = 1 } } },\n}\n")
    err = select(2, plays.play(dofile(f), { inventory = local_hosts(1), play_file = f }))
    assert.equal(f .. ":5: play 'b', task 2 ('t'): unknown task field 'regster'", err)
    files.write(f, "return { hosts = 'all', tasks = { { debug = 'x', regster = 1 } } }\n")
    err = select(2, plays.play(dofile(f), { inventory = local_hosts(1), play_file = f }))
    assert.equal(f .. ":1: play 'site.lua', task 1: unknown task field 'regster'", err)
    -- the default play name is the file's name, in events too
    files.write(f, "return { hosts = 'all', tasks = { { debug = 'x' } } }\n")
    local events
    recap, events = play(dofile(f), { play_file = f })
    assert.equal(1, recap.h1.ok)
    assert.equal("site.lua", events[1].play)
  end)

  it("says which failed_when condition failed a task", function()
    local _, events = play({ hosts = "all", tasks = {
      { name = "fw", shell = "echo bad", register = "r", failed_when = "'bad' in r.stdout", ignore_errors = true },
      { name = "fw2", shell = "echo ok", failed_when = { "result.rc == 0", "result.stdout == 'ok'" },
        ignore_errors = true },
      { name = "fwf", debug = "x", failed_when = function() return true end, ignore_errors = true },
      { name = "kept", shell = "exit 3", failed_when = "result.rc != 0", ignore_errors = true },
    } })
    local r = results(events, "fw").h1
    assert.equal("failed", r.status)
    assert.equal("failed_when condition was true: 'bad' in r.stdout", r.result.msg)
    assert.is_true(r.result.failed_when_result)
    assert.equal("failed_when condition was true: result.rc == 0 and result.stdout == 'ok'",
      results(events, "fw2").h1.result.msg)
    assert.equal("failed_when condition was true: a function of the play", results(events, "fwf").h1.result.msg)
    -- a module that failed by itself keeps its own message
    assert.equal("non-zero return code 3", results(events, "kept").h1.result.msg)
  end)
end)

describe("play: empty mappings", function()
  it("prints hostvars as a mapping of every host, never [] ", function()
    local _, events = play({ hosts = "h1", tasks = {
      { name = "hv", debug = { var = "hostvars" } },
      { name = "keys", debug = { msg = "{{ hostvars | to_json }}" } },
    } }, { inventory = { all = { hosts = { h1 = { ansible_connection = "local" },
      h2 = { ansible_connection = "local", x = 1 } } } } })
    local msg = results(events, "hv").h1.result.msg
    assert.truthy(msg:find('^hostvars = {"h1":{'), msg)
    assert.truthy(msg:find('"h2":{', 1, true), msg)
    assert.truthy(results(events, "keys").h1.result.msg:find('"x": 1', 1, true)) -- json.dumps' spacing
  end)
end)

describe("play: abort", function()
  local D = files.tmpdir()

  it("an error that stops the run kills the running commands and lets the loop settle (scheduler.settle)", function()
    local scheduler = require "luasible.scheduler"
    local settle = spy.on(scheduler, "settle")
    local pids = D .. "/pids"
    local t0 = luasible.now()
    local ok, err = pcall(plays.play, { hosts = "all", tasks = { { shell = "echo $$ >> " .. pids
        .. "; if [ {{ inventory_hostname }} = h2 ]; then exec sleep 30; fi;"
        -- h1 ends once h2 runs (5 s at most)
        .. " i=0; while [ \"$(wc -l < " .. pids .. ")\" -lt 2 ] && [ $i -lt 100 ]; do"
        .. " sleep 0.05; i=$((i+1)); done" } } },
      { inventory = local_hosts(2), on_event = function(ev)
        -- a renderer that breaks while h2's command still runs
        if ev.type == "host_task_result" and ev.host == "h1" then error("renderer broke", 0) end
      end })
    scheduler.settle:revert()
    assert.is_false(ok)
    assert.truthy(tostring(err):find("renderer broke", 1, true), tostring(err))
    assert.spy(settle).was_called()
    assert.is_true(luasible.now() - t0 < 5)
    local n = 0
    for pid in io.lines(pids) do
      n = n + 1
      assert.is_false(require("spec.helpers.proc").alive(tonumber(pid)), "a command still runs")
    end
    assert.equal(2, n)
  end)

  it("no file of the task layer drives the loop itself (core.run_once)", function()
    local p = io.popen("grep -rn 'run_once' lua/luasible/play/")
    local out = p:read("a")
    p:close()
    -- run_once here is the task field only (a task run on the first host)
    for line in out:gmatch("[^\n]+") do
      assert.is_nil(line:find("core%.run_once") or line:find("run_once%s*%("), line)
    end
  end)
end)

describe("play: the play file", function()
  local D = files.tmpdir()

  it("is read once: load() gives the play and the lines of its tasks for messages", function()
    local f = D .. "/site.lua"
    files.write(f, "#!/usr/bin/env luasible\nreturn {\n  hosts = 'all',\n  tasks = {\n"
      .. "    { name = 'first', debug = { msg = 'a' } },\n    { name = 'second', debug = 'x', regster = 1 },\n"
      .. "  },\n}\n")
    local p, lerr, locate = plays.load(f)
    assert.is_nil(lerr)
    assert.equal("all", p.hosts)
    os.remove(f) -- nothing reads it again
    local recap, err = plays.play(p, { inventory = local_hosts(1), play_file = f, locate = locate })
    assert.is_nil(recap)
    assert.equal(f .. ":6: play 'site.lua', task 2 ('second'): unknown task field 'regster'", err)
  end)

  it("says what is wrong with a play file as loadfile did", function()
    local f = D .. "/bad.lua"
    assert.equal("cannot read play file " .. f, select(2, plays.load(f)))
    files.write(f, "return {\n  hosts = 'all',,\n}\n")
    assert.truthy(select(2, plays.load(f)):find("^" .. f:gsub("%p", "%%%0") .. ":2: "))
    files.write(f, "error('no')\n")
    assert.equal(f .. ":1: no", select(2, plays.load(f))) -- its place once, not "f: f:1: no"
    files.write(f, "error({})\n")
    assert.truthy(select(2, plays.load(f)):find("^" .. f:gsub("%p", "%%%0") .. ": table: "))
    files.write(f, "return 1\n")
    assert.equal(f .. ": must return a play table (or a list of plays)", select(2, plays.load(f)))
  end)
end)
