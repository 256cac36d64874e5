--- luasible.template.filters.sets: the filters that combine lists or
-- draw from them: zip, zip_longest, product, permutations, combinations
-- (Python's itertools), difference, union, intersect, symmetric_difference
-- (Ansible's set operations, in the order of the first list), random and
-- shuffle (seeded as Ansible's, CPython's Mersenne Twister).
local C = require "luasible.template.filters.common"
local pyrandom = require "luasible.util.pyrandom"

local str, iter, eq, is_none = C.str, C.iter, C.eq, C.is_none

-- CPython's random.Random for a seed (a string, or an integer)
local function seeded(seed)
  local crypto = require("luasible.core").crypto
  if math.type(seed) == "float" and math.tointeger(seed) then seed = math.tointeger(seed) end
  if type(seed) ~= "string" and math.type(seed) ~= "integer" then seed = str(seed) end
  return pyrandom.new(seed, function(s) return crypto.digest("sha512", s) end)
end

-- the unseeded generator: the system's CSPRNG (libcrypto's RAND_bytes, as
-- Ansible's SystemRandom)
local system = pyrandom.system(function(n) return require("luasible.core").crypto.random(n) end)

-- set operations: Ansible's (a list of unique items, in the order of a)
local function set_of(l)
  local keys, tables = {}, {}
  for _, v in ipairs(l) do
    local k = C.hash_key(v)
    if k then keys[k] = true else tables[#tables + 1] = v end
  end
  return function(v)
    local k = C.hash_key(v)
    if k then return keys[k] == true end
    for _, t in ipairs(tables) do if eq(t, v) then return true end end
    return false
  end
end

local as_list = C.as_list

return function(reg)
  -- Python's zip / itertools.zip_longest: a list of lists (tuples)
  reg.filter("zip", "value, *others", function(v, others)
    local lists = { iter("zip", v) }
    for i, o in ipairs(others) do lists[i + 1] = iter("zip", o) end
    local n = math.huge
    for _, l in ipairs(lists) do n = math.min(n, #l) end
    local out = {}
    for i = 1, n do
      local t = {}
      for j, l in ipairs(lists) do t[j] = l[i] end
      out[i] = C.tuple(t)
    end
    return out
  end)
  reg.filter("zip_longest", "value, *others, fillvalue=None", function(v, others, fill)
    local lists = { iter("zip_longest", v) }
    for i, o in ipairs(others) do lists[i + 1] = iter("zip_longest", o) end
    local n = 0
    for _, l in ipairs(lists) do n = math.max(n, #l) end
    if fill == nil then fill = C.none end
    local out = {}
    for i = 1, n do
      local t = {}
      for j, l in ipairs(lists) do local x = l[i]; if x == nil then x = fill end; t[j] = x end
      out[i] = C.tuple(t)
    end
    return out
  end)

  reg.filter("product", "value, *others, repeat=1", function(v, others, rep)
    local pools = { iter("product", v) }
    for i, o in ipairs(others) do pools[i + 1] = iter("product", o) end
    rep = C.int_arg("product", "repeat", rep, 0)
    local all = {}
    for _ = 1, rep do for _, p in ipairs(pools) do all[#all + 1] = p end end
    local out = { {} }
    for _, pool in ipairs(all) do
      local nxt = {}
      for _, prefix in ipairs(out) do
        for _, x in ipairs(pool) do
          local t = C.copy_list(prefix)
          t[#t + 1] = x
          nxt[#nxt + 1] = t
        end
      end
      out = nxt
    end
    for _, t in ipairs(out) do C.tuple(t) end
    return out
  end)

  reg.filter("permutations", "value, r=None", function(v, r)
    local pool = iter("permutations", v)
    local n = #pool
    r = (r == nil or is_none(r)) and n or C.int_arg("permutations", "r", r, 0)
    local out = {}
    if r > n then return out end
    local used, cur = {}, {}
    local function rec(depth)
      if depth > r then out[#out + 1] = C.tuple(C.copy_list(cur)) return end
      for i = 1, n do
        if not used[i] then
          used[i], cur[depth] = true, pool[i]
          rec(depth + 1)
          used[i], cur[depth] = false, nil
        end
      end
    end
    rec(1)
    return out
  end)

  reg.filter("combinations", "value, r", function(v, r)
    local pool = iter("combinations", v)
    r = C.int_arg("combinations", "r", r, 0)
    local out, cur = {}, {}
    local function rec(start, depth)
      if depth > r then out[#out + 1] = C.tuple(C.copy_list(cur)) return end
      for i = start, #pool do
        cur[depth] = pool[i]
        rec(i + 1, depth + 1)
        cur[depth] = nil
      end
    end
    rec(1, 1)
    return out
  end)

  -- Ansible's set theory: unique items, in the order of the first list
  reg.filter("difference", "value, other", function(a, b)
    a, b = as_list("difference", a), as_list("difference", b)
    local inb, out = set_of(b), {}
    for _, x in ipairs(a) do if not inb(x) then out[#out + 1] = x end end
    return C.unique(out)
  end)
  reg.filter("intersect", "value, other", function(a, b)
    a, b = as_list("intersect", a), as_list("intersect", b)
    local inb, out = set_of(b), {}
    for _, x in ipairs(a) do if inb(x) then out[#out + 1] = x end end
    return C.unique(out)
  end)
  reg.filter("union", "value, other", function(a, b)
    a, b = as_list("union", a), as_list("union", b)
    local out = C.copy_list(a)
    for _, x in ipairs(b) do out[#out + 1] = x end
    return C.unique(out)
  end)
  reg.filter("symmetric_difference", "value, other", function(a, b)
    a, b = as_list("symmetric_difference", a), as_list("symmetric_difference", b)
    local ina, inb, out = set_of(a), set_of(b), {}
    for _, x in ipairs(a) do if not inb(x) then out[#out + 1] = x end end
    for _, x in ipairs(b) do if not ina(x) then out[#out + 1] = x end end
    return C.unique(out)
  end)

  -- Ansible's random: an integer below `end` (from start, by step), or an
  -- item of a list; seed= gives CPython's choice for that seed.
  reg.filter("random", "value, start=None, step=None, seed=None", function(v, start, step, seed)
    local r = (seed ~= nil and not is_none(seed)) and seeded(seed) or system
    local ok, res = pcall(function()
      if math.type(v) == "integer" then
        local s = C.truthy(start) and C.int_arg("random", "start", start) or 0
        local st = C.truthy(step) and C.int_arg("random", "step", step) or 1
        return r:randrange(s, v, st)
      elseif type(v) == "string" or type(v) == "table" then
        if C.truthy(start) or C.truthy(step) then
          C.error("random", "start and step can only be used with integer values")
        end
        return r:choice(iter("random", v))
      end
      C.error("random", "random can only be used on sequences and integers, got %s", C.describe(v))
    end)
    if not ok then
      if type(res) == "table" then error(res, 0) end
      C.error("random", "%s", tostring(res))
    end
    return res
  end)

  reg.filter("shuffle", "value, seed=None", function(v, seed)
    local l = C.copy_list(iter("shuffle", v))
    local r = C.truthy(seed) and seeded(seed) or system
    return r:shuffle(l)
  end)
end
