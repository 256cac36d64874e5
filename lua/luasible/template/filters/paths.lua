--- luasible.template.filters.paths: Python's os.path (posixpath) and
-- ntpath as Ansible's path filters use them: basename, dirname,
-- expanduser, expandvars, realpath, relpath, splitext, path_join,
-- win_basename, win_dirname, win_splitdrive, fileglob. realpath and
-- fileglob look at the controller's file system (luv), as Ansible's do.
local C = require "luasible.template.filters.common"
local path = require "luasible.util.path"
local fnmatch = require "luasible.util.fnmatch"

local M = {}

local function text(name, v) return C.text(name, v, "a path (a string)") end

--- posixpath.dirname: "/" stays "/", "a/b/" is "a/b"
function M.dirname(p)
  local head = p:match("^(.*/)") or ""
  if head ~= "" and not head:match("^/+$") then head = head:gsub("/+$", "") end
  return head
end

--- posixpath.normpath
function M.normpath(p)
  if p == "" then return "." end
  local initial = p:match("^/*")
  if #initial > 2 then initial = "/" end
  local parts = {}
  for comp in p:gmatch("[^/]+") do
    if comp == "." then -- luacheck: ignore 542
    elseif comp ~= ".." or (initial == "" and #parts == 0) or (#parts > 0 and parts[#parts] == "..") then
      parts[#parts + 1] = comp
    elseif #parts > 0 then
      parts[#parts] = nil
    end
  end
  local out = initial .. table.concat(parts, "/")
  return out == "" and "." or out
end

local function abspath(p)
  if p:sub(1, 1) ~= "/" then
    local uv = require "luv"
    p = (uv.cwd() or "/") .. "/" .. p
  end
  return M.normpath(p)
end

--- posixpath.realpath (not strict): symbolic links resolved, missing parts kept.
function M.realpath(p)
  local uv = require "luv"
  local todo = {}
  for comp in abspath(p):gmatch("[^/]+") do todo[#todo + 1] = comp end
  local done, seen, hops = "", {}, 0
  local i = 1
  while i <= #todo do
    local comp = todo[i]
    i = i + 1
    if comp == ".." then
      done = done:match("^(.*)/[^/]*$") or ""
    elseif comp ~= "." then
      local cand = done .. "/" .. comp
      local st = uv.fs_lstat(cand)
      if st and st.type == "link" then
        hops = hops + 1
        local target = uv.fs_readlink(cand)
        if not target or hops > 40 or seen[cand] then
          done = cand -- a loop: left as it is, as Python's non-strict realpath
        else
          seen[cand] = true
          local rest = {}
          for c in target:gmatch("[^/]+") do rest[#rest + 1] = c end
          for k = i, #todo do rest[#rest + 1] = todo[k] end
          todo, i = rest, 1
          if target:sub(1, 1) == "/" then done = "" end
        end
      else
        done = cand
      end
    end
  end
  return done == "" and "/" or done
end

--- posixpath.relpath
function M.relpath(p, start)
  if p == "" then C.fail("filter 'relpath': no path specified") end
  local a, b = {}, {}
  for c in abspath(start or "."):gmatch("[^/]+") do a[#a + 1] = c end
  for c in abspath(p):gmatch("[^/]+") do b[#b + 1] = c end
  local n = 0
  while n < #a and n < #b and a[n + 1] == b[n + 1] do n = n + 1 end
  local out = {}
  for _ = n + 1, #a do out[#out + 1] = ".." end
  for k = n + 1, #b do out[#out + 1] = b[k] end
  if #out == 0 then return "." end
  return table.concat(out, "/")
end

--- posixpath.splitext -> root, ext
function M.splitext(p)
  local slash = p:match("^.*()/") or 0
  local dot = p:match("^.*()%.")
  if dot and dot > slash then
    -- leading dots of the name are not an extension
    local name_start = slash + 1
    local k = name_start
    while p:sub(k, k) == "." do k = k + 1 end
    if dot >= k then return p:sub(1, dot - 1), p:sub(dot) end
  end
  return p, ""
end

--- os.path.expanduser
function M.expanduser(p)
  if p:sub(1, 1) ~= "~" then return p end
  local user, rest = p:match("^~([^/]*)(.*)$")
  local home
  if user == "" then
    home = os.getenv("HOME")
  else
    local f = io.open("/etc/passwd")
    if f then
      for line in f:lines() do
        local name, dir = line:match("^([^:]*):[^:]*:[^:]*:[^:]*:[^:]*:([^:]*):")
        if name == user then home = dir break end
      end
      f:close()
    end
  end
  if not home then return p end
  home = home:gsub("/+$", "")
  return (home == "" and "/" or home) .. rest
end

--- os.path.expandvars: $name and ${name} replaced when set
function M.expandvars(p)
  return (p:gsub("%$(%b{})", function(b)
    local v = os.getenv(b:sub(2, -2))
    return v
  end):gsub("%$([%w_]+)", function(n) return os.getenv(n) end))
end

-- ntpath
local function splitdrive(p)
  local norm = p:gsub("/", "\\")
  if norm:sub(1, 2) == "\\\\" and norm:sub(3, 3) ~= "\\" then
    local i = norm:find("\\", 3, true)
    if not i then return "", p end
    local j = norm:find("\\", i + 1, true) or #p + 1
    if j == i + 1 then return "", p end
    return p:sub(1, j - 1), p:sub(j)
  end
  if p:sub(2, 2) == ":" then return p:sub(1, 2), p:sub(3) end
  return "", p
end
local function win_split(p)
  local d, rest = splitdrive(p)
  local i = #rest
  while i > 0 and not rest:sub(i, i):match("[/\\]") do i = i - 1 end
  local head, tail = rest:sub(1, i), rest:sub(i + 1)
  local stripped = head:gsub("[/\\]+$", "")
  if stripped == "" then stripped = head end
  return d .. stripped, tail
end

-- glob: each component with wildcards matched against the directory's names
local function glob(pattern)
  local uv = require "luv"
  local absolute = pattern:sub(1, 1) == "/"
  local comps = {}
  for c in pattern:gmatch("[^/]+") do comps[#comps + 1] = c end
  local current = { absolute and "/" or "" }
  for idx, comp in ipairs(comps) do
    local nxt = {}
    local wild = comp:find("[*?[]") ~= nil
    for _, base in ipairs(current) do
      local prefix = (base == "" and "") or (base == "/" and "/") or (base .. "/")
      if wild then
        local dir = base == "" and "." or base
        -- the directory's own order (readdir, unsorted), as Python's glob
        local d = uv.fs_opendir(dir, nil, 256)
        while d do
          local entries = d:readdir()
          if not entries then break end
          for _, e in ipairs(entries) do
            local name = e.name
            if (name:sub(1, 1) ~= "." or comp:sub(1, 1) == ".") and fnmatch.match(comp, name) then
              nxt[#nxt + 1] = prefix .. name
            end
          end
        end
        if d then d:closedir() end
      else
        local cand = prefix .. comp
        if idx < #comps or uv.fs_lstat(cand) then nxt[#nxt + 1] = cand end
      end
    end
    current = nxt
  end
  return current
end

return function(reg)
  reg.filter("basename", "value", function(v) return path.py_basename(text("basename", v)) end)
  reg.filter("dirname", "value", function(v) return M.dirname(text("dirname", v)) end)
  reg.filter("expanduser", "value", function(v) return M.expanduser(text("expanduser", v)) end)
  reg.filter("expandvars", "value", function(v) return M.expandvars(text("expandvars", v)) end)
  reg.filter("realpath", "value", function(v) return M.realpath(text("realpath", v)) end)
  reg.filter("relpath", "value, start='.'", function(v, start)
    return M.relpath(text("relpath", v), C.text_arg("relpath", "start", start))
  end)
  reg.filter("splitext", "value", function(v)
    local root, ext = M.splitext(text("splitext", v))
    return C.tuple({ root, ext })
  end)
  reg.filter("path_join", "value", function(v)
    local parts
    if type(v) == "string" then parts = { v }
    elseif C.is_list(v) then parts = v
    else C.expects("path_join", "a string or a list", v) end
    if #parts == 0 then C.error("path_join", "join() needs at least one path, got an empty list") end
    local out = ""
    for i, p in ipairs(parts) do
      p = C.text("path_join", p)
      if i == 1 or p:sub(1, 1) == "/" then out = p
      elseif out == "" or out:sub(-1) == "/" then out = out .. p
      else out = out .. "/" .. p end
    end
    return out
  end)
  reg.filter("win_basename", "value", function(v)
    local _, tail = win_split(text("win_basename", v))
    return tail
  end)
  reg.filter("win_dirname", "value", function(v)
    local head = win_split(text("win_dirname", v))
    return head
  end)
  reg.filter("win_splitdrive", "value", function(v)
    local d, rest = splitdrive(text("win_splitdrive", v))
    return C.tuple({ d, rest })
  end)
  reg.filter("fileglob", "value", function(v)
    local uv = require "luv"
    local out = {}
    for _, p in ipairs(glob(text("fileglob", v))) do
      local st = uv.fs_stat(p)
      if st and st.type == "file" then out[#out + 1] = p end
    end
    return out
  end)
end
