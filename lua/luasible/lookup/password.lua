--- lookup('password', 'PATH [length=N chars=a,b encrypt=ALG ident=I seed=S]')
-- as Ansible's password lookup: PATH (relative to the playbook's folder)
-- holds the password; when it does not exist it is created (its folder
-- 0700, the file 0600) with a random password of `length` (20) characters
-- from `chars` (names of Python's string constants, ascii_letters, digits,
-- ..., or literal characters; default ascii_letters, digits and .,:-_;
-- quotes are never used); `seed` makes the choice Python's
-- random.Random(seed) (luasible.util.pyrandom), else it is the core's CSPRNG.
-- The file holds "PASSWORD" or, once encrypt= was asked for, "PASSWORD
-- salt=SALT" (a random salt of the algorithm's size, written back so the
-- hash stays the same) and " ident=I" when there is one. With encrypt=
-- (sha512_crypt, sha256_crypt, md5_crypt) the lookup gives the crypt(3)
-- hash, else the plain password. /dev/null: a new password each time,
-- nothing written. The password is a secret of the run (luasible.vault.reveal:
-- events, --json and logs show ******** for it), and env.secret, when the
-- engine gives one, marks the value.
local lookup = require "luasible.lookup"
local values = require "luasible.template.values"
local kv = require "luasible.module.kv"
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"

local VALID = { length = true, encrypt = true, chars = true, ident = true, seed = true }
local DEFAULTS = { length = 20, encrypt = values.none, chars = { "ascii_letters", "digits", ".,:-_" },
  ident = values.none, seed = values.none }

local LOWER, UPPER, DIGITS = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"
local PUNCT = [[!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~]]
local STRING = {
  ascii_letters = LOWER .. UPPER, ascii_lowercase = LOWER, ascii_uppercase = UPPER,
  digits = DIGITS, hexdigits = DIGITS .. "abcdefABCDEF", octdigits = "01234567",
  punctuation = PUNCT, whitespace = " \t\n\r\v\f",
  printable = DIGITS .. LOWER .. UPPER .. PUNCT .. " \t\n\r\v\f",
}

-- crypt_id and salt size of the algorithms crypt(3) does (Ansible's BaseHash)
local ALGO = { md5_crypt = { "1", 8 }, sha256_crypt = { "5", 16 }, sha512_crypt = { "6", 16 }, bcrypt = { "2b", 22 } }

local function crypto() return require("luasible.core").crypto end

local function chars_of(spec)
  local parts = {}
  for _, s in ipairs(spec) do parts[#parts + 1] = STRING[s] or tostring(s) end
  local all = table.concat(parts):gsub("[\"']", "")
  local list = {}
  for _, c in utf8.codes(all) do list[#list + 1] = utf8.char(c) end
  return list
end

-- n characters picked from list: CSPRNG, or Python's random.Random(seed)
local function pick(list, n, seed)
  if #list == 0 then lookup.fail("no characters to make a password from") end
  local out = {}
  if not values.is_none(seed) then
    local r = require("luasible.util.pyrandom").new(seed, function(b) return crypto().digest("sha512", b) end)
    for i = 1, n do out[i] = r:choice(list) end
    return table.concat(out)
  end
  local m = #list
  local limit = (1 << 32) - ((1 << 32) % m)
  local i = 0
  while i < n do
    local bytes = crypto().random(4 * (n - i))
    for j = 1, #bytes, 4 do
      local x = string.unpack("<I4", bytes, j)
      if x < limit and i < n then
        i = i + 1
        out[i] = list[x % m + 1]
      end
    end
  end
  return table.concat(out)
end

local SALT = chars_of({ "ascii_letters", "digits", "./" })

-- "PASSWORD[ salt=SALT[ ident=I]]" -> password, salt, ident
local function parse_content(content)
  local password, salt, ident = content, nil, nil
  local sep
  for p in content:gmatch("() salt=") do sep = p end
  local rem = ""
  if sep then
    rem = content:sub(sep + 6)
    password = content:sub(1, sep - 1)
  end
  if rem ~= "" then
    local isep
    for p in rem:gmatch("() ident=") do isep = p end
    if isep then ident, salt = rem:sub(isep + 7), rem:sub(1, isep - 1) else salt = rem end
  end
  return password, salt, ident
end

local function parse_term(term, kw, env)
  local relpath, params = term, {}
  local first, rest = term:match("^(.-) (.*)$")
  if first then
    relpath = first
    local p, err = kv.parse_kv(rest)
    if not p then lookup.fail(err) end
    params = p
    if params._raw then
      relpath = relpath .. " " .. params._raw
      params._raw = nil
      if term:sub(1, #relpath) ~= relpath then
        lookup.fail("Unrecognized value after key=value parameters given to password lookup")
      end
    end
  end
  local bad = {}
  for k in pairs(params) do if not VALID[k] then bad[#bad + 1] = k end end
  if #bad > 0 then
    table.sort(bad)
    lookup.fail("Unrecognized parameter(s) given to password lookup: " .. table.concat(bad, ", "))
  end
  local o = lookup.options(kw, DEFAULTS, "password", env)
  for k, v in pairs(params) do o[k] = v end
  o.length = math.tointeger(tonumber(o.length))
  if not o.length then lookup.fail("password lookup: length must be an integer") end
  if type(o.chars) == "string" then
    local list = {}
    if o.chars:find(",,", 1, true) then list[1] = "," end
    for c in o.chars:gsub(",,", ","):gmatch("[^,]+") do list[#list + 1] = c end
    o.chars = list
  end
  return relpath, o
end

local function write(p, content)
  local dir = path.dirname(p)
  if not fs.mkdir_p(dir, tonumber("700", 8)) then lookup.fail("cannot create folder " .. dir) end
  local core = require "luasible.core"
  local tmp = path.tmp_name(p)
  local made, err = core.create_private(tmp)   -- 0600 from the start, never through a link
  local f = made and io.open(tmp, "r+b")
  if not f then lookup.fail("cannot write " .. p .. ": " .. tostring(err)) end
  f:write(content, "\n")
  f:close()
  local ok, rerr = os.rename(tmp, p)
  if not ok then os.remove(tmp); lookup.fail("cannot write " .. p .. ": " .. tostring(rerr)) end
end

return {
  run = function(terms, kw, env)
    local out = {}
    for _, term in ipairs(terms) do
      local relpath, o = parse_term(tostring(term), kw, env)
      local p = path.resolve(env.base_dir or ".", path.expand_user(relpath))
      local devnull = p == "/dev/null"
      local text = not devnull and fs.read(p) or nil
      local password, salt, ident, changed
      if text == nil then
        password = pick(chars_of(o.chars), o.length, o.seed)
        changed = true
      else
        password, salt, ident = parse_content((text:gsub("%s+$", "")))
      end
      local encrypt = not values.is_none(o.encrypt) and o.encrypt or nil
      local algo = encrypt and ALGO[encrypt]
      if encrypt and not algo then
        lookup.fail("crypt.crypt does not support '" .. tostring(encrypt) .. "' algorithm")
      end
      if encrypt and not salt then
        changed = true
        salt = pick(SALT, algo[2])
      end
      local want_ident = not values.is_none(o.ident) and o.ident or nil
      if encrypt and not ident then
        changed = true
        ident = want_ident or (encrypt == "bcrypt" and "2b" or nil)
      elseif want_ident and ident ~= want_ident then
        lookup.fail("The ident parameter provided (" .. want_ident .. ") does not match the stored one ("
          .. ident .. ").")
      end
      if changed and not devnull then
        local content = password
        if salt then content = content .. " salt=" .. salt .. (ident and (" ident=" .. ident) or "") end
        write(p, content)
      end
      local v = password
      if encrypt then
        local setting = "$" .. ((encrypt == "bcrypt" and ident) or algo[1]) .. "$" .. salt
        local h, err = crypto().crypt(password, setting)
        if not h then lookup.fail("crypt.crypt does not support '" .. encrypt .. "' algorithm: " .. tostring(err)) end
        v = h
      end
      -- a secret of the run: the events scrub it as they scrub vault values
      local okv, vault = pcall(require, "luasible.vault")
      if okv and vault.reveal then vault.reveal(password, true) end
      if env.secret then v = env.secret(v) end
      out[#out + 1] = v
    end
    return out
  end,
}
