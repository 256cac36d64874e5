-- luasible.core.crypto against the openssl command line (another program
-- over the same library): PBKDF2 (`openssl kdf`), AES-256-CTR (`openssl
-- enc`), digests and HMACs (`openssl dgst`), SHA-crypt (`openssl passwd`),
-- on random inputs.
local crypto = require("luasible.core").crypto
local files = require "spec.helpers.files"

local D = files.tmpdir()

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  assert(p:close(), cmd)
  return out
end

local HAVE = os.execute("command -v openssl >/dev/null 2>&1")

describe("crypto against the openssl command", function()
  if not HAVE then
    pending("no openssl command")
    return
  end

  it("pbkdf2_sha256 = openssl kdf PBKDF2 (random salts, lengths, iteration counts)", function()
    for _, c in ipairs({ { 1, 16 }, { 1000, 32 }, { 10000, 80 }, { 2500, 100 }, { 3, 200 } }) do
      local salt = crypto.random(32)
      local pw = crypto.hex(crypto.random(12))
      local want = sh(("openssl kdf -keylen %d -kdfopt digest:SHA256 -kdfopt pass:%s -kdfopt hexsalt:%s"
        .. " -kdfopt iter:%d PBKDF2"):format(c[2], pw, crypto.hex(salt), c[1]))
      want = want:gsub("[:%s]", ""):lower()
      assert.equal(want, crypto.hex(crypto.pbkdf2_sha256(pw, salt, c[1], c[2])))
    end
  end)

  it("aes256_ctr = openssl enc -aes-256-ctr", function()
    for _, n in ipairs({ 0, 1, 15, 16, 17, 1000, 65537 }) do
      local key, iv, data = crypto.random(32), crypto.random(16), crypto.random(n)
      files.write(D .. "/in", data)
      sh(("openssl enc -aes-256-ctr -K %s -iv %s -in %s/in -out %s/out"):format(crypto.hex(key), crypto.hex(iv), D, D))
      assert.equal(crypto.hex(files.read(D .. "/out")), crypto.hex(crypto.aes256_ctr(key, iv, data)))
    end
  end)

  it("digest and hmac = openssl dgst", function()
    local data = crypto.random(3000)
    files.write(D .. "/d", data)
    for _, name in ipairs({ "md5", "sha1", "sha224", "sha256", "sha384", "sha512" }) do
      local want = sh(("openssl dgst -%s -r %s/d"):format(name, D)):match("^(%x+)")
      assert.equal(want, crypto.hex(crypto.digest(name, data)), name)
      local key = crypto.hex(crypto.random(20))
      want = sh(("openssl dgst -%s -hmac %s -r %s/d"):format(name, key, D)):match("^(%x+)")
      assert.equal(want, crypto.hex(crypto.hmac(name, key, data)), name)
    end
  end)

  it("crypt = openssl passwd -5 / -6", function()
    for _, alg in ipairs({ "5", "6" }) do
      local salt = crypto.hex(crypto.random(6))
      local pw = "pw " .. crypto.hex(crypto.random(5))
      local want = sh(("openssl passwd -%s -salt %s '%s'"):format(alg, salt, pw)):gsub("\n$", "")
      assert.equal(want, crypto.crypt(pw, "$" .. alg .. "$" .. salt))
    end
  end)
end)
