--- luasible.ssh.config: reading an OpenSSH client config (~/.ssh/config)
-- as ssh_config(5) says: Host blocks (globs, negation), Match blocks (host,
-- originalhost, user, localuser, all, final), Include (globs, relative to
-- ~/.ssh), the first obtained value of each keyword, and the expansion of
-- ~ and %-tokens in paths. Keywords luasible does not use are ignored (as
-- OpenSSH ignores the ones it does not need); a syntax error is file:line.
local core = require "luasible.core"
local fs = require "luasible.util.fs"

local M = {}

M.HOME = os.getenv("HOME") or "/"

--- The name of the user running this program, without running a process:
-- $USER, $LOGNAME, else the password database's name of our uid (NSS:
-- a user of LDAP or sssd too). None known: nil, err, name, never a guess.
function M.local_user()
  local u = os.getenv("USER") or os.getenv("LOGNAME")
  if u and u ~= "" then return u end
  local name, err, ename = core.whoami()
  if not name then return nil, err, ename end
  return name
end

--- `path` with ~ and, given ctx, the tokens of ssh_config(5) "TOKENS"
-- expanded: %d (home), %h (the host name), %n (the original host name, as
-- given), %p (the port), %r (the remote user), %u (the local user), %%.
-- (ctx.user is the remote user; ctx.local_user defaults to local_user().)
function M.expand(path, ctx)
  local home = M.HOME
  path = path:gsub("^~/", home .. "/"):gsub("^~$", home)
  if ctx then
    path = path:gsub("%%(.)", function(c)
      if c == "d" then return home end
      if c == "h" then return ctx.hostname or "" end
      if c == "n" then return ctx.original or ctx.hostname or "" end
      if c == "p" then return ctx.port and tostring(ctx.port) or "22" end
      if c == "r" then return ctx.user or "" end
      if c == "u" then return ctx.local_user or M.local_user() or "" end
      if c == "%" then return "%" end
      return nil
    end)
  end
  return path
end

-- OpenSSH glob (* and ?) -> Lua pattern
local function glob(pat)
  return "^" .. pat:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
end

-- OpenSSH's match_pattern_list: a negated pattern that matches is no
-- match at all; else any positive pattern that matches is a match.
-- `pats`: a list of patterns. Host names are compared in lower case.
local function match_list(pats, s)
  s = s:lower()
  local matched = false
  for _, pat in ipairs(pats) do
    local neg = pat:sub(1, 1) == "!"
    if neg then pat = pat:sub(2) end
    if s:find(glob(pat:lower())) then
      if neg then return false end
      matched = true
    end
  end
  return matched
end

--- Does `host` match a Host line's pattern list (a string of
-- space-separated globs, or a list; ! negates)?
function M.host_matches(list, host)
  if type(list) == "string" then
    local t = {}
    for p in list:gmatch("%S+") do t[#t + 1] = p end
    list = t
  end
  return match_list(list, host)
end

-- the words of a line as OpenSSH splits them (argv_split): blanks
-- separate, "..." and '...' quote, a backslash escapes a quote, a
-- backslash or a blank. nil, why for an unterminated quote.
local function split(s)
  local words, i, n = {}, 1, #s
  while i <= n do
    while i <= n and s:sub(i, i):find("%s") do i = i + 1 end
    if i > n then break end
    local buf, quote = {}, nil
    while i <= n do
      local c = s:sub(i, i)
      if c == "\\" and i < n and s:sub(i + 1, i + 1):find("[\"'\\%s]") then
        buf[#buf + 1] = s:sub(i + 1, i + 1)
        i = i + 2
      elseif quote then
        if c == quote then quote = nil else buf[#buf + 1] = c end
        i = i + 1
      elseif c == '"' or c == "'" then
        quote = c
        i = i + 1
      elseif c:find("%s") then
        break
      else
        buf[#buf + 1] = c
        i = i + 1
      end
    end
    if quote then return nil, "unterminated quoted string" end
    words[#words + 1] = table.concat(buf)
  end
  return words
end
M.split = split

-- the values a keyword may take, checked wherever it appears (as OpenSSH
-- does, active block or not): nil when fine, else why not
local YESNO = { yes = true, no = true }
local function number(v)
  if not tonumber(v) or tonumber(v) < 0 then return "bad number '" .. v .. "'" end
end
local function yesno(v)
  if not YESNO[v:lower()] then return "unsupported option '" .. v .. "' (yes or no)" end
end
local CHECK = {
  port = function(v)
    local n = math.tointeger(tonumber(v))
    if not n or n < 1 or n > 65535 then return "bad port number '" .. v .. "'" end
  end,
  connecttimeout = function(v) return number(v) end,
  serveraliveinterval = function(v) return number(v) end,
  serveralivecountmax = function(v)
    local n = math.tointeger(tonumber(v))
    if not n or n < 0 then return "bad number '" .. v .. "'" end
  end,
  stricthostkeychecking = function(v)
    local ok = { yes = true, no = true, ask = true, ["accept-new"] = true, off = true }
    if not ok[v:lower()] then return "unsupported option '" .. v .. "' (yes, no, ask, accept-new or off)" end
  end,
  identitiesonly = yesno,
  hashknownhosts = yesno,
  forwardagent = function(v)
    if not YESNO[v:lower()] and not v:find("[/$]") then return "unsupported option '" .. v .. "'" end
  end,
}

-- keywords whose value is the rest of the line as it is written
local RAW = { proxycommand = true, localcommand = true, remotecommand = true, knownhostscommand = true }
-- keywords that take a list of values (kept whole, space separated)
local LIST = { userknownhostsfile = true, globalknownhostsfile = true, sendenv = true, setenv = true }

-- the files an Include pattern names: globs (* ? [...]) in any component,
-- sorted, as glob(3) gives them; a pattern without a wildcard is itself
local function expand_glob(pattern)
  if not pattern:find("[%*%?%[]") then return { pattern } end
  local parts = {}
  for p in pattern:gmatch("[^/]+") do parts[#parts + 1] = p end
  local paths = { pattern:sub(1, 1) == "/" and "/" or "" }
  for _, part in ipairs(parts) do
    local nextp = {}
    for _, base in ipairs(paths) do
      local prefix = (base == "" or base:sub(-1) == "/") and base or base .. "/"
      if part:find("[%*%?%[]") then
        local names = core.readdir(base == "" and "." or base)
        if names then
          local lp = "^" .. part:gsub("[%^%$%(%)%%%.%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
          table.sort(names)
          for _, nm in ipairs(names) do
            if nm:find(lp) and (nm:sub(1, 1) ~= "." or part:sub(1, 1) == ".") then nextp[#nextp + 1] = prefix .. nm end
          end
        end
      else
        nextp[#nextp + 1] = prefix .. part
      end
    end
    paths = nextp
  end
  return paths
end

local MAX_DEPTH = 16

local function fail(path, ln, msg)
  return nil, ("EINVAL: %s:%d: %s"):format(path, ln, msg), "EINVAL"
end

-- the Match line's criteria, in state st: true/false, or nil, why
local function match(args, st)
  local result, i = true, 1
  if #args == 0 then return nil, "Match: missing criteria" end
  while i <= #args do
    local a = args[i]
    local neg = a:sub(1, 1) == "!"
    local crit = (neg and a:sub(2) or a):lower()
    local ok
    if crit == "all" then
      ok = true
    elseif crit == "final" then
      ok = true -- one pass, which is the final one
    elseif crit == "canonical" then
      ok = false -- luasible does no CanonicalizeHostname pass
    elseif crit == "exec" then
      return nil, "Match exec is not supported (luasible runs no command while reading the config)"
    elseif crit == "host" or crit == "originalhost" or crit == "user" or crit == "localuser"
      or crit == "tagged" then
      local arg = args[i + 1]
      if not arg then return nil, "Match " .. crit .. ": missing argument" end
      i = i + 1
      local pats = {}
      for p in arg:gmatch("[^,]+") do pats[#pats + 1] = p end
      local subject
      if crit == "host" then subject = st.hostname
      elseif crit == "originalhost" then subject = st.original
      elseif crit == "user" then subject = st.res.user or st.user or st.local_user
      elseif crit == "localuser" then subject = st.local_user
      else subject = st.res.tag or "" end
      ok = match_list(pats, subject or "")
    else
      return nil, "unsupported Match attribute '" .. args[i] .. "'"
    end
    if neg then ok = not ok end
    result = result and ok
    i = i + 1
  end
  return result
end

local parse_file

local function set(st, key, val)
  local res = st.res
  if key == "identityfile" then
    res.identityfile[#res.identityfile + 1] = val
  elseif key == "proxyjump" or key == "proxycommand" then
    -- one transport: the first of the two obtained wins (OpenSSH's rule)
    if res.proxyjump == nil and res.proxycommand == nil then res[key] = val end
  elseif res[key] == nil then
    res[key] = val
    if key == "hostname" then st.hostname = val:gsub("%%h", st.original) end
  end
end

local function parse_text(text, path, st, depth)
  local ln = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    ln = ln + 1
    line = line:gsub("\r$", ""):gsub("^%s+", ""):gsub("%s+$", "")
    if line ~= "" and line:sub(1, 1) ~= "#" then
      local key, rest = line:match("^([^%s=]+)%s*=?%s*(.-)$")
      if not key then return fail(path, ln, "bad line") end
      local k = key:lower()
      if RAW[k] then
        if rest == "" then return fail(path, ln, key .. ": missing argument") end
        if st.active then set(st, k, rest) end
      else
        local args, why = split(rest)
        if not args then return fail(path, ln, why) end
        if k == "host" then
          if #args == 0 then return fail(path, ln, "Host: missing argument") end
          st.active = match_list(args, st.original)
        elseif k == "match" then
          local ok, merr = match(args, st)
          if ok == nil then return fail(path, ln, merr) end
          st.active = ok
        elseif k == "include" then
          if #args == 0 then return fail(path, ln, "Include: missing argument") end
          if st.active then
            if depth >= MAX_DEPTH then return fail(path, ln, "Include: too many nested includes") end
            local was = st.active
            for _, a in ipairs(args) do
              a = M.expand(a)
              if a:sub(1, 1) ~= "/" then a = st.base .. "/" .. a end
              for _, f in ipairs(expand_glob(a)) do
                local ok, ierr, iname = parse_file(f, st, depth + 1)
                if not ok then return nil, ierr, iname end
              end
            end
            st.active = was -- an included file's Host lines end with it
          end
        else
          if #args == 0 then return fail(path, ln, key .. ": missing argument") end
          local check = CHECK[k]
          local bad = check and check(args[1])
          if bad then return fail(path, ln, key .. ": " .. bad) end
          if st.active then
            if k == "forwardagent" and st.res.forwardagent == nil then st.res.forwardagent_at = path .. ":" .. ln end
            set(st, k, LIST[k] and table.concat(args, " ") or args[1])
          end
        end
      end
    end
  end
  return true
end

-- a file into st; a missing one is no options (an Include may name one
-- that is not there); one that cannot be read is its errno
function parse_file(path, st, depth)
  local text, err, name = fs.read(path)
  if not text then
    if name == "ENOENT" then return true end
    return nil, err, name
  end
  return parse_text(text, path, st, depth)
end

--- Read the options of `host` from an OpenSSH client config file: the
-- first value of each keyword wins (lowercase keys, string values);
-- IdentityFile accumulates; of ProxyJump and ProxyCommand the first one
-- obtained is kept. ctx (optional): { user = the user asked for (for
-- Match user), local_user, base = the folder of relative Includes
-- (~/.ssh) }. A missing file gives no options; one that is there and
-- cannot be read (EACCES, EISDIR, EMFILE...) gives nil, err, name; a
-- syntax error (a missing argument, a bad port, an unterminated quote,
-- Match exec) gives nil, "EINVAL: FILE:LINE: why", "EINVAL".
function M.read(path, host, ctx)
  ctx = ctx or {}
  local st = {
    res = { identityfile = {} }, active = true, original = host, hostname = host,
    user = ctx.user, local_user = ctx.local_user or M.local_user(),
    base = ctx.base or (M.HOME .. "/.ssh"),
  }
  local ok, err, name = parse_file(path, st, 0)
  if not ok then return nil, err, name end
  return st.res
end

return M
