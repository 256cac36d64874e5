--- luasible.template.filters.vault: vault and unvault (Ansible's
-- encryption filters): a string encrypted to Ansible Vault text with a
-- password, and back, through luasible.vault (byte for byte Ansible's
-- format). What unvault reveals is registered as a secret (never shown in
-- events, logs or --json).
local C = require "luasible.template.filters.common"

local function text(name, what, v)
  if type(v) ~= "string" then
    C.error(name, "%s must be a string, got %s", what, C.describe(v))
  end
  return v
end

return function(reg)
  reg.filter("vault", "value, secret, salt=None, vaultid='filter_default', wrap_object=False",
    function(data, secret, salt, vaultid)
      local vault = require "luasible.vault"
      data, secret = text("vault", "the data", data), text("vault", "the secret", secret)
      if salt ~= nil and not C.is_none(salt) then salt = text("vault", "the salt", salt) else salt = nil end
      local out, err = vault.encrypt(data, secret, C.str(vaultid), salt)
      if not out then C.error("vault", "Unable to encrypt: %s", tostring(err)) end
      return out
    end)
  reg.filter("unvault", "value, secret, vaultid='filter_default'", function(v, secret)
    local vault = require "luasible.vault"
    secret = text("unvault", "the secret", secret)
    if C.is_mapping(v) and type(v.__ansible_vault) == "string" then v = v.__ansible_vault end
    v = text("unvault", "the vault text", v)
    if not vault.is_encrypted(v) then return v end
    local plain, err = vault.decrypt_with(v, secret)
    if not plain then C.error("unvault", "Unable to decrypt: %s", tostring(err)) end
    vault.reveal(plain)
    return plain
  end)
end
