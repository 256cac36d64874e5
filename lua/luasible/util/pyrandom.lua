--- luasible.util.pyrandom: Python's random.Random (MT19937, CPython's
-- seeding), so that `random(seed=...)` and `shuffle(seed=...)` pick what
-- Ansible picks for the same seed: a play moved from Ansible keeps its
-- seeded cron minutes and host orders. No library on Debian gives
-- CPython's generator to Lua; it is 100 lines, written here.
--
--   pyrandom.new(seed, sha512) -> r   seed: a string (CPython's version 2
--     seeding: the text's bytes and their SHA-512 as one integer) or an
--     integer (its absolute value); sha512(bytes) -> raw digest.
--   r:getrandbits(k), r:randbelow(n), r:randrange(start, stop, step),
--   r:choice(list), r:shuffle(list) (in place): as CPython's.
--   pyrandom.system(random_bytes) -> r   the same methods over a CSPRNG
--     (random_bytes(n) -> n raw bytes), as CPython's SystemRandom.
local M = {}

local N, MASK = 624, 0xFFFFFFFF

local R = {}
R.__index = R

local function init_genrand(mt, s)
  mt[0] = s & MASK
  for i = 1, N - 1 do
    local p = mt[i - 1]
    mt[i] = (1812433253 * (p ~ (p >> 30)) + i) & MASK
  end
end

local function init_by_array(key)
  local mt = {}
  init_genrand(mt, 19650218)
  local i, j = 1, 0
  local klen = #key
  for _ = math.max(N, klen), 1, -1 do
    local p = mt[i - 1]
    mt[i] = ((mt[i] ~ (((p ~ (p >> 30)) * 1664525) & MASK)) + key[j + 1] + j) & MASK
    i, j = i + 1, j + 1
    if i >= N then mt[0] = mt[N - 1]; i = 1 end
    if j >= klen then j = 0 end
  end
  for _ = N - 1, 1, -1 do
    local p = mt[i - 1]
    mt[i] = ((mt[i] ~ (((p ~ (p >> 30)) * 1566083941) & MASK)) - i) & MASK
    i = i + 1
    if i >= N then mt[0] = mt[N - 1]; i = 1 end
  end
  mt[0] = 0x80000000
  return mt
end

-- the 32-bit words of a big-endian unsigned integer given as bytes, the
-- least significant first (CPython's key of init_by_array)
local function words_of(bytes)
  bytes = bytes:gsub("^%z+", "")
  local key = {}
  local i = #bytes
  while i >= 1 do
    local w = 0
    for b = math.max(1, i - 3), i do w = (w << 8) | bytes:byte(b) end
    key[#key + 1] = w
    i = i - 4
  end
  if #key == 0 then key[1] = 0 end
  return key
end

function M.new(seed, sha512)
  local key
  if type(seed) == "string" then
    key = words_of(seed .. sha512(seed))
  else
    local n = math.tointeger(seed)
    if not n then error("pyrandom: the seed must be a string or an integer", 2) end
    if n < 0 then n = -n end
    key = { n & MASK }
    if n >> 32 ~= 0 then key[2] = n >> 32 end
  end
  return setmetatable({ mt = init_by_array(key), mti = N }, R)
end

local function next32(r)
  local mt = r.mt
  if r.mti >= N then
    for kk = 0, N - 1 do
      local y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % N] & 0x7FFFFFFF)
      local v = mt[(kk + 397) % N] ~ (y >> 1)
      if y & 1 == 1 then v = v ~ 0x9908B0DF end
      mt[kk] = v
    end
    r.mti = 0
  end
  local y = mt[r.mti]
  r.mti = r.mti + 1
  y = y ~ (y >> 11)
  y = y ~ ((y << 7) & 0x9D2C5680)
  y = y ~ ((y << 15) & 0xEFC60000)
  y = y ~ (y >> 18)
  return y & MASK
end

function R:getrandbits(k)
  if k <= 32 then return next32(self) >> (32 - k) end
  -- more than one word: the least significant first, as CPython
  local v, shift = 0, 0
  while k > 0 do
    local w = next32(self)
    if k < 32 then w = w >> (32 - k) end
    v = v | (w << shift)
    shift, k = shift + 32, k - 32
  end
  return v
end

local function bit_length(n)
  local k = 0
  while n > 0 do k, n = k + 1, n >> 1 end
  return k
end

function R:randbelow(n)
  if n <= 0 then return 0 end
  local k = bit_length(n)
  local r = self:getrandbits(k)
  while r >= n do r = self:getrandbits(k) end
  return r
end

function R:randrange(start, stop, step)
  local width = stop - start
  if step == 1 then
    if width > 0 then return start + self:randbelow(width) end
    error("empty range for randrange()", 0)
  end
  local n
  if step > 0 then n = (width + step - 1) // step
  elseif step < 0 then n = (width + step + 1) // step
  else error("zero step for randrange()", 0) end
  if n <= 0 then error("empty range for randrange()", 0) end
  return start + step * self:randbelow(n)
end

function R:choice(l)
  if #l == 0 then error("Cannot choose from an empty sequence", 0) end
  return l[self:randbelow(#l) + 1]
end

function R:shuffle(l)
  for i = #l - 1, 1, -1 do
    local j = self:randbelow(i + 1)
    l[i + 1], l[j + 1] = l[j + 1], l[i + 1]
  end
  return l
end

-- SystemRandom: getrandbits from the CSPRNG's bytes, the rest as R's
local S = setmetatable({}, { __index = R })
S.__index = S

function S:getrandbits(k)
  local bytes = (k + 7) // 8
  local raw, v = self.random_bytes(bytes), 0
  for i = 1, bytes do v = (v << 8) | raw:byte(i) end
  return v >> (bytes * 8 - k)
end

function M.system(random_bytes) return setmetatable({ random_bytes = random_bytes }, S) end

return M
