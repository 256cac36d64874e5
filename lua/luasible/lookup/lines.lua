--- lookup('lines', CMD...): the lines a shell command prints (each command
-- run as the pipe lookup runs it); a command that exits non-zero is an error.
local lookup = require "luasible.lookup"

return {
  run = function(terms, _, env)
    local out = {}
    for _, term in ipairs(terms) do
      local cmd = tostring(term)
      local res, err = lookup.shell(cmd, env.base_dir)
      if not res then lookup.fail("cannot run " .. cmd .. ": " .. tostring(err)) end
      if res.rc ~= 0 then
        lookup.fail("lookup_plugin.lines(" .. cmd .. ") returned " .. tostring(res.rc or res.signal))
      end
      for _, line in ipairs(lookup.splitlines(res.stdout or "")) do out[#out + 1] = line end
    end
    return out
  end,
}
