-- The dashboard's store (the log and its indexes), snapshot, batching and
-- sinks, without a server: lua/luasible/serve/{store,state,live}.lua,
-- lua/luasible/render/sinks.lua.
local store_mod = require "luasible.serve.store"
local live = require "luasible.serve.live"
local sinks = require "luasible.render.sinks"
local cjson = require "cjson"

local function new_store()
  return assert(store_mod.new({ now = function() return 0 end }))
end

describe("serve store", function()
  it("numbers every event 1, 2, 3, ... and keeps a core stream's own seq as stream_seq", function()
    local s = new_store()
    local ev = { type = "stdout", host = "h", data = "x", seq = 7 }
    assert.equal(1, s:add({ type = "play_start", play = "p" }))
    assert.equal(2, s:add(ev))
    assert.equal(7, ev.seq, "the caller's table is not changed")
    local lines = s:events_since(0, 10)
    assert.equal(2, #lines)
    local second = cjson.decode(lines[2])
    assert.equal(2, second.seq)
    assert.equal(7, second.stream_seq)
    s:close()
  end)

  it("writes the log on disk (the same JSON as --json) and reads old events back from it", function()
    local s = new_store()
    local N = 70000 -- more than the ring holds
    for i = 1, N do s:add({ type = "stdout", host = "h" .. (i % 3), data = "line " .. i }) end
    s:flush()
    local f = assert(io.open(s.path))
    local n = 0
    for line in f:lines() do
      n = n + 1
      assert.equal(n, cjson.decode(line).seq)
    end
    f:close()
    assert.equal(N, n)
    assert.is_true(s.ring_first > 1, "the first events left the ring")
    for _, since in ipairs({ 0, 1, 63, 64, 65, 4999, N - 70000 + 3000, N - 10 }) do
      local lines, nxt, last = s:events_since(since, 100)
      assert.equal(math.min(100, N - since), #lines)
      assert.equal(since + 1, cjson.decode(lines[1]).seq)
      assert.equal(since + #lines, nxt)
      assert.equal(N, last)
    end
    local evs = s:range(N - 5, N)
    assert.equal(6, #evs)
    assert.equal("line " .. N, cjson.decode(evs[6].line).data)
    s:close()
    assert.is_nil(io.open(s.path), "a temporary log is removed")
  end)

  it("pages a host's output, whole or one task's, across the index's checkpoints", function()
    local s = new_store()
    s:add({ type = "task_start", task = "a", play = "p" })
    for i = 1, 500 do s:add({ type = "stdout", host = "h" .. (i % 2), task = "a", play = "p", data = "a" .. i }) end
    s:add({ type = "task_start", task = "b", play = "p" })
    for i = 1, 300 do
      s:add({ type = i % 5 == 0 and "stderr" or "stdout", host = "h" .. (i % 2), task = "b", play = "p",
        data = "b" .. i, cr = i % 7 == 0 or nil })
    end
    local expect = {}
    for i = 1, 500 do if i % 2 == 1 then expect[#expect + 1] = "a" .. i end end
    for i = 1, 300 do if i % 2 == 1 then expect[#expect + 1] = "b" .. i end end
    for _, from in ipairs({ 0, 1, 63, 64, 65, 127, 128, 249, 250, 399 }) do
      local total, lines = s:output("h1", nil, from, 70)
      assert.equal(400, total)
      assert.equal(math.min(70, 400 - from), #lines)
      for i, l in ipairs(lines) do assert.equal(expect[from + i], l.data) end
    end
    local total, lines = s:output("h1", 2, 0, 1000)
    assert.equal(150, total)
    assert.equal("b1", lines[1].data)
    assert.equal("b299", lines[150].data)
    assert.equal("stderr", lines[3].stream) -- b5
    assert.is_true(lines[4].cr) -- b7
    assert.equal(0, (s:output("nobody", nil, 0, 10)))
    s:close()
  end)

  it("keeps the snapshot: statuses, current task, last line, progress, matrix, counts, recap", function()
    local s = new_store()
    s:add({ type = "play_start", play = "p", hosts = { "a", "b", "c" } })
    s:add({ type = "task_start", task = "t1", play = "p" })
    s:add({ type = "host_task_start", host = "a", task = "t1", play = "p" })
    s:add({ type = "stdout", host = "a", task = "t1", play = "p", data = "42%", cr = true })
    local snap = s:snapshot()
    assert.equal("running", snap.hosts[1].status)
    assert.equal("pending", snap.hosts[2].status)
    assert.equal("t1", snap.hosts[1].task)
    assert.equal(42, snap.hosts[1].progress.percentage)
    assert.equal("42%", snap.hosts[1].last_line)
    s:add({ type = "host_task_result", host = "a", task = "t1", play = "p", status = "changed", result = {} })
    s:add({ type = "host_task_result", host = "b", task = "t1", play = "p", status = "failed", result = {} })
    s:add({ type = "task_start", task = "t2", play = "p" })
    s:add({ type = "host_task_result", host = "b", task = "t2", play = "p", status = "ok", result = {} })
    s:add({ type = "host_task_result", host = "c", task = "t2", play = "p", status = "skipped", result = {} })
    s:add({ type = "recap", recap = { a = { ok = 1 } }, elapsed = 1.5 })
    snap = s:snapshot()
    assert.equal("changed", snap.hosts[1].status)
    assert.equal("failed", snap.hosts[2].status, "a failure stays")
    assert.equal("skipped", snap.hosts[3].status)
    assert.same({ changed = 1, failed = 1, skipped = 1 }, snap.counts)
    assert.equal("changed", snap.matrix.a["1"])
    assert.equal("ok", snap.matrix.b["2"])
    assert.same({ { id = 1, name = "t1", play = "p" }, { id = 2, name = "t2", play = "p" } }, snap.tasks)
    assert.is_true(snap.finished)
    assert.equal(1.5, snap.elapsed)
    assert.same({ a = { ok = 1 } }, snap.recap)
    assert.equal(1, snap.hosts[1].ok)
    assert.equal(1, snap.hosts[1].changed)
    s:close()
  end)

  it("keeps a bounded index: a few bytes per 64 lines, whatever the output", function()
    local s = new_store()
    for i = 1, 64 * 100 do s:add({ type = "stdout", host = "h", data = "x" .. i }) end
    assert.equal(100, #s.seq_off)
    assert.equal(100, #s.hosts.h.all.off)
    local n = 0
    for _ in pairs(s.ring) do n = n + 1 end
    assert.is_true(n <= 65536)
    s:close()
  end)
end)

describe("serve live batches", function()
  it("a batch from the ring is the batch from the log: the same lines, redraws collapsed", function()
    local s = new_store()
    for i = 1, 3000 do
      local h = "h" .. (i % 3)
      if i % 5 == 0 then s:add({ type = "task_start", task = "t" .. i })
      else s:add({ type = "stdout", host = h, data = ("%d%%"):format(i % 100), cr = i % 7 ~= 0 or nil }) end
    end
    local from_ring = {}
    for _, r in ipairs({ { 1, 3000 }, { 17, 400 }, { 2999, 3000 }, { 5, 5 } }) do
      local lines, n = s:batch(r[1], r[2])
      from_ring[#from_ring + 1] = lines
      assert.equal(r[2] - r[1] + 1, n)
      assert.same(live.collapse(s:range(r[1], r[2])), lines)
      assert.is_true(#lines < n or r[2] - r[1] < 3)
    end
    s:set_live(false) -- no client: the ring is dropped, batches come from the log
    assert.is_true(s.ring_first > s.seq)
    local lines, n = s:batch(17, 400)
    assert.equal(384, n)
    assert.same(from_ring[2], lines)
    assert.same(from_ring[1], (s:batch(1, 3000)))
    s:set_live(true)
    s:add({ type = "stdout", host = "h1", data = "after" })
    assert.equal(s.seq, s.ring_first, "only the new event is in the ring")
    assert.same(lines, (s:batch(17, 400)))
    assert.same(live.collapse(s:range(1, s.seq)), (s:batch(1, s.seq)))
    s:close()
  end)

  local function e(host, cr, line) return { host = host, cr = cr, line = line } end

  it("collapses consecutive redraws of one host to the latest, keeps everything else", function()
    local out = live.collapse({ e("a", true, "a1"), e("a", true, "a2"), e("b", true, "b1"), e("a", true, "a3"),
      e(nil, nil, "task"), e("b", nil, "b-line"), e("b", true, "b2"), e("a", nil, "a-line"), e("a", true, "a4") })
    -- a1 and a2 replaced by a3; what is kept keeps its order
    assert.same({ "b1", "a3", "task", "b-line", "b2", "a-line", "a4" }, out)
  end)

  it("sends a slow client one catch-up frame and close code 4000", function()
    local sent, closed = {}, {}
    local conn = {
      closing = function() return false end, queued = function() return 10 end,
      send = function(_, s) sent[#sent + 1] = s return true end,
      send_close = function(_, code) closed[#closed + 1] = code end, finish = function() end,
    }
    local store = new_store()
    for i = 1, 3 do store:add({ type = "stdout", host = "h", data = "l" .. i }) end
    local client = { conn = conn, sent = 1 }
    assert.equal("sent", live.pump(client, store, 100))
    assert.equal(3, client.sent)
    assert.equal(2, #cjson.decode(sent[1]))
    assert.equal("idle", live.pump(client, store, 100))
    store:add({ type = "stdout", host = "h", data = "l4" })
    assert.equal("catchup", live.pump(client, store, 5))
    assert.same({ { type = "catchup", since = 3 } }, cjson.decode(sent[2]))
    assert.same({ 4000 }, closed)
    store:close()
  end)
end)

describe("sinks", function()
  it("feeds every sink every event, in order", function()
    local got = {}
    local s = sinks.new({ function(ev) got[#got + 1] = "a" .. ev.n end, nil })
    s:add(function(ev) got[#got + 1] = "b" .. ev.n end)
    s:add({ on_event = function(ev) got[#got + 1] = "c" .. ev.n end })
    s.on_event({ n = 1 })
    s.on_event({ n = 2 })
    assert.same({ "a1", "b1", "c1", "a2", "b2", "c2" }, got)
  end)

  it("syslog: one line per task result, errors at err with the message", function()
    local lines = {}
    local on = sinks.syslog(function(prio, line) lines[#lines + 1] = prio .. " " .. line end)
    on({ type = "stdout", host = "h", data = "x" })
    on({ type = "host_task_result", host = "h", task = "a b", play = "p", status = "ok", result = {} })
    on({ type = "host_task_result", host = "h", task = "t", status = "failed", result = { msg = "boom" } })
    assert.same({ 'info play="p" host=h task="a b" status=ok', 'err host=h task="t" status=failed msg="boom"' }, lines)
  end)
end)

describe("serve store from a log (core.ndjson_scan, core.ndjson_grep)", function()
  local core = require "luasible.core"

  -- a log written by one store, and a second store made from it by the scan
  local function both()
    local a = new_store()
    a:add({ type = "play_start", play = "p", hosts = { "h1", "h2", 'we"ird' } })
    a:add({ type = "task_start", task = "t1", play = "p", task_id = 1 })
    for i = 1, 700 do
      local host = ({ "h1", "h2", 'we"ird' })[i % 3 + 1]
      a:add({ type = i % 4 == 0 and "stderr" or "stdout", host = host, task = "t1", play = "p", task_id = 1,
        data = "line " .. i .. ' with ,"host":"h2", inside', cr = i % 9 == 0 or nil })
    end
    a:add({ type = "host_task_result", host = "h1", task = "t1", play = "p", task_id = 1, status = "changed",
      result = { rc = 0 } })
    a:add({ type = "recap", recap = { h1 = { ok = 1 } }, elapsed = 2 })
    a:flush()
    local b = assert(store_mod.new({ path = a.path, read_only = true, now = function() return 0 end }))
    local scan = assert(core.ndjson_scan(a.path, 0, store_mod.EVERY))
    assert(b:bulk(scan))
    return a, b, scan
  end

  it("gives the same snapshot, pages and catch-up as the store that wrote it", function()
    local a, b, scan = both()
    assert.equal(a.seq, scan.lines)
    assert.equal(a.size, scan.size)
    assert.same(a:snapshot(), b:snapshot())
    for _, host in ipairs({ "h1", "h2" }) do
      for _, from in ipairs({ 0, 63, 64, 200 }) do
        assert.same({ a:output(host, nil, from, 50) }, { b:output(host, nil, from, 50) })
        assert.same({ a:output(host, 1, from, 50) }, { b:output(host, 1, from, 50) })
      end
    end
    assert.same({ a:events_since(100, 20) }, { b:events_since(100, 20) })
    a:close()
  end)

  it("reads whole lines only: a last line being written waits", function()
    local a = new_store()
    for i = 1, 10 do a:add({ type = "stdout", host = "h", data = "l" .. i }) end
    a:flush()
    local f = assert(io.open(a.path, "ab"))
    f:write('{"data":"half')
    f:close()
    local scan = assert(core.ndjson_scan(a.path, 0, 64))
    assert.equal(10, scan.lines)
    assert.equal(a.size, scan.size)
    local hits, stop = core.ndjson_grep(a.path, 0, a.size + 13, '"host":"h"', 100, true)
    assert.equal(20, #hits)
    assert.equal(a.size, stop)
    a:close()
  end)

  it("greps whole lines holding the text, at most max, and says where to go on", function()
    local a = new_store()
    for i = 1, 1000 do a:add({ type = i % 10 == 0 and "progress" or "stdout", host = "h", data = "x" .. i }) end
    a:flush()
    local hits, stop = core.ndjson_grep(a.path, 0, a.size, '"data":"x1', 5, true)
    assert.equal(10, #hits)
    assert.same({ "x1", "x11", "x12", "x13", "x14" }, (function()
      local out = {}
      for i = 2, #hits, 2 do out[#out + 1] = cjson.decode(hits[i]).data end
      return out
    end)())
    local more = core.ndjson_grep(a.path, stop, a.size, '"data":"x1', 1000, true)
    -- x1, x10..x19 (x10 a progress), x100..x199 (x100, x110, ... progress), x1000 (progress)
    assert.equal((1 + 9 + 90) - 5, #more // 2)
    assert.equal(a:line_at(hits[1]), hits[2])
    assert.is_nil(core.ndjson_scan("/nonexistent/log", 0, 64))
    a:close()
  end)
end)

describe("serve store's line encoder (core.ndjson_line, which Store:add uses)", function()
  it("writes an output line exactly as --json does (the general encoder), for any fields", function()
    local record = require("luasible.render.json").record
    local datas = { "plain", "", 'quote " and \\ back', "tab\tnl\ncr\r", "bad \255 byte", "ünïcode ✓", "\1\31\127" }
    local n = 0
    for i = 1, 2000 do
      local ev = { type = i % 2 == 0 and "stdout" or "stderr", host = (i % 3 == 0) and 'h"' .. i or "h" .. i % 7,
        data = datas[i % #datas + 1] .. i, seq = i,
        play = i % 5 ~= 0 and "play " .. i % 3 or nil, task = i % 7 ~= 0 and "task\t" .. i % 4 or nil,
        stream_seq = i % 2 == 0 and i or nil, task_id = i % 3 ~= 0 and i % 9 or nil,
        timestamp = i % 11 ~= 0 and 1.7e9 + i / 7 or nil, cr = i % 4 == 0 or nil }
      if i % 13 == 0 then ev.timestamp = 0 / 0 end
      if i % 17 == 0 then ev.task_id = 2.5 end
      local fast = require("luasible.core").ndjson_line(ev)
      assert.is_not_nil(fast)
      assert.equal(record(ev), fast)
      n = n + 1
    end
    assert.equal(2000, n)
    -- other kinds, other fields: left to the general encoder
    local ndjson_line = require("luasible.core").ndjson_line
    assert.is_nil(ndjson_line({ type = "progress", seq = 1 }))
    assert.is_nil(ndjson_line({ type = "stdout", host = "h", data = "x", seq = 1, item = "i" }))
    assert.is_nil(ndjson_line({ type = "stdout", host = "h", data = "x", seq = 1, cr = false }))
    assert.is_nil(ndjson_line({ type = "stdout", host = 1, data = "x", seq = 1 }))
  end)
end)

describe("the core's line encoder (core.ndjson_line)", function()
  it("writes an output line exactly as --json does", function()
    local core = require "luasible.core"
    local record = require("luasible.render.json").record
    local bytes = {}
    for b = 0, 255 do bytes[#bytes + 1] = string.char(b) end
    local samples = { "plain", "", 'q " b \\', "\t\n\r\b\f", "\1\31\127", table.concat(bytes), "ü✓€𝄞",
      "\237\160\128 surrogate", "\192\128 overlong", "\244\144\128\128 too big", "\226\130 cut", "\255\254" }
    for i = 1, 3000 do
      local ev = { type = i % 2 == 0 and "stdout" or "stderr", host = i % 5 == 0 and samples[i % #samples + 1] or "h",
        data = samples[i % #samples + 1] .. samples[(i * 7) % #samples + 1], seq = i,
        play = i % 3 ~= 0 and "p" .. i % 4 or nil, task = i % 7 ~= 0 and samples[(i * 3) % #samples + 1] or nil,
        stream_seq = i % 2 == 0 and (i % 4 == 0 and i or i + 0.5) or nil, task_id = i % 3 ~= 0 and i % 9 or nil,
        timestamp = i % 11 ~= 0 and 1.7e9 + i / 7 or nil, cr = i % 4 == 0 or nil, partial = i % 6 == 0 or nil }
      if i % 13 == 0 then ev.timestamp = 0 / 0 end
      if i % 19 == 0 then ev.timestamp = math.huge end
      if i % 17 == 0 then ev.task_id = 2.0 end
      assert.equal(record(ev), core.ndjson_line(ev), "event " .. i)
    end
    assert.is_nil(core.ndjson_line({ type = "progress", seq = 1 }))
    assert.is_nil(core.ndjson_line({ type = "stdout", host = "h", data = "x", seq = 1, item = "i" }))
    assert.is_nil(core.ndjson_line({ type = "stdout", host = "h", data = "x", seq = 1, cr = false }))
    assert.is_nil(core.ndjson_line({ type = "stdout", host = "h", data = "x", seq = 1.5 }))
  end)

  it("writes timestamps as %.14g does (its own digits for 1e9 <= t < 1e14, ties to even, carries)", function()
    local core = require "luasible.core"
    local record = require("luasible.render.json").record
    math.randomseed(10)
    local function check(ts, what)
      local ev = { type = "stdout", host = "h", data = "x", seq = 1, timestamp = ts }
      assert.equal(record(ev), core.ndjson_line(ev), what .. ": " .. string.format("%.17g", ts))
    end
    for d = 9, 14 do -- the edges of each number of integer digits, and the carries below them
      local p = 10.0 ^ d
      for _, ts in ipairs({ p, p * (1 - 2 ^ -52), p * (1 + 2 ^ -52), p - 1e-5, p - 5e-5, p - 0.5, p + 0.5 }) do
        check(ts, "edge")
      end
    end
    for j = 1, 63, 2 do -- exact ties: x/32 has 5 decimals, x/16 has 4
      check(1234567890 + j / 32, "tie")
      check(12345678901 + j / 16, "tie")
      check(123456789012 + j / 8, "tie")
    end
    for i = 1, 40000 do
      local r = i % 4
      local ts
      if r == 0 then ts = 1e9 + math.random() * 9.9e13
      elseif r == 1 then ts = math.random(1e9, 1e13) + math.random(0, 20000) / 2e4 -- halves of the last digit
      elseif r == 2 then ts = 1.7e9 + i / 1e4 -- as a run's clock
      else ts = 10 ^ math.random(9, 14) * (1 - math.random() * 1e-12) end -- just below a power
      check(ts, "event " .. i)
    end
    check(-1.7e9 - 0.25, "negative (printf)")
    check(1.5, "small (printf)")
  end)
end)
