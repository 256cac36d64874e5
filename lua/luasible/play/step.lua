--- luasible.play.step: --step: before each task, the person at the terminal
-- is asked, as ansible-playbook asks: "Perform task: TASK: NAME
-- (N)o/(y)es/(c)ontinue:" — y runs it, c runs it and every later task
-- without asking, anything else (Enter) skips it (counted nowhere).
-- cli/init.lua refuses --step without a terminal.
local prompt = require "luasible.util.prompt"

local M = {}

--- Run this task? (run.step: still asking)
function M.confirm(run, task)
  if not run.step then return true end
  local a = prompt.ask("Perform task: TASK: " .. tostring(task.name) .. " (N)o/(y)es/(c)ontinue: ")
  a = (a or ""):lower():gsub("%s+", "")
  if a == "c" or a == "continue" then
    run.step = false
    return true
  end
  return a == "y" or a == "yes"
end

return M
