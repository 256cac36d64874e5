--- lookup('unvault', NAME...): a vault-encrypted file's plaintext (files/
-- of the search path; a file that is not vault data as it is), as
-- Ansible's unvault lookup: never stripped. The plaintext is a secret
-- (never in an event, a log or the page).
local lookup = require "luasible.lookup"
local fs = require "luasible.util.fs"

return {
  run = function(terms, _, env)
    local out = {}
    for _, term in ipairs(terms) do
      local p = lookup.find_file(env, "files", term)
      local text = p and fs.read(p)
      if not text then lookup.fail("Unable to find file matching \"" .. tostring(term) .. "\" ") end
      local plain, err = require("luasible.vault").file_text(text, p)
      if not plain then lookup.fail(tostring(err)) end
      out[#out + 1] = plain
    end
    return out
  end,
}
