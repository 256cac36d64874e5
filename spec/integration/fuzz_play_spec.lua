-- Plays of every wrong shape: 2,000 generated play files (fuzz/play_gen.lua,
-- a fixed seed) run through luasible.play on three local hosts, one in 100
-- through `bin/luasible run` too; each runs, or is refused with one line
-- that names what is wrong and the file (fuzz/play_check.lua judges). Then
-- the crashes the fuzzer found in the code before, kept as regression
-- cases with the message each now gives. `make fuzz-play` runs 20,000.
local plays = require "luasible.play"
local files = require "spec.helpers.files"
local gen = require "fuzz.play_gen"
local check = require "fuzz.play_check"
local oracle = require "fuzz.oracle"

local D = files.tmpdir()
local INV = D .. "/inventory.lua"
files.write(INV, check.INVENTORY_SOURCE)

-- Load the play in `src` from a file and run it: recap, details; or nil, err.
local function run(src, inv)
  local f = D .. "/site.lua"
  files.write(f, src)
  local play, err, locate = plays.load(f)
  if not play then return nil, err end
  return plays.play(play, { inventory = inv or check.INVENTORY, play_file = f, locate = locate,
    on_event = function() end, play_vars_dir = false })
end

describe("fuzzing plays", function()
  it("2,000 generated plays run or are refused with one line naming the field and the file", function()
    local r = gen.rng(8)
    local findings, became = {}, { refused = 0, ran = 0, failed = 0 }
    for n = 1, 2000 do
      local case = gen.play(r, { id = tostring(n) })
      local file = string.format("%s/play_%d.lua", D, n)
      local finding, what = check.in_process(case, file)
      if what then became[what] = became[what] + 1 end
      if not finding and n % 100 == 0 then finding = check.cli(case, file, INV, ".") end
      if finding then findings[#findings + 1] = string.format("case %d: %s\n%s", n, finding, case.source) end
      os.remove(file)
      if #findings >= 3 then break end
    end
    assert.same({}, findings)
    -- the grammar reaches every outcome, each many times
    assert.is_true(became.ran > 200 and became.failed > 200 and became.refused > 200,
      string.format("ran %d, failed %d, refused %d", became.ran, became.failed, became.refused))
  end)

  -- Found by fuzz/play.lua (seed 8) in the code before: each crashed (a Lua
  -- error out of luasible.play: a traceback from the CLI), hung, or gave
  -- an internal error or a message over several lines.
  local f = D .. "/site.lua"
  local REFUSED = {
    { "a handlers entry that is no table",
      'return { hosts = "h1", tasks = { { debug = "x" } }, handlers = { 5 } }',
      f .. ":1: play 'site.lua', handler 1: a handler must be a table, got a number (5)" },
    { "handlers that are no list",
      'return {\n  hosts = "h1",\n  tasks = { { debug = "x" } },\n  handlers = 1.5,\n}',
      f .. ":4: play 'site.lua': handlers must be a list, got a number (1.5)" },
    { "tags = 0/0", 'return { name = "p", hosts = "h1", tags = 0/0, tasks = { { debug = "x" } } }',
      f .. ":1: play 'p': tags must be a string, an integer or a list of them, got a number (nan)" },
    { "hosts = {}", 'return { hosts = {}, tasks = { { debug = "x" } } }',
      f .. ":1: play 'site.lua': hosts must be a non-empty list of host patterns, got an empty table" },
    { "a host pattern that is no string", 'return { hosts = { "h1", {} }, tasks = { { debug = "x" } } }',
      f .. ":1: play 'site.lua': hosts[2] must be a host pattern, got an empty table" },
    { "a loop that contains itself",
      'local t = {}\nt[1] = t\nreturn { hosts = "h1", tasks = {\n  { name = "l", debug = "x", loop = t } } }',
      f .. ":4: play 'site.lua', task 1 ('l'): loop[1][1] contains itself" },
    { "arguments that contain themselves",
      'local t = {}\nt.t = t\nreturn { hosts = "h1", tasks = {\n  { name = "a", debug = { msg = t } } } }',
      f .. ":4: play 'site.lua', task 1 ('a'): debug.msg.t contains itself" },
    { "a task list with a hole", 'return { hosts = "h1", tasks = { { debug = "a" }, nil, { debug = "c" } } }',
      f .. ":1: play 'site.lua': tasks must be a list, got a list with a hole (a nil in it)" },
    { "a name over two lines", 'return { hosts = "h1", tasks = { { name = "a\\nb", debug = "x", when = 5 } } }',
      f .. ":1: play 'site.lua', task 1 ('a\\nb'): when must be an expression (a string), a function or a "
      .. "boolean, or a list of them, got a number (5)" },
    { "a host pattern over two lines", 'return { hosts = "h1\\nh2", tasks = { { debug = "x" } } }',
      f .. ":1: play 'site.lua': hosts must be a host pattern (a string) or a list of them, got a string ('h1\\nh2')" },
    { "retries = inf", 'return { hosts = "h1", tasks = {\n  { debug = "x", retries = 1/0, ["until"] = "true" },\n} }',
      f .. ":2: play 'site.lua', task 1: retries must be a non-negative integer, got a number (inf)" },
    { "forks = 0", 'return { hosts = "h1", forks = 0, tasks = { { debug = "x" } } }',
      f .. ":1: play 'site.lua': forks must be a positive integer, got a number (0)" },
    { "notify = 5", 'return { hosts = "h1", tasks = { { debug = "x", notify = 5 } } }',
      f .. ":1: play 'site.lua', task 1: notify must be a non-empty string or a list of non-empty strings, "
      .. "got a number (5)" },
    { "a list of plays with one that is no table", 'return {\n  { hosts = "h1", tasks = {} },\n  5,\n}',
      f .. ":3: a play must be a table, got a number (5)" },
    { "a field of a task far from its name",
      'return { hosts = "h1", tasks = {\n  { name = "t",\n    debug = "x",\n    become = "yes" } } }',
      f .. ":4: play 'site.lua', task 1 ('t'): become must be true or false, got a string ('yes')" },
    { "a module folder with a NUL in it", 'return { hosts = "h1", module_path = "\\0", tasks = { { debug = "x" } } }',
      f .. ":1: play 'site.lua': module_path must be a folder or a list of folders (strings), got a string ('\\000')" },
    { "a file mode that is no integer", 'return { hosts = "h1", tasks = { { file = { path = "/x", mode = 1.5 } } } }',
      f .. ":1: play 'site.lua', task 1: file: argument 'mode' must be a file mode ('0644', 'u+rwx', ...), "
      .. "got a number (1.5)" },
  }
  for _, c in ipairs(REFUSED) do
    it("refuses " .. c[1] .. " with one line", function()
      local recap, err = run(c[2] .. "\n")
      assert.is_nil(recap)
      assert.is_nil(oracle.internal(err), err)
      assert.equal(c[3], err)
    end)
  end

  it("says what went wrong in a template, naming the filter or the operator", function()
    local recap, details = run('return { hosts = "h1", tasks = {\n'
      .. '  { name = "last", debug = "{{ [1, 2] | last | last }}", ignore_errors = true },\n'
      .. '  { name = "div", debug = "{{ 1 // 0 }}", ignore_errors = true },\n'
      .. '  { name = "cmp", debug = { msg = "{{ [1] < \'a\' }}" }, ignore_errors = true },\n} }\n')
    assert.truthy(recap, details)
    local msgs = {}
    for _, d in ipairs(details.hosts.h1) do msgs[d.task] = d.result.msg end
    assert.equal("debug: filter 'last' expects a list, a mapping or a string, got an integer (2)", msgs.last)
    assert.equal("debug: integer division or modulo by zero", msgs.div)
    assert.equal("debug: '<' not supported between instances of 'list' and 'str'", msgs.cmp)
  end)

  it("a connect function of the caller's that raises makes its host unreachable, run_once or not", function()
    for _, once in ipairs({ true, false }) do
      local recap, details = plays.play({ hosts = "h1", tasks = { { name = "t", debug = "x", run_once = once } } },
        { inventory = check.INVENTORY, on_event = function() end, connect = function() error("no way in", 0) end })
      assert.truthy(recap, details)
      assert.equal(1, recap.h1.unreachable)
      assert.equal("connect: no way in", details.hosts.h1[1].result.msg)
    end
  end)

  it("refuses inventory entries of the wrong type, naming the file, the host and the variable", function()
    local inv = D .. "/inv.lua"
    files.write(inv, 'return {\n  all = { hosts = {\n    h1 = { ansible_connection = "local" },\n'
      .. '    h2 = { ansible_port = {} },\n  } },\n}\n')
    local _, err = run('return { hosts = "all", tasks = { { debug = "x" } } }\n', inv)
    assert.equal(inv .. ": host 'h2': ansible_port must be a port number (1 to 65535), got an empty table", err)
    files.write(inv, 'local v = {}\nv.v = v\nreturn { all = { vars = { x = v } } }\n')
    _, err = run('return { hosts = "all", tasks = { { debug = "x" } } }\n', inv)
    assert.equal(inv .. ": group 'all': vars.x.v contains itself", err)
    files.write(inv, 'return { web = { hosts = { "h1", h2 = {} } } }\n')
    _, err = run('return { hosts = "all", tasks = { { debug = "x" } } }\n', inv)
    assert.equal(inv .. ": hosts of group 'web' must be a mapping of names or a list of names, not both", err)
  end)

  it("the CLI prints one line and exits 1 for each, never a traceback", function()
    for i = 1, #REFUSED, 5 do
      local c = REFUSED[i]
      files.write(f, c[2] .. "\n")
      local out, ok, code = files.run(string.format("lua5.4 bin/luasible run %q -i %q 2>&1", f, INV))
      assert.is_not_true(ok)
      assert.equal(1, code)
      assert.equal("luasible: error: " .. c[3] .. "\n", out)
    end
  end)
end)
