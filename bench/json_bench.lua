--- --json rendering benchmark (issue 7): which JSON encoder for the event
-- stream. Run from the repo root, after `make`:
--   lua5.4 bench/json_bench.lua [LINES [ROUNDS]]      (default 2000000 lines, 3 rounds)
-- The stream is what the runner emits for a shell task printing LINES lines
-- on 4 hosts: one `stdout` event per line (host, task, play, data, seq,
-- timestamp; every 1000th line has a quote, a tab and a byte that is not
-- UTF-8), then each host's `host_task_result` (stdout, stdout_lines of its
-- lines, stderr_lines = {}, rc ...) and the recap. Each candidate renders it
-- through the real --json renderer (luasible.render.json, one line and one
-- flush per event) into /dev/null, in a process of its own; rounds
-- interleave the candidates, the best round counts. `floor` is the same run
-- with an encoder that returns "": making the events, the renderer, writes.
-- Candidates (one without json.fields gets the renderer's old way: copy the
-- event's fields into a table and encode that):
--   baseline   the encoder before issue 7 (lua/luasible/json.lua at c6a992b,
--              read with git): a cleaning copy, then cjson, or a Lua encoder
--              when the value holds an empty list; unsorted under cjson
--   luasible   lua/luasible/json.lua now: one pass in Lua, sorted keys; the
--              renderer's json.fields record encoder (fields sorted once)
--   luasible-encode  the same encoder, but the renderer copies the event's
--              fields into a table for json.encode, as before issue 7
--   lua+cjson  the same walk, each string quoted by cjson.encode (C)
--   dkjson     a cleaning, sorting copy (per-table __jsonorder), then dkjson
-- For reference only (not correct output, no sorting or cleaning):
--   cjson-raw  cjson.encode of the event as it is
--   dkjson-raw dkjson.encode of the event as it is
-- Before timing, the sorted candidates' output of the first 5000 events and
-- a result is compared byte for byte with luasible's (dkjson's \ufffd read
-- as the character it stands for).
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local HOSTS = { "web1", "web2", "web3", "web4" }
local NAMES = { "baseline", "luasible", "luasible-encode", "lua+cjson", "dkjson", "cjson-raw", "dkjson-raw",
  "floor" }
local SORTED = { luasible = true, ["luasible-encode"] = true, ["lua+cjson"] = true, dkjson = true }

local files = require "spec.helpers.files"
local read, sh = files.read, files.sh

---------------------------------------------------------------------------
-- The candidates: each a table with encode(v) -> string
---------------------------------------------------------------------------
local candidates = {}

function candidates.luasible() return require "luasible.json" end
candidates["luasible-encode"] = function() return { encode = require("luasible.json").encode } end

function candidates.baseline()
  local src = sh("git show c6a992b:lua/luasible/json.lua 2>/dev/null")
  assert(src:find("empty_lists", 1, true), "baseline: needs the git history (commit c6a992b)")
  return assert(load(src, "=baseline json.lua"))()
end

-- luasible's walk with cjson quoting each string (cjson writes "/" as "\/")
candidates["lua+cjson"] = function()
  local src = read("lua/luasible/json.lua")
  local n
  src, n = src:gsub("\nlocal function quote%(s%).-\nend\n", [[

local cjson_encode = require("cjson").encode
local function quote(s)
  if not ulen(s) then s = utf8_clean(s) end
  s = cjson_encode(s)
  if find(s, "/", 1, true) then s = gsub(s, "\\/", "/") end
  return s
end
]], 1)
  assert(n == 1, "lua+cjson: quote() not found in lua/luasible/json.lua")
  return assert(load(src, "=lua+cjson json.lua"))()
end

function candidates.dkjson()
  local dk = require "dkjson"
  local json = require "luasible.json"
  local clean, is_object = json.utf8_clean, json.is_object
  local ARRAY = { __jsontype = "array" }
  local function prep(v, depth, seen)
    local t = type(v)
    if t == "string" then return clean(v) end
    if t == "table" then
      if seen[v] or depth > 16 then return "<...>" end
      seen[v] = true
      local out, n = {}, #v
      local list = not is_object(v) and (n > 0 or next(v) == nil)
      if list then
        for k in pairs(v) do
          if math.type(k) ~= "integer" or k < 1 or k > n then list = false break end
        end
      end
      if list then
        for i = 1, n do out[i] = prep(v[i], depth + 1, seen) end
        setmetatable(out, ARRAY)
      else
        local keys = {}
        for k, x in pairs(v) do
          k = clean(tostring(k))
          if out[k] == nil then keys[#keys + 1] = k end
          out[k] = prep(x, depth + 1, seen)
        end
        table.sort(keys)
        setmetatable(out, { __jsontype = "object", __jsonorder = keys })
      end
      seen[v] = nil
      return out
    elseif t == "function" or t == "userdata" or t == "thread" then
      return clean(tostring(v))
    elseif t == "number" and (v ~= v or v == math.huge or v == -math.huge) then
      return nil
    end
    return v
  end
  return { encode = function(v) return dk.encode(prep(v, 0, {})) end }
end

candidates["cjson-raw"] = function() return { encode = require("cjson").encode } end
candidates["dkjson-raw"] = function() return { encode = require("dkjson").encode } end
function candidates.floor() return { encode = function() return "" end } end

local function renderer(name, out)
  package.loaded["luasible.json"] = nil
  local c = candidates[name]()
  if not c.fields then
    local encode = c.encode
    c = { encode = encode, fields = function(fields)
      return function(ev)
        local obj = {}
        for i = 1, #fields do obj[fields[i]] = ev[fields[i]] end
        return encode(obj)
      end
    end }
  end
  package.loaded["luasible.json"] = c
  package.loaded["luasible.render.json"] = nil
  local r = require("luasible.render.json").new({ out = out })
  package.loaded["luasible.json"] = nil
  package.loaded["luasible.render.json"] = nil
  return r
end

---------------------------------------------------------------------------
-- The stream
---------------------------------------------------------------------------
local function line_text(i, n)
  if i % 1000 == 0 then return ("warning: \"odd\" byte \255 in\tsrc/module_%d.c"):format(i % 977) end
  return ("[%d/%d] compiling src/module_%d.c"):format(i, n, i % 977)
end

-- Feed the whole stream to on_event; returns the CPU seconds of the stdout
-- events and of the results (and recap).
local function stream(on_event, lines, limit)
  local t0, seq = 1796170577.25, 0
  local per_host = {}
  for h = 1, #HOSTS do per_host[h] = {} end
  local function emit(ev)
    seq = seq + 1
    ev.seq, ev.timestamp, ev.play = seq, t0 + seq * 1e-5, "bench"
    on_event(ev)
  end
  emit({ type = "play_start", hosts = HOSTS })
  emit({ type = "task_start", task = "build", module = "shell" })
  for h = 1, #HOSTS do emit({ type = "host_task_start", host = HOSTS[h], task = "build" }) end
  local c0 = os.clock()
  for i = 1, lines do
    if limit and seq >= limit then break end
    local h = (i - 1) % #HOSTS + 1
    local data = line_text(i, lines)
    local list = per_host[h]
    list[#list + 1] = data
    emit({ type = "stdout", host = HOSTS[h], task = "build", data = data })
  end
  local c1 = os.clock()
  local recap = {}
  for h = 1, #HOSTS do
    local list = per_host[h]
    emit({ type = "host_task_result", host = HOSTS[h], task = "build", module = "shell", status = "changed",
      result = { changed = true, failed = false, rc = 0, stdout = table.concat(list, "\n"), stdout_lines = list,
        stderr = "", stderr_lines = {}, duration = 12.345678, timed_out = false } })
    recap[HOSTS[h]] = { ok = 1, changed = 1, failed = 0, unreachable = 0, skipped = 0, ignored = 0 }
  end
  emit({ type = "recap", recap = recap, elapsed = 12.5 })
  return c1 - c0, os.clock() - c1
end

local function peak_rss_mib()
  local s = read("/proc/self/status")
  return (tonumber(s:match("VmHWM:%s*(%d+)")) or 0) / 1024
end

---------------------------------------------------------------------------
-- Child: one candidate, one round
---------------------------------------------------------------------------
if arg[1] == "--one" then
  local name, lines = arg[2], tonumber(arg[3])
  local out = assert(io.open("/dev/null", "w"))
  local on_event = renderer(name, out)
  collectgarbage()
  local w0 = require("luasible").now()
  local s, r = stream(on_event, lines)
  local wall = require("luasible").now() - w0
  io.write(("%.3f %.3f %.3f %.1f\n"):format(s, r, wall, peak_rss_mib()))
  os.exit(0)
end

---------------------------------------------------------------------------
-- Parent
---------------------------------------------------------------------------
local LINES = tonumber(arg[1]) or 2000000
local ROUNDS = tonumber(arg[2]) or 3

-- the sorted candidates write the same bytes as luasible.json
do
  local function sample(name)
    local buf = {}
    local out = { write = function(_, ...) for _, x in ipairs({ ... }) do buf[#buf + 1] = x end end,
      flush = function() end }
    stream(renderer(name, out), 4000, 5000)
    return table.concat(buf)
  end
  local ref = sample("luasible")
  for name in pairs(SORTED) do
    -- dkjson writes U+FFFD (and U+FFF0..U+FFFF) as an escape: the same text
    local got = sample(name):gsub("\\ufffd", "\u{FFFD}")
    if got ~= ref then
      local i = 1
      while got:byte(i) == ref:byte(i) do i = i + 1 end
      error(name .. " does not write the same bytes as luasible.json, from byte " .. i .. ": "
        .. ref:sub(i - 40, i + 40) .. " ~= " .. got:sub(i - 40, i + 40))
    end
  end
  print("sorted candidates: byte-identical output on the sample (" .. #ref .. " bytes)")
end

local best = {}
for round = 1, ROUNDS do
  for j = 0, #NAMES - 1 do
    local name = NAMES[(j + round - 1) % #NAMES + 1]
    local res = sh(("lua5.4 bench/json_bench.lua --one %s %d"):format(name, LINES))
    local s, r, wall, rss = res:match("^(%S+) (%S+) (%S+) (%S+)")
    assert(s, name .. ": " .. res)
    s, r, wall, rss = tonumber(s), tonumber(r), tonumber(wall), tonumber(rss)
    io.write(("round %d  %-10s stdout events %6.2f s CPU, results %5.2f s, wall %6.2f s, peak RSS %5.0f MiB\n")
      :format(round, name, s, r, wall, rss))
    local b = best[name]
    if not b or s + r < b.s + b.r then best[name] = { s = s, r = r, wall = wall, rss = rss } end
  end
end

print(("\nbest of %d, %d lines on %d hosts (CPU seconds; encode = total - floor):"):format(ROUNDS, LINES, #HOSTS))
local floor = best.floor
print("| encoder | stdout events | results + recap | total | encode only | per stdout event | vs baseline | peak RSS |")
print("|---|---|---|---|---|---|---|---|")
for _, name in ipairs(NAMES) do
  local b = best[name]
  local total = b.s + b.r
  local enc = total - (floor.s + floor.r)
  local per = (b.s - floor.s) / LINES * 1e6
  print(("| %s | %.2f s | %.2f s | %.2f s | %.2f s | %.2f us | %s | %.0f MiB |"):format(name, b.s, b.r, total,
    name == "floor" and 0 or enc, name == "floor" and 0 or per,
    ("%.2fx"):format(total / (best.baseline.s + best.baseline.r)), b.rss))
end
