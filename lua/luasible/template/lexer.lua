--- luasible.template.lexer: an expression's text as a list of tokens
-- { t = kind, v = value, pos = offset, stop = offset of its last byte }. Kinds: "val" (a number, string,
-- boolean or nil constant: v), "name" (v), a keyword (and or not in is if
-- else), a symbol (// == != ~= <= >= .. < > + - * / % ( ) [ ] , . | ~ :),
-- and "eof" last.
local fail = require("luasible.template.values").fail
local escape = require("luasible.util.schema").escape

local M = {}

local KEYWORDS = { ["and"] = true, ["or"] = true, ["not"] = true, ["in"] = true,
  ["is"] = true, ["if"] = true, ["else"] = true }
local CONSTS = { ["true"] = true, ["True"] = true, ["false"] = false, ["False"] = false }
local NILS = { ["nil"] = true, ["none"] = true, ["None"] = true }
local SYMBOLS = { "//", "==", "!=", "~=", "<=", ">=", "..", "<", ">", "+", "-", "*",
  "/", "%", "(", ")", "[", "]", ",", ".", "|", "~", ":" }
local ESCAPES = { n = "\n", t = "\t", r = "\r" }

--- An expression's text as messages show it: on one line (control
--- characters escaped), at most 200 bytes.
function M.shown(src) return escape(src, 200) end
local shown = M.shown

-- The string literal opened by the quote at src[i]: its value and the
-- offset after its closing quote. A backslash takes the next character
-- (\n, \t and \r are the control characters).
local function string_literal(src, i)
  local q = src:sub(i, i)
  local stop = "[\\" .. q .. "]"
  local j = i + 1
  while true do
    local k = src:find(stop, j)
    if not k then fail("unterminated string in expression: " .. shown(src)) end
    if src:sub(k, k) == q then
      local value = src:sub(i + 1, k - 1):gsub("\\(.)", function(c) return ESCAPES[c] or c end)
      return value, k + 1
    end
    j = k + 2
  end
end

-- The token at src[i] (not white space) and the offset after it.
local function token(src, i)
  local num = src:match("^%d+%.?%d*", i)
  if num then
    if num:sub(-1) == "." then num = num:sub(1, -2) end -- "1." is 1 then ".": a key or a range
    return { t = "val", v = tonumber(num), pos = i, stop = i + #num - 1 }, i + #num
  end
  local w = src:match("^[%a_][%w_]*", i)
  if w then
    local stop = i + #w - 1
    if KEYWORDS[w] then return { t = w, pos = i, stop = stop }, i + #w end
    if CONSTS[w] ~= nil then return { t = "val", v = CONSTS[w], pos = i, stop = stop, word = w }, i + #w end
    if NILS[w] then return { t = "val", v = nil, isnil = true, pos = i, stop = stop, word = w }, i + #w end
    return { t = "name", v = w, pos = i, stop = stop }, i + #w
  end
  local c = src:sub(i, i)
  if c == "'" or c == '"' then
    local v, after = string_literal(src, i)
    return { t = "val", v = v, pos = i, stop = after - 1 }, after
  end
  for _, sym in ipairs(SYMBOLS) do
    if src:sub(i, i + #sym - 1) == sym then return { t = sym, pos = i, stop = i + #sym - 1 }, i + #sym end
  end
  fail(string.format("unexpected character '%s' in expression: %s", shown(c), shown(src)))
end

--- The tokens of an expression; raises { template_error } on a bad character.
function M.tokenize(src)
  local toks, i = {}, 1
  while true do
    i = src:find("%S", i)
    if not i then break end
    toks[#toks + 1], i = token(src, i)
  end
  toks[#toks + 1] = { t = "eof", pos = #src + 1, stop = #src }
  return toks
end

return M
