-- ini_file: an option of a section of an INI file set, added or removed (or
-- a whole section), as community.general's ini_file. Reads in one round
-- trip and writes through lineinfile's finish (copy's install).
--
-- The file is taken as lines; a section runs from its `[name]` line to the
-- next line starting with `[`; options before the first section belong to
-- `section = null`. An option line is `[#;]? option (=|end) value`; with
-- modify_inactive_option (default) a commented `# option = x` is taken over.

local M = {
  params = {
    path = { type = "path", required = true, aliases = { "dest" } },
    section = { type = "string" },
    option = { type = "string", aliases = { "key" } },
    value = { type = "string" },
    values = { type = "list" },
    state = { type = "string", default = "present", choices = { "present", "absent" } },
    exclusive = { type = "boolean", default = true },
    backup = { type = "boolean", default = false },
    no_extra_spaces = { type = "boolean", default = false },
    ignore_spaces = { type = "boolean", default = false },
    allow_no_value = { type = "boolean", default = false },
    modify_inactive_option = { type = "boolean", default = true },
    create = { type = "boolean", default = true },
    follow = { type = "boolean", default = false },
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
  },
  mutually_exclusive = { { "value", "values" } },
  check_mode = true,
}

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
local function esc(s) return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

-- The option's parts in a line: comment marker ("" when active), value (nil when
-- the option has none), or nil when the line is not that option.
local function opt(option, line)
  local body = line:gsub("\n$", "")
  local c, rest = body:match("^[ \t]*([#;]?)[ \t]*" .. esc(option) .. "(.*)$")
  if not c then return nil end
  if rest == "" or rest:match("^[ \t]*$") then return c, "" end
  local v = rest:match("^[ \t]*=[ \t]*(.*)$")
  if not v then return nil end
  return c, v
end

local function contains(list, v)
  for i, x in ipairs(list) do if x == v then return i end end
end

function M.run(ctx, args)
  local li = assert(ctx:module("lineinfile"))
  local values = args.values and { table.unpack(args.values) } or {}
  if args.value ~= nil then values = { args.value } end
  for i, v in ipairs(values) do values[i] = ctx.tostring(v) end
  local option, state = args.option, args.state
  if state == "present" and option and not args.allow_no_value and #values == 0 then
    return { failed = true, msg = "Parameter 'value(s)' must be defined if state=present and allow_no_value=False." }
  end
  local f, err = li.read(ctx, args.path)
  if not f then return { failed = true, msg = err } end
  if f.st and f.st.type ~= "file" then return { failed = true, msg = args.path .. " is a " .. f.st.type } end
  if not f.st and not args.create then
    return { failed = true, rc = 257, msg = "Destination " .. args.path .. " does not exist!" }
  end
  if not f.st and state == "absent" then return { changed = false, msg = "OK", path = args.path } end
  if not args.follow then f.path = args.path end -- a link is replaced by a file, as Ansible's follow=false
  local text = (f.text or ""):gsub("^\239\187\191", "") -- utf-8-sig
  local lines = li.split(text)
  local changed = false
  if #lines > 0 and lines[#lines]:sub(-1) ~= "\n" then lines[#lines] = lines[#lines] .. "\n"; changed = true end
  local fmt = args.no_extra_spaces and "%s=%s\n" or "%s = %s\n"
  local msg = "OK"
  -- the section: lines[s0] is its header (0: the options before any section), s1 the line after it
  local s0, s1 = nil, #lines + 1
  if not args.section then s0 = 0 end
  for i, l in ipairs(lines) do
    if s0 and l:sub(1, 1) == "[" then s1 = i break end
    if not s0 and trim(l):match("^%[%s*" .. esc(trim(args.section)) .. "%s*%]") then s0 = i end
  end
  local found = s0 ~= nil
  s0 = s0 or #lines + 1
  local sec = {}
  for i = s0 + 1, s1 - 1 do sec[#sec + 1] = lines[i] end
  local done = {}
  local function set(i, new)
    local same = sec[i] == new
    if args.ignore_spaces then
      local c, v = opt(option, sec[i])
      local _, nv = opt(option, new)
      if c == "" then same = v == nv end
    end
    if not same then sec[i], changed, msg = new, true, "option changed" end
    done[i] = true
  end
  local function any(l)
    local c = opt(option, l)
    return c and (c == "" or args.modify_inactive_option)
  end
  local function active(l) return opt(option, l) == "" end
  local no_value_there = false
  if found and state == "present" and option then
    for i, l in ipairs(sec) do
      if any(l) then
        local _, v = opt(option, l)
        local k = contains(values, v)
        if k then
          if v == "" and args.allow_no_value then set(i, option .. "\n"); no_value_there = true
          else set(i, fmt:format(option, v)) end
          table.remove(values, k)
        elseif #values == 0 and args.allow_no_value then
          set(i, option .. "\n"); no_value_there = true
          break
        end
      end
    end
    if args.exclusive and not args.allow_no_value then
      for i, l in ipairs(sec) do
        if #values == 0 then break end
        if not done[i] and any(l) then set(i, fmt:format(option, table.remove(values, 1))) end
      end
      for i = #sec, 1, -1 do
        if not done[i] and active(sec[i]) then table.remove(sec, i); changed, msg = true, "option changed" end
      end
    end
    -- what is left goes after the section's last line that is not blank nor a comment
    local at = 1
    for i = #sec, 1, -1 do
      if not sec[i]:match("^[ \t]*\n?$") and not sec[i]:match("^[ \t]*[#;]") then at = i + 1 break end
    end
    local add = {}
    for _, v in ipairs(values) do add[#add + 1] = fmt:format(option, v) end
    if #values == 0 and args.allow_no_value and not no_value_there then add[1] = option .. "\n" end
    for k = #add, 1, -1 do table.insert(sec, at, add[k]); changed, msg = true, "option added" end
  elseif found and state == "absent" then
    local keep = {}
    for _, l in ipairs(sec) do
      if option then
        local hit = active(l)
        if hit and not args.exclusive and #values > 0 then hit = contains(values, select(2, opt(option, l))) ~= nil end
        if not hit then keep[#keep + 1] = l end
      end
    end
    if option and #keep ~= #sec then changed, msg = true, "option changed" end
    if not option then changed, msg = true, "section removed" end
    sec = keep
  end
  local out = {}
  for i = 1, s0 - 1 do out[#out + 1] = lines[i] end
  if found and not (state == "absent" and not option) and s0 > 0 then out[#out + 1] = lines[s0] end
  for _, l in ipairs(sec) do out[#out + 1] = l end
  for i = s1, #lines do out[#out + 1] = lines[i] end
  if not found and state == "present" then
    out[#out + 1] = "[" .. args.section .. "]\n"
    msg = "section and option added"
    if option and #values > 0 then
      for _, v in ipairs(values) do out[#out + 1] = fmt:format(option, v) end
    elseif option and args.allow_no_value then out[#out + 1] = option .. "\n"
    else msg = "only section added" end
    changed = true
  end
  local new = table.concat(out)
  if not changed and f.st then new = nil end
  local res = li.finish(ctx, { mode = args.mode, owner = args.owner, group = args.group, backup = args.backup },
    f, new, msg, { path = args.path }, { backup_key = "backup_file" })
  if not res.failed and not res.changed then res.msg = "OK" end
  return res
end

return M
