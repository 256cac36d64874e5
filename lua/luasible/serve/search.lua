--- luasible.serve.search: /api/search, over the whole log on disk (so it
-- finds output the page never loaded), streaming through the file: the raw
-- JSON lines are tested first with a plain find of the text as JSON
-- escapes it (no decoding of the lines that cannot match), then the
-- candidates are decoded and matched for real. A request runs for at most
-- BUDGET seconds or LIMIT hits, then answers with done = false and
-- next_after, where the next request goes on.
local cjson = require("cjson.safe").new()
local json = require "luasible.json"
local regex = require "luasible.util.regex"
local fnmatch = require "luasible.util.fnmatch"
local store_mod = require "luasible.serve.store"
local core = require "luasible.core"

local M = {}

M.BUDGET = 0.25
M.LIMIT = 100

-- The 0-based index of the output line at byte `at` among host's lines
-- (from the index's checkpoints, then counting that host's lines).
local function line_number(store, host, at)
  local hx = store.hosts[host]
  if not hx then return nil end
  local off = hx.all.off
  local lo, hi = 1, #off
  if hi == 0 or off[1] > at then return nil end
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if off[mid] <= at then lo = mid else hi = mid - 1 end
  end
  local idx = (lo - 1) * store_mod.EVERY
  store:host_lines(host, off[lo], at, function() idx = idx + 1 end)
  return idx
end

--- q: { q, regex, host, status, limit, after }; returns the answer table,
--- or nil, err for a bad query.
function M.run(store, q, clock)
  local text = q.q
  if type(text) ~= "string" or text == "" then return nil, "q is empty" end
  local re, rerr
  if q.regex == "1" or q.regex == "true" then
    re, rerr = regex.compile(text)
    if not re then return nil, rerr end
  end
  local host_glob = q.host ~= "" and q.host or nil
  local status = q.status ~= "" and q.status or nil
  local limit = math.max(1, math.min(1000, math.tointeger(tonumber(q.limit)) or M.LIMIT))
  local after = math.max(0, math.tointeger(tonumber(q.after)) or 0)
  local needle = not re and json.encode(text):sub(2, -2) or nil
  local hits = {}
  if after >= store.seq then return { hits = hits, done = true, next_after = after } end
  local k = after // store_mod.EVERY + 1
  local seq = (k - 1) * store_mod.EVERY
  local deadline = clock() + M.BUDGET
  local host_ok = {}
  local function host_matches(h)
    local v = host_ok[h]
    if v == nil then
      v = (not host_glob or fnmatch.match(host_glob, h)) and
        (not status or (store.state.hosts[h] and store.state.hosts[h].status == status)) or false
      host_ok[h] = v
    end
    return v
  end
  local n, done = 0, true
  local function consider(ev, off)
    if ev and type(ev.data) == "string" and type(ev.host) == "string" and host_matches(ev.host)
      and (re and re:search(ev.data) or (not re and ev.data:find(text, 1, true))) then
      hits[#hits + 1] = { seq = math.tointeger(ev.seq), host = ev.host, task = ev.task,
        task_id = math.tointeger(ev.task_id) or store.state:task_id(ev.play, ev.task), data = ev.data, off = off }
      return #hits < limit
    end
    return true
  end
  if not re then
    -- the core jumps from one occurrence of the text (as JSON writes it) to the next
    store:flush()
    local off = store.seq_off[k] or 0
    while off < store.size do
      local found, stop = core.ndjson_grep(store.path, off, store.size, needle, math.min(256, limit - #hits), true)
      if not found then break end
      local full = false
      for i = 1, #found, 2 do
        local ev = cjson.decode(found[i + 1])
        local s = ev and math.tointeger(ev.seq)
        if s and s > after then
          seq = s
          if not consider(ev, found[i]) then
            full = true
            break
          end
        end
      end
      if full then
        done = seq >= store.seq
        break
      end
      if stop <= off then break end
      off = stop
      if clock() > deadline and off < store.size then
        done = false
        break
      end
    end
    if done then seq = store.seq end
  else
    local next_line, close = store_mod.lines_from(store, store.seq_off[k] or 0)
    for line, off in next_line do
      seq = seq + 1
      if seq > after then
        if line:find('"type":"stdout"}', -17, true) or line:find('"type":"stderr"}', -17, true) then
          if not consider(cjson.decode(line), off) then
            done = seq >= store.seq
            break
          end
        end
        n = n + 1
        if n % 4096 == 0 and clock() > deadline then
          done = seq >= store.seq
          break
        end
      end
    end
    if close then close() end
  end
  for _, h in ipairs(hits) do
    h.line = line_number(store, h.host, h.off)
    h.off = nil
  end
  return { hits = hits, done = done, next_after = math.min(seq, store.seq) }
end

return M
