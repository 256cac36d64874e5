--- lookup('pipe', CMD...): what a shell command prints, run on the
-- controller in the playbook's folder (/bin/sh -c CMD, as Ansible's
-- subprocess shell=True), trailing white space removed; a command that
-- exits non-zero is an error.
local lookup = require "luasible.lookup"

return {
  run = function(terms, _, env)
    local out = {}
    for _, term in ipairs(terms) do
      out[#out + 1] = (lookup.command_output("pipe", tostring(term), env.base_dir):gsub("%s+$", ""))
    end
    return out
  end,
}
