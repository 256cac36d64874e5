-- luasible.json: the one encoder (sorted keys, [] and {}, clean UTF-8,
-- never fails) and its record encoder for --json events.
local json = require "luasible.json"
local cjson = require "cjson"

describe("json.encode", function()
  it("writes object keys sorted at every depth, lists in order", function()
    assert.equal('{"a":1,"b":{"x":[3,2,1],"y":true},"c":"z"}',
      json.encode({ c = "z", b = { y = true, x = { 3, 2, 1 } }, a = 1 }))
    -- keys that are not strings are written as text, in the same sorted order
    assert.equal('{"1":"one","10":"ten","2.5":"x","k":false}',
      json.encode({ [1] = "one", [10] = "ten", [2.5] = "x", k = false }))
  end)

  it("shows an empty table as [] and a marked one as {}, at any depth and beside each other", function()
    assert.equal("[]", json.encode({}))
    assert.equal("{}", json.encode(json.object()))
    assert.equal('{"a":[],"b":{},"c":[[],{}]}', json.encode({ a = {}, b = json.object(), c = { {}, json.object() } }))
    assert.is_true(json.is_object(json.object({})))
    assert.is_false(json.is_object({}))
    -- a marked table is an object even when its keys are 1..n
    assert.equal('{"1":"a","2":"b"}', json.encode(json.object({ "a", "b" })))
    -- a metatable named luasible.object counts (hostvars: its __pairs lists the hosts)
    local proxy = setmetatable({}, { __name = "luasible.object", __pairs = function()
      return next, { h2 = 2, h1 = 1 }, nil end, __index = { h1 = 1, h2 = 2 } })
    assert.equal('{"h1":1,"h2":2}', json.encode(proxy))
  end)

  it("one encoder whatever the value holds: an empty list changes nothing else (no hidden counter)", function()
    local function result(stderr_lines)
      return { stdout = "a/b", stdout_lines = { "a/b" }, stderr_lines = stderr_lines, rc = 0, changed = true,
        failed = false, duration = 0.25, cmd = "echo a/b" }
    end
    local with_empty, with_line = json.encode(result({})), json.encode(result({ "oops" }))
    assert.equal(with_line:gsub('"stderr_lines":%["oops"%]', '"stderr_lines":[]'), with_empty)
    assert.equal('{"changed":true,"cmd":"echo a/b","duration":0.25,"failed":false,"rc":0,"stderr_lines":[],'
      .. '"stdout":"a/b","stdout_lines":["a/b"]}', with_empty)
    -- and the same text every time, in any order of calls
    assert.equal(with_line, json.encode(result({ "oops" })))
    assert.equal(with_empty, json.encode(result({})))
  end)

  it("makes strings valid UTF-8 and escapes what JSON needs", function()
    assert.equal('"a\\"b\\\\c\\n\\t\\u0001\\u007f/é"', json.encode("a\"b\\c\n\t\1\127/é"))
    assert.equal('"x\u{FFFD}y\u{FFFD}"', json.encode("x\255y\192"))
    assert.equal('{"k\u{FFFD}":"v"}', json.encode({ ["k\255"] = "v" }))
    assert.equal("x\u{FFFD}", json.utf8_clean("x\255"))
    assert.equal("ok", json.utf8_clean("ok"))
    local s = json.encode({ "\0\31\"\\", "\xe2\x82" })
    assert.same({ "\0\31\"\\", "\u{FFFD}\u{FFFD}" }, cjson.decode(s))
  end)

  it("a list of lines: each element as encode writes it alone, escaped or not", function()
    local lines, parts = {}, {}
    for i = 1, 50 do
      lines[i] = i % 7 == 0 and ("line \"%d\"\t\255"):format(i) or (i % 11 == 0 and i or "line " .. i)
      parts[i] = json.encode(lines[i])
    end
    assert.equal("[" .. table.concat(parts, ",") .. "]", json.encode(lines))
  end)

  it("numbers: integers as they are, floats with 14 digits, NaN and infinities as null", function()
    assert.equal('[1,-7,1.5,0.1,1796170577.3643,null,null,null]',
      json.encode({ 1, -7, 1.5, 0.1, 1796170577.36431, 0 / 0, math.huge, -math.huge }))
    assert.equal("9223372036854775807", json.encode(math.maxinteger))
  end)

  it("never fails: cycles and deep nesting become \"<...>\", functions and userdata their text", function()
    local t = { name = "t" }
    t.self, t.list = t, { t }
    assert.equal('{"list":["<...>"],"name":"t","self":"<...>"}', json.encode(t))
    local shared = { 1 }
    assert.equal('{"a":[1],"b":[1]}', json.encode({ a = shared, b = shared })) -- shared is not a cycle
    local deep = {}
    local cur = deep
    for _ = 1, 40 do cur.x = {}; cur = cur.x end
    local s = json.encode(deep)
    assert.truthy(s:find('"<...>"', 1, true))
    assert.is_table(cjson.decode(s))
    assert.matches('^{"f":"function: 0x%x+","io":"file %(0x%x+%)"}$', json.encode({ f = print, io = io.stdout }))
    assert.equal("null", json.encode(nil))
    assert.equal('"s"', json.encode("s"))
    assert.equal("true", json.encode(true))
  end)
end)

describe("json.fields", function()
  it("writes a record's known fields as encode does, sorted, skipping nil, without changing it", function()
    local record = json.fields({ "type", "host", "data", "result", "seq" })
    local evs = {
      { type = "stdout", host = "h", data = "line \255", seq = 1, other = "not a field" },
      { type = "host_task_result", host = "h", seq = 2, result = { rc = 0, stderr_lines = {}, facts = json.object() } },
      { seq = 3 },
      {},
    }
    for _, ev in ipairs(evs) do
      local copy = {}
      for _, k in ipairs({ "type", "host", "data", "result", "seq" }) do copy[k] = ev[k] end
      assert.equal(json.encode(copy):gsub("^%[%]$", "{}"), record(ev))
    end
    assert.equal('{"data":"line \u{FFFD}","host":"h","seq":1,"type":"stdout"}', record(evs[1]))
    assert.equal("not a field", evs[1].other)
    local cyc = { type = "x" }
    cyc.result = cyc
    assert.equal('{"result":{"result":"<...>","type":"x"},"type":"x"}', record(cyc))
  end)
end)
