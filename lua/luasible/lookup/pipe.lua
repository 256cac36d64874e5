--- lookup('pipe', CMD...): what a shell command prints, run on the
-- controller in the playbook's folder (/bin/sh -c CMD, as Ansible's
-- subprocess shell=True), trailing white space removed; a command that
-- exits non-zero is an error.
local lookup = require "luasible.lookup"

return {
  run = function(terms, _, env)
    local out = {}
    for _, term in ipairs(terms) do
      local cmd = tostring(term)
      local res, err = lookup.shell(cmd, env.base_dir)
      if not res then lookup.fail("cannot run " .. cmd .. ": " .. tostring(err)) end
      if res.rc ~= 0 then
        lookup.fail("lookup_plugin.pipe(" .. cmd .. ") returned " .. tostring(res.rc or res.signal))
      end
      out[#out + 1] = (res.stdout or ""):gsub("%s+$", "")
    end
    return out
  end,
}
