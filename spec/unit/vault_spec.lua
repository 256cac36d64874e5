-- luasible.vault: the Ansible Vault 1.1/1.2 format (the envelope, the
-- cipher, the keyring order) and the password sources that need no process
-- (files, prompts). ansible-vault itself is spec/integration/vault_oracle_spec.
local vault = require "luasible.vault"
local secrets = require "luasible.vault.secrets"
local crypto = require("luasible.core").crypto
local files = require "spec.helpers.files"

local function ring(...)
  local r = {}
  for i = 1, select("#", ...), 2 do r[#r + 1] = { id = select(i, ...), secret = select(i + 1, ...) } end
  return r
end

-- the body's three parts, decoded
local function parts(text)
  local env = assert(vault.parse_envelope(text))
  local inner = assert(crypto.unhex(env.body))
  local salt, mac, ct = inner:match("^(%x+)\n(%x+)\n(%x+)$")
  return assert(crypto.unhex(salt)), mac, assert(crypto.unhex(ct)), env
end

describe("vault format", function()
  it("writes the 1.1 envelope: the header, 80-column lines, a final newline", function()
    local text = assert(vault.encrypt("hello world\n", "pw"))
    local lines = {}
    for l in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
    assert.equal("$ANSIBLE_VAULT;1.1;AES256", lines[1])
    assert.equal("\n", text:sub(-1))
    for i = 2, #lines - 1 do assert.equal(80, #lines[i]) end
    assert.is_true(#lines[#lines] <= 80 and #lines[#lines] > 0)
    assert.truthy(table.concat(lines, "", 2):match("^%x+$"))
  end)

  it("writes 1.2 with the label for a vault id other than default", function()
    assert.equal("$ANSIBLE_VAULT;1.2;AES256;prod", assert(vault.encrypt("x", "pw", "prod")):match("^[^\n]+"))
    assert.equal("$ANSIBLE_VAULT;1.1;AES256", assert(vault.encrypt("x", "pw", "default")):match("^[^\n]+"))
  end)

  it("is PBKDF2-SHA256 x10000 (AES key, HMAC key, IV), AES-256-CTR over PKCS#7, HMAC-SHA256 of the ct", function()
    local salt = ("S"):rep(32)
    local text = assert(vault.encrypt("sixteen bytes!!!", "pw", nil, salt))
    local got_salt, mac, ct = parts(text)
    assert.equal(salt, got_salt)
    local k = crypto.pbkdf2_sha256("pw", salt, 10000, 80)
    local key, hkey, iv = k:sub(1, 32), k:sub(33, 64), k:sub(65, 80)
    -- a whole block of padding after 16 bytes
    assert.equal("sixteen bytes!!!" .. ("\16"):rep(16), crypto.aes256_ctr(key, iv, ct))
    assert.equal(crypto.hex(crypto.hmac("sha256", hkey, ct)), mac)
    -- the same salt gives the same text
    assert.equal(text, vault.encrypt("sixteen bytes!!!", "pw", nil, salt))
  end)

  it("round-trips any bytes, the empty text and a long one", function()
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    for _, s in ipairs({ "", "a", table.concat(all), ("x"):rep(100000) }) do
      assert.equal(s, (vault.decrypt(assert(vault.encrypt(s, "pw")), ring("default", "pw"))))
    end
  end)

  it("refuses to encrypt vault text again, or without a password", function()
    local text = assert(vault.encrypt("x", "pw"))
    assert.same({ nil, "input is already encrypted" }, { vault.encrypt(text, "pw") })
    assert.is_nil((vault.encrypt("x", "")))
  end)

  it("a wrong password: decryption failed, naming the file", function()
    local text = assert(vault.encrypt("x", "pw"))
    local plain, err = vault.decrypt(text, ring("default", "nope", "other", "nope2"), "group_vars/all.yml")
    assert.is_nil(plain)
    assert.equal("Decryption failed (no vault secrets were found that could decrypt) on group_vars/all.yml", err)
  end)

  it("a tampered ciphertext or HMAC fails the HMAC check: nothing is decrypted", function()
    local salt = ("s"):rep(32)
    local text = assert(vault.encrypt("attack at dawn", "pw", nil, salt))
    local s, mac, ct, env = parts(text)
    local function rebuild(m, c)
      local body = crypto.hex(crypto.hex(s) .. "\n" .. m .. "\n" .. crypto.hex(c))
      return "$ANSIBLE_VAULT;1.1;AES256\n" .. body .. "\n"
    end
    assert.equal("attack at dawn", (vault.decrypt(rebuild(mac, ct), ring("default", "pw"))))
    local flipped = string.char(ct:byte(1) ~ 1) .. ct:sub(2)
    local p1, e1, k1 = vault.decrypt_with(rebuild(mac, flipped), "pw")
    assert.is_nil(p1); assert.equal("HMAC verification failed", e1); assert.equal("hmac", k1)
    local badmac = (mac:sub(1, 1) == "0" and "1" or "0") .. mac:sub(2)
    assert.is_nil((vault.decrypt_with(rebuild(badmac, ct), "pw")))
    assert.is_nil(env.id)
  end)

  it("a tampered header or body: a format error, not a password one", function()
    local text = assert(vault.encrypt("x", "pw"))
    local _, err = vault.decrypt(text:gsub("AES256", "AES128", 1), ring("default", "pw"), "f.yml")
    assert.equal("Vault format error on f.yml: AES128 cipher could not be found", err)
    _, err = vault.decrypt("$ANSIBLE_VAULT;1.1\nabcd\n", ring("default", "pw"), "f.yml")
    assert.truthy(err:find("Vault envelope format error", 1, true), err)
    _, err = vault.decrypt("$ANSIBLE_VAULT;1.1;AES256\nzz\n", ring("default", "pw"), "f.yml")
    assert.truthy(err:find("unhexlify error", 1, true), err)
    _, err = vault.decrypt("not vault\n", ring("default", "pw"), "f.yml")
    assert.equal("input is not vault encrypted data: f.yml is not a vault encrypted file", err)
  end)

  it("reads CRLF line ends and a header with spaces, as Ansible", function()
    local text = assert(vault.encrypt("crlf", "pw", "lab"))
    local crlf = text:gsub("\n", "\r\n")
    assert.equal("crlf", (vault.decrypt(crlf, ring("default", "pw"))))
    local spaced = text:gsub("^[^\n]+", "$ANSIBLE_VAULT; 1.2 ; AES256 ; lab ")
    local plain, entry, env = vault.decrypt(spaced, ring("default", "pw"))
    assert.equal("crlf", plain)
    assert.equal("default", entry.id)
    assert.equal("lab", env.id)
  end)

  it("tries the secrets of the text's vault id first, then the others in order", function()
    local text = assert(vault.encrypt("x", "B", "b"))
    local _, entry = vault.decrypt(text, ring("a", "A", "c", "B", "b", "B"))
    assert.equal("b", entry.id) -- the label's own, though 'c' has the same password and comes first
    _, entry = vault.decrypt(text, ring("a", "A", "c", "B"))
    assert.equal("c", entry.id) -- no secret for 'b': any that opens it
    local plain, err = vault.decrypt(text, {})
    assert.is_nil(plain)
    assert.truthy(err:find("no vault secrets found", 1, true))
  end)
end)

describe("vault revealed values", function()
  it("registers decrypted values longest first, not the too short ones", function()
    vault.reveal("short-secret")
    vault.reveal("a-much-longer-secret-value")
    vault.reveal("22")
    local list = vault.revealed()
    local pos = {}
    for i, v in ipairs(list) do pos[v] = i end
    assert.truthy(pos["short-secret"] and pos["a-much-longer-secret-value"])
    assert.is_true(pos["a-much-longer-secret-value"] < pos["short-secret"])
    assert.is_nil(pos["22"])
    vault.reveal("pw", true) -- a password: always
    local found = false
    for _, v in ipairs(vault.revealed()) do if v == "pw" then found = true end end
    assert.is_true(found)
  end)

  it("the run's secrets scrub them from events", function()
    vault.reveal("the-vaulted-thing")
    local s = require("luasible.play.vars").secrets()
    assert.is_true(s:any())
    assert.same({ msg = "x ******** y" }, s:scrub({ msg = "x the-vaulted-thing y" }))
  end)
end)

describe("vault password sources", function()
  local dir = files.tmpdir()

  it("split_id: label@source, or a source alone", function()
    assert.same({ "prod", "/p/file" }, { secrets.split_id("prod@/p/file") })
    assert.same({ nil, "/p/file" }, { secrets.split_id("/p/file") })
    assert.same({ "a", "b@c" }, { secrets.split_id("a@b@c") })
  end)

  it("a file: its content stripped of surrounding white space", function()
    files.write(dir .. "/pw", "  s3cret pass \r\n\n")
    assert.equal("s3cret pass", secrets.from_file(dir .. "/pw"))
    files.write(dir .. "/empty", " \n")
    local pw, err = secrets.from_file(dir .. "/empty")
    assert.is_nil(pw)
    assert.equal("Invalid vault password was provided from file (" .. dir .. "/empty)", err)
    pw, err = secrets.from_file(dir .. "/missing")
    assert.is_nil(pw)
    assert.equal("The vault password file " .. dir .. "/missing was not found", err)
  end)

  it("client scripts are told by their name", function()
    assert.is_true(secrets.is_client("/x/keyring-client"))
    assert.is_true(secrets.is_client("/x/keyring-client.py"))
    assert.is_false(secrets.is_client("/x/keyring.py"))
    assert.is_false(secrets.is_client("/x/client"))
  end)

  it("keyring: --vault-id first, then --vault-password-file, then the prompt", function()
    files.write(dir .. "/a", "A\n")
    files.write(dir .. "/b", "B\n")
    local asked = {}
    local r = assert(secrets.keyring({ vault_ids = { "one@" .. dir .. "/a", dir .. "/b" },
      password_files = { dir .. "/a" }, ask = true,
      reader = function(p) asked[#asked + 1] = p; return " typed \n" end }))
    assert.same({ { "one", "A" }, { "default", "B" }, { "default", "A" }, { "default", "typed" } },
      { { r[1].id, r[1].secret }, { r[2].id, r[2].secret }, { r[3].id, r[3].secret }, { r[4].id, r[4].secret } })
    assert.same({ "Vault password: " }, asked)
  end)

  it("a new password is asked twice and must match; a label's prompt names it", function()
    local answers = { "n1", "n1", "n1", "n2" }
    local asked = {}
    local function reader(p) asked[#asked + 1] = p; return table.remove(answers, 1) end
    local r = assert(secrets.keyring({ vault_ids = { "dev@prompt" }, new = true, reader = reader }))
    assert.equal("dev", r[1].id)
    assert.equal("n1", r[1].secret)
    assert.same({ "New vault password (dev): ", "Confirm new vault password (dev): " }, asked)
    local _, err = secrets.keyring({ ask = true, new = true, reader = reader })
    assert.equal("Error in vault password prompt (default): Passwords do not match", err)
    _, err = secrets.keyring({ ask = true, reader = function() return nil end })
    assert.equal("Error in vault password prompt (default): EOFError (ctrl-d) on prompt for (default)", err)
  end)

  it("a missing file is a warning when another source gives a secret, else the error", function()
    files.write(dir .. "/a", "A\n")
    local warned = {}
    local r = assert(secrets.keyring({ vault_ids = { "x@" .. dir .. "/nope", "y@" .. dir .. "/a" },
      warn = function(m) warned[#warned + 1] = m end }))
    assert.equal(1, #r)
    assert.equal("y", r[1].id)
    assert.truthy(warned[1]:find("nope was not found", 1, true))
    local _, err = secrets.keyring({ password_files = { dir .. "/nope" }, warn = function() end })
    assert.equal("The vault password file " .. dir .. "/nope was not found", err)
    _, err = secrets.keyring({ vault_ids = { "a;b@" .. dir .. "/a" } })
    assert.truthy(err:find("not allowed in vault ids", 1, true))
  end)

  it("the config file's vault_password_file comes after the command line's", function()
    files.write(dir .. "/a", "A\n")
    files.write(dir .. "/c", "C\n")
    secrets.config.password_file = dir .. "/c"
    local ok, r = pcall(secrets.keyring, { password_files = { dir .. "/a" } })
    secrets.config.password_file = nil
    assert.is_true(ok)
    assert.same({ "A", "C" }, { r[1].secret, r[2].secret })
  end)

  it("for_encrypt: the --encrypt-vault-id one, else the only one", function()
    local r = ring("a", "A", "b", "B")
    assert.equal("B", secrets.for_encrypt(r, "b").secret)
    local _, err = secrets.for_encrypt(r)
    assert.equal("The vault-ids a,b are available to encrypt. Specify the vault-id to encrypt with"
      .. " --encrypt-vault-id", err)
    _, err = secrets.for_encrypt(r, "z")
    assert.equal("Did not find a match for --encrypt-vault-id=z in the known vault-ids ['a', 'b']", err)
    assert.equal("A", secrets.for_encrypt(ring("a", "A")).secret)
  end)
end)

describe("vault in YAML", function()
  local yaml = require "luasible.yaml"
  after_each(function() vault.use(nil); vault.keep_inline = false end)

  it("decrypts !vault values and whole vault files with the keyring in use", function()
    vault.use(ring("default", "pw"))
    local inline = assert(vault.encrypt("inline-value-1", "pw"))
    local text = "a: 1\nb: !vault |\n" .. inline:gsub("[^\n]+", "  %0") .. "c: 3\n"
    local t = assert(yaml.load(text, "v.yml"))
    assert.same({ 1, "inline-value-1", 3 }, { t.a, t.b, t.c })
    assert.same({ "a", "b", "c" }, yaml.keys(t))
    local whole = assert(vault.encrypt("x: whole-file-value\n", "pw"))
    assert.equal("whole-file-value", assert(yaml.load(whole, "w.yml")).x)
    local seen = {}
    for _, v in ipairs(vault.revealed()) do seen[v] = true end
    assert.is_true(seen["inline-value-1"] and seen["whole-file-value"])
  end)

  it("a wrong password: one line naming the file, and the line of an inline value", function()
    vault.use(ring("default", "wrong"))
    local inline = assert(vault.encrypt("v", "pw"))
    local _, err = yaml.load("a: 1\nb: !vault |\n" .. inline:gsub("[^\n]+", "  %0"), "v.yml")
    assert.equal("v.yml:2: vault-encrypted value: Decryption failed (no vault secrets were found that could"
      .. " decrypt)", err)
    _, err = yaml.load(assert(vault.encrypt("x: 1\n", "pw")), "w.yml")
    assert.equal("w.yml: Decryption failed (no vault secrets were found that could decrypt)", err)
    _, err = yaml.load("b: !vault 'not vault'\n", "n.yml")
    assert.truthy(err:find("^n.yml:1: a !vault value must be Ansible Vault text"), err)
  end)

  it("keep_inline leaves them encrypted, as ansible-inventory shows them", function()
    vault.keep_inline = true
    local inline = assert(vault.encrypt("v", "pw"))
    local t = assert(yaml.load("b: !vault |\n" .. inline:gsub("[^\n]+", "  %0"), "v.yml"))
    assert.same({ __ansible_vault = inline }, t.b)
    assert.equal('{"b":{"__ansible_vault":' .. require("cjson").encode(inline) .. '}}',
      require("luasible.json").encode(t))
  end)
end)
