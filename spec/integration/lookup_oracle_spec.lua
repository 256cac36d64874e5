--- #oracle: lookup('password') creates its files as Ansible's does. A new
-- password is random, so the corpus (spec/fixtures/jinja/lookups.yml, which
-- compares values) cannot hold these: here ansible-core and luasible each
-- run the same lookups in a fresh folder of their own, and what they made
-- is compared by shape: the file's text, its mode and its folder's, the
-- password's length and characters, the salt, and the hash crypt(3) gives.
local o = require "spec.helpers.jinja_oracle"
local files = require "spec.helpers.files"
local crypto = require("luasible.core").crypto

local function run_both(exprs)
  local mine, theirs = files.tmpdir(), files.tmpdir()
  local cases = {}
  for i, e in ipairs(exprs) do cases[i] = { expr = e } end
  local answers, why = o.ask(cases, theirs)
  if not answers then return nil, why end
  local ours = {}
  for i, c in ipairs(cases) do ours[i] = o.luasible(c, { base = mine, vars = {}, path = mine .. "/case.yml" }) end
  return { dir = mine, answers = ours }, { dir = theirs, answers = answers }
end

local function unquote(canon) return require("cjson").decode(canon) end

local function mode(p) return files.sh("stat -c %a " .. p) end

describe("#oracle lookup('password') makes the files Ansible makes", function()
  local ok, why = pcall(o.ask, {}, "/")
  if not ok or not why then
    it("needs the oracle", function() pending("no oracle") end)
    return
  end

  it("a new file: the password of the given length and characters, the file 0600 in a 0700 folder", function()
    local a, b = run_both({
      "lookup('password', 'creds/db length=12 chars=digits')",
      "lookup('password', 'creds/db length=30')",
      "lookup('password', 'creds/default')",
      "lookup('password', 'creds/hex', length=8, chars=['hexdigits'])",
    })
    assert(a, b)
    for _, side in ipairs({ a, b }) do
      for i = 1, 4 do assert.is_nil(side.answers[i].err, side.dir .. ": " .. tostring(side.answers[i].err)) end
      local p1 = unquote(side.answers[1].ok)
      assert.matches("^%d%d%d%d%d%d%d%d%d%d%d%d$", p1)
      assert.equal(p1, unquote(side.answers[2].ok))   -- read back, not made again
      assert.equal(p1 .. "\n", files.read(side.dir .. "/creds/db"))
      assert.equal("700", mode(side.dir .. "/creds"))
      assert.equal("600", mode(side.dir .. "/creds/db"))
      local p3 = unquote(side.answers[3].ok)
      assert.equal(20, #p3)
      assert.matches("^[%w.,:_-]+$", p3)
      assert.matches("^[%x]+$", unquote(side.answers[4].ok))
      assert.equal(8, #unquote(side.answers[4].ok))
    end
  end)

  it("encrypt=: the salt stored after the password, the crypt hash of both", function()
    local a, b = run_both({
      "lookup('password', 'creds/h encrypt=sha512_crypt length=10')",
      "lookup('password', 'creds/h encrypt=sha512_crypt')",
      "lookup('password', 'creds/h')",
      "lookup('password', 'creds/h5', encrypt='sha256_crypt')",
    })
    assert(a, b)
    for _, side in ipairs({ a, b }) do
      for i = 1, 4 do assert.is_nil(side.answers[i].err, side.dir .. ": " .. tostring(side.answers[i].err)) end
      local text = files.read(side.dir .. "/creds/h")
      local pw, salt = text:match("^(%S+) salt=([%w./]+)\n$")
      assert.is_truthy(pw, side.dir .. ": " .. text)
      assert.equal(10, #pw)
      assert.equal(16, #salt)
      local h = unquote(side.answers[1].ok)
      assert.equal(crypto.crypt(pw, "$6$" .. salt), h)
      assert.equal(h, unquote(side.answers[2].ok))
      assert.equal(pw, unquote(side.answers[3].ok))
      local t5 = files.read(side.dir .. "/creds/h5")
      local pw5, salt5 = t5:match("^(%S+) salt=([%w./]+)\n$")
      assert.equal(crypto.crypt(pw5, "$5$" .. salt5), unquote(side.answers[4].ok))
    end
  end)

  it("an existing file without a salt gets one when encrypt= is asked", function()
    local a, b = run_both({})
    assert(a, b)
    for _, side in ipairs({ a, b }) do
      files.write(side.dir .. "/old", "plainpw\n")
    end
    local cases = { { expr = "lookup('password', 'old encrypt=md5_crypt')" } }
    local theirs = assert(o.ask(cases, b.dir))[1]
    local ours = o.luasible(cases[1], { base = a.dir, vars = {}, path = a.dir .. "/case.yml" })
    for _, r in ipairs({ { a.dir, ours }, { b.dir, theirs } }) do
      assert.is_nil(r[2].err)
      local salt = files.read(r[1] .. "/old"):match("^plainpw salt=([%w./]+)\n$")
      assert.equal(8, #salt)
      assert.equal(crypto.crypt("plainpw", "$1$" .. salt), unquote(r[2].ok))
    end
  end)
end)
