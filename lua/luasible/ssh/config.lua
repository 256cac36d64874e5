--- luasible.ssh.config: reading an OpenSSH client config (~/.ssh/config):
-- Host blocks and their globs, the first value of each keyword, and the
-- expansion of ~ and %-tokens in paths.
local M = {}

M.HOME = os.getenv("HOME") or "/"

--- `path` with ~ and, given ctx = { hostname, user }, the tokens %d (home),
-- %h (host name), %u / %r (user) and %% expanded.
function M.expand(path, ctx)
  local home = M.HOME
  path = path:gsub("^~/", home .. "/"):gsub("^~$", home)
  if ctx then
    path = path:gsub("%%(.)", function(c)
      if c == "d" then return home end
      if c == "h" then return ctx.hostname or "" end
      if c == "u" or c == "r" then return ctx.user or "" end
      if c == "%" then return "%" end
      return nil
    end)
  end
  return path
end

--- The name of the user running this program, without running a process:
-- $USER, $LOGNAME, else the passwd entry of our uid.
function M.local_user()
  local u = os.getenv("USER") or os.getenv("LOGNAME")
  if u and u ~= "" then return u end
  local f = io.open("/proc/self/status", "r")
  local uid = f and f:read("a"):match("\nUid:%s*(%d+)")
  if f then f:close() end
  local pw = uid and io.open("/etc/passwd", "r")
  if pw then
    for line in pw:lines() do
      local name, id = line:match("^([^:]*):[^:]*:(%d+):")
      if id == uid then u = name; break end
    end
    pw:close()
  end
  return u or "root"
end

-- OpenSSH glob (* and ?) -> Lua pattern
local function glob(pat)
  return "^" .. pat:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
end

--- Does `host` match a Host line's pattern list (globs, ! negates)?
function M.host_matches(list, host)
  local matched = false
  for pat in list:gmatch("%S+") do
    local neg = pat:sub(1, 1) == "!"
    if neg then pat = pat:sub(2) end
    if host:find(glob(pat)) then
      if neg then return false end
      matched = true
    end
  end
  return matched
end

local function unquote(v)
  return (v:match('^"(.*)"$') or v)
end

--- Read the options of `host` from an OpenSSH client config file: the
-- first value of each keyword wins; IdentityFile accumulates. Keywords are
-- lowercase keys; a missing file gives no options.
function M.read(path, host)
  local res = { identityfile = {} }
  local f = io.open(path, "r")
  if not f then return res end
  local active = true
  for line in f:lines() do
    line = line:gsub("^%s+", ""):gsub("%s+$", "")
    if line ~= "" and line:sub(1, 1) ~= "#" then
      local key, val = line:match("^(%S-)%s*=%s*(.*)$")
      if not key or key == "" or key:find("%s") then key, val = line:match("^(%S+)%s+(.*)$") end
      if key then
        key = key:lower()
        val = unquote(val or "")
        if key == "host" then
          active = M.host_matches(val, host)
        elseif key == "match" then
          active = val:lower() == "all"
        elseif active then
          if key == "identityfile" then
            res.identityfile[#res.identityfile + 1] = val
          elseif res[key] == nil then
            res[key] = val
          end
        end
      end
    end
  end
  f:close()
  return res
end

return M
