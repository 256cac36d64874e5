--- luasible.template.tests.version: version / version_compare (Ansible's):
-- operators eq == = ne != <> lt < le <= gt > ge >=, version types loose
-- (distutils' LooseVersion, the default), strict (StrictVersion), semver /
-- semantic (Ansible's SemanticVersion) and pep440 (PEP 440's ordering of
-- release, pre, post and dev parts).
local C = require "luasible.template.filters.common"
local regex = require "luasible.util.regex"

local M = {}

local function fail(fmt, ...) C.fail(string.format(fmt, ...)) end

-- Python's comparison of two lists (a TypeError for int against str)
local function cmp_lists(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = a[i], b[i]
    if type(x) ~= type(y) then
      fail("Version comparison failed: '<' not supported between instances of '%s' and '%s'",
        math.type(x) and "int" or "str", math.type(y) and "int" or "str")
    end
    if x < y then return -1 elseif x > y then return 1 end
  end
  if #a < #b then return -1 elseif #a > #b then return 1 end
  return 0
end

-- LooseVersion: numbers, lower-case letters and anything between, "." dropped
function M.loose(s)
  local parts = {}
  local r = assert(regex.compile("(\\d+|[a-z]+|\\.)"))
  local last = 1
  r:each(s, function(st, en)
    if st > last then parts[#parts + 1] = s:sub(last, st - 1) end
    local tok = s:sub(st, en)
    if tok ~= "." then parts[#parts + 1] = tok end
    last = en + 1
  end)
  if last <= #s then parts[#parts + 1] = s:sub(last) end
  for i, p in ipairs(parts) do
    if p:match("^%d+$") then parts[i] = math.tointeger(tonumber(p)) or tonumber(p) end
  end
  return parts
end
local function cmp_loose(a, b) return cmp_lists(M.loose(a), M.loose(b)) end

-- StrictVersion: N.N[.N][(a|b)N]
local function strict(s)
  local r = assert(regex.compile("^(\\d+)\\.(\\d+)(\\.(\\d+))?([ab](\\d+))?$"))
  local st, _, caps = r:search(s)
  if not st then fail("Version comparison failed: invalid version number '%s'", s) end
  local v = { tonumber(caps[1]), tonumber(caps[2]), caps[4] and tonumber(caps[4]) or 0 }
  local pre = caps[5] and { caps[5]:sub(1, 1), tonumber(caps[6]) } or nil
  return v, pre
end
local function cmp_strict(a, b)
  local va, pa = strict(a)
  local vb, pb = strict(b)
  local c = cmp_lists(va, vb)
  if c ~= 0 then return c end
  if not pa and not pb then return 0 end
  if pa and not pb then return -1 end
  if pb and not pa then return 1 end
  return cmp_lists(pa, pb)
end

-- SemanticVersion (semver 2.0.0)
local SEMVER = "^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][a-zA-Z0-9-]*)"
  .. "(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][a-zA-Z0-9-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$"
local function semver(s)
  local r = assert(regex.compile(SEMVER))
  local st, _, caps = r:search(s)
  if not st then fail("Version comparison failed: invalid semantic version '%s'", s) end
  local pre = {}
  if caps[4] then
    for id in caps[4]:gmatch("[^.]+") do pre[#pre + 1] = id:match("^%d+$") and tonumber(id) or id end
  end
  return { tonumber(caps[1]), tonumber(caps[2]), tonumber(caps[3]) }, pre
end
local function cmp_semver(a, b)
  local ca, pa = semver(a)
  local cb, pb = semver(b)
  local c = cmp_lists(ca, cb)
  if c ~= 0 then return c end
  if #pa == 0 and #pb == 0 then return 0 end
  if #pa > 0 and #pb == 0 then return -1 end
  if #pa == 0 and #pb > 0 then return 1 end
  for i = 1, math.min(#pa, #pb) do
    local x, y = pa[i], pb[i]
    if type(x) ~= type(y) then return type(x) == "number" and -1 or 1 end
    if x < y then return -1 elseif x > y then return 1 end
  end
  if #pa < #pb then return -1 elseif #pa > #pb then return 1 end
  return 0
end

-- PEP 440: [N!]N(.N)*[{a|b|rc}N][.postN][.devN], normalised spellings
local function pep440(s)
  local t = s:lower():gsub("^%s*v?", ""):gsub("%s*$", "")
  local epoch, rest = t:match("^(%d+)!(.*)$")
  if not epoch then epoch, rest = "0", t end
  local release = {}
  local first = rest:match("^%d+")
  if not first then fail("Version comparison failed: Invalid version: '%s'", s) end
  release[1], rest = tonumber(first), rest:sub(#first + 1)
  while rest:match("^%.%d") do
    local n = rest:match("^%.(%d+)")
    release[#release + 1], rest = tonumber(n), rest:sub(#n + 2)
  end
  rest = rest:gsub("%+.*$", "")
  while #release > 1 and release[#release] == 0 do release[#release] = nil end
  local PRE = { a = "a", alpha = "a", b = "b", beta = "b", c = "rc", rc = "rc", pre = "rc", preview = "rc" }
  local pre, post, dev
  local word, num, after = rest:match("^[-_.]?(%a+)[-_.]?(%d*)(.*)$")
  if word and PRE[word] then pre, rest = { PRE[word], tonumber(num) or 0 }, after end
  local pw, pn, pafter = rest:match("^[-_.]?(%a+)[-_.]?(%d*)(.*)$")
  if pw == "post" or pw == "rev" or pw == "r" then post, rest = tonumber(pn) or 0, pafter
  else
    local implicit, iafter = rest:match("^%-(%d+)(.*)$")
    if implicit then post, rest = tonumber(implicit), iafter end
  end
  local dw, dn, dafter = rest:match("^[-_.]?(dev)[-_.]?(%d*)(.*)$")
  if dw then dev, rest = tonumber(dn) or 0, dafter end
  if rest ~= "" then fail("Version comparison failed: Invalid version: '%s'", s) end
  -- the sort key of packaging: pre absent and dev only -> before any pre
  local PRE_RANK = { a = 1, b = 2, rc = 3 }
  local key = { tonumber(epoch), release }
  if not pre and not post and dev then key[3] = { -1, 0 }
  elseif pre then key[3] = { PRE_RANK[pre[1]], pre[2] }
  else key[3] = { 9, 0 } end
  key[4] = post and { 1, post } or { 0, 0 }
  key[5] = dev and { 0, dev } or { 1, 0 }
  return key
end
local function cmp_pep440(a, b)
  local ka, kb = pep440(a), pep440(b)
  if ka[1] ~= kb[1] then return ka[1] < kb[1] and -1 or 1 end
  local ra, rb = ka[2], kb[2]
  for i = 1, math.max(#ra, #rb) do
    local x, y = ra[i] or 0, rb[i] or 0
    if x ~= y then return x < y and -1 or 1 end
  end
  for i = 3, 5 do
    local c = cmp_lists(ka[i], kb[i])
    if c ~= 0 then return c end
  end
  return 0
end

local TYPES = { loose = cmp_loose, strict = cmp_strict, semver = cmp_semver, semantic = cmp_semver,
  pep440 = cmp_pep440 }
local OPS = { ["=="] = "eq", ["="] = "eq", eq = "eq", ["<"] = "lt", lt = "lt", ["<="] = "le", le = "le",
  [">"] = "gt", gt = "gt", [">="] = "ge", ge = "ge", ["!="] = "ne", ["<>"] = "ne", ne = "ne" }
local TEST = { eq = function(c) return c == 0 end, ne = function(c) return c ~= 0 end,
  lt = function(c) return c < 0 end, le = function(c) return c <= 0 end,
  gt = function(c) return c > 0 end, ge = function(c) return c >= 0 end }

function M.compare(value, version, operator, strict_, version_type)
  if strict_ ~= nil and not C.is_none(strict_) and version_type ~= nil and not C.is_none(version_type) then
    fail("Cannot specify both 'strict' and 'version_type'")
  end
  if not C.truthy(value) then fail("Input version value cannot be empty") end
  if not C.truthy(version) then fail("Version parameter to compare against cannot be empty") end
  local cmp = cmp_loose
  if C.truthy(strict_) then cmp = cmp_strict
  elseif version_type ~= nil and not C.is_none(version_type) and C.truthy(version_type) then
    cmp = TYPES[version_type]
    if not cmp then
      fail("Invalid version type (%s). Must be one of 'loose', 'strict', 'semver', 'semantic', 'pep440'",
        C.str(version_type))
    end
  end
  local op = OPS[operator]
  if not op then
    fail("Invalid operator type (%s). Must be one of '==', '=', 'eq', '<', 'lt', '<=', 'le', '>', 'gt', "
      .. "'>=', 'ge', '!=', '<>', 'ne'", C.str(operator))
  end
  return TEST[op](cmp(C.str(value), C.str(version)))
end

return function(reg)
  local spec = "value, version, operator='eq', strict=None, version_type=None"
  reg.test("version", spec, M.compare)
  reg.test("version_compare", spec, M.compare)
end
