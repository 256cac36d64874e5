--- luasible.render.json: the --json renderer. Every event becomes one line
-- of JSON (luasible.json: keys sorted, the same rules for every kind) with
-- the fields below that the event has, flushed at once so that a reader
-- sees each line as it happens.
local json = require "luasible.json"

local M = {}

-- the fields an event may carry to --json (the rest stays in the process)
local FIELDS = { "type", "host", "task", "play", "data", "progress", "result", "status", "timestamp", "seq",
  "recap", "hosts", "elapsed", "module", "signal", "interrupted", "item", "stream_seq", "cr",
  "task_id", "label", "delegated_to", "rescued", "batch", "batches" } -- (rescued, batch, batches: play/rolling.lua)

local record = json.fields(FIELDS)
M.FIELDS = FIELDS
M.record = record -- the line of one event (the dashboard's log: luasible.serve)

--- The renderer: returns on_event(ev). opts: out (file, default stdout).
function M.new(opts)
  local out = (opts and opts.out) or io.stdout
  return function(ev)
    out:write(record(ev), "\n")
    out:flush()
  end
end

return M
