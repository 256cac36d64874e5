-- luasible.core.crypto (core/lua_crypto.c) against published vectors:
-- PBKDF2-HMAC-SHA256 (the RFC 6070 inputs with SHA-256, RFC 7914 section 11),
-- NIST SP 800-38A F.5.5 (CTR-AES256), RFC 4231 (HMAC-SHA256/512), FIPS 180
-- digests, Drepper's SHA-crypt vectors ($5$, $6$).
local crypto = require("luasible.core").crypto

local function unhex(s) return assert(crypto.unhex((s:gsub("%s", "")))) end
local hex = crypto.hex

describe("crypto.pbkdf2_sha256", function()
  local vectors = {
    { "password", "salt", 1, 32, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b" },
    { "password", "salt", 2, 32, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43" },
    { "password", "salt", 4096, 32, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a" },
    { "passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 40,
      "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9" },
    { "pass\0word", "sa\0lt", 4096, 16, "89b69d0516f829893c696226650a8687" },
    { "passwd", "salt", 1, 64, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
      .. "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783" },
  }
  for _, v in ipairs(vectors) do
    it(("%q/%q c=%d dkLen=%d"):format(v[1], v[2], v[3], v[4]), function()
      assert.equal(v[5], hex(crypto.pbkdf2_sha256(v[1], v[2], v[3], v[4])))
    end)
  end
  -- Python's hashlib.pbkdf2_hmac (OpenSSL's PKCS5_PBKDF2_HMAC): a password
  -- longer than the block (hashed first), exactly a block, an empty salt,
  -- a partial last block, Ansible Vault's 80 bytes of 10,000 iterations
  local more = {
    { ("p"):rep(100), ("salt"):rep(20), 1000, 80, "09131de14623d964b0d327d709ce67936f7d9a2237843a781246bc4f0b28"
      .. "03e3a1c2a7d4700c6645132aa4832a012e3ecef08e60ce25bace9a80f9c48f213bbfce99b33a136a023faa3e3ebb7dd5a7f1" },
    { ("x"):rep(64), "", 3, 33, "db855ad82ccd85db17d754ca0f2ba391d531f4681d2212e8cec8e4ecfe7434f4f7" },
    { ("x"):rep(65), "y", 10000, 80, "735b7987cb9edb60db50f2af646129399599367c0d3110c8ea0b276ca233ffb374ab9f6328"
      .. "6e0a590de58a450bcb9cba8c4d0d90341ccd16e518122483fe1f50f0b33b29c08b9205432808233dd129f8" },
  }
  for _, v in ipairs(more) do
    it(("hashlib: password of %d bytes, salt of %d, c=%d, dkLen=%d"):format(#v[1], #v[2], v[3], v[4]), function()
      assert.equal(v[5], hex(crypto.pbkdf2_sha256(v[1], v[2], v[3], v[4])))
    end)
  end

  it("gives Ansible Vault's 80 bytes in one call", function()
    local k = crypto.pbkdf2_sha256("pw", ("s"):rep(32), 10000, 80)
    assert.equal(80, #k)
    assert.equal(k:sub(1, 32), crypto.pbkdf2_sha256("pw", ("s"):rep(32), 10000, 32))
  end)
  it("refuses bad iteration counts and lengths", function()
    assert.has_error(function() crypto.pbkdf2_sha256("p", "s", 0, 32) end)
    assert.has_error(function() crypto.pbkdf2_sha256("p", "s", 1, 0) end)
    assert.has_error(function() crypto.pbkdf2_sha256("p", "s", 1, 100000) end)
  end)
end)

describe("crypto.aes256_ctr", function()
  local key = unhex "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
  local iv = unhex "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
  local plain = unhex [[6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
    30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710]]
  local cipher = [[601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5]]
    .. [[2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6]]
  it("encrypts the NIST SP 800-38A F.5.5 vector", function()
    assert.equal(cipher, hex(crypto.aes256_ctr(key, iv, plain)))
  end)
  it("decrypts it (the same operation)", function()
    assert.equal(hex(plain), hex(crypto.aes256_ctr(key, iv, unhex(cipher))))
  end)
  it("handles a length that is not a multiple of the block and empty data", function()
    assert.equal(cipher:sub(1, 2 * 21), hex(crypto.aes256_ctr(key, iv, plain:sub(1, 21))))
    assert.equal("", crypto.aes256_ctr(key, iv, ""))
  end)
  it("carries the counter over the whole 128-bit block", function()
    local ff = ("\255"):rep(16)
    local a = crypto.aes256_ctr(key, ff, ("\0"):rep(32))
    -- the second block's keystream is AES(0...0): the counter wrapped to zero
    assert.equal(a:sub(17, 32), crypto.aes256_ctr(key, ("\0"):rep(16), ("\0"):rep(16)))
  end)
  it("refuses a key or IV of the wrong size with the fail tuple", function()
    local r, err, name = crypto.aes256_ctr("short", iv, "x")
    assert.is_nil(r); assert.equal("EINVAL", name); assert.matches("32 bytes", err)
    r, err = crypto.aes256_ctr(key, "short", "x")
    assert.is_nil(r); assert.matches("16 bytes", err)
  end)
end)

describe("crypto.hmac and crypto.digest", function()
  it("RFC 4231 test case 2", function()
    local data = "what do ya want for nothing?"
    assert.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      hex(crypto.hmac("sha256", "Jefe", data)))
    assert.equal("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
      .. "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
      hex(crypto.hmac("sha512", "Jefe", data)))
  end)
  it("RFC 4231 test case 6 (a key longer than the block)", function()
    assert.equal("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
      hex(crypto.hmac("sha256", ("\170"):rep(131), "Test Using Larger Than Block-Size Key - Hash Key First")))
  end)
  it("digests of 'abc'", function()
    local want = {
      md5 = "900150983cd24fb0d6963f7d28e17f72",
      sha1 = "a9993e364706816aba3e25717850c26c9cd0d89d",
      sha224 = "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
      sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      sha384 = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
      sha512 = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        .. "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    }
    for name, h in pairs(want) do assert.equal(h, hex(crypto.digest(name, "abc")), name) end
    assert.equal("d41d8cd98f00b204e9800998ecf8427e", hex(crypto.digest("md5", "")))
  end)
  it("names an unknown digest", function()
    local r, err, name = crypto.digest("whirlpool", "x")
    assert.is_nil(r); assert.equal("EINVAL", name); assert.matches("whirlpool", err)
    r = crypto.hmac("md4", "k", "x")
    assert.is_nil(r)
  end)
end)

describe("crypto.equal", function()
  it("compares whole strings, bytes included", function()
    assert.is_true(crypto.equal("abc\0d", "abc\0d"))
    assert.is_false(crypto.equal("abc\0d", "abc\0e"))
    assert.is_false(crypto.equal("abc", "abcd"))
    assert.is_true(crypto.equal("", ""))
  end)
end)

describe("crypto.crypt", function()
  it("Drepper's SHA-crypt vectors", function()
    assert.equal("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
      crypto.crypt("Hello world!", "$5$saltstring"))
    assert.equal("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
      crypto.crypt("Hello world!", "$6$saltstring"))
    assert.equal("$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA",
      crypto.crypt("Hello world!", "$5$rounds=10000$saltstringsaltstring"))
  end)
  it("verifies a hash given as the setting", function()
    local h = crypto.crypt("s3cret", "$6$abcdefgh")
    assert.equal(h, crypto.crypt("s3cret", h))
    assert.not_equal(h, crypto.crypt("s3creT", h))
  end)
  it("refuses a setting it does not know, and a NUL in the password", function()
    local r, err, name = crypto.crypt("x", "$9$nope")
    assert.is_nil(r); assert.equal("EINVAL", name); assert.matches("not supported", err)
    r, err = crypto.crypt("a\0b", "$6$salt")
    assert.is_nil(r); assert.matches("NUL", err)
  end)
end)

describe("crypto.random, hex, unhex", function()
  it("random gives n fresh bytes", function()
    assert.equal(32, #crypto.random(32))
    assert.equal("", crypto.random(0))
    assert.not_equal(crypto.random(16), crypto.random(16))
  end)
  it("hex and unhex round-trip every byte", function()
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    local s = table.concat(all)
    assert.equal(s, crypto.unhex(crypto.hex(s)))
    assert.equal("00ff7f", crypto.hex("\0\255\127"))
    assert.equal("\171\205", crypto.unhex("AbCd"))
  end)
  it("unhex refuses odd lengths and non-hex", function()
    local r, err, name = crypto.unhex("abc")
    assert.is_nil(r); assert.equal("EINVAL", name); assert.matches("odd", err)
    r, err = crypto.unhex("zz")
    assert.is_nil(r); assert.matches("not hex", err)
  end)
end)
