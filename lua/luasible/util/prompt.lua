--- luasible.util.prompt: questions to the person at the terminal (pause,
-- vars_prompt, --step, -K): asked on /dev/tty, and only when there is
-- one: stdin a terminal (else nobody would answer; the caller says so).
-- A hidden answer (echo off: passwords, private vars) is read with the
-- terminal's echo turned off and never goes anywhere else.
local fs = require "luasible.util.fs"

local M = {}

--- Is there a person to ask: stdin a terminal and /dev/tty openable?
function M.interactive()
  if not fs.isatty(0) then return false end
  local tty = io.open("/dev/tty", "r+")
  if not tty then return false end
  tty:close()
  return true
end

--- Ask `text` on the terminal; the line typed (without its newline), or
--- nil, err (no terminal, end of input). opts.echo = false: the answer is
--- not shown as it is typed.
function M.ask(text, opts)
  opts = opts or {}
  if not M.interactive() then return nil, "no terminal to answer on" end
  local tty = io.open("/dev/tty", "r+")
  if not tty then return nil, "no terminal to answer on" end
  tty:write(text)
  tty:flush()
  local quiet = opts.echo == false and os.execute("stty -echo </dev/tty 2>/dev/null")
  local ok, line = pcall(tty.read, tty, "l")
  if quiet then
    os.execute("stty echo </dev/tty 2>/dev/null")
    tty:write("\n")
  end
  tty:close()
  if not ok or line == nil then return nil, "end of input" end
  return line
end

return M
