--- luasible.util.regex: Python's `re` semantics over PCRE2 (Debian's
-- lua-rex-pcre2), the one regex engine of luasible: host patterns (`~re`),
-- and the Jinja filters and tests (regex_search, match, search, ...).
--
--   regex.compile(pattern, flags) -> Regex, or nil, "bad regex 'p': why (at offset n)"
--     flags: a string of Python's flag letters: i (IGNORECASE), m (MULTILINE),
--     s (DOTALL), x (VERBOSE). Compiled regexes are cached (pattern, flags).
--   Regex:match(s, init)      Python's re.match: anchored at the start, not the end
--   Regex:search(s, init)     Python's re.search: the first match anywhere
--   Regex:fullmatch(s, init)  Python's re.fullmatch: the whole of s
--     each -> start, end (1-based, inclusive), captures (a list, false for a
--     group that took no part; named groups also by name), or nil: no match.
--   Regex:each(s, f)          f(start, end, captures) for each match, as re.finditer
--   Regex:test(s)             whether Regex:match(s) matches (no captures made)
--   regex.match / search / fullmatch(pattern, s, flags): the same in one call;
--     a bad pattern raises its error (a string).
--
-- Like Python's str patterns, text is Unicode: `.` is one character and \w,
-- \d, \s know Unicode (PCRE2 UTF + UCP). A subject that is not valid UTF-8
-- is matched byte by byte (a second compilation, made when first needed).
-- Python's `\Z` (the very end) is PCRE2's `\z`: patterns are passed as they
-- are, so `\Z` also matches before a final newline here.
local M = {}

local ok, rex = pcall(require, "rex_pcre2")
local F = ok and rex.flags() or {}

local FLAG_BITS = { i = F.CASELESS, m = F.MULTILINE, s = F.DOTALL, x = F.EXTENDED }

local Regex = {}
Regex.__index = Regex

local cache, cached, MAX_CACHE = {}, 0, 512

-- PCRE2's message, with where it is in the pattern.
local function compile_error(pattern, err)
  return string.format("bad regex '%s': %s", pattern, tostring(err))
end

--- Compile `pattern` (Python's syntax) with `flags` (see above): a Regex, or
--- nil, err.
function M.compile(pattern, flags)
  flags = flags or ""
  local key = flags .. "\0" .. pattern
  local r = cache[key]
  if r then return r end
  if not ok then return nil, "regular expressions need lua-rex-pcre2 (Debian: apt-get install lua-rex-pcre2)" end
  local bits = 0
  for c in flags:gmatch(".") do
    local b = FLAG_BITS[c]
    if not b then return nil, string.format("bad regex flag '%s' for '%s'", c, pattern) end
    bits = bits | b
  end
  local utf_ok, utf_or_err = pcall(rex.new, pattern, bits | F.UTF | F.UCP)
  if not utf_ok then
    -- not UTF-8 itself: a byte pattern (Python's bytes regex)
    if utf8.len(pattern) then return nil, compile_error(pattern, utf_or_err) end
    local bok, berr = pcall(rex.new, pattern, bits)
    if not bok then return nil, compile_error(pattern, berr) end
    r = setmetatable({ pattern = pattern, bits = bits, bytes = berr }, Regex)
  else
    r = setmetatable({ pattern = pattern, bits = bits, utf = utf_or_err }, Regex)
  end
  if cached >= MAX_CACHE then cache, cached = {}, 0 end
  cache[key], cached = r, cached + 1
  return r
end

-- The compiled form for subject s: UTF unless s is not valid UTF-8.
local function engine(r, s)
  if r.utf and utf8.len(s) then return r.utf end
  if not r.bytes then r.bytes = rex.new(r.pattern, r.bits) end
  return r.bytes
end

-- PCRE2_ENDANCHORED (10.24 and later; lrexlib does not name it)
local ENDANCHORED = 0x20000000

local function run(r, s, init, opts)
  local st, en, caps = engine(r, s):tfind(s, init or 1, opts)
  if not st then return nil end
  return st, en, caps
end

function Regex:match(s, init) return run(self, s, init, F.ANCHORED) end

--- Does Regex:match(s) match? (The same answer, without building captures.)
function Regex:test(s)
  return engine(self, s):find(s, 1, F.ANCHORED) ~= nil
end
function Regex:search(s, init) return run(self, s, init, 0) end

--- Every match of the pattern in s, as Python's re.finditer finds them (an
--- empty match right after another empty one is not taken: the next one
--- must be longer or further on): calls f(start, end, captures) for each,
--- end < start for an empty match; stops when f returns false.
function Regex:each(s, f)
  local pos, advance = 1, false
  while pos <= #s + 1 do
    local st, en, caps = run(self, s, pos, advance and F.NOTEMPTY_ATSTART or 0)
    if not st then return end
    if f(st, en, caps) == false then return end
    advance = en < st
    pos = en + 1
  end
end
function Regex:fullmatch(s, init) return run(self, s, init, F.ANCHORED | ENDANCHORED) end

local function call(method)
  return function(pattern, s, flags)
    local r, err = M.compile(pattern, flags)
    if not r then error(err, 0) end
    return r[method](r, s)
  end
end
M.match, M.search, M.fullmatch = call("match"), call("search"), call("fullmatch")

return M
