--- lookup('lines', CMD...): the lines a shell command prints (each command
-- run as the pipe lookup runs it); a command that exits non-zero is an error.
local lookup = require "luasible.lookup"

return {
  run = function(terms, _, env)
    local out = {}
    for _, term in ipairs(terms) do
      local stdout = lookup.command_output("lines", tostring(term), env.base_dir)
      for _, line in ipairs(lookup.splitlines(stdout)) do out[#out + 1] = line end
    end
    return out
  end,
}
