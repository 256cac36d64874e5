-- lineinfile: make sure a line is (or is not) in a file. `regexp` is a Lua
-- pattern selecting the line to replace (or remove); insertafter/insertbefore
-- are Lua patterns or EOF/BOF. Writes through copy's install (ctx:module("copy")).
-- In diff mode, the result's diff is Ansible's lineinfile's: the content
-- ("PATH (content)") and the file attributes ("PATH (file attributes)").

-- The diff of a lineinfile task (nil when not in diff mode).
local function diff_of(ctx, path, st, before, after, args)
  if not ctx.diff then return nil end
  local aheader = path .. " (file attributes)"
  local attrs = ctx.object({ before_header = aheader, after_header = aheader })
  if st and (args.mode or args.owner or args.group) then
    local b, a = ctx:diff_attrs(nil, st, args)
    if next(b) then attrs.before, attrs.after = b, a end
  end
  local cheader = path .. " (content)"
  local content = before ~= after and ctx:diff_result(before, after, cheader)
    or ctx.object({ before = "", after = "", before_header = cheader, after_header = cheader })
  return { content, attrs }
end

return {
  params = {
    path = { type = "path", required = true, aliases = { "dest", "name" } },
    line = { type = "string" },
    regexp = { type = "string" },
    state = { type = "string", default = "present", choices = { "present", "absent" } },
    insertafter = { type = "string" },
    insertbefore = { type = "string" },
    create = { type = "boolean", default = false },
    backup = { type = "boolean", default = false },
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
  },
  mutually_exclusive = { { "insertafter", "insertbefore" } },
  check_args = function(args, _, checks)
    for _, k in ipairs({ "regexp", "insertafter", "insertbefore" }) do
      local v = args[k]
      if v and not (k ~= "regexp" and (v == "EOF" or v == "BOF")) then
        local ok, err = checks.lua_pattern(v, k)
        if not ok then return nil, err end
      end
    end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local copy = assert(ctx:module("copy"))
    if args.state == "present" and args.line == nil then return { failed = true, msg = "state=present needs line" } end
    if args.state == "absent" and not (args.line or args.regexp) then
      return { failed = true, msg = "state=absent needs line or regexp" }
    end
    local path = args.path
    local st = ctx:stat(path)
    if st and st.type == "link" then -- follow it, as Ansible does
      path = ctx:realpath(path) or path
      st = ctx:stat(path)
    end
    if not st then
      if args.state == "absent" then return { changed = false, msg = "file does not exist" } end
      if not args.create then
        return { failed = true, msg = args.path .. " does not exist (create=true to create it)" }
      end
    elseif st.type ~= "file" then
      return { failed = true, msg = path .. " is a " .. st.type }
    end
    local text = st and ctx:run({ "cat", "--", path }).stdout or ""
    local lines = {}
    for l in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
    local tail = text:match("([^\n]+)$")
    if tail then lines[#lines + 1] = tail end
    local function matches(l)
      if args.regexp then return l:find(args.regexp) ~= nil end
      return l == args.line
    end
    local changed, msg = false, nil
    if args.state == "absent" then
      local kept = {}
      for _, l in ipairs(lines) do if not matches(l) then kept[#kept + 1] = l end end
      changed = #kept ~= #lines
      msg = changed and string.format("%d line(s) removed", #lines - #kept) or nil
      lines = kept
    else
      local found
      for i = #lines, 1, -1 do if matches(lines[i]) then found = i break end end
      if not found and args.regexp then
        for i = #lines, 1, -1 do if lines[i] == args.line then found = -1 break end end
      end
      if found and found > 0 then
        if lines[found] ~= args.line then lines[found] = args.line; changed, msg = true, "line replaced" end
      elseif not found then
        local pos = #lines + 1
        local anchor = args.insertafter or args.insertbefore
        if anchor == "BOF" then pos = 1
        elseif anchor and anchor ~= "EOF" then
          for i = #lines, 1, -1 do
            if lines[i]:find(anchor) then pos = args.insertafter and i + 1 or i break end
          end
        end
        table.insert(lines, pos, args.line)
        changed, msg = true, "line added"
      end
    end
    if not changed then
      if not (st and (args.mode or args.owner or args.group)) then return { changed = false } end
      -- the line is right: only mode/owner/group may need changing (the content stays as it is)
      local res = copy.install(ctx, text, { dest = path, mode = args.mode, owner = args.owner,
        group = args.group, force = true, diff = false })
      return { changed = res.changed, failed = res.failed, msg = res.msg,
        diff = res.changed and diff_of(ctx, path, st, text, text, args) or nil }
    end
    local new = table.concat(lines, "\n") .. (#lines > 0 and "\n" or "")
    local res = copy.install(ctx, new, { dest = path, backup = args.backup, mode = args.mode, force = true,
      owner = args.owner, group = args.group, diff = false })
    if not res.failed then res.diff = diff_of(ctx, path, st, text, new, args) end
    res.msg = res.failed and res.msg or (ctx.check_mode and ("would be: " .. msg) or msg)
    return res
  end,
}
