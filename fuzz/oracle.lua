--- fuzz.oracle: what counts as a finding when luasible is given bad input.
--
-- Bad input must come back as a message for a person: one line, naming
-- what is wrong (and where). It is an *internal error* — a finding of the
-- fuzzers, and a failure of the specs that use this file — when:
--
--   1. the error value is not a string (a table such as a template's
--      { template_error = ... } that escaped the face, nil, a number ...);
--   2. the message holds a position in one of luasible's own files,
--      `luasible/<path>.lua:<line>:` or `modules/<name>.lua:<line>:` where
--      that file exists in this tree (an error Lua raised inside the
--      library: an unchecked value reached code that assumed its type);
--   3. the message is one the Lua runtime itself writes ("attempt to index
--      a nil value", "bad argument #1 to 'find'", "table index is NaN",
--      "stack overflow", ...; the list is RUNTIME below): no luasible
--      message says that, so it can only come from an unchecked value --
--      unless it follows the position of a file of the user's (a play or
--      inventory file whose own code failed: "site.lua:3: attempt to ...");
--   4. it says "stack traceback" or "internal error", or spans more than one
--      line (a message for a person is one line).
--
-- A message that names the user's own file (a play file's `error("boom")`
-- shows as "site.lua:3: boom") is fine: that is where the problem is. So is
-- a phrase of 2 to 4 that the input itself holds (M.internal's `input`): a
-- message quoting a bad value shows it back (a fuzzer soon learns to type
-- "stack traceback").
-- Crashes, sanitizer reports and C-level errors are findings of the C
-- harness (fuzz/lua_target.c) before any of this is asked.
local M = {}

-- The tree's root: this file is <root>/fuzz/oracle.lua.
local function root()
  local src = debug.getinfo(1, "S").source
  local dir = src:sub(1, 1) == "@" and src:sub(2):match("^(.*)/fuzz/[^/]*$")
  return dir or "."
end
local ROOT = root()

-- Phrases of the Lua 5.4 runtime's own messages (lvm.c, ldebug.c, lauxlib.c,
-- lstrlib.c, ltablib.c, ldo.c, lstate.c).
M.RUNTIME = {
  "attempt to ", "bad argument #", "table index is nil", "table index is NaN",
  "number has no integer representation", "stack overflow", "not enough memory",
  "error in error handling", "invalid order function", "string length overflow",
  "resulting string too large", "invalid value (at index", "wrong number of arguments",
  "'for' initial value must be", "'for' limit must be", "'for' step", "invalid key to 'next'",
  "malformed pattern", "pattern too complex", "invalid capture index", "invalid pattern capture",
  "unfinished capture", "invalid use of '%' in replacement", "invalid replacement value",
  "missing '[' after '%f'", "too many captures", "cannot resume", "too many results",
  "invalid conversion", "stack traceback",
}

local exists = {}
local function internal_file(rel)
  if exists[rel] == nil then
    local f = io.open(ROOT .. "/" .. rel, "r")
    exists[rel] = f ~= nil
    if f then f:close() end
  end
  return exists[rel]
end

--- Why `err` (an error value, or a returned message) is an internal error,
--- or nil when it is a message for a person. `input` (optional): the text
--- luasible was given; what the message quotes of it does not count (an
--- input holding "stack traceback" may well be shown back).
function M.internal(err, input)
  if type(err) ~= "string" then return "a " .. type(err) .. " as the error, not a message" end
  local given = type(input) == "string" and input:lower() or ""
  -- (its ends trimmed: a message puts quotes around what it shows)
  local function quoted(text)
    local core = text:lower():gsub("^%W+", ""):gsub("%W+$", "")
    return given:find(core, 1, true) ~= nil
  end
  for rel in err:gmatch("luasible/([%w_/%-]+%.lua):%d+:") do
    if internal_file("lua/luasible/" .. rel) and not quoted("luasible/" .. rel) then
      return "a position in luasible's own lua/luasible/" .. rel
    end
  end
  for rel in err:gmatch("(modules/[%w_]+%.lua):%d+:") do
    if internal_file(rel) and not quoted(rel) then return "a position in luasible's own " .. rel end
  end
  for _, phrase in ipairs(M.RUNTIME) do
    local at = err:find(phrase, 1, true)
    while at do
      -- not: right after the position of a file of the user's (their code
      -- failed), after a backslash (an escaped byte of the input: "\n" then
      -- "ot enough memory"), or the input's own text
      local before = err:sub(1, at - 1)
      if not before:find("[^%s:]+:%d+: $") and not before:find("[%w\\]$") and not quoted(phrase) then
        return "a message of the Lua runtime ('" .. phrase .. "')"
      end
      at = err:find(phrase, at + 1, true)
    end
  end
  if err:lower():find("internal error", 1, true) and not quoted("internal error") then return "an internal error" end
  if err:find("\n", 1, true) then return "more than one line" end
  return nil
end

--- err itself when it is a message for a person (or nil: no error; input:
--- what luasible was given, as for M.internal); else
--- raises { finding = "what: why: err" } (a table: an internal error to
--- the harness whatever the text says, see fuzz/lua_target.c).
function M.check(err, what, input)
  if err == nil then return nil end
  local why = M.internal(err, input)
  if why then error({ finding = string.format("%s: %s: %s", what or "input", why, tostring(err)) }, 2) end
  return err
end

return M
