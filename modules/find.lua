-- find: files of the host chosen by name (glob, or Python regex with
-- use_regex), age, size, content and type, as Ansible's find, with its
-- result (files: each with Ansible's stat fields, matched, examined,
-- skipped_paths, msg). One round trip: GNU find lists every entry with its
-- stat fields; the filters run here. `contains` and `get_checksum` add one
-- round trip for the files that are left.

local M = {
  params = {
    paths = { type = "list", required = true, aliases = { "name", "path" } },
    patterns = { type = "list", default = {}, aliases = { "pattern" } },
    excludes = { type = "list", aliases = { "exclude" } },
    contains = { type = "string" },
    read_whole_file = { type = "boolean", default = false },
    file_type = { type = "string", default = "file", choices = { "any", "directory", "file", "link" } },
    age = { type = "string" },
    age_stamp = { type = "string", default = "mtime", choices = { "atime", "ctime", "mtime" } },
    size = { type = "string" },
    recurse = { type = "boolean", default = false },
    hidden = { type = "boolean", default = false },
    follow = { type = "boolean", default = false },
    get_checksum = { type = "boolean", default = false },
    use_regex = { type = "boolean", default = false },
    depth = { type = "integer" },
  },
  check_mode = true,
}

local AGE = { s = 1, m = 60, h = 3600, d = 86400, w = 604800 }
local SIZE = { b = 1, k = 1024, m = 1024 ^ 2, g = 1024 ^ 3, t = 1024 ^ 4 }

local function amount(v, units)
  if v == nil then return nil end
  local n, u = tostring(v):lower():match("^(%-?%d+)([a-z]?)$")
  if not n or (u ~= "" and not units[u]) then return false end
  return math.tointeger(tonumber(n) * (units[u] or 1))
end

--- fnmatch.translate: a glob as a regex for fullmatch (also unarchive's exclude)
local function glob_regex(g)
  local out, i = {}, 1
  while i <= #g do
    local c = g:sub(i, i)
    if c == "*" then out[#out + 1] = ".*"
    elseif c == "?" then out[#out + 1] = "."
    elseif c == "[" then
      local j = i + 1
      if g:sub(j, j) == "!" or g:sub(j, j) == "]" then j = j + 1 end
      if g:sub(j, j) == "]" then j = j + 1 end
      local close = g:find("]", j, true)
      if not close then out[#out + 1] = "\\["
      else
        local set = g:sub(i + 1, close - 1):gsub("\\", "\\\\")
        if set:sub(1, 1) == "!" then set = "^" .. set:sub(2) elseif set:sub(1, 1) == "^" then set = "\\" .. set end
        out[#out + 1] = "[" .. set .. "]"
        i = close
      end
    elseif c:match("[%w_]") or c:byte() >= 128 then out[#out + 1] = c
    else out[#out + 1] = "\\" .. c end
    i = i + 1
  end
  return "(?s:" .. table.concat(out) .. ")"
end

M.glob_regex = glob_regex

function M.check_args(args, _, checks)
  if args.use_regex then
    for _, k in ipairs({ "patterns", "excludes" }) do
      for _, p in ipairs(type(args[k]) == "table" and args[k] or {}) do
        local ok, err = checks.regex(p, k)
        if not ok then return nil, err end
      end
    end
  end
  local ok, err = checks.regex(args.contains, "contains")
  if not ok then return nil, err end
  if amount(args.age, AGE) == false then return nil, "argument 'age': failed to process age '" .. args.age .. "'" end
  if amount(args.size, SIZE) == false then
    return nil, "argument 'size': failed to process size '" .. args.size .. "'"
  end
  return true
end

local FMT = [['%y|%Y|%m|%U|%G|%u|%g|%s|%i|%D|%n|%A@|%T@|%C@|%d|%p\0']]
local KIND = { f = 0x8000, d = 0x4000, l = 0xA000, c = 0x2000, b = 0x6000, p = 0x1000, s = 0xC000 }

local function normpath(p)
  p = p:gsub("/+", "/"):gsub("/%./", "/"):gsub("/%.$", "")
  return p
end

-- Ansible's statinfo from one record of FMT
local function statinfo(t)
  local m = tonumber(t[3], 8) or 0
  local ft = KIND[t[1]] or 0
  return {
    mode = string.format("%04o", m),
    isdir = ft == 0x4000, ischr = ft == 0x2000, isblk = ft == 0x6000, isreg = ft == 0x8000,
    isfifo = ft == 0x1000, islnk = ft == 0xA000, issock = ft == 0xC000,
    uid = tonumber(t[4]), gid = tonumber(t[5]), size = tonumber(t[8]), inode = tonumber(t[9]),
    dev = tonumber(t[10]), nlink = tonumber(t[11]),
    atime = tonumber(t[12]), mtime = tonumber(t[13]), ctime = tonumber(t[14]),
    pw_name = t[6] ~= "UNKNOWN" and t[6] or "", gr_name = t[7] ~= "UNKNOWN" and t[7] or "",
    wusr = m & 128 ~= 0, rusr = m & 256 ~= 0, xusr = m & 64 ~= 0,
    wgrp = m & 16 ~= 0, rgrp = m & 32 ~= 0, xgrp = m & 8 ~= 0,
    woth = m & 2 ~= 0, roth = m & 4 ~= 0, xoth = m & 1 ~= 0,
    isuid = m & 2048 ~= 0, isgid = m & 1024 ~= 0,
  }
end

-- The entries below `root` in os.walk's order: per folder its non-folders,
-- then its folders (links to folders among them), then each folder's own.
local function walk_order(root, entries)
  local kids = {}
  for _, e in ipairs(entries) do
    local parent = e.path:match("^(.*)/[^/]*$") or ""
    kids[parent] = kids[parent] or {}
    table.insert(kids[parent], e)
  end
  local out = {}
  local function walk(dir)
    local list = kids[dir] or {}
    local dirs = {}
    for _, e in ipairs(list) do if e.target ~= "d" then out[#out + 1] = e end end
    for _, e in ipairs(list) do if e.target == "d" then out[#out + 1] = e; dirs[#dirs + 1] = e end end
    for _, e in ipairs(dirs) do if e.descend then walk(e.path) end end
  end
  walk(root)
  return out
end

function M.run(ctx, args)
  local q = ctx.quote
  local age, size = amount(args.age, AGE), amount(args.size, SIZE)
  local patterns = args.patterns
  if #patterns == 0 then patterns = { args.use_regex and ".*" or "*" } end
  local function compile(list, glob)
    local out = {}
    for i, p in ipairs(list or {}) do out[i] = assert(ctx.regex.compile(glob and glob_regex(p) or p)) end
    return out
  end
  local pats = compile(patterns, not args.use_regex)
  local excl = compile(args.excludes, not args.use_regex)
  local function test(r, name)
    if args.use_regex then return r:match(name) ~= nil end
    return r:fullmatch(name) ~= nil
  end
  local function pfilter(name)
    for _, r in ipairs(pats) do
      if test(r, name) then
        for _, e in ipairs(excl) do if test(e, name) then return false end end
        return true
      end
    end
    return false
  end
  local depth = args.depth and args.depth > 0 and args.depth or nil
  -- one level more than is kept: os.walk counts (examined) the entries of the last folders it opens
  local maxdepth = not args.recurse and 1 or (depth and depth + 1) or nil
  local script = {
    [[command -v find >/dev/null 2>&1 || { echo "the host has no 'find' command (findutils)" >&2; exit 127; }]],
    [[printf 'N|%s\0' "$(date +%s.%N)"]] }
  for _, p in ipairs(args.paths) do
    script[#script + 1] = "p=" .. q(p) .. "\n" .. [[if [ -d "$p" ]; then printf 'R|%s\0' "$p"; find ]]
      .. (args.follow and "-L " or "-H ") .. [["$p" -mindepth 1 ]]
      .. (maxdepth and ("-maxdepth " .. maxdepth .. " ") or "")
      .. "-printf " .. FMT .. [[ 2>/dev/null; else printf 'X|%s\0' "$p"; fi]]
  end
  local res = ctx:run(table.concat(script, "\n"))
  if not res.ok then return { failed = true, msg = ctx.chomp(res.stderr) } end
  local now, files, skipped, looked = os.time(), {}, ctx.object(), 0
  local warnings = {}
  local roots, cur = {}, nil
  for rec in res.stdout:gmatch("([^%z]*)%z") do
    local tag, rest = rec:match("^(%a)|(.*)$")
    if tag == "N" then now = tonumber(rest) or now
    elseif tag == "R" then cur = { root = rest, entries = {} }; roots[#roots + 1] = cur
    elseif tag == "X" then
      skipped[rest] = "'" .. rest .. "' is not a directory"
      warnings[#warnings + 1] = "Skipped '" .. rest .. "' path due to this access issue: " .. skipped[rest] .. "\n"
    elseif cur then
      local t = {}
      for x in rec:gmatch("([^|]*)|") do t[#t + 1] = x; if #t == 15 then break end end
      t[16] = rec:match("^" .. ("[^|]*|"):rep(15) .. "(.*)$")
      local d = tonumber(t[15])
      cur.entries[#cur.entries + 1] = { t = t, path = t[16], target = t[2], depth = d,
        descend = t[2] == "d" and (args.follow or t[1] == "d") }
    end
  end
  local candidates = {}
  for _, r in ipairs(roots) do
    local base = r.root:gsub("/+$", "")
    for _, e in ipairs(walk_order(base == "" and "/" or base, r.entries)) do
      looked = looked + 1
      local name = e.path:match("([^/]*)$")
      local t = e.t
      if not (depth and e.depth > depth) and (args.hidden or name:sub(1, 1) ~= ".") then
        local st = statinfo(t)
        local ts = ({ atime = st.atime, mtime = st.mtime, ctime = st.ctime })[args.age_stamp]
        local age_ok = age == nil or (age >= 0 and now - ts >= age) or (age < 0 and now - ts <= -age)
        local size_ok = size == nil or (size >= 0 and st.size >= size) or (size < 0 and st.size <= -size)
        local ft, keep = args.file_type, false
        if ft == "any" then keep = pfilter(name) and age_ok and (not st.isreg or size_ok)
        elseif ft == "directory" then keep = st.isdir and pfilter(name) and age_ok
        elseif ft == "file" then keep = st.isreg and pfilter(name) and age_ok and size_ok
        elseif ft == "link" then keep = st.islnk and pfilter(name) and age_ok end
        if keep then
          st.path = normpath(e.path)
          candidates[#candidates + 1] = st
        end
      end
    end
  end
  local extra = M.contents_and_sums(ctx, args, candidates)
  if extra.failed then return extra end
  for _, st in ipairs(candidates) do
    if not extra.drop[st] then files[#files + 1] = st end
  end
  local msg = #warnings > 0 and "Not all paths examined, check warnings for details" or "All paths examined"
  return { changed = false, files = files, matched = #files, examined = looked, skipped_paths = skipped,
    msg = msg, warnings = #warnings > 0 and warnings or nil }
end

--- The second round trip, only with contains (file_type file) or get_checksum: each
--- candidate regular file's content (for contains) or sha1. Returns { drop = { [st] = true } }.
function M.contents_and_sums(ctx, args, list)
  local drop = {}
  local want_content = args.contains and args.file_type == "file"
  local regs = {}
  for _, st in ipairs(list) do if st.isreg then regs[#regs + 1] = st end end
  if #regs == 0 or not (want_content or args.get_checksum) then return { drop = drop } end
  local s = {}
  for _, st in ipairs(regs) do
    local p = ctx.quote(st.path)
    s[#s + 1] = "printf '\\0F\\0'"
    if args.get_checksum then s[#s + 1] = "sha1sum < " .. p .. " 2>/dev/null | cut -d' ' -f1" end
    if want_content then s[#s + 1] = "printf '\\0'; cat -- " .. p .. " 2>/dev/null" end
  end
  local res = ctx:run(table.concat(s, "\n"))
  -- split by the markers (a file's content may hold anything but the exact marker)
  local parts = {}
  local pos = 1
  local out = res.stdout
  while true do
    local a = out:find("\0F\0", pos, true)
    if not a then break end
    local b = out:find("\0F\0", a + 3, true) or #out + 1
    parts[#parts + 1] = out:sub(a + 3, b - 1)
    pos = b
  end
  local rx = want_content and assert(ctx.regex.compile(args.contains))
  for i, st in ipairs(regs) do
    local part = parts[i] or ""
    local sum, body = part, nil
    if want_content then sum, body = part:match("^([^%z]*)%z(.*)$") end
    if args.get_checksum then st.checksum = ctx.chomp(sum or "") end
    if want_content then
      local hit = false
      if body and args.read_whole_file then hit = rx:search(body) ~= nil
      elseif body then
        for line in body:gmatch("[^\n]*\n?") do
          if line ~= "" and rx:match(line) then hit = true break end
        end
      end
      if not hit then drop[st] = true end
    end
  end
  return { drop = drop }
end

return M
