--- luasible.remote: every shell fragment luasible runs on a host, in one
-- place. Every word goes through util/shell.quote. Nothing here runs
-- anything: each function returns text (or reads what that text printed).
local quote = require("luasible.util.shell").quote

local M = {}

-- fragments of module contexts (module/context.lua) ------------------------

--- Exit status 0 when something is at `path`.
function M.exists(path)
  return "test -e " .. quote(path)
end

--- The SHA-256 of a regular file (read from stdin: `sha256sum NAME`
--- escapes names holding a backslash or a newline); non-zero status when
--- it is not a readable file.
function M.file_sha256(path)
  local q = quote(path)
  return "test -f " .. q .. " && sha256sum < " .. q
end

--- The hash M.file_sha256 printed, or nil.
function M.parse_sha256(stdout)
  return (stdout or ""):match("^(%x+)")
end

-- what stat(1) prints for M.stat, and the kinds M.parse_stat names
local STAT_FORMAT = "'%F|%a|%U|%G|%s|%u|%g'"
local KINDS = { ["regular file"] = "file", ["regular empty file"] = "file", directory = "directory",
  ["symbolic link"] = "link" }

--- A path's type, mode, owner, group, size, uid and gid; a symbolic link
--- itself (lstat), or with `follow` what it points to. Prints nothing for
--- a path that is not there.
function M.stat(path, follow)
  return "stat " .. (follow and "-L " or "") .. "-c " .. STAT_FORMAT .. " -- " .. quote(path) .. " 2>/dev/null"
end

--- What M.stat printed as { type = "file"|"directory"|"link"|..., mode =
--- "644", owner =, group =, size =, uid =, gid = }, or nil.
function M.parse_stat(stdout)
  local ftype, mode, owner, group, size, uid, gid =
    (stdout or ""):match("^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)")
  if not ftype then return nil end
  return { type = KINDS[ftype] or ftype, mode = mode, owner = owner, group = group, size = tonumber(size),
    uid = tonumber(uid), gid = tonumber(gid) }
end

--- Where a path leads once every symbolic link in it is followed.
function M.realpath(path)
  return "readlink -f -- " .. quote(path)
end

--- Exit status 0 when the host knows this user / group.
function M.user_exists(name)
  return "getent passwd " .. quote(name) .. " >/dev/null"
end
function M.group_exists(name)
  return "getent group " .. quote(name) .. " >/dev/null"
end

return M
