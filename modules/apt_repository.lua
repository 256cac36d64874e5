-- apt_repository: a one-line apt source (`deb [signed-by=...] URL suite
-- comps`) present in, or absent from, the host's sources (sources.list and
-- sources.list.d/*.list), as Ansible's module reads and writes them: one
-- probe reads every file, the lines are compared in Ansible's normal form
-- (split on blanks and joined by one space; `# ` for a disabled line), and
-- only the files whose text changes are written (atomically), then
-- `apt-get update` (streamed) when asked.
local M = {
  params = {
    repo = { type = "string", required = true },
    state = { type = "string", default = "present", choices = { "absent", "present" } },
    mode = { type = "mode" },
    update_cache = { type = "boolean", default = true, aliases = { "update-cache" } },
    update_cache_retries = { type = "integer", default = 5 },
    update_cache_retry_max_delay = { type = "integer", default = 12 },
    filename = { type = "string" },
    install_python_apt = { type = "boolean", default = true }, -- nothing to install: luasible needs no python-apt
    validate_certs = { type = "boolean", default = true },     -- Ansible's: for the Launchpad lookup of a ppa
    codename = { type = "string" },
    env = { type = "dict" }, -- the task's `environment:` (a proxy for apt-get update)
  },
  check_mode = true,
}

local TYPES = { deb = true, ["deb-src"] = true }

local function strip(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
local function words(s)
  local out = {}
  for w in s:gmatch("%S+") do out[#out + 1] = w end
  return out
end

-- a line as Ansible's SourcesList._parse reads it: valid, enabled, source, comment
local function parse(line)
  local enabled, comment = true, ""
  line = strip(line)
  if line:sub(1, 1) == "#" then enabled, line = false, line:sub(2) end
  local i = line:find("#", 2, true)
  if i then comment, line = strip(line:sub(i + 1)), line:sub(1, i - 1) end
  local source = strip(line)
  local valid = false
  if source ~= "" then
    local w = words(source)
    if TYPES[w[1]] then valid, source = true, table.concat(w, " ") end
  end
  return valid, enabled, source, comment
end

local function load(text)
  local lines = {}
  for l in text:gmatch("[^\n]*\n") do lines[#lines + 1] = l end
  local tail = text:match("[^\n]+$")
  if tail then lines[#lines + 1] = tail end
  local group = {}
  for i, l in ipairs(lines) do
    local valid, enabled, source, comment = parse(l)
    group[i] = { valid = valid, enabled = enabled, source = source, comment = comment }
  end
  return group
end

-- a file's text as Ansible writes it (nil: no lines, the file goes)
local function dump(group)
  if #group == 0 then return nil end
  local out = {}
  for i, e in ipairs(group) do
    out[i] = (e.enabled and "" or "# ") .. e.source .. (e.comment ~= "" and (" # " .. e.comment) or "") .. "\n"
  end
  return table.concat(out)
end

-- the file of a new source, as Ansible's _suggest_filename names it:
-- options and scheme dropped, then user:password@, the first word left
-- (the host and path) with every run of other characters made one `_`
local function suggest(line, filename)
  if filename then return filename .. ".list" end
  line = line:gsub("%[[^%]]+%]", ""):gsub("[%w_]+://", "")
  local parts = {}
  for _, w in ipairs(words(line)) do if not TYPES[w] then parts[#parts + 1] = w end end
  local first = (parts[1] or ""):gsub("^[^@]*@", "")
  return table.concat(words((first:gsub("[^%w]", " "))), "_") .. ".list"
end
M.suggest_filename = suggest

local PROBE = [[
command -v apt-config >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 || { echo @@NOAPT; exit 0; }
ID= VERSION_CODENAME=; [ -r /etc/os-release ] && . /etc/os-release
printf '@@OS %s %s\n' "$ID" "$VERSION_CODENAME"
SL= SP=; eval "$(apt-config shell SL Dir::Etc::sourcelist/f SP Dir::Etc::sourceparts/d)"
printf '@@SP %s\n' "${SP:-/etc/apt/sources.list.d/}"
for f in "${SL:-/etc/apt/sources.list}" "${SP:-/etc/apt/sources.list.d/}"*.list; do
  [ -f "$f" ] || continue; printf '@@F %s\n' "$f"; cat -- "$f"; printf '\n@@E\n'
done
]]

-- the shell lines writing stdin to `file` atomically (an existing file's
-- mode kept, a new one's `mode`); the text goes on stdin, never on a
-- command line (a source's URL may hold a password)
local function writer(q, file, mode)
  local dir, base = file:match("^(.*)/([^/]+)$")
  return "set -e; mkdir -p -- " .. q(dir) .. " && t=$(mktemp " .. q(dir .. "/." .. base .. "-XXXXXX") .. ") && cat"
    .. " > \"$t\" && { if [ -e " .. q(file) .. " ]; then chmod --reference=" .. q(file)
    .. " \"$t\"; else chmod 0644 \"$t\"; fi; } && mv -f -- \"$t\" " .. q(file)
    .. (mode and (" && chmod " .. q(mode) .. " " .. q(file)) or "")
end

function M.run(ctx, args)
  local q = ctx.quote
  local out = ctx:run(PROBE).stdout or ""
  if out:find("^@@NOAPT") then
    return { failed = true, msg = "apt_repository: apt-get/apt-config not found on the host (not Debian-like)" }
  end
  local os_id, codename = out:match("@@OS (%S*) ?(%S*)\n")
  local parts = out:match("@@SP ([^\n]*)\n")
  local files, order = {}, {}
  for f, text in out:gmatch("@@F ([^\n]*)\n(.-)\n@@E\n") do
    files[f] = load(text)
    order[#order + 1] = f
  end
  local before = {}
  for f, g in pairs(files) do before[f] = dump(g) end
  local repo = args.repo
  if repo:match("^ppa:") then
    if os_id ~= "ubuntu" then
      return { failed = true, msg = "apt_repository: " .. repo .. ": a PPA is Ubuntu's (Launchpad); this host is "
        .. (os_id ~= "" and os_id or "not Ubuntu") .. ": give its `deb URL suite component` line instead" }
    end
    return { failed = true, msg = "apt_repository: " .. repo .. ": PPAs need Launchpad's key lookup, which luasible"
      .. " does not do: give the line `deb http://ppa.launchpad.net/OWNER/NAME/ubuntu "
      .. (args.codename or codename or "CODENAME") .. " main` and its key with apt_key" }
  end
  local valid, enabled, source = parse(repo)
  if not (valid and enabled) then
    return { failed = true, msg = "Invalid repository string: " .. strip(repo) }
  end
  if args.state == "present" then
    local found = false
    for _, f in ipairs(order) do
      for _, e in ipairs(files[f]) do
        if e.valid and e.source == source then e.enabled, found = true, true end
      end
    end
    if not found then
      local name = suggest(source, args.filename)
      local file = name:find("/", 1, true) and name or (parts .. name)
      if not files[file] then files[file], order[#order + 1] = {}, file end
      local g = files[file]
      g[#g + 1] = { valid = true, enabled = true, source = source, comment = "" }
      files[file].new = true
    end
  else
    for _, f in ipairs(order) do
      local kept = {}
      for _, e in ipairs(files[f]) do
        if not (e.valid and e.enabled and e.source == source) then kept[#kept + 1] = e end
      end
      files[f] = kept
    end
  end
  local result = { changed = false, repo = repo, state = args.state }
  local write, diffs = {}, {}
  for _, f in ipairs(order) do
    local after = dump(files[f])
    if after ~= before[f] then
      write[#write + 1] = { file = f, text = after, new = files[f].new }
      diffs[#diffs + 1] = ctx:diff_result(before[f] or "", after or "", before[f] and f or "/dev/null",
        after and f or "/dev/null")
    end
  end
  if #write == 0 then return result end
  -- as Ansible's save: a file left without a line goes (an empty one
  -- there before too)
  for _, f in ipairs(order) do
    if not before[f] and not dump(files[f]) and not files[f].new then write[#write + 1] = { file = f } end
  end
  result.changed = true
  if ctx.diff then result.diff = diffs end
  if ctx.check_mode then return result end
  -- one command a file (nearly always one): its text on stdin
  local function put(file, text, mode)
    if not text then return ctx:run("rm -f -- " .. q(file)) end
    return ctx:run(writer(q, file, mode), { stdin = text })
  end
  local function undo()
    for _, w in ipairs(write) do put(w.file, before[w.file]) end
  end
  for _, w in ipairs(write) do
    local r = put(w.file, w.text, w.new and args.mode)
    if not r.ok then
      undo()
      return { failed = true, rc = r.rc, msg = "apt_repository: writing " .. w.file .. " failed: "
        .. ctx.chomp((r.stderr or "") .. (r.stdout or "")) }
    end
  end
  if not args.update_cache then return result end
  -- apt-get update, retried as Ansible's (2^try seconds, at most the max
  -- delay); still failing: the files as they were, and the error
  local tries = math.max(args.update_cache_retries, 1)
  local env = { LC_ALL = "C", DEBIAN_FRONTEND = "noninteractive" }
  for k, v in pairs(args.env or {}) do if env[k] == nil then env[k] = v end end
  local err
  for try = 0, tries - 1 do
    local u = ctx:run("apt-get update -q -o APT::Update::Error-Mode=any 2>&1", { env = env, stream = true })
    local text = u.stdout or ""
    if u.ok and not text:find("\n[EW]: Failed to fetch") and not text:find("^[EW]: Failed to fetch") then
      return result
    end
    err = text:match("E: ([^\n]*)") or text:match("W: ([^\n]*)") or ("rc " .. tostring(u.rc))
    if try < tries - 1 then
      ctx.sleep(math.min(2 ^ try, args.update_cache_retry_max_delay) + math.random(0, 1000) / 1000)
    end
  end
  undo()
  return { failed = true, repo = repo, state = args.state, msg = "Failed to update apt cache: " .. err }
end

return M
