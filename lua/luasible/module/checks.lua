--- luasible.module.checks: checks a module's check_args hook may use on
-- its argument values. check_args(known, all, checks) gets this table as
-- its third argument; each check returns true, or nil, err.
local regex = require "luasible.util.regex"

local M = {}

--- Are the captures of a Lua pattern balanced? nil when they are, else what is wrong
--- (string.find on an empty subject stops before it meets them). %x escapes,
--- %bxy and [...] sets are skipped.
function M.pattern_captures_error(pat)
  local depth, i, n = 0, 1, #pat
  while i <= n do
    local c = pat:sub(i, i)
    if c == "%" then
      i = i + (pat:sub(i + 1, i + 1) == "b" and 4 or 2)
    elseif c == "[" then
      i = i + 1
      if pat:sub(i, i) == "^" then i = i + 1 end
      local first = true
      while i <= n and (first or pat:sub(i, i) ~= "]") do
        i = i + (pat:sub(i, i) == "%" and 2 or 1)
        first = false
      end
      if i > n then return "malformed pattern (missing ']')" end
      i = i + 1
    else
      if c == "(" then
        depth = depth + 1
      elseif c == ")" then
        if depth == 0 then return "invalid pattern capture (a ')' without its '(')" end
        depth = depth - 1
      end
      i = i + 1
    end
  end
  if depth > 0 then return "unfinished capture (a '(' without its ')')" end
end

--- Check that `pat` is a usable Lua pattern (and not a regular expression
--- written for Ansible). Returns true, or nil, err naming the argument.
function M.lua_pattern(pat, argname)
  if type(pat) ~= "string" then return true end
  local bare = pat:gsub("%%.", "") -- what is left once %-escapes are set aside
  local rx = bare:match("\\.") or bare:match("|") or bare:match("%(%?") or bare:match("[%w%)%]]{%d+,?%d*}")
  if rx then
    return nil, string.format("argument '%s' is a Lua pattern, not a regular expression: '%s' in '%s'"
      .. " (write %%s for \\s, %%d for \\d, %%. for \\., one pattern per task instead of |)", argname, rx, pat)
  end
  local ok, err = pcall(string.find, "", pat)
  if ok then err = M.pattern_captures_error(pat) ok = not err end
  if not ok then
    return nil, string.format("argument '%s' is not a valid Lua pattern: %s", argname,
      tostring(err):gsub("^.-:%d+: ", ""))
  end
  return true
end

--- Check that `pat` is a valid Python regular expression (util/regex.lua,
--- PCRE2). Returns true, or nil, err naming the argument.
function M.regex(pat, argname)
  if type(pat) ~= "string" then return true end
  local ok, err = regex.compile(pat)
  if ok then return true end
  return nil, string.format("argument '%s' is not a valid regular expression: %s", argname, err)
end

--- Check package names (apt, package): a name starting with '-' would be
--- taken for an option of apt-get, dpkg-query, dnf... Returns true, or nil, err.
function M.package_names(names)
  for _, n in ipairs(type(names) == "table" and names or { names }) do
    if type(n) == "string" and n:sub(1, 1) == "-" then
      return nil, string.format("package name '%s' starts with '-': it would be taken for an option", n)
    end
  end
  return true
end

return M
