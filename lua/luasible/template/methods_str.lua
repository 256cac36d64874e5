--- luasible.template.methods_str: the Python str methods templates call
-- (`s.split(',')`, `s.format(...)`, `s.strip()`), as name -> fn(self, pos,
-- kw); positions count code points. Built by template/methods.lua with its
-- argument readers: require("luasible.template.methods_str")(R, args).
local values = require "luasible.template.values"

local fail, type_name = values.fail, values.type_name
local find, sub, concat = string.find, string.sub, table.concat

return function(R, args)
  local check, iter = R.check, R.iter
  local arg, str_arg, int_arg = args.arg, args.str_arg, args.int_arg

  local ascii = values.is_ascii
  local function chars(s)
    local out = {}
    if ascii(s) or not utf8.len(s) then
      for i = 1, #s do out[i] = sub(s, i, i) end
    else
      for _, cp in utf8.codes(s) do out[#out + 1] = utf8.char(cp) end
    end
    return out
  end
  local function cplen(s) return ascii(s) and #s or (utf8.len(s) or #s) end
  -- byte offset (1-based) -> code point index (0-based)
  local function cpindex(s, b)
    if ascii(s) then return b - 1 end
    return (utf8.len(s, 1, b - 1) or (b - 1))
  end
  -- code point index (0-based, clamped, negative from the end) -> byte offset
  local function byteoff(s, i)
    local n = cplen(s)
    if i < 0 then i = math.max(n + i, 0) end
    if i > n then i = n end
    if ascii(s) then return i + 1 end
    return utf8.offset(s, i + 1) or (#s + 1)
  end
  local function plain_escape(s) return (s:gsub("%p", "%%%0")) end

  local WS = " \t\n\r\v\f"
  local function strip_set(chars_arg)
    if chars_arg == nil then return "[" .. plain_escape(WS) .. "]" end
    if chars_arg == "" then return nil end
    if ascii(chars_arg) then return "[" .. plain_escape(chars_arg) .. "]" end
    return nil, chars(chars_arg)
  end
  local function strip(s, chars_arg, left, right)
    local set, list = strip_set(chars_arg)
    if set then
      if left then s = s:gsub("^" .. set .. "+", "") end
      if right then s = s:gsub(set .. "+$", "") end
      return s
    end
    if not list then return s end
    local in_set = {}
    for _, c in ipairs(list) do in_set[c] = true end
    local cs = chars(s)
    local a, b = 1, #cs
    if left then while a <= b and in_set[cs[a]] do a = a + 1 end end
    if right then while b >= a and in_set[cs[b]] do b = b - 1 end end
    return concat(cs, "", a, b)
  end

  local function split_ws(s, maxsplit)
    local out = {}
    local i = 1
    local n = 0
    while true do
      local a, b = find(s, "[^ \t\n\r\v\f]+", i)
      if not a then break end
      if maxsplit >= 0 and n >= maxsplit then
        out[#out + 1] = (sub(s, a):gsub("[ \t\n\r\v\f]+$", ""))
        break
      end
      out[#out + 1] = sub(s, a, b)
      n = n + 1
      i = b + 1
    end
    return out
  end

  local function split(s, sep, maxsplit)
    if sep == nil then return split_ws(s, maxsplit) end
    if sep == "" then fail("empty separator") end
    local out, i, n = {}, 1, 0
    while maxsplit < 0 or n < maxsplit do
      local a, b = find(s, sep, i, true)
      if not a then break end
      out[#out + 1] = sub(s, i, a - 1)
      i = b + 1
      n = n + 1
    end
    out[#out + 1] = sub(s, i)
    return out
  end

  local function rsplit(s, sep, maxsplit)
    if maxsplit < 0 then return split(s, sep, maxsplit) end
    if sep == nil then
      local words = split_ws(s, -1)
      if #words <= maxsplit + 1 then return words end
      -- the first words joined back with the text between them
      local keep = #words - maxsplit
      local out = {}
      local pos = 1
      for _ = 1, keep do local _, b = find(s, "[^ \t\n\r\v\f]+", pos); pos = b + 1 end
      out[1] = (sub(s, 1, pos - 1):gsub("^[ \t\n\r\v\f]+", ""))
      for j = keep + 1, #words do out[#out + 1] = words[j] end
      return out
    end
    if sep == "" then fail("empty separator") end
    local parts = split(s, sep, -1)
    if #parts <= maxsplit + 1 then return parts end
    local head = concat(parts, sep, 1, #parts - maxsplit)
    local out = { head }
    for j = #parts - maxsplit + 1, #parts do out[#out + 1] = parts[j] end
    return out
  end

  local function startswith(s, prefix, start, stop, at_end)
    if start or stop then
      local a = byteoff(s, start or 0)
      local b = stop and byteoff(s, stop) or (#s + 1)
      s = sub(s, a, b - 1)
    end
    local list = type(prefix) == "table" and prefix or { prefix }
    for _, p in ipairs(list) do
      if type(p) ~= "string" then
        fail((at_end and "endswith" or "startswith") .. " first arg must be str or a tuple of str, not "
          .. type_name(p))
      end
      if at_end then
        if p == "" or sub(s, -#p) == p then return true end
      elseif sub(s, 1, #p) == p then return true end
    end
    return false
  end

  local function find_in(s, needle, start, stop, last)
    if type(needle) ~= "string" then fail("must be str, not " .. type_name(needle)) end
    local a = byteoff(s, start or 0)
    local b = stop and byteoff(s, stop) or (#s + 1)
    local hay = sub(s, a, b - 1)
    local pos
    if last then
      local i = 1
      while true do
        local j = find(hay, needle, i, true)
        if not j then break end
        pos = j
        i = j + 1
        if needle == "" and j > #hay then break end
      end
    else
      pos = find(hay, needle, 1, true)
    end
    if not pos then return -1 end
    return cpindex(s, a + pos - 1)
  end

  local function count(s, needle)
    if needle == "" then return cplen(s) + 1 end
    local n, i = 0, 1
    while true do
      local a, b = find(s, needle, i, true)
      if not a then return n end
      n, i = n + 1, b + 1
    end
  end

  local function title(s)
    return (s:gsub("(%a)([%w]*)", function(a, b) return a:upper() .. b:lower() end))
  end

  -- str.format and its format-spec mini-language (template/methods_format.lua)
  local str_format = require("luasible.template.methods_format")(R, cplen)

  local str = {}
  local unicase = require "luasible.util.unicase"
  function str.lower(s) return unicase.lower(s) end
  function str.upper(s) return unicase.upper(s) end
  str.casefold = str.lower
  function str.swapcase(s) return (s:gsub("%a", function(c) return c:match("%l") and c:upper() or c:lower() end)) end
  str.title = title
  function str.capitalize(s)
    local cs = chars(s)
    if #cs == 0 then return "" end
    return cs[1]:upper() .. concat(cs, "", 2):lower()
  end
  function str.strip(s, pos, kw) return strip(s, str_arg(pos, kw, 1, "chars"), true, true) end
  function str.lstrip(s, pos, kw) return strip(s, str_arg(pos, kw, 1, "chars"), true, false) end
  function str.rstrip(s, pos, kw) return strip(s, str_arg(pos, kw, 1, "chars"), false, true) end
  function str.split(s, pos, kw)
    return split(s, str_arg(pos, kw, 1, "sep"), int_arg(pos, kw, 2, "maxsplit", -1))
  end
  function str.rsplit(s, pos, kw)
    return rsplit(s, str_arg(pos, kw, 1, "sep"), int_arg(pos, kw, 2, "maxsplit", -1))
  end
  function str.splitlines(s, pos, kw)
    local keep = values.truthy(arg(pos, kw, 1, "keepends", false))
    local out, i = {}, 1
    while i <= #s do
      local a, b = find(s, "\r?\n", i)
      if not a then a, b = find(s, "\r", i) end
      if not a then out[#out + 1] = sub(s, i) break end
      out[#out + 1] = keep and sub(s, i, b) or sub(s, i, a - 1)
      i = b + 1
    end
    return out
  end
  function str.startswith(s, pos, kw)
    return startswith(s, arg(pos, kw, 1, "prefix"), int_arg(pos, kw, 2, "start"), int_arg(pos, kw, 3, "end"), false)
  end
  function str.endswith(s, pos, kw)
    return startswith(s, arg(pos, kw, 1, "suffix"), int_arg(pos, kw, 2, "start"), int_arg(pos, kw, 3, "end"), true)
  end
  function str.replace(s, pos, kw)
    local a, b = arg(pos, kw, 1, "old"), arg(pos, kw, 2, "new")
    if type(a) ~= "string" or type(b) ~= "string" then
      fail("replace() argument must be str, not " .. type_name(type(a) ~= "string" and a or b))
    end
    local max = int_arg(pos, kw, 3, "count", -1)
    if a == "" then
      local cs = chars(s)
      local out = {}
      local n = 0
      for i, c in ipairs(cs) do
        if max < 0 or n < max then out[#out + 1] = b; n = n + 1 end
        out[#out + 1] = c
        if i == #cs and (max < 0 or n < max) then out[#out + 1] = b end
      end
      if #cs == 0 and max ~= 0 then return b end
      return concat(out)
    end
    local out, i, n = {}, 1, 0
    while max < 0 or n < max do
      local j, k = find(s, a, i, true)
      if not j then break end
      out[#out + 1] = sub(s, i, j - 1)
      out[#out + 1] = b
      i, n = k + 1, n + 1
    end
    out[#out + 1] = sub(s, i)
    return concat(out)
  end
  function str.find(s, pos, kw) return find_in(s, arg(pos, kw, 1), int_arg(pos, kw, 2), int_arg(pos, kw, 3)) end
  function str.rfind(s, pos, kw) return find_in(s, arg(pos, kw, 1), int_arg(pos, kw, 2), int_arg(pos, kw, 3), true) end
  function str.index(s, pos, kw)
    local r = find_in(s, arg(pos, kw, 1), int_arg(pos, kw, 2), int_arg(pos, kw, 3))
    if r < 0 then fail("substring not found") end
    return r
  end
  function str.rindex(s, pos, kw)
    local r = find_in(s, arg(pos, kw, 1), int_arg(pos, kw, 2), int_arg(pos, kw, 3), true)
    if r < 0 then fail("substring not found") end
    return r
  end
  function str.count(s, pos, kw)
    local needle = arg(pos, kw, 1)
    if type(needle) ~= "string" then fail("must be str, not " .. type_name(needle)) end
    return count(s, needle)
  end
  function str.join(s, pos)
    local items = iter(check(pos[1]))
    local out = {}
    for i, x in ipairs(items) do
      if type(x) ~= "string" then
        fail(string.format("sequence item %d: expected str instance, %s found", i - 1, type_name(x)))
      end
      out[i] = x
    end
    return concat(out, s)
  end
  function str.format(s, pos, kw) return str_format(s, pos, kw) end
  function str.format_map(s, pos) return str_format(s, {}, pos[1]) end
  local function all(s, class)
    if s == "" then return false end
    return not find(s, "[^" .. class .. "]")
  end
  function str.isdigit(s) return all(s, "%d") end
  str.isdecimal = str.isdigit
  str.isnumeric = str.isdigit
  function str.isalpha(s) return all(s, "%a") end
  function str.isalnum(s) return all(s, "%w") end
  function str.isspace(s) return all(s, " \t\n\r\v\f") end
  function str.islower(s) return find(s, "%l") ~= nil and not find(s, "%u") end
  function str.isupper(s) return find(s, "%u") ~= nil and not find(s, "%l") end
  function str.istitle(s) return find(s, "%a") ~= nil and title(s) == s end
  function str.isidentifier(s) return s:match("^[%a_][%w_]*$") ~= nil end
  function str.zfill(s, pos)
    local w = int_arg(pos, nil, 1) or 0
    local n = cplen(s)
    if n >= w then return s end
    local sign = s:match("^[-+]") or ""
    return sign .. string.rep("0", w - n) .. sub(s, #sign + 1)
  end
  local function pad(s, pos, kw, how)
    local w = int_arg(pos, kw, 1, "width") or 0
    local fill = str_arg(pos, kw, 2, "fillchar", " ") or " "
    local n = cplen(s)
    if n >= w then return s end
    local p = w - n
    if how == "l" then return s .. string.rep(fill, p) end
    if how == "r" then return string.rep(fill, p) .. s end
    local left = p // 2 + (p % 2 == 1 and w % 2 == 1 and 1 or 0)
    return string.rep(fill, left) .. s .. string.rep(fill, p - left)
  end
  function str.ljust(s, pos, kw) return pad(s, pos, kw, "l") end
  function str.rjust(s, pos, kw) return pad(s, pos, kw, "r") end
  function str.center(s, pos, kw) return pad(s, pos, kw, "c") end
  function str.partition(s, pos)
    local sep = check(pos[1])
    local a, b = find(s, sep, 1, true)
    if not a then return { s, "", "" } end
    return { sub(s, 1, a - 1), sep, sub(s, b + 1) }
  end
  function str.rpartition(s, pos)
    local sep = check(pos[1])
    local last
    local i = 1
    while true do
      local a = find(s, sep, i, true)
      if not a then break end
      last, i = a, a + 1
    end
    if not last then return { "", "", s } end
    return { sub(s, 1, last - 1), sep, sub(s, last + #sep) }
  end
  function str.removeprefix(s, pos)
    local p = check(pos[1])
    if p ~= "" and sub(s, 1, #p) == p then return sub(s, #p + 1) end
    return s
  end
  function str.removesuffix(s, pos)
    local p = check(pos[1])
    if p ~= "" and sub(s, -#p) == p then return sub(s, 1, #s - #p) end
    return s
  end
  function str.encode(s) return s end
  function str.decode(s) return s end

  return str
end
