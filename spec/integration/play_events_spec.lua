-- Events of a play: a stream's events keep the core's seq and timestamp,
-- the run's own events its own stamp; stdout_lines is a list in results.
local luasible = require "luasible"
local play = require "luasible.play"
local files = require "spec.helpers.files"

local D = files.tmpdir()
local LOCAL = { all = { hosts = { h1 = { ansible_connection = "local" } } } }

-- Run tasks on h1; returns the events, the recap and the details.
local function run(tasks, opts)
  local evs = {}
  opts = opts or {}
  local on = opts.on_event
  opts.inventory = opts.inventory or LOCAL
  opts.on_event = function(ev)
    evs[#evs + 1] = ev
    if on then on(ev) end
  end
  local recap, details = assert(play.play({ name = "p", hosts = "all", tasks = tasks }, opts))
  return evs, recap, details
end

local function of_type(evs, t)
  local out = {}
  for _, ev in ipairs(evs) do if ev.type == t then out[#out + 1] = ev end end
  return out
end

describe("play events", function()
  it("a stream's lines carry the core's seq: 1..n in order for a command's lines", function()
    local evs = run({ { shell = "printf 'a\\nb\\nc\\n'" } })
    local lines = of_type(evs, "stdout")
    assert.equal(3, #lines)
    for i, ev in ipairs(lines) do
      assert.equal(({ "a", "b", "c" })[i], ev.data)
      assert.equal(i, ev.seq)
    end
  end)

  it("streaming_shell's lines and progress keep the stream's seq, increasing in stream order", function()
    local evs = run({ { streaming_shell = "echo one; echo two; echo three" } })
    local seqs, lines = {}, of_type(evs, "stdout")
    for _, ev in ipairs(lines) do seqs[#seqs + 1] = ev.seq end
    assert.equal(3, #seqs)
    for i = 2, #seqs do assert.equal(seqs[i - 1] + 1, seqs[i]) end
    -- the stream's first event is its "executing" progress
    local first = of_type(evs, "progress")[1]
    assert.equal("executing", first.progress.stage)
    assert.equal(1, first.seq)
    assert.equal(2, seqs[1])
  end)

  it("a line's timestamp is when the core read it, on the run's wall clock, not when it was emitted", function()
    files.write(D .. "/two", "first\nsecond\n") -- one write, one read: one reading time
    local before = luasible.wall()
    local evs = run({ { shell = "cat " .. D .. "/two" } }, { on_event = function(ev)
      if ev.type == "stdout" and ev.data == "first" then
        local t = luasible.now() + 0.3
        repeat until luasible.now() >= t -- a slow renderer: the next line waits
      end
    end })
    local lines = of_type(evs, "stdout")
    assert.equal(2, #lines)
    assert.is_true(lines[1].timestamp >= before - 0.01, "seconds since the epoch")
    assert.is_true(math.abs(lines[2].timestamp - lines[1].timestamp) < 0.1,
      "read together: " .. (lines[2].timestamp - lines[1].timestamp))
    -- the result comes after the slow renderer, stamped by the run
    local res = of_type(evs, "host_task_result")[1]
    assert.is_true(res.timestamp - lines[1].timestamp >= 0.29)
  end)

  it("the events the run makes itself keep the run's own seq and clock", function()
    local before = luasible.wall()
    local evs = run({ { shell = "echo x" }, { debug = { msg = "y" } } })
    local own, last = 0, 0
    for _, ev in ipairs(evs) do
      if ev.type ~= "stdout" and ev.type ~= "stderr" then
        own = own + 1
        assert.equal(own, ev.seq, ev.type)
        assert.is_true(ev.timestamp >= last and ev.timestamp >= before - 0.01)
        last = ev.timestamp
      end
    end
    assert.equal("recap", evs[#evs].type)
  end)

  it("--json lines of a stream carry the core's seq", function()
    local p = io.popen("bin/luasible exec localhost -a \"printf 'a\\nb\\n'\" --json 2>/dev/null")
    local out = p:read("a")
    p:close()
    local cjson = require "cjson"
    local seqs = {}
    for line in out:gmatch("[^\n]+") do
      local ev = cjson.decode(line)
      if ev.type == "stdout" then seqs[#seqs + 1] = ev.seq end
    end
    assert.same({ 1, 2 }, seqs)
  end)
end)

describe("play results", function()
  it("stdout_lines is the list of lines even when a module returns the core's result as it is", function()
    local lib = D .. "/library"
    os.execute("mkdir -p " .. lib)
    files.write(lib .. "/raw.lua", "return { params = {}, run = function(ctx)\n"
      .. "  local res = ctx:run(\"printf 'x\\\\ny\\\\n'; echo e >&2\", { stream = true })\n"
      .. "  res.changed = false\n  return res\nend }\n")
    local _, recap, details = run({ { name = "raw", raw = {}, register = "r" },
      { name = "n", debug = { msg = "{{ r.stdout_lines | length }} {{ r.stdout_lines[0] }}" } } },
      { module_path = { lib } })
    assert.equal(2, recap.h1.ok)
    local res = details.hosts.h1[1].result
    assert.same({ "x", "y" }, res.stdout_lines)
    assert.same({ "e" }, res.stderr_lines)
    assert.equal(2, res.stdout_line_count)
    assert.equal(1, res.stderr_line_count)
    assert.equal("2 x", details.hosts.h1[2].result.msg)
  end)
end)
