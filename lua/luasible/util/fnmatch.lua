--- luasible.util.fnmatch: shell globs as Python's fnmatch reads them
-- (3.11's fnmatch.translate, ported), as regexes for util/regex (PCRE2):
-- host patterns (`web*`, `db-[!a]`), and anything else that must match
-- names as Ansible does.
--
--   fnmatch.translate(glob) -> regex text: `(?s:...)\z`, matched from the
--     start (Regex:match), so the whole name
--   fnmatch.match(glob, name) -> true/false (case-sensitive: fnmatch.fnmatchcase)
local regex = require "luasible.util.regex"

local M = {}

local function utf8_chars(s)
  local out = {}
  if utf8.len(s) then
    for _, c in utf8.codes(s) do out[#out + 1] = utf8.char(c) end
  else
    for i = 1, #s do out[i] = s:sub(i, i) end
  end
  return out
end

local function escape(c)
  if #c == 1 and c:match("[^%w_]") then return "\\" .. c end
  return c
end

local function char_class(ch, i, j)
  -- ch[i..j-1] is what is inside [ ]
  local stuff = table.concat(ch, "", i, j - 1)
  if not stuff:find("-", 1, true) then
    stuff = stuff:gsub("\\", "\\\\")
  else
    local chunks = {}
    local k = ch[i] == "!" and i + 2 or i + 1
    while true do
      local found
      for x = k, j - 1 do if ch[x] == "-" then found = x break end end
      if not found then break end
      chunks[#chunks + 1] = table.concat(ch, "", i, found - 1)
      i, k = found + 1, found + 3
    end
    local chunk = table.concat(ch, "", i, j - 1)
    if chunk ~= "" then chunks[#chunks + 1] = chunk else chunks[#chunks] = chunks[#chunks] .. "-" end
    for x = #chunks, 2, -1 do -- drop empty ranges
      if chunks[x - 1]:sub(-1) > chunks[x]:sub(1, 1) then
        chunks[x - 1] = chunks[x - 1]:sub(1, -2) .. chunks[x]:sub(2)
        table.remove(chunks, x)
      end
    end
    for x, s in ipairs(chunks) do chunks[x] = s:gsub("\\", "\\\\"):gsub("%-", "\\-") end
    stuff = table.concat(chunks, "-")
  end
  stuff = stuff:gsub("([&~|])", "\\%1")
  if stuff == "" then return "(?!)" end
  if stuff == "!" then return "." end
  if stuff:sub(1, 1) == "!" then stuff = "^" .. stuff:sub(2)
  elseif stuff:sub(1, 1) == "^" or stuff:sub(1, 1) == "[" then stuff = "\\" .. stuff end
  return "[" .. stuff .. "]"
end

--- A shell glob as a PCRE2 regex (for util/regex) matching whole names:
--- Python's fnmatch.translate (`*`, `?`, `[seq]`, `[!seq]`; no quoting).
function M.translate(glob)
  local STAR = {}
  local ch, res = utf8_chars(glob), {}
  local i, n = 1, #ch
  while i <= n do
    local c = ch[i]
    i = i + 1
    if c == "*" then
      if res[#res] ~= STAR then res[#res + 1] = STAR end
    elseif c == "?" then
      res[#res + 1] = "."
    elseif c == "[" then
      local j = i
      if j <= n and ch[j] == "!" then j = j + 1 end
      if j <= n and ch[j] == "]" then j = j + 1 end
      while j <= n and ch[j] ~= "]" do j = j + 1 end
      if j > n then
        res[#res + 1] = "\\["
      else
        res[#res + 1] = char_class(ch, i, j)
        i = j + 1
      end
    else
      res[#res + 1] = escape(c)
    end
  end
  local out, k = {}, 1
  while k <= #res and res[k] ~= STAR do out[#out + 1] = res[k]; k = k + 1 end
  while k <= #res do
    k = k + 1 -- the STAR
    if k > #res then out[#out + 1] = ".*" break end
    local fixed = {}
    while k <= #res and res[k] ~= STAR do fixed[#fixed + 1] = res[k]; k = k + 1 end
    if k > #res then out[#out + 1] = ".*" .. table.concat(fixed)
    else out[#out + 1] = "(?>.*?" .. table.concat(fixed) .. ")" end
  end
  return "(?s:" .. table.concat(out) .. ")\\z"
end

function M.match(glob, name)
  return assert(regex.compile(M.translate(glob))):test(name)
end

return M
