-- The output renderers: terminal (TTY and not) and JSON lines.
local render = require "luasible.render"
local fmt = require "luasible.render.text"
local json = require "luasible.json"
local cjson = require "cjson"

-- a file-like sink
local function sink()
  local buf = {}
  return { write = function(self, ...) for _, s in ipairs({ ... }) do buf[#buf + 1] = s end return self end,
    flush = function() end, text = function() return table.concat(buf) end }
end

local function feed(on_event, events)
  for i, ev in ipairs(events) do
    ev.seq = ev.seq or i
    ev.timestamp = ev.timestamp or i -- one second apart: no redraw is throttled away
    on_event(ev)
  end
end

-- the keys of a JSON object's text at depth `at` (1: the top), in the order written
local function keys_in_order(text, at)
  local keys, depth, i = {}, 0, 1
  while i <= #text do
    local c = text:sub(i, i)
    if c == '"' then
      local j = i + 1
      while text:sub(j, j) ~= '"' do j = j + (text:sub(j, j) == "\\" and 2 or 1) end
      if depth == at and text:sub(j + 1, j + 1) == ":" then keys[#keys + 1] = text:sub(i + 1, j - 1) end
      i = j
    elseif c == "{" or c == "[" then depth = depth + 1
    elseif c == "}" or c == "]" then depth = depth - 1 end
    i = i + 1
  end
  return keys
end

describe("render", function()
  it("formats sizes and durations for people", function()
    assert.equal("512 B", fmt.bytes(512))
    assert.equal("1.5 KiB", fmt.bytes(1536))
    assert.equal("57 MiB", fmt.bytes(60000000))
    assert.equal("1.01s", fmt.duration(1.0096935209999))
    assert.equal("0.00s", fmt.duration(0))
    assert.equal("2m05s", fmt.duration(125.2))
  end)

  it("shows sequences as JSON lists, an empty table as [] unless marked a mapping, keys sorted", function()
    assert.equal("[]", json.encode({}))
    assert.equal("{}", json.encode(json.object()))
    assert.equal('{"a":[],"b":{},"c":[1,"x"],"z":1}',
      json.encode({ z = 1, c = { 1, "x" }, a = {}, b = json.object() }))
    -- the JSON lines renderer too (cjson alone would show [] as {})
    local out = sink()
    render.json({ out = out })({ type = "host_task_result", result = { group_names = {}, ipv4 = json.object() } })
    local line = out.text()
    assert.truthy(line:find('"group_names":[]', 1, true), line)
    assert.truthy(line:find('"ipv4":{}', 1, true), line)
    assert.equal("table", type(cjson.decode(line).result.group_names))
    -- templates write values as Python does (issue 11): {{ x }} is str(),
    -- to_json is json.dumps (", " and ": " between items)
    local T = require "luasible.template"
    assert.equal("[] {\"a\": 1, \"b\": [2]}",
      T.render("{{ e }} {{ m | to_json }}", { e = {}, m = { b = { 2 }, a = 1 } }))
  end)

  it("prints the recap with a rounded elapsed time, without colours when asked", function()
    local out = sink()
    feed(render.terminal({ out = out, color = false }), {
      { type = "recap", elapsed = 1.0096935209999, recap = {
        web10 = { ok = 3, changed = 1, failed = 0, unreachable = 0, skipped = 0, ignored = 0 },
        web2 = { ok = 1, changed = 0, failed = 1, unreachable = 0, skipped = 0, ignored = 0 } } } })
    local text = out.text()
    assert.truthy(text:find("PLAY RECAP [1.01s]", 1, true), text)
    assert.truthy(text:find("\nweb10 : ok=3    changed=1    unreachable=0    failed=0", 1, true), text)
    assert.truthy(text:find("\nweb2  : ok=1    changed=0    unreachable=0    failed=1", 1, true), text)
    assert.is_nil(text:find("\27", 1, true))
  end)

  it("prints a module's warnings after its result, as Ansible's [WARNING] lines", function()
    local out = sink()
    feed(render.terminal({ out = out }), {
      { type = "host_task_result", host = "web1", status = "ok",
        result = { msg = "Not all paths examined", warnings = { "Skipped '/x' path: denied\n", "second" } } } })
    assert.equal("ok: [web1] => Not all paths examined\n[WARNING]: Skipped '/x' path: denied\n[WARNING]: second\n",
      out.text())
  end)

  it("colours hosts and statuses on a terminal", function()
    local out = sink()
    feed(render.terminal({ out = out, color = true, tty = true }), {
      { type = "stdout", host = "web1", data = "hi" },
      { type = "host_task_result", host = "web1", status = "failed", result = { msg = "boom" } } })
    local text = out.text()
    assert.truthy(text:find("\27%[%d+mweb1\27%[0m | hi\n"), text)
    assert.truthy(text:find("\27[31mfailed:\27[0m", 1, true), text)
  end)

  it("draws one live status line with a bar per host, fitted to the width", function()
    local out = sink()
    local on = render.terminal({ out = out, tty = true, color = false, width = 80 })
    feed(on, {
      { type = "progress", host = "web1", progress = { stage = "transferring", percentage = 50,
        bytes_done = 1536, bytes_total = 3072 } },
      { type = "progress", host = "web2", progress = { stage = "executing", percentage = 25 } } })
    local last = out.text():match("([^\r]*)$")
    assert.equal("\27[Kweb1 [######......]  50% 1.5 KiB/3.0 KiB  web2 [###.........]  25%", last)
    -- narrow: compact, then "+N more"
    out = sink()
    on = render.terminal({ out = out, tty = true, color = false, width = 30 })
    local evs = {}
    for i = 1, 6 do
      evs[i] = { type = "progress", host = "host" .. i, progress = { stage = "transferring", percentage = 10 * i } }
    end
    feed(on, evs)
    last = out.text():match("([^\r]*)$")
    assert.truthy(#last - 3 <= 29, last)
    assert.truthy(last:find("host1  10%", 1, true), last)
    assert.truthy(last:find("more$"), last)
    -- a line clears the status first and redraws it after
    on({ type = "stdout", host = "host1", data = "line", seq = 99, timestamp = 99 })
    assert.truthy(out.text():find("\r\27[Khost1 | line\n\r\27[K", 1, true))
  end)

  it("off a terminal prints progress only when it says something new", function()
    local out = sink()
    feed(render.terminal({ out = out, tty = false, color = false }), {
      { type = "progress", host = "w", progress = { stage = "executing", message = "executing" } },
      { type = "stdout", host = "w", data = "step 1 (30%)" },
      { type = "progress", host = "w", progress = { stage = "executing", percentage = 30, message = "step 1 (30%)" } },
      { type = "progress", host = "w", progress = { stage = "executing", percentage = 60, message = "quiet step" } },
      { type = "progress", host = "w", progress = { stage = "done", percentage = 100 } },
      { type = "progress", host = "w", progress = { stage = "transferring", percentage = 0, bytes_done = 0,
        bytes_total = 2048 } },
      { type = "progress", host = "w", progress = { stage = "transferring", percentage = 100, bytes_done = 2048,
        bytes_total = 2048, message = "/etc/app.conf" } },
    })
    assert.equal("w | step 1 (30%)\nw executing 60% quiet step\n"
      .. "w transferring 100% (2.0 KiB of 2.0 KiB) /etc/app.conf\n", out.text())
  end)

  it("--json writes one object per event with host, task, type, data, progress, result, timestamp", function()
    local out = sink()
    feed(render.json({ out = out }), {
      { type = "stdout", host = "web1", task = "t", play = "p", data = "a line" },
      { type = "progress", host = "web1", task = "t", progress = { stage = "transferring", percentage = 50 } },
      { type = "host_task_result", host = "web1", task = "t", status = "changed",
        result = { changed = true, rc = 0, fn = print } } })
    local lines = {}
    for l in out.text():gmatch("[^\n]+") do lines[#lines + 1] = cjson.decode(l) end
    assert.equal(3, #lines)
    assert.same({ "web1", "t", "stdout", "a line", 1 },
      { lines[1].host, lines[1].task, lines[1].type, lines[1].data, lines[1].timestamp })
    assert.equal("transferring", lines[2].progress.stage)
    assert.equal(0, lines[3].result.rc)
    assert.is_string(lines[3].result.fn) -- functions do not break the encoder
  end)

  it("--json writes every event kind's keys in the same sorted order, nested ones too", function()
    local out = sink()
    feed(render.json({ out = out }), {
      { type = "stdout", host = "web1", task = "t", play = "p", data = "a line" },
      { type = "host_task_result", host = "web1", task = "t", play = "p", module = "shell", status = "changed",
        result = { stdout = "a line", stdout_lines = { "a line" }, stderr_lines = {}, rc = 0, changed = true,
          failed = false, duration = 0.5, timed_out = false } },
      { type = "recap", play = "p", elapsed = 1.5, recap = { web1 = { ok = 1, changed = 1, failed = 0 } } } })
    local lines = {}
    for l in out.text():gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equal(3, #lines)
    local function sorted(list)
      local c = { table.unpack(list) }
      table.sort(c)
      return c
    end
    for _, l in ipairs(lines) do
      local keys = keys_in_order(l, 1)
      assert.same(sorted(keys), keys, l)
      assert.same(sorted(keys_in_order(l, 2)), keys_in_order(l, 2), l)
    end
    -- the keys two kinds share come in the same order in both
    local shared = {}
    local second = {}
    for _, k in ipairs(keys_in_order(lines[2], 1)) do second[k] = true end
    for _, k in ipairs(keys_in_order(lines[1], 1)) do if second[k] then shared[#shared + 1] = k end end
    assert.same({ "host", "play", "seq", "task", "timestamp", "type" }, shared)
    assert.same({ "changed", "duration", "failed", "rc", "stderr_lines", "stdout", "stdout_lines", "timed_out" },
      keys_in_order(lines[2]:match('"result":(%b{})'), 1))
  end)

  it("--json shows an empty list as [] and an empty mapping as {} in one event", function()
    local out = sink()
    render.json({ out = out })({ type = "host_task_result", host = "h", seq = 1,
      result = { stderr_lines = {}, ansible_facts = json.object(), results = { {}, json.object() } } })
    assert.equal('{"host":"h","result":{"ansible_facts":{},"results":[[],{}],"stderr_lines":[]},"seq":1,'
      .. '"type":"host_task_result"}\n', out.text())
  end)
end)
