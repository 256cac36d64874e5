--- luasible.util.unicase: Python's str.lower() / str.upper() for the
-- scripts Ansible content uses: ASCII, Latin-1, Latin Extended-A and
-- Additional, Greek, Cyrillic, Armenian and the fullwidth Latin letters
-- (Lua's string.lower knows only ASCII, and Debian has no Lua binding of a
-- Unicode case table; this is the table, as ranges). Other characters
-- are left as they are (a documented difference: Python knows every
-- script, and Greek's final sigma rule). Text that is not UTF-8 is changed
-- in its ASCII letters only.
--
--   unicase.lower(s), unicase.upper(s)
--   unicase.is_lower(s), unicase.is_upper(s): Python's islower()/isupper()
local M = {}

local up, low = {}, {} -- code point -> code point (or a string: ß -> SS)

local function pair(l, u) up[l] = up[l] or u; low[u] = low[u] or l end
local function range(lfrom, lto, ufrom) for c = lfrom, lto do pair(c, ufrom + c - lfrom) end end
-- alternating pairs: upper at the even (or odd) code point, lower next
local function alternate(from, to) for c = from, to - 1, 2 do pair(c + 1, c) end end

range(0x61, 0x7A, 0x41)
range(0xE0, 0xF6, 0xC0)
range(0xF8, 0xFE, 0xD8)
pair(0xFF, 0x178)
up[0xDF] = "SS"
up[0xB5] = 0x39C
alternate(0x100, 0x12F)
alternate(0x132, 0x137)
alternate(0x139, 0x148)
alternate(0x14A, 0x177)
alternate(0x179, 0x17E)
up[0x131] = 0x49
up[0x17F] = 0x53
low[0x130] = "i\u{307}"
alternate(0x1E00, 0x1E95)
-- Latin Extended-B: the pairs, and the DŽ Lj Nj Dz triples (upper, title, lower)
alternate(0x1CD, 0x1DC)
alternate(0x1DE, 0x1EF)
alternate(0x1F8, 0x21F)
alternate(0x222, 0x233)
for _, t in ipairs({ 0x1C4, 0x1C7, 0x1CA, 0x1F1 }) do
  up[t + 1], up[t + 2], low[t], low[t + 1] = t, t, t + 2, t + 2
end
-- the Latin ligatures upper-case to their letters
for cp, s in pairs({ [0xFB00] = "FF", [0xFB01] = "FI", [0xFB02] = "FL", [0xFB03] = "FFI", [0xFB04] = "FFL",
  [0xFB05] = "ST", [0xFB06] = "ST" }) do up[cp] = s end
alternate(0x1EA0, 0x1EFF)
-- Greek
range(0x3B1, 0x3C1, 0x391)
range(0x3C3, 0x3C9, 0x3A3)
up[0x3C2] = 0x3A3
pair(0x3AC, 0x386)
range(0x3AD, 0x3AF, 0x388)
pair(0x3CC, 0x38C)
range(0x3CD, 0x3CE, 0x38E)
range(0x3CA, 0x3CB, 0x3AA)
-- Cyrillic
range(0x430, 0x44F, 0x410)
range(0x450, 0x45F, 0x400)
alternate(0x460, 0x481)
alternate(0x48A, 0x4BF)
alternate(0x4C1, 0x4CE)
alternate(0x4D0, 0x52F)
pair(0x4CF, 0x4C0)
-- Armenian, fullwidth Latin
range(0x561, 0x586, 0x531)
range(0xFF41, 0xFF5A, 0xFF21)

local function convert(s, map, ascii)
  if not s:find("[\128-\255]") or not utf8.len(s) then return ascii(s) end
  local out = {}
  for _, c in utf8.codes(s) do
    local m = map[c]
    if m == nil then out[#out + 1] = utf8.char(c)
    elseif type(m) == "string" then out[#out + 1] = m
    else out[#out + 1] = utf8.char(m) end
  end
  return table.concat(out)
end

function M.lower(s) return convert(s, low, string.lower) end
function M.upper(s) return convert(s, up, string.upper) end

-- Python's islower(): some cased character, and none upper case.
local function cased(s, this, other)
  local any = false
  if not utf8.len(s) then
    for c in s:gmatch(".") do
      local b = c:byte()
      if this[b] then return false end
      if other[b] then any = true end
    end
    return any
  end
  for _, c in utf8.codes(s) do
    if this[c] and not other[c] then return false end -- a letter of the other case
    if other[c] then any = true end
  end
  return any
end
-- a lower-case letter is a key of `up`; an upper-case one a key of `low`
function M.is_lower(s) return cased(s, low, up) end
function M.is_upper(s) return cased(s, up, low) end

return M
