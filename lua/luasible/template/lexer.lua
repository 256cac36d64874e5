--- luasible.template.lexer: an expression's text as a list of tokens
-- { t = kind, v = value, pos = offset }. Kinds: "val" (a number, string,
-- boolean or nil constant: v), "name" (v), a keyword (and or not in is if
-- else), a symbol (// == != ~= <= >= .. < > + - * / % ( ) [ ] , . | ~ :),
-- and "eof" last.
local fail = require("luasible.template.values").fail

local M = {}

local KEYWORDS = { ["and"] = true, ["or"] = true, ["not"] = true, ["in"] = true,
  ["is"] = true, ["if"] = true, ["else"] = true }
local CONSTS = { ["true"] = true, ["True"] = true, ["false"] = false, ["False"] = false }
local NILS = { ["nil"] = true, ["none"] = true, ["None"] = true }
local SYMBOLS = { "//", "==", "!=", "~=", "<=", ">=", "..", "<", ">", "+", "-", "*",
  "/", "%", "(", ")", "[", "]", ",", ".", "|", "~", ":" }
local ESCAPES = { n = "\n", t = "\t", r = "\r" }

-- The string literal opened by the quote at src[i]: its value and the
-- offset after its closing quote. A backslash takes the next character
-- (\n, \t and \r are the control characters).
local function string_literal(src, i)
  local q = src:sub(i, i)
  local stop = "[\\" .. q .. "]"
  local j = i + 1
  while true do
    local k = src:find(stop, j)
    if not k then fail("unterminated string in expression: " .. src) end
    if src:sub(k, k) == q then
      local value = src:sub(i + 1, k - 1):gsub("\\(.)", function(c) return ESCAPES[c] or c end)
      return value, k + 1
    end
    j = k + 2
  end
end

--- The tokens of an expression; raises { template_error } on a bad character.
function M.tokenize(src)
  local toks, i, n = {}, 1, #src
  while i <= n do
    local c = src:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif c:match("%d") then
      local s, e = src:find("^%d+%.?%d*", i)
      local num = src:sub(s, e)
      if num:sub(-1) == "." then num = num:sub(1, -2); e = e - 1 end
      toks[#toks + 1] = { t = "val", v = tonumber(num), pos = i }
      i = e + 1
    elseif c:match("[%a_]") then
      local s, e = src:find("^[%w_]+", i)
      local w = src:sub(s, e)
      if KEYWORDS[w] then toks[#toks + 1] = { t = w, pos = i }
      elseif CONSTS[w] ~= nil then toks[#toks + 1] = { t = "val", v = CONSTS[w], pos = i }
      elseif NILS[w] then toks[#toks + 1] = { t = "val", v = nil, isnil = true, pos = i }
      else toks[#toks + 1] = { t = "name", v = w, pos = i } end
      i = e + 1
    elseif c == "'" or c == '"' then
      local v, after = string_literal(src, i)
      toks[#toks + 1] = { t = "val", v = v, pos = i }
      i = after
    else
      local sym
      for _, s in ipairs(SYMBOLS) do
        if src:sub(i, i + #s - 1) == s then sym = s; break end
      end
      if not sym then fail(string.format("unexpected character '%s' in expression: %s", c, src)) end
      toks[#toks + 1] = { t = sym, pos = i }
      i = i + #sym
    end
  end
  toks[#toks + 1] = { t = "eof", pos = n + 1 }
  return toks
end

return M
