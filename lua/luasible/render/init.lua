--- luasible.render: turning runner events into output.
--   render.terminal{ out=, color=, tty=, verbose=, width= } -> on_event(ev)  (render/terminal.lua)
--   render.json{ out= } -> on_event(ev): one JSON object per line            (render/json.lua)
-- Values for people (sizes, durations, items) are in render/text.lua; JSON
-- itself is luasible.json.
return {
  terminal = require("luasible.render.terminal").new,
  json = require("luasible.render.json").new,
}
