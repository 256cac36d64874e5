-- blockinfile: a block of lines between two marker lines, inserted, updated
-- or removed, as Ansible's blockinfile. insertafter/insertbefore are Python
-- regexes (ctx.regex), searched in each line (the last match wins; a regex
-- with (?m) is searched in the whole text). Reads in one round trip and
-- writes through lineinfile's finish (copy's install).

local function splitlines(text)
  -- bytes.splitlines(True): lines end at \n, \r\n or \r
  local lines, i = {}, 1
  while i <= #text do
    local j = text:find("[\r\n]", i)
    if not j then lines[#lines + 1] = text:sub(i) break end
    if text:sub(j, j + 1) == "\r\n" then j = j + 1 end
    lines[#lines + 1] = text:sub(i, j)
    i = j + 1
  end
  return lines
end

-- how many "\n" in s up to position n
local function newlines(s, n)
  local _, c = s:sub(1, n):gsub("\n", "")
  return c
end

local M = {
  params = {
    path = { type = "path", required = true, aliases = { "dest", "destfile", "name" } },
    state = { type = "string", default = "present", choices = { "present", "absent" } },
    marker = { type = "string", default = "# {mark} ANSIBLE MANAGED BLOCK" },
    block = { type = "string", default = "", aliases = { "content" } },
    insertafter = { type = "string" },
    insertbefore = { type = "string" },
    create = { type = "boolean", default = false },
    backup = { type = "boolean", default = false },
    validate = { type = "string" },
    marker_begin = { type = "string", default = "BEGIN" },
    marker_end = { type = "string", default = "END" },
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
  },
  mutually_exclusive = { { "insertafter", "insertbefore" } },
  check_mode = true,
}

function M.check_args(args, _, checks)
  for _, k in ipairs({ "insertafter", "insertbefore" }) do
    local v = args[k]
    if v and v ~= "EOF" and v ~= "BOF" then
      local ok, err = checks.regex(v, k)
      if not ok then return nil, err end
    end
  end
  return true
end

function M.run(ctx, args)
  local li = assert(ctx:module("lineinfile"))
  local f, err = li.read(ctx, args.path)
  if not f then return { failed = true, msg = err } end
  if f.st and f.st.type == "directory" then
    return { failed = true, rc = 256, msg = "Path " .. args.path .. " is a directory !" }
  end
  if f.st and f.st.type ~= "file" then return { failed = true, msg = args.path .. " is a " .. f.st.type } end
  if not f.st then
    if args.state == "absent" then return { changed = false, msg = "File " .. args.path .. " not present" } end
    if not args.create then return { failed = true, rc = 257, msg = "Path " .. args.path .. " does not exist !" } end
  end
  local original = f.text or ""
  local lines = splitlines(original)
  local after, before = args.insertafter, args.insertbefore
  if not after and not before then after = "EOF" end
  local anchor = after or before
  local insre
  if anchor and not (after == "EOF" or before == "BOF") then insre = assert(ctx.regex.compile(anchor)) end
  local function mark(m) return (args.marker:gsub("{mark}", (m:gsub("%%", "%%%%")))) .. "\n" end
  local m0, m1 = mark(args.marker_begin), mark(args.marker_end)
  local blocklines = {}
  if args.state == "present" and args.block ~= "" then
    local block = args.block
    if block:sub(-1) ~= "\n" then block = block .. "\n" end
    blocklines = splitlines(block)
    table.insert(blocklines, 1, m0)
    blocklines[#blocklines + 1] = m1
  end
  local n0, n1
  for i, l in ipairs(lines) do
    if l == m0 then n0 = i end
    if l == m1 then n1 = i end
  end
  -- n0: where the block goes (1-based)
  if not (n0 and n1) then
    n0 = nil
    if insre then
      if anchor:match("^%(%?[aiLsux]*m") then
        local st, en = insre:search(original)
        if st then n0 = newlines(original, after and en or st - 1) + 1 end
      else
        for i, l in ipairs(lines) do if insre:search(l) then n0 = i end end
      end
      if not n0 then n0 = #lines + 1
      elseif after then n0 = n0 + 1 end
    elseif before then n0 = 1 -- BOF
    else n0 = #lines + 1 end -- EOF
  else
    local a, b = math.min(n0, n1), math.max(n0, n1)
    for _ = a, b do table.remove(lines, a) end
    n0 = a
  end
  if n0 > 1 and lines[n0 - 1] and lines[n0 - 1]:sub(-1) ~= "\n" then lines[n0 - 1] = lines[n0 - 1] .. "\n" end
  for i, l in ipairs(blocklines) do table.insert(lines, n0 + i - 1, l) end
  local result = table.concat(lines)
  local msg
  if f.st and result == original then msg = nil
  elseif not f.st then msg = "File created"
  elseif #blocklines == 0 then msg = "Block removed"
  else msg = "Block inserted" end
  return li.finish(ctx, args, f, msg and result or nil, msg, nil, { backup_key = "backup_file", attr_diff = true })
end

return M
