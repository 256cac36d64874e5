--- luasible.template.filters.regex: regex_replace, regex_search,
-- regex_findall, regex_escape: Python's re (util/regex.lua: PCRE2 with
-- Python's semantics), replacement templates as re.sub reads them (\1,
-- \g<1>, \g<name>, \n ...).
local C = require "luasible.template.filters.common"
local regex = require "luasible.util.regex"

local fail, str = C.fail, C.str
local concat = table.concat

local M = {}

--- The compiled pattern, or the error of filter `name`.
function M.compile(name, pattern, ignorecase, multiline)
  if type(pattern) ~= "string" then
    fail(string.format("filter '%s': the pattern must be a string, got %s", name, C.describe(pattern)))
  end
  local flags = (C.truthy(ignorecase) and "i" or "") .. (C.truthy(multiline) and "m" or "")
  local r, err = regex.compile(pattern, flags)
  if not r then fail(string.format("filter '%s': %s", name, err)) end
  return r
end

-- the text a filter matches: Ansible's to_text (None is 'None')
local function subject(v) return str(v) end

local SIMPLE = { n = "\n", t = "\t", r = "\r", f = "\f", v = "\v", a = "\a", b = "\b", ["\\"] = "\\" }

-- re.sub's template: a list of parts, strings and group references
local function parse_template(name, repl)
  local parts, i, buf = {}, 1, {}
  local function flush() if #buf > 0 then parts[#parts + 1] = concat(buf); buf = {} end end
  while i <= #repl do
    local c = repl:sub(i, i)
    if c ~= "\\" then
      local j = repl:find("\\", i, true) or #repl + 1
      buf[#buf + 1] = repl:sub(i, j - 1)
      i = j
    else
      local e = repl:sub(i + 1, i + 1)
      if e == "g" then
        local ref = repl:match("^<([^>]*)>", i + 2)
        if not ref then fail(string.format("filter '%s': missing < or > in group reference at %d", name, i - 1)) end
        flush()
        parts[#parts + 1] = { ref = math.tointeger(tonumber(ref)) or ref }
        i = i + 3 + #ref + 1
      elseif e:match("%d") then
        local digits = repl:match("^%d%d?", i + 1)
        if digits:sub(1, 1) == "0" or repl:match("^[0-7][0-7][0-7]", i + 1) then
          local oct = repl:match("^[0-7][0-7]?[0-7]?", i + 1)
          buf[#buf + 1] = utf8.char(tonumber(oct, 8))
          i = i + 1 + #oct
        else
          flush()
          parts[#parts + 1] = { ref = tonumber(digits) }
          i = i + 1 + #digits
        end
      elseif SIMPLE[e] then
        buf[#buf + 1] = SIMPLE[e]
        i = i + 2
      elseif e:match("%a") then
        fail(string.format("filter '%s': bad escape \\%s at position %d", name, e, i - 1))
      elseif e == "" then
        fail(string.format("filter '%s': bad escape (end of pattern) at position %d", name, i - 1))
      else
        buf[#buf + 1] = "\\" .. e
        i = i + 2
      end
    end
  end
  flush()
  return parts
end

-- group `ref` of a match (0: the whole match): its text, "" when it took no part
local function group(name, s, st, en, caps, ref)
  if ref == 0 then return s:sub(st, en) end
  local g = caps[ref]
  if g == nil then fail(string.format("filter '%s': invalid group reference %s", name, tostring(ref))) end
  return g or ""
end

--- re.subn: the text with the first `count` (0: all) matches replaced, and how many were.
function M.subn(name, r, s, repl, count)
  local parts = parse_template(name, repl)
  local out, last, n = {}, 1, 0
  r:each(s, function(st, en, caps)
    out[#out + 1] = s:sub(last, st - 1)
    for _, p in ipairs(parts) do
      out[#out + 1] = type(p) == "string" and p or group(name, s, st, en, caps, p.ref)
    end
    last, n = en + 1, n + 1
    if count > 0 and n >= count then return false end
  end)
  out[#out + 1] = s:sub(last)
  return concat(out), n
end

--- re.sub: the text with the first `count` (0: all) matches replaced.
function M.sub(name, r, s, repl, count) return (M.subn(name, r, s, repl, count)) end

--- Match.expand: the template `repl` with the groups of the match (st, en, caps) of s.
function M.expand(name, s, st, en, caps, repl)
  local out = {}
  for _, p in ipairs(parse_template(name, repl)) do
    out[#out + 1] = type(p) == "string" and p or group(name, s, st, en, caps, p.ref)
  end
  return concat(out)
end

-- Python's re.escape (3.7 and later: only the special characters)
local SPECIAL = {}
for c in ("()[]{}?*+-|^$\\.&~# \t\n\r\v\f"):gmatch(".") do SPECIAL[c] = "\\" .. c end

-- the module: registers its filters when called (registry.lua); M.subn, M.expand for ctx.regex
return setmetatable(M, { __call = function(_, reg)
  reg.filter("regex_replace", "value='', pattern='', replacement='', ignorecase=False, multiline=False",
    function(v, pattern, repl, ic, ml)
      local r = M.compile("regex_replace", pattern, ic, ml)
      return M.sub("regex_replace", r, subject(v), C.text_arg("regex_replace", "the replacement", repl), 0)
    end)

  reg.filter("regex_search", "value, regex, *args, **kwargs", function(v, pattern, args, kw)
    local groups = {}
    for _, a in ipairs(args) do
      if type(a) ~= "string" then C.error("regex_search", "unknown argument %s", C.describe(a)) end
      local named = a:match("^\\g<(%S+)>")
      local num = a:match("^\\(%d+)")
      if named then groups[#groups + 1] = math.tointeger(tonumber(named)) or named
      elseif num then groups[#groups + 1] = tonumber(num)
      else C.error("regex_search", "unknown argument %s (groups are '\\\\1' or '\\\\g<name>')", C.repr(a)) end
    end
    for k in pairs(kw) do
      if k ~= "ignorecase" and k ~= "multiline" then C.error("regex_search", "unknown argument '%s'", tostring(k)) end
    end
    local r = M.compile("regex_search", pattern, kw.ignorecase, kw.multiline)
    local s = subject(v)
    local st, en, caps = r:search(s)
    if not st then return C.none end
    if #groups == 0 then return s:sub(st, en) end
    local out = {}
    for i, g in ipairs(groups) do
      if g ~= 0 and caps[g] == false then out[i] = C.none
      else out[i] = group("regex_search", s, st, en, caps, g) end
    end
    return out
  end)

  reg.filter("regex_findall", "value, regex, multiline=False, ignorecase=False", function(v, pattern, ml, ic)
    local r = M.compile("regex_findall", pattern, ic, ml)
    local s = subject(v)
    local out = {}
    r:each(s, function(st, en, caps)
      local n = #caps
      if n == 0 then out[#out + 1] = s:sub(st, en)
      elseif n == 1 then out[#out + 1] = caps[1] or ""
      else
        local t = {}
        for i = 1, n do t[i] = caps[i] or "" end
        out[#out + 1] = C.tuple(t)
      end
    end)
    return out
  end)

  reg.filter("regex_escape", "value, re_type='python'", function(v, re_type)
    local s = subject(v)
    if re_type == "python" then return (s:gsub(".", SPECIAL)) end
    if re_type == "posix_basic" then return (s:gsub("[%].[^$*\\]", "\\%0")) end
    if re_type == "posix_extended" then C.error("regex_escape", "regex type (posix_extended) not yet implemented") end
    C.error("regex_escape", "invalid regex type (%s)", str(re_type))
  end)
end })
