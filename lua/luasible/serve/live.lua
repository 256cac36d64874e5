--- luasible.serve.live: the live stream to WebSocket clients. Every client
-- has the seq it was sent up to; each batch (at most one frame per client
-- per BATCH seconds) is a JSON array of the events after it, with the
-- consecutive `\r` redraws of one host collapsed to the latest. A client
-- whose socket does not take what it is sent (its queue over MAX_QUEUED
-- bytes) is not sent more: it gets one frame
-- [{"type":"catchup","since":SEQ}] and is closed with code 4000; the page
-- catches up from /api/events (the log) and reconnects with since=. So a
-- slow client costs the run nothing and its memory stays bounded.
local M = {}

M.BATCH = 0.1
M.POLL = 0.01 -- how often the batcher looks for new events (leading edge)
M.MAX_QUEUED = 4 * 1024 * 1024 -- bytes queued on one client's socket
M.MAX_EVENTS = 65536           -- events in one frame at most (the rest: next batch)

--- Drop the redraws that a later redraw of the same host replaces within
--- the batch (nothing of that host's output in between). evs: list of
--- { line, host, cr }; returns the lines to send.
function M.collapse(evs)
  local keep, last_cr = {}, {}
  for i, e in ipairs(evs) do
    keep[i] = true
    local h = e.host
    if h then
      local prev = last_cr[h]
      if e.cr then
        if prev then keep[prev] = false end
        last_cr[h] = i
      else
        last_cr[h] = nil
      end
    end
  end
  local out = {}
  for i, e in ipairs(evs) do
    if keep[i] then out[#out + 1] = e.line end
  end
  return out
end

--- The frame that sends a client to catch-up.
function M.catchup_frame(since)
  return ('[{"type":"catchup","since":%d}]'):format(since)
end

--- One batch for a client { conn, sent } from the store: sends a frame (or
--- the catch-up, when more than max_queued bytes wait on its socket; at
--- most max_events events and max_queued bytes a frame);
--- returns "sent", "idle", "catchup" or "closed".
function M.pump(client, store, max_queued, max_events)
  local conn = client.conn
  if conn:closing() then return "closed" end
  if client.sent >= store.seq then return "idle" end
  if conn:queued() > (max_queued or M.MAX_QUEUED) then
    conn:send(M.catchup_frame(client.sent))
    conn:send_close(4000, "too slow: catch up from /api/events")
    conn:finish()
    return "catchup"
  end
  local to = math.min(store.seq, client.sent + (max_events or M.MAX_EVENTS))
  -- a frame holds at most max_queued bytes of events (at least one event),
  -- so a socket never holds much more than twice its bound; the rest goes
  -- in the next batch
  local lines, n = store:batch(client.sent + 1, to, max_queued or M.MAX_QUEUED)
  local ok = conn:send("[" .. table.concat(lines, ",") .. "]")
  if not ok then return "closed" end
  client.sent = client.sent + n
  return "sent"
end

return M
