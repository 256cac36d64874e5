--- luasible.template.filters.text: filters of strings: lower, upper,
-- capitalize, title, trim, center, truncate, wordcount, wordwrap, indent,
-- format, replace, split, comment, quote, reverse. As in Jinja, a value
-- that is not a string is first made one (Python's str()).
local C = require "luasible.template.filters.common"
local unicase = require "luasible.util.unicase"
local regex = require "luasible.util.regex"
local pyformat = require "luasible.template.filters.pyformat"

local str, fail, chars = C.str, C.fail, C.chars
local concat = table.concat

local M = {}

--- Python's str.splitlines() (no ends kept).
function M.splitlines(s)
  local out, i, n = {}, 1, #s
  while i <= n do
    local j, k = s:find("[\n\r\v\f\28\29\30]", i)
    local u, v = s:find("\194\133", i, true)
    local w, x = s:find("\226\128[\168\169]", i)
    if u and (not j or u < j) then j, k = u, v end
    if w and (not j or w < j) then j, k = w, x end
    if not j then out[#out + 1] = s:sub(i) break end
    out[#out + 1] = s:sub(i, j - 1)
    if s:sub(j, j + 1) == "\r\n" then k = j + 1 end
    i = k + 1
  end
  return out
end

-- Python's white space (str.isspace): ASCII's and Unicode's
local SPACE = { [0x85] = true, [0xA0] = true, [0x1680] = true, [0x2028] = true, [0x2029] = true, [0x202F] = true,
  [0x205F] = true, [0x3000] = true }
for c = 9, 13 do SPACE[c] = true end
for c = 0x1C, 0x20 do SPACE[c] = true end
for c = 0x2000, 0x200A do SPACE[c] = true end
local SPACE_CHARS = {}
for c in pairs(SPACE) do SPACE_CHARS[utf8.char(c)] = true end

-- does s hold white space beyond ASCII's (then it is split by characters)?
local function unicode_text(s) return s:find("[\128-\255]") ~= nil and utf8.len(s) ~= nil end

-- Python's str.strip(chars): white space, or the characters of `set`.
local WS = "[ \t\n\r\v\f\28\29\30\31]"
function M.strip(s, set, left, right)
  if set == nil and unicode_text(s) then
    local cs = chars(s)
    local a, b = 1, #cs
    if left ~= false then while a <= b and SPACE_CHARS[cs[a]] do a = a + 1 end end
    if right ~= false then while b >= a and SPACE_CHARS[cs[b]] do b = b - 1 end end
    return concat(cs, "", a, b)
  end
  if set == nil then
    if left ~= false then s = s:gsub("^" .. WS .. "+", "") end
    if right ~= false then s = s:gsub(WS .. "+$", "") end
    return s
  end
  local drop = {}
  for _, c in ipairs(chars(set)) do drop[c] = true end
  local cs = chars(s)
  local a, b = 1, #cs
  if left ~= false then while a <= b and drop[cs[a]] do a = a + 1 end end
  if right ~= false then while b >= a and drop[cs[b]] do b = b - 1 end end
  return concat(cs, "", a, b)
end

--- Python's str.split(sep, maxsplit).
function M.split(s, sep, maxsplit)
  local out = {}
  maxsplit = maxsplit or -1
  if sep == nil and unicode_text(s) then
    local cs, cur = chars(s), nil
    local i = 1
    while i <= #cs do
      if SPACE_CHARS[cs[i]] then
        if cur then out[#out + 1] = concat(cur); cur = nil end
        i = i + 1
      else
        if not cur and maxsplit >= 0 and #out >= maxsplit then
          out[#out + 1] = M.strip(concat(cs, "", i), nil, false, true)
          return out
        end
        cur = cur or {}
        cur[#cur + 1] = cs[i]
        i = i + 1
      end
    end
    if cur then out[#out + 1] = concat(cur) end
    return out
  end
  if sep == nil then
    local i = 1
    while true do
      local a, b = s:find("[^ \t\n\r\v\f\28\29\30\31]+", i)
      if not a then break end
      if maxsplit >= 0 and #out >= maxsplit then
        out[#out + 1] = M.strip(s:sub(a), nil, false, true)
        break
      end
      out[#out + 1] = s:sub(a, b)
      i = b + 1
    end
    return out
  end
  if sep == "" then fail("filter 'split': empty separator") end
  local i = 1
  while maxsplit < 0 or #out < maxsplit do
    local a, b = s:find(sep, i, true)
    if not a then break end
    out[#out + 1] = s:sub(i, a - 1)
    i = b + 1
  end
  out[#out + 1] = s:sub(i)
  return out
end

--- Python's str.replace(old, new, count).
function M.replace(s, old, new, count)
  local max = (count == nil or count < 0) and math.huge or count
  if old == "" then
    local cs, out, n = chars(s), {}, 0
    for i = 1, #cs + 1 do
      if n < max then out[#out + 1] = new; n = n + 1 end
      out[#out + 1] = cs[i]
    end
    return concat(out)
  end
  local out, i, n = {}, 1, 0
  while n < max do
    local a, b = s:find(old, i, true)
    if not a then break end
    out[#out + 1] = s:sub(i, a - 1)
    out[#out + 1] = new
    i, n = b + 1, n + 1
  end
  out[#out + 1] = s:sub(i)
  return concat(out)
end

local function ulen(s) return utf8.len(s) or #s end

-- the first n characters of s
local function usub(s, n)
  if n <= 0 then return "" end
  if not utf8.len(s) then return s:sub(1, n) end
  local o = utf8.offset(s, n + 1)
  return o and s:sub(1, o - 1) or s
end

-- Jinja's title: each word's first character upper case, the rest lower;
-- words begin after - white space ( { [ <
local function title(s)
  local out = {}
  local start = true
  for _, c in ipairs(chars(s)) do
    if c:match("^[-%s({%[<]$") then
      out[#out + 1] = c
      start = true
    elseif start then
      out[#out + 1] = unicase.upper(c)
      start = false
    else
      out[#out + 1] = unicase.lower(c)
    end
  end
  return concat(out)
end

-- Python's textwrap.wrap as Jinja's wordwrap calls it (no tab expansion,
-- white space kept inside lines, dropped at the ends of wrapped lines).
local function wrap(text, width, break_long, break_hyphens)
  -- chunks: runs of white space, and words (split after hyphens between letters)
  local chunks = {}
  for ws, word in text:gmatch("(%s*)(%S*)") do
    if ws ~= "" then chunks[#chunks + 1] = ws end
    if word ~= "" then
      if break_hyphens then
        local i = 1
        while true do
          local a = word:find("%w%-%w", i)
          if not a then chunks[#chunks + 1] = word:sub(i) break end
          chunks[#chunks + 1] = word:sub(i, a + 1)
          i = a + 2
        end
      else
        chunks[#chunks + 1] = word
      end
    end
  end
  local lines, cur, len = {}, {}, 0
  local i = 1
  local function flush()
    while #cur > 0 and not cur[#cur]:find("%S") do len = len - ulen(cur[#cur]); cur[#cur] = nil end
    if #cur > 0 then lines[#lines + 1] = concat(cur) end
    cur, len = {}, 0
  end
  while i <= #chunks do
    local c = chunks[i]
    if #lines > 0 and #cur == 0 and not c:find("%S") then
      i = i + 1 -- white space at the start of a wrapped line: dropped
    elseif len + ulen(c) <= width then
      cur[#cur + 1] = c
      len = len + ulen(c)
      i = i + 1
    elseif ulen(c) > width and #cur == 0 then
      if break_long then
        local head = usub(c, width)
        cur[1], len = head, ulen(head)
        chunks[i] = c:sub(#head + 1)
      else
        cur[1], len = c, ulen(c)
        i = i + 1
      end
      flush()
    elseif ulen(c) > width and break_long and c:find("%S") then
      local room = width - len
      if room >= 1 then
        local head = usub(c, room)
        cur[#cur + 1] = head
        chunks[i] = c:sub(#head + 1)
      end
      flush()
    else
      flush()
    end
  end
  flush()
  return lines
end

return function(reg)
  reg.filter("lower", "value", function(v) return unicase.lower(str(v)) end)
  reg.filter("upper", "value", function(v) return unicase.upper(str(v)) end)
  reg.filter("capitalize", "value", function(v)
    local s = str(v)
    local first = usub(s, 1)
    return unicase.upper(first) .. unicase.lower(s:sub(#first + 1))
  end)
  reg.filter("title", "value", function(v) return title(str(v)) end)
  reg.filter("trim", "value, chars=None", function(v, set)
    if set ~= nil and not C.is_none(set) then set = C.text_arg("trim", "chars", set) else set = nil end
    return M.strip(str(v), set)
  end)

  reg.filter("center", "value, width=80", function(v, width)
    local s = str(v)
    width = C.int_arg("center", "the width", width)
    local n = ulen(s)
    if width <= n then return s end
    local marg = width - n
    local left = marg // 2 + (marg & width & 1)
    return string.rep(" ", left) .. s .. string.rep(" ", marg - left)
  end)

  reg.filter("truncate", "value, length=255, killwords=False, end='...', leeway=None",
    function(v, length, kill, e, leeway)
    local s = str(v)
    length = C.int_arg("truncate", "the length", length)
    leeway = (leeway == nil or C.is_none(leeway)) and 5 or C.int_arg("truncate", "leeway", leeway)
    e = C.text_arg("truncate", "end", e)
    if length < ulen(e) then C.error("truncate", "expected length >= %d, got %d", ulen(e), length) end
    if leeway < 0 then C.error("truncate", "expected leeway >= 0, got %d", leeway) end
    if ulen(s) <= length + leeway then return s end
    local head = usub(s, length - ulen(e))
    if C.truthy(kill) then return head .. e end
    local cut = head:match("^(.*) ") or head
    return cut .. e
  end)

  reg.filter("wordcount", "value", function(v)
    local s, n, i = str(v), 0, 1
    local r = assert(regex.compile("\\w+"))
    while i <= #s do
      local _, en = r:search(s, i)
      if not en then break end
      n, i = n + 1, en + 1
    end
    return n
  end)

  reg.filter("wordwrap", "value, width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True",
    function(v, width, break_long, wrapstring, hyphens)
      local s = str(v)
      width = C.int_arg("wordwrap", "the width", width, 1)
      if wrapstring == nil or C.is_none(wrapstring) then wrapstring = "\n"
      else wrapstring = C.text_arg("wordwrap", "wrapstring", wrapstring) end
      local out = {}
      for _, line in ipairs(M.splitlines(s)) do
        out[#out + 1] = concat(wrap(line, width, C.truthy(break_long), C.truthy(hyphens)), wrapstring)
      end
      return concat(out, wrapstring)
    end)

  reg.filter("indent", "value, width=4, first=False, blank=False", function(v, width, first, blank)
    local ind
    if type(width) == "string" then ind = width else ind = string.rep(" ", C.int_arg("indent", "the width", width)) end
    local lines = M.splitlines(str(v) .. "\n")
    local rv
    if C.truthy(blank) then
      rv = concat(lines, "\n" .. ind)
    else
      local parts = { lines[1] or "" }
      for i = 2, #lines do parts[i] = lines[i] ~= "" and (ind .. lines[i]) or "" end
      rv = concat(parts, "\n")
    end
    if C.truthy(first) then rv = ind .. rv end
    return rv
  end)

  reg.filter("format", "value, *args, **kwargs", function(v, args, kw)
    if #args > 0 and next(kw) ~= nil then
      C.error("format", "can't handle positional and keyword arguments at the same time")
    end
    if next(kw) ~= nil then return pyformat.format(str(v), {}, kw) end
    return pyformat.format(str(v), args)
  end)

  reg.filter("replace", "value, old, new, count=None", function(v, old, new, count)
    old, new = C.text_arg("replace", "the old text", old), C.text_arg("replace", "the new text", new)
    if count ~= nil and not C.is_none(count) then count = C.int_arg("replace", "the count", count) else count = nil end
    return M.replace(str(v), old, new, count)
  end)

  reg.filter("split", "value, sep=None, maxsplit=-1", function(v, sep, maxsplit)
    if type(v) ~= "string" then C.expects("split", "a string", v) end
    if sep ~= nil and not C.is_none(sep) then sep = C.text_arg("split", "the separator", sep) else sep = nil end
    return M.split(v, sep, C.int_arg("split", "maxsplit", maxsplit))
  end)

  -- Ansible's comment: text decorated as a comment of a style.
  local STYLES = {
    plain = { decoration = "# " }, erlang = { decoration = "% " }, c = { decoration = "// " },
    cblock = { beginning = "/*", decoration = " * ", ["end"] = " */" },
    xml = { beginning = "<!--", decoration = " - ", ["end"] = "-->" },
  }
  reg.filter("comment", "value, style='plain', **kw", function(v, style, kw)
    local text = str(v)
    local sp = STYLES[style]
    if not sp then C.error("comment", "unknown style '%s' (plain, erlang, c, cblock, xml)", str(style)) end
    local deco = kw.decoration ~= nil and str(kw.decoration) or sp.decoration
    local p = { newline = "\n", beginning = "", prefix = deco:gsub("%s+$", ""), prefix_count = 1, decoration = "",
      postfix = deco:gsub("%s+$", ""), postfix_count = 1, ["end"] = "" }
    for k, x in pairs(sp) do p[k] = x end
    for k, x in pairs(kw) do
      if p[k] == nil then C.error("comment", "unknown parameter '%s'", tostring(k)) end
      p[k] = (k == "prefix_count" or k == "postfix_count") and C.int_arg("comment", k, x) or str(x)
    end
    local nl = p.newline
    local out = {}
    if p.beginning ~= "" then out[#out + 1] = p.beginning .. nl end
    if p.prefix ~= "" then
      out[#out + 1] = string.rep(p.prefix ~= nl and (p.prefix .. nl) or nl, p.prefix_count)
    end
    local body = p.decoration .. M.replace(text, nl, nl .. p.decoration)
    out[#out + 1] = M.replace(body, p.decoration .. nl, (p.decoration:gsub("%s+$", "")) .. nl)
    for _ = 1, p.postfix_count do out[#out + 1] = nl .. p.postfix end
    if p["end"] ~= "" then out[#out + 1] = nl .. p["end"] end
    return concat(out)
  end)

  -- Python's shlex.quote (Ansible's quote): None is ''.
  reg.filter("quote", "value", function(v)
    local s = C.is_none(v) and "" or str(v)
    if s == "" then return "''" end
    if not s:find("[^%w@%%+=:,./_-]") then return s end
    return "'" .. s:gsub("'", "'\"'\"'") .. "'"
  end)

  -- luasible's own (kept from its first template language; not Ansible's):
  -- the lines of a text, Python's str.splitlines()
  reg.filter("lines", "value", function(v) return M.splitlines(C.text("lines", v)) end)

  reg.filter("reverse", "value", function(v)
    if type(v) == "string" then
      local cs, out = chars(v), {}
      for i = #cs, 1, -1 do out[#out + 1] = cs[i] end
      return concat(out)
    end
    local l = C.iter("reverse", v)
    local out = {}
    for i = #l, 1, -1 do out[#out + 1] = l[i] end
    return out
  end)
end
