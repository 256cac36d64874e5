-- lineinfile: make sure a line is (or is not) in a file, as Ansible's
-- lineinfile. `regexp` (alias `regex`), `insertafter` and `insertbefore` are
-- Python regular expressions (ctx.regex: PCRE2 with Python's semantics),
-- searched in each line (re.search, not re.match); the last matching line
-- wins unless `firstmatch`. `backrefs` expands \1, \g<name> of the regexp's
-- match into `line`. One round trip when nothing changes (M.read); writes
-- through copy's install (ctx:module("copy")).
-- M.read and M.finish are what blockinfile, replace and ini_file build on.
local M = {
  params = {
    path = { type = "path", required = true, aliases = { "dest", "destfile", "name" } },
    line = { type = "string", aliases = { "value" } },
    regexp = { type = "string", aliases = { "regex" } },
    search_string = { type = "string" },
    state = { type = "string", default = "present", choices = { "present", "absent" } },
    insertafter = { type = "string" },
    insertbefore = { type = "string" },
    backrefs = { type = "boolean", default = false },
    firstmatch = { type = "boolean", default = false },
    create = { type = "boolean", default = false },
    backup = { type = "boolean", default = false },
    validate = { type = "string" },
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
  },
  mutually_exclusive = { { "insertafter", "insertbefore" }, { "regexp", "search_string" },
    { "backrefs", "search_string" } },
  check_mode = true,
}

function M.check_args(args, _, checks)
  for _, k in ipairs({ "regexp", "insertafter", "insertbefore" }) do
    local v = args[k]
    if v and not (k ~= "regexp" and (v == "EOF" or v == "BOF")) then
      local ok, err = checks.regex(v, k)
      if not ok then return nil, err end
    end
  end
  return true
end

local KINDS = { ["regular file"] = "file", ["regular empty file"] = "file", directory = "directory",
  ["symbolic link"] = "link" }

--- One round trip: follow `path` if it is a link, stat it, and read it when
--- it is a regular file. Returns { path = where it leads, st = { type, mode,
--- owner, group, size, uid, gid } or nil when absent, text = the content or
--- nil }.
function M.read(ctx, path)
  local script = "p=" .. ctx.quote(path) .. "\n"
    .. [[for t in readlink stat cat; do
  command -v "$t" >/dev/null 2>&1 || { echo "the host has no '$t' command (coreutils)" >&2; exit 127; }
done
if [ -L "$p" ]; then r=$(readlink -f -- "$p") && p=$r; fi
printf '%s\n' "$p"
stat -c '%F|%a|%U|%G|%s|%u|%g' -- "$p" 2>/dev/null || exit 0
if [ -f "$p" ]; then cat -- "$p" || exit 3; fi]]
  local res = ctx:run(script)
  if not res.ok then return nil, "cannot read " .. path .. ": " .. ctx.chomp(res.stderr) end
  -- stdout: the path it leads to, the stat line (none: absent), the content
  local real, statline, rest = res.stdout:match("^([^\n]*)\n([^\n]*)\n?(.*)$")
  if not real then real, statline, rest = ctx.chomp(res.stdout), "", "" end
  local t, m, u, g, size, uid, gid = statline:match("^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)$")
  if not t then return { path = real ~= "" and real or path } end
  local st = { type = KINDS[t] or t, mode = m, owner = u, group = g, size = tonumber(size),
    uid = tonumber(uid), gid = tonumber(gid) }
  return { path = real, st = st, text = st.type == "file" and rest or nil }
end

--- A text's lines as Python's readlines gives them: each with its "\n" (the last may lack one).
function M.split(text)
  local lines = {}
  for l in (text or ""):gmatch("[^\n]*\n") do lines[#lines + 1] = l end
  local tail = (text or ""):match("[^\n]+$")
  if tail then lines[#lines + 1] = tail end
  return lines
end

local function rstrip(l) return (l:gsub("[\r\n]+$", "")) end

-- Would mode/owner/group change on the file as it is?
local function attrs_differ(ctx, args, st)
  if not st then return false end
  if args.mode then
    local have = tonumber(st.mode, 8)
    if ctx.mode_bits(args.mode, have) ~= have then return true end
  end
  return not (ctx.owner_is(st, args.owner) and ctx.group_is(st, args.group))
end

local ATTRS = "ownership, perms or SE linux context changed"

-- The diff of a change, in Ansible's shape: the content ("PATH (content)",
-- or opts.header), and with opts.attr_diff (lineinfile and blockinfile, as
-- Ansible's) a list of it and the file attributes ("PATH (file attributes)").
local function diff_of(ctx, args, f, before, after, opts)
  local header = opts.header or (f.path .. " (content)")
  local content = before ~= after and ctx:diff_result(before, after, header)
    or ctx.object({ before = "", after = "", before_header = header, after_header = header })
  if not opts.attr_diff then return content end
  local aheader = f.path .. " (file attributes)"
  local attrs = ctx.object({ before_header = aheader, after_header = aheader })
  if f.st and (args.mode or args.owner or args.group) then
    local b, a = ctx:diff_attrs(nil, f.st, args)
    if next(b) then attrs.before, attrs.after = b, a end
  end
  return { content, attrs }
end

--- Write `new` (the file's new content, or nil: unchanged) at f.path with
--- args' backup/mode/owner/group/validate, honouring check mode; the result
--- as Ansible's file modules give it: changed, msg (`msg`, and the attribute
--- message when only those change), the backup, diff when ctx.diff is set.
--- Missing parent folders are created. opts: backup_key ("backup": always
--- there, "" when none; "backup_file": only when one was made), header (the
--- diff's headers; default "PATH (content)").
function M.finish(ctx, args, f, new, msg, extra, opts)
  opts = opts or {}
  local result = extra or {}
  local old = f.text or ""
  local content_changed = new ~= nil and (new ~= old or not f.st)
  local attr_changed = attrs_differ(ctx, args, f.st)
  local bkey = opts.backup_key or "backup"
  result.changed = content_changed or attr_changed
  if bkey == "backup" then result.backup = "" end
  if ctx.diff and result.changed then
    result.diff = diff_of(ctx, args, f, old, content_changed and new or old, opts)
  end
  if content_changed then result.msg = msg
  elseif attr_changed then result.msg = ATTRS
  else result.msg = msg or "" end
  if content_changed and attr_changed then result.msg = msg .. " and " .. ATTRS end
  if not result.changed then return result end
  if ctx.check_mode then
    result.msg = "would be: " .. result.msg
    return result
  end
  local dir = ctx.path.py_dirname(f.path)
  if not f.st and dir ~= "" then
    local res = ctx:run({ "mkdir", "-p", "--", dir })
    if not res.ok then return { failed = true, msg = "cannot create " .. dir .. ": " .. ctx.chomp(res.stderr) } end
  end
  if content_changed and args.validate then
    local ok, err = M.validate(ctx, args.validate, new, dir)
    if not ok then return { failed = true, changed = false, msg = err } end
  end
  local res = ctx:module("copy").install(ctx, content_changed and new or old, { dest = f.path,
    backup = args.backup, mode = args.mode, owner = args.owner, group = args.group, force = true })
  if res.failed then return { failed = true, changed = false, msg = res.msg } end
  if res.backup_file or bkey == "backup" then result[bkey] = res.backup_file or "" end
  return result
end

--- Run `cmd` (with %s: a temporary copy of `content` in `dir`) before the
--- file is written, as Ansible's validate. true, or nil, err.
function M.validate(ctx, cmd, content, dir)
  if not cmd:find("%s", 1, true) then return nil, "validate must contain %s: " .. cmd end
  local tag = ctx.sha256(content .. os.time() .. math.random(1 << 30)):sub(1, 12)
  local tmp = (dir ~= "" and dir or ".") .. "/.luasible-validate-" .. tag
  local ok, err = ctx:write(content, tmp, "0600")
  if not ok then return nil, "validate: cannot write " .. tmp .. ": " .. tostring(err) end
  local res = ctx:run(cmd:gsub("%%s", (ctx.quote(tmp):gsub("%%", "%%%%"))) .. "; rc=$?; rm -f -- " .. ctx.quote(tmp)
    .. "; exit $rc")
  if not res.ok then
    return nil, string.format("failed to validate: rc:%s error:%s", tostring(res.rc), ctx.chomp(res.stderr))
  end
  return true
end

local function present(ctx, args, f)
  local lines = M.split(f.text)
  local rx = args.regexp and assert(ctx.regex.compile(args.regexp))
  local after, before = args.insertafter, args.insertbefore
  if not after and not before then after = "EOF" end
  local anchor = after ~= nil and after or before
  local ins = anchor ~= "EOF" and anchor ~= "BOF" and assert(ctx.regex.compile(anchor)) or nil
  local found, pos, match = nil, nil, nil
  for i, l in ipairs(lines) do
    local hit
    if rx then
      local st, en, caps = rx:search(l)
      hit = st and { l, st, en, caps }
    elseif args.search_string then
      hit = l:find(args.search_string, 1, true) and true
    end
    if hit then
      found, match = i, hit
      if args.firstmatch then break end
    end
  end
  if not match then
    for i, l in ipairs(lines) do
      if rstrip(l) == args.line then found = i
      elseif ins and ins:search(l) then
        pos = after and i + 1 or i
        if args.firstmatch then break end
      end
    end
  end
  local line, msg = args.line, nil
  if found then
    local new = line
    if args.backrefs and type(match) == "table" then
      local err
      new, err = ctx.regex.expand(line, match[1], match[2], match[3], match[4])
      if not new then return { failed = true, msg = "line: " .. err } end
    end
    if new:sub(-1) ~= "\n" then new = new .. "\n" end
    if lines[found] ~= new then lines[found], msg = new, "line replaced" end
  elseif args.backrefs then
    msg = nil -- the regexp matches nothing: the file is left as it is
  elseif after == "BOF" or before == "BOF" then
    table.insert(lines, 1, line .. "\n")
    msg = "line added"
  else
    if #lines > 0 and not lines[#lines]:match("[\r\n]$") and (after == "EOF" or not pos or pos == #lines + 1) then
      lines[#lines] = lines[#lines] .. "\n"
    end
    if after == "EOF" or not pos then
      lines[#lines + 1] = line .. "\n"
      msg = "line added"
    elseif after then
      if pos == #lines + 1 then
        if rstrip(lines[pos - 1]) ~= line then lines[pos], msg = line .. "\n", "line added" end
      elseif rstrip(lines[pos]) ~= line then
        table.insert(lines, pos, line .. "\n")
        msg = "line added"
      end
    else
      table.insert(lines, pos, line .. "\n")
      msg = "line added"
    end
  end
  return M.finish(ctx, args, f, msg and table.concat(lines) or nil, msg, nil, { attr_diff = true })
end

local function absent(ctx, args, f)
  local rx = args.regexp and assert(ctx.regex.compile(args.regexp))
  local kept, n = {}, 0
  for _, l in ipairs(M.split(f.text)) do
    local hit
    if rx then hit = rx:search(l) ~= nil
    elseif args.search_string then hit = l:find(args.search_string, 1, true) ~= nil
    else hit = rstrip(l) == args.line end
    if hit then n = n + 1 else kept[#kept + 1] = l end
  end
  local msg = n > 0 and string.format("%d line(s) removed", n) or nil
  return M.finish(ctx, args, f, n > 0 and table.concat(kept) or nil, msg, { found = n }, { attr_diff = true })
end

function M.run(ctx, args)
  if args.state == "present" then
    if args.backrefs and not args.regexp then
      return { failed = true, msg = "regexp is required with backrefs=true" }
    end
    if args.line == nil then return { failed = true, msg = "line is required with state=present" } end
  elseif not (args.line or args.regexp or args.search_string) then
    return { failed = true, msg = "one of line, search_string, or regexp is required with state=absent" }
  end
  local f, err = M.read(ctx, args.path)
  if not f then return { failed = true, msg = err } end
  if f.st and f.st.type == "directory" then
    return { failed = true, rc = 256, msg = "Path " .. args.path .. " is a directory !" }
  end
  if f.st and f.st.type ~= "file" then return { failed = true, msg = args.path .. " is a " .. f.st.type } end
  if args.state == "absent" then
    if not f.st then return { changed = false, msg = "file not present" } end
    return absent(ctx, args, f)
  end
  if not f.st and not args.create then
    return { failed = true, rc = 257, msg = "Destination " .. args.path .. " does not exist !" }
  end
  return present(ctx, args, f)
end

return M
