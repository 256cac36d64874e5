--- luasible.render.text: values written for people (the terminal renderer,
-- and any later view): short lines, loop items, sizes, durations, bars.
local json = require "luasible.json"

local M = {}

--- s on one line of at most n bytes: what follows a newline becomes " ...",
--- a longer text ends in "...".
function M.short(s, n)
  s = tostring(s or ""):gsub("\n.*", " ...")
  if #s > n then return s:sub(1, n - 3) .. "..." end
  return s
end

--- A loop item as a person reads it (a table as JSON, not "table: 0x..."),
--- at most n bytes.
function M.item(item, n)
  return M.short(type(item) == "table" and json.encode(item) or item, n)
end

--- 1536 -> "1.5 KiB"
function M.bytes(n)
  n = tonumber(n) or 0
  if n < 1024 then return string.format("%d B", n) end
  local units = { "KiB", "MiB", "GiB", "TiB" }
  local i = 0
  repeat n = n / 1024; i = i + 1 until n < 1024 or i == #units
  return string.format(n < 10 and "%.1f %s" or "%.0f %s", n, units[i])
end

--- 1.0096935 -> "1.01s", 75.5 -> "1m16s"
function M.duration(s)
  s = tonumber(s) or 0
  if s < 60 then return string.format("%.2fs", s) end
  return string.format("%dm%02ds", math.floor(s / 60), math.floor(s % 60 + 0.5))
end

--- 50, 12 -> "[######......]"
function M.bar(pct, width)
  local fill = math.floor((pct or 0) * width / 100 + 0.5)
  return "[" .. string.rep("#", fill) .. string.rep(".", width - fill) .. "]"
end

return M
