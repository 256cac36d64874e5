--- luasible.vault: the Ansible Vault format, 1.1 and 1.2 (vault ids), byte
-- for byte as ansible-core writes and reads it (ansible/parsing/vault):
--
--   $ANSIBLE_VAULT;1.1;AES256            (1.2: $ANSIBLE_VAULT;1.2;AES256;label)
--   hex( hex(salt) \n hex(hmac) \n hex(ciphertext) ), in lines of 80 columns
--
-- with the 80 bytes of PBKDF2-HMAC-SHA256 (10,000 iterations, a 32-byte random
-- salt) split into the AES-256 key, the HMAC-SHA256 key and the CTR IV; the
-- plaintext PKCS#7-padded, the HMAC over the ciphertext checked in constant
-- time before anything is decrypted. The primitives are the core's
-- (luasible.core.crypto, OpenSSL's libcrypto).
--
-- A keyring is the run's list of secrets { {id = "label", secret = "bytes",
-- source = "where it came from"}, ... } in the order they were given
-- (vault/secrets.lua builds it from --vault-id and friends). The keyring the
-- loaders (luasible.yaml, the inventory, copy/template) decrypt with is the
-- one given to M.use; every value decrypted through it is registered as a
-- secret (M.revealed) that the run's events scrub (play/vars.lua).
local crypto = require("luasible.core").crypto

local M = {}

M.HEADER = "$ANSIBLE_VAULT"
M.DEFAULT_ID = "default"
local ITERATIONS, KEY_LEN, IV_LEN = 10000, 32, 16

--- Is text vault data (it starts with the header, as Ansible's is_encrypted)?
function M.is_encrypted(text)
  return type(text) == "string" and text:sub(1, #M.HEADER) == M.HEADER
end

-- the AES key, HMAC key and IV of a password and salt
local function derive(password, salt)
  local k = crypto.pbkdf2_sha256(password, salt, ITERATIONS, 2 * KEY_LEN + IV_LEN)
  return k:sub(1, KEY_LEN), k:sub(KEY_LEN + 1, 2 * KEY_LEN), k:sub(2 * KEY_LEN + 1)
end

local function pad(s)
  local n = 16 - #s % 16
  return s .. string.rep(string.char(n), n)
end

local function unpad(s)
  local n = s:byte(-1)
  if not n or n < 1 or n > 16 or n > #s or s:sub(-n) ~= string.rep(string.char(n), n) then
    return nil, "Invalid padding bytes."
  end
  return s:sub(1, -n - 1)
end

--- The envelope of vaulttext: header fields and body; nil, err when it is
--- not one. { version = "1.1", cipher = "AES256", id = "label"|nil, body = hex }
function M.parse_envelope(text)
  if not M.is_encrypted(text) then return nil, "input is not vault encrypted data" end
  local lines = {}
  for line in (text:gsub("\r\n", "\n")):gmatch("[^\n]+") do lines[#lines + 1] = line end
  local fields = {}
  for f in ((lines[1] or ""):match("^%s*(.-)%s*$") .. ";"):gmatch("(.-);") do
    fields[#fields + 1] = f:match("^%s*(.-)%s*$")
  end
  if #fields < 3 then
    return nil, "Vault envelope format error: the header needs a version and a cipher ("
      .. (lines[1] or "") .. ")"
  end
  local id = fields[4]
  if id == "" then id = nil end
  table.remove(lines, 1)
  return { version = fields[2], cipher = fields[3], id = id, body = table.concat(lines) }
end

--- Encrypt plaintext with secret (bytes). vault_id: a label other than
--- "default" gives format 1.2 with the label in the header. salt: for tests
--- (32 random bytes otherwise). Returns the vault text (its last line ends
--- with a newline), or nil, err.
function M.encrypt(plaintext, secret, vault_id, salt)
  if type(secret) ~= "string" or secret == "" then return nil, "A vault password must be specified to encrypt data" end
  if M.is_encrypted(plaintext) then return nil, "input is already encrypted" end
  salt = salt or crypto.random(32)
  local key, hkey, iv = derive(secret, salt)
  local ct = assert(crypto.aes256_ctr(key, iv, pad(plaintext)))
  local mac = crypto.hmac("sha256", hkey, ct)
  local body = crypto.hex(crypto.hex(salt) .. "\n" .. crypto.hex(mac) .. "\n" .. crypto.hex(ct))
  local header = M.HEADER .. ";1.1;AES256"
  if vault_id and vault_id ~= "" and vault_id ~= M.DEFAULT_ID then
    header = M.HEADER .. ";1.2;AES256;" .. vault_id
  end
  local out = { header }
  for i = 1, #body, 80 do out[#out + 1] = body:sub(i, i + 79) end
  out[#out + 1] = ""
  return table.concat(out, "\n")
end

-- salt, hmac (raw), ciphertext of an envelope's body; nil, err
local function parse_body(body)
  local inner, err = crypto.unhex(body)
  if not inner then return nil, "Vault format unhexlify error: " .. err end
  local hsalt, hmac, hct = inner:match("^([^\n]*)\n([^\n]*)\n(.*)$")
  if not hsalt then return nil, "Vault vaulttext format error: not enough values to unpack" end
  local salt, serr = crypto.unhex(hsalt)
  local ct, cerr = crypto.unhex(hct)
  local mac, merr = crypto.unhex(hmac)
  if not (salt and ct and mac) then
    return nil, "Vault format unhexlify error: " .. tostring(serr or cerr or merr)
  end
  return salt, mac, ct
end

--- Decrypt vault text with one secret: plaintext, or nil, err, kind (kind
--- "hmac" when the secret is not the one: HMAC verification failed; "format"
--- for a damaged text, which no secret opens).
function M.decrypt_with(text, secret)
  local env, eerr = M.parse_envelope(text)
  if not env then return nil, eerr, "format" end
  if env.cipher ~= "AES256" then return nil, env.cipher .. " cipher could not be found", "format" end
  local salt, mac, ct = parse_body(env.body)
  if not salt then return nil, mac, "format" end
  local key, hkey, iv = derive(secret, salt)
  if not crypto.equal(crypto.hmac("sha256", hkey, ct), mac) then
    return nil, "HMAC verification failed", "hmac"
  end
  local plain, perr = unpad(assert(crypto.aes256_ctr(key, iv, ct)))
  if not plain then return nil, perr, "format" end
  return plain
end

--- Decrypt vault text with a keyring: the secrets labelled with the text's
--- vault id first, then the others in order (as Ansible tries them).
--- Returns plaintext, the entry that opened it; or nil, err (the message
--- names `source` when given: "Decryption failed (no vault secrets were
--- found that could decrypt) on FILE").
function M.decrypt(text, keyring, source)
  local on = source and (" on " .. source) or ""
  local env, eerr = M.parse_envelope(text)
  if not env then
    return nil, eerr .. (source and (": " .. source .. " is not a vault encrypted file") or "")
  end
  if not keyring or #keyring == 0 then
    return nil, "Attempting to decrypt but no vault secrets found" .. on
      .. " (give --vault-password-file, --vault-id or --ask-vault-pass)"
  end
  local order = {}
  if env.id then
    for _, e in ipairs(keyring) do if e.id == env.id then order[#order + 1] = e end end
  end
  for _, e in ipairs(keyring) do if e.id ~= env.id then order[#order + 1] = e end end
  for _, e in ipairs(order) do
    local plain, err, kind = M.decrypt_with(text, e.secret)
    if plain then return plain, e, env end
    if kind == "format" then return nil, "Vault format error" .. on .. ": " .. err end
  end
  return nil, "Decryption failed (no vault secrets were found that could decrypt)" .. on
end

---------------------------------------------------------------------------
-- The run's keyring and the values revealed through it
---------------------------------------------------------------------------

-- the keyring in use (M.use) and the decrypted values (secrets of the run)
local state = { keyring = nil, revealed = {}, seen = {} }

-- Values shorter than this are not scrubbed from output (a value like "22"
-- or "yes" would mask every such word in every line while hiding little);
-- passwords always are.
M.MIN_SCRUB = 4

--- Inline `!vault` values are left encrypted ({ __ansible_vault = text })
--- when true: what `luasible inventory` shows, as ansible-inventory does.
M.keep_inline = false

--- Use keyring for what the loaders decrypt from now on (nil: none).
function M.use(keyring)
  state.keyring = keyring
  for _, e in ipairs(keyring or {}) do M.reveal(e.secret, true) end
end

--- The keyring in use (nil when none was given).
function M.keyring() return state.keyring end

--- Register a secret value (a decrypted string): events never show it.
function M.reveal(v, always)
  if type(v) ~= "string" or state.seen[v] then return end
  if #v < M.MIN_SCRUB and not (always and #v > 0) then return end
  state.seen[v] = true
  -- longest first: a secret that holds another is replaced whole
  local list, i = state.revealed, #state.revealed + 1
  while i > 1 and #list[i - 1] < #v do list[i] = list[i - 1]; i = i - 1 end
  list[i] = v
end

--- Register every string in a decoded value (a vaulted vars file).
function M.reveal_all(v, depth)
  depth = depth or 0
  if type(v) == "string" then M.reveal(v)
  elseif type(v) == "table" and depth < 64 then
    for _, x in pairs(v) do M.reveal_all(x, depth + 1) end
  end
end

--- The list of revealed values (shared: it grows as values are decrypted).
function M.revealed() return state.revealed end

--- Decrypt text with the keyring in use; source names the file (and line)
--- for messages. The plaintext is registered as a secret (reveal: "all" for
--- text whose strings are registered by the caller after parsing, else the
--- whole plaintext). Returns plaintext or nil, err.
function M.open(text, source, reveal)
  local plain, err = M.decrypt(text, state.keyring, source)
  if not plain then return nil, err end
  if reveal ~= "none" then M.reveal(plain) end
  return plain
end

--- A file's text with vault content decrypted: the text itself when it is
--- not vault data; nil, err when it is and cannot be opened.
function M.file_text(text, file, reveal)
  if not M.is_encrypted(text) then return text, false end
  local plain, err = M.open(text, file, reveal)
  if not plain then return nil, err end
  return plain, true
end

return M
