--- luasible.template.filters.hash: digests and encodings: hash, checksum,
-- md5, sha1, password_hash (crypt(3): sha512 / sha256 / md5, a salt given
-- or random), to_uuid (uuid5 in Ansible's namespace), b64encode,
-- b64decode. Digests and crypt come from the core (libcrypto, libcrypt:
-- contract E).
local C = require "luasible.template.filters.common"

local str = C.str

local function crypto() return require("luasible.core").crypto end

local function hex(raw)
  local c = crypto()
  if c.hex then return c.hex(raw) end
  return (raw:gsub(".", function(ch) return string.format("%02x", ch:byte()) end))
end

local DIGESTS = { md5 = true, sha1 = true, sha224 = true, sha256 = true, sha384 = true, sha512 = true }

local function digest(name, algo, data)
  if not DIGESTS[algo] then
    C.error(name, "unsupported hash type %s (md5, sha1, sha224, sha256, sha384, sha512)", C.repr(algo))
  end
  local raw, err = crypto().digest(algo, data)
  if not raw then C.error(name, "%s", tostring(err)) end
  return hex(raw)
end

-- the bytes of a value for a digest: Ansible's to_bytes (str() of non-strings)
local function bytes(v) return str(v) end

-- base64 (RFC 4648), decoding as Python's non-strict b64decode: characters
-- outside the alphabet are dropped, padding checked
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local B64_INDEX = {}
for i = 1, 64 do B64_INDEX[B64:byte(i)] = i - 1 end

local function b64encode(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local q = {}
    for k = 1, 4 do q[k] = B64:sub(((n >> (6 * (4 - k))) & 63) + 1, ((n >> (6 * (4 - k))) & 63) + 1) end
    if not b then q[3], q[4] = "=", "=" elseif not c then q[4] = "=" end
    out[#out + 1] = table.concat(q)
  end
  return table.concat(out)
end

local function b64decode(s)
  local digits, pad = {}, 0
  for i = 1, #s do
    local ch = s:byte(i)
    if ch == 61 then -- '='
      pad = pad + 1
    elseif B64_INDEX[ch] then
      if pad > 0 then
        -- data after padding: Python stops at the first full quantum with padding
        break
      end
      digits[#digits + 1] = B64_INDEX[ch]
    end
  end
  local n = #digits
  if n % 4 == 1 or (n % 4 ~= 0 and pad < 4 - n % 4) then
    C.fail("filter 'b64decode': Incorrect padding")
  end
  local out = {}
  for i = 1, n, 4 do
    local a, b, c, d = digits[i], digits[i + 1], digits[i + 2], digits[i + 3]
    local v = (a << 18) | ((b or 0) << 12) | ((c or 0) << 6) | (d or 0)
    out[#out + 1] = string.char((v >> 16) & 255)
    if c then out[#out + 1] = string.char((v >> 8) & 255) end
    if d then out[#out + 1] = string.char(v & 255) end
  end
  return table.concat(out)
end

-- text in an encoding Ansible content uses with b64encode: utf-8, and
-- utf-16-le (PowerShell's -EncodedCommand), utf-16 (with its BOM)
local function encode_text(name, s, encoding)
  local e = encoding:lower():gsub("_", "-")
  if e == "utf-8" or e == "utf8" or e == "ascii" then return s end
  if e == "utf-16-le" or e == "utf-16le" or e == "utf-16" then
    if not utf8.len(s) then C.error(name, "the text is not UTF-8") end
    local out = { e == "utf-16" and "\255\254" or nil }
    for _, cp in utf8.codes(s) do
      if cp >= 0x10000 then
        cp = cp - 0x10000
        local hi, lo = 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)
        out[#out + 1] = string.char(hi & 255, hi >> 8, lo & 255, lo >> 8)
      else
        out[#out + 1] = string.char(cp & 255, cp >> 8)
      end
    end
    return table.concat(out)
  end
  C.error(name, "unsupported encoding %s (utf-8, utf-16-le, utf-16)", C.repr(encoding))
end

local function decode_text(name, b, encoding)
  local e = encoding:lower():gsub("_", "-")
  if e == "utf-8" or e == "utf8" or e == "ascii" then return b end
  if e == "utf-16-le" or e == "utf-16le" or e == "utf-16" then
    local i = 1
    if e == "utf-16" and b:sub(1, 2) == "\255\254" then i = 3 end
    local out = {}
    while i + 1 <= #b do
      local u = b:byte(i) | (b:byte(i + 1) << 8)
      i = i + 2
      if u >= 0xD800 and u < 0xDC00 and i + 1 <= #b then
        local l = b:byte(i) | (b:byte(i + 1) << 8)
        u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00)
        i = i + 2
      end
      out[#out + 1] = utf8.char(u)
    end
    return table.concat(out)
  end
  C.error(name, "unsupported encoding %s (utf-8, utf-16-le, utf-16)", C.repr(encoding))
end

-- uuid5 (RFC 4122): SHA-1 of the namespace's bytes and the name
local ANSIBLE_NAMESPACE = "361e6d51-faec-444a-9079-341386da8e2e"
local function uuid5(name, namespace)
  local nshex = namespace:lower():gsub("^urn:uuid:", ""):gsub("[{}-]", "")
  if not nshex:match("^%x+$") or #nshex ~= 32 then
    C.fail(string.format("filter 'to_uuid': invalid value '%s' for 'namespace': badly formed hexadecimal UUID string",
      namespace))
  end
  local ns = nshex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)
  local raw = crypto().digest("sha1", ns .. name):sub(1, 16)
  local b = { raw:byte(1, 16) }
  b[7] = (b[7] & 0x0F) | 0x50
  b[9] = (b[9] & 0x3F) | 0x80
  local h = hex(string.char(table.unpack(b)))
  return string.format("%s-%s-%s-%s-%s", h:sub(1, 8), h:sub(9, 12), h:sub(13, 16), h:sub(17, 20), h:sub(21, 32))
end

-- crypt(3) hash types: Ansible's names (and passlib's)
-- (blowfish/bcrypt: Ansible without passlib gets crypt's failure text '*0'
-- for it; refused here)
local CRYPT = {
  sha512 = { id = "6", salt = 16, implicit = 656000 }, sha512_crypt = { id = "6", salt = 16, implicit = 656000 },
  sha256 = { id = "5", salt = 16, implicit = 535000 }, sha256_crypt = { id = "5", salt = 16, implicit = 535000 },
  md5 = { id = "1", salt = 8 }, md5_crypt = { id = "1", salt = 8 },
}
local SALT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./"

local function random_salt(n)
  local raw = crypto().random(n * 2)
  local out = {}
  local i = 1
  while #out < n do
    if i > #raw then raw, i = crypto().random(n * 2), 1 end
    local b = raw:byte(i)
    i = i + 1
    if b < 256 - 256 % 64 then out[#out + 1] = SALT_CHARS:sub(b % 64 + 1, b % 64 + 1) end
  end
  return table.concat(out)
end

return function(reg)
  reg.filter("hash", "value, hashtype='sha1'", function(v, algo)
    return digest("hash", str(algo), bytes(v))
  end)
  reg.filter("checksum", "value", function(v) return digest("checksum", "sha1", bytes(v)) end)
  reg.filter("sha1", "value", function(v) return digest("sha1", "sha1", bytes(v)) end)
  reg.filter("md5", "value", function(v) return digest("md5", "md5", bytes(v)) end)

  reg.filter("password_hash", "value, hashtype='sha512', salt=None, salt_size=None, rounds=None, ident=None",
    function(v, algo, salt, salt_size, rounds, ident)
      local a = CRYPT[algo]
      if not a then
        C.error("password_hash", "crypt does not support %s (sha512, sha256, md5)", C.repr(algo))
      end
      if salt ~= nil and not C.is_none(salt) then
        salt = C.text_arg("password_hash", "the salt", salt)
      else
        local n = (salt_size ~= nil and not C.is_none(salt_size)) and C.int_arg("password_hash", "salt_size",
          salt_size, 1) or a.salt
        salt = random_salt(n)
      end
      if salt:find("[^./0-9A-Za-z]") then C.error("password_hash", "invalid characters in salt") end
      if #salt > a.salt then C.error("password_hash", "invalid salt size") end
      local setting = "$" .. a.id
      if ident ~= nil and not C.is_none(ident) and C.truthy(ident) then
        C.error("password_hash", "ident is for bcrypt only, which crypt(3) here does not offer")
      end
      if rounds ~= nil and not C.is_none(rounds) then
        rounds = C.int_arg("password_hash", "rounds", rounds, 1)
        if rounds ~= a.implicit then setting = setting .. "$rounds=" .. rounds end
      end
      setting = setting .. "$" .. salt
      local h, err = crypto().crypt(str(v), setting)
      if not h then C.error("password_hash", "%s", tostring(err)) end
      return h
    end)

  reg.filter("to_uuid", "value, namespace='" .. ANSIBLE_NAMESPACE .. "'", function(v, ns)
    return uuid5(str(v), C.text_arg("to_uuid", "the namespace", ns))
  end)

  reg.filter("b64encode", "value, encoding='utf-8'", function(v, encoding)
    return b64encode(encode_text("b64encode", str(v), C.text_arg("b64encode", "the encoding", encoding)))
  end)
  reg.filter("b64decode", "value, encoding='utf-8'", function(v, encoding)
    return decode_text("b64decode", b64decode(str(v)), C.text_arg("b64decode", "the encoding", encoding))
  end)
end
