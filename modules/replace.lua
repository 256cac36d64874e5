-- replace: every match of a Python regex (MULTILINE, as Ansible's replace)
-- in a file replaced by `replace` (re.subn: \1, \g<name> ...), optionally
-- only in the part after `after` and/or before `before` (regexes too,
-- DOTALL). Reads in one round trip and writes through lineinfile's finish
-- (copy's install).
local M = {
  params = {
    path = { type = "path", required = true, aliases = { "dest", "destfile", "name" } },
    regexp = { type = "string", required = true },
    replace = { type = "string", default = "" },
    after = { type = "string" },
    before = { type = "string" },
    backup = { type = "boolean", default = false },
    validate = { type = "string" },
    encoding = { type = "string", default = "utf-8" },
    mode = { type = "mode" },
    owner = { type = "string" },
    group = { type = "string" },
  },
  check_mode = true,
}

function M.check_args(args, _, checks)
  for _, k in ipairs({ "regexp", "after", "before" }) do
    local ok, err = checks.regex(args[k], k)
    if not ok then return nil, err end
  end
  if args.encoding and not tostring(args.encoding):lower():match("^utf%-?8$") then
    return nil, "argument 'encoding': only utf-8 is supported, got '" .. tostring(args.encoding) .. "'"
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
  if not f.st then return { failed = true, rc = 257, msg = "Path " .. args.path .. " does not exist !" } end
  if f.st.type ~= "file" then return { failed = true, msg = args.path .. " is a " .. f.st.type } end
  local contents = f.text
  local section, s0, s1 = contents, 1, #contents
  local pattern, shown -- shown: the pattern as Ansible's message gives it
  -- \K: the match starts where the subsection does (Python's match.start('subsection'))
  if args.after and args.before then
    pattern = "(?:" .. args.after .. ")\\K(?P<subsection>.*?)(?:" .. args.before .. ")"
    shown = args.after .. "(?P<subsection>.*?)" .. args.before
  elseif args.after then
    pattern = "(?:" .. args.after .. ")\\K(?P<subsection>.*)"
    shown = args.after .. "(?P<subsection>.*)"
  elseif args.before then
    pattern = "(?P<subsection>.*)(?:" .. args.before .. ")"
    shown = "(?P<subsection>.*)" .. args.before
  end
  if pattern then
    local r, perr = ctx.regex.compile(pattern, "s")
    if not r then return { failed = true, msg = perr } end
    local st, _, caps = r:search(contents)
    if not st then
      return { changed = false, rc = 0, msg = "Pattern for before/after params did not match the given file: "
        .. shown }
    end
    section = caps.subsection or ""
    s0, s1 = st, st + #section - 1
  end
  local mre = assert(ctx.regex.compile(args.regexp, "m"))
  local new, n = ctx.regex.subn(mre, section, args.replace, 0)
  if not new then return { failed = true, msg = "replace: " .. tostring(n) } end
  local result = nil
  local msg
  if n > 0 and new ~= section then
    result = contents:sub(1, s0 - 1) .. new .. contents:sub(s1 + 1)
    msg = string.format("%d replacements made", n)
  end
  return li.finish(ctx, args, f, result, msg, { rc = 0 }, { backup_key = "backup_file", header = f.path })
end

return M
