--- lookup('file', NAME...): a file's text (files/ of the search path;
-- Ansible's file lookup): options lstrip (false), rstrip (true). A
-- vault-encrypted file is decrypted with the run's vault secrets (its
-- plaintext a secret then), as Ansible's DataLoader does.
local lookup = require "luasible.lookup"
local fs = require "luasible.util.fs"

local DEFAULTS = { lstrip = false, rstrip = true }

return {
  run = function(terms, kw, env)
    local o = lookup.options(kw, DEFAULTS, "file", env)
    local out = {}
    for _, term in ipairs(terms) do
      local p = lookup.find_file(env, "files", term)
      local text = p and fs.read(p)
      if not text then lookup.fail("could not locate file in lookup: " .. tostring(term)) end
      local vault = require "luasible.vault"
      local plain, vaulted = vault.file_text(text, p)
      if not plain then lookup.fail(tostring(vaulted)) end
      text = plain
      if lookup.bool(o.lstrip) then text = text:gsub("^%s+", "") end
      if lookup.bool(o.rstrip) then text = text:gsub("%s+$", "") end
      if vaulted then vault.reveal(text, true) end -- the stripped text is as secret as the plaintext
      out[#out + 1] = text
    end
    return out
  end,
}
