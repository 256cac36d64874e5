-- assemble: a file made of the fragments of a folder, as Ansible's
-- ansible.builtin.assemble: the folder's regular files (not below it) in
-- name order, those whose name a Python regexp `regexp` searches, hidden
-- ones left out with ignore_hidden, joined as Ansible joins them (a newline
-- after a fragment that ends without one, the `delimiter`, its escapes
-- decoded, between fragments, ended by a newline); the folder on the host
-- (remote_src, the default) or here (remote_src: false, in files/). The
-- text is installed at dest as copy installs it (by checksum; mode, owner,
-- group, backup), after `validate` (`%s` the new file) passes. One round
-- trip reads the fragments of the host; copy's install does the rest.

-- Python's codecs.escape_decode of a delimiter
local ESC = { n = "\n", t = "\t", r = "\r", a = "\a", b = "\b", f = "\f", v = "\v", ["\\"] = "\\", ["'"] = "'",
  ['"'] = '"', ["\n"] = "" }
local function unescape(s)
  local out, i = {}, 1
  while i <= #s do
    local c = s:sub(i, i)
    if c ~= "\\" or i == #s then out[#out + 1] = c; i = i + 1
    else
      local n = s:sub(i + 1, i + 1)
      local oct = s:match("^[0-7][0-7]?[0-7]?", i + 1)
      local hex = n == "x" and s:match("^%x%x", i + 2)
      if ESC[n] then out[#out + 1] = ESC[n]; i = i + 2
      elseif oct then out[#out + 1] = string.char(tonumber(oct, 8) % 256); i = i + 1 + #oct
      elseif hex then out[#out + 1] = string.char(tonumber(hex, 16)); i = i + 4
      else out[#out + 1] = "\\"; i = i + 1 end
    end
  end
  return table.concat(out)
end

-- the fragments joined, as Ansible's assemble_from_fragments (which decodes
-- the delimiter again at each use: `\\t` is `\t` the first time, a tab after)
local function join(frags, delimiter)
  local out, add_newline = {}, false
  local delim = delimiter
  for i, f in ipairs(frags) do
    if add_newline then out[#out + 1] = "\n" end
    if i > 1 and delim and delim ~= "" then
      delim = unescape(delim)
      out[#out + 1] = delim
      if delim:sub(-1) ~= "\n" then out[#out + 1] = "\n" end
    end
    out[#out + 1] = f.content
    add_newline = f.content:sub(-1) ~= "\n"
  end
  return table.concat(out)
end

-- the host's fragments: "name\0size\0" then the bytes, for each regular file of the folder
local function read_remote(ctx, src)
  local q = ctx.quote
  local r = ctx:run("[ -e " .. q(src) .. " ] || { echo NOSRC; exit 0; }\n"
    .. "[ -d " .. q(src) .. " ] || { echo NOTDIR; exit 0; }\n"
    .. "cd -- " .. q(src) .. " || exit 1\necho OK\n"
    .. "for f in * .[!.]* ..?*; do [ -f \"$f\" ] || continue\n"
    .. "  [ -r \"$f\" ] || { echo \"unreadable: $f\" >&2; exit 1; }\n"
    .. "  printf '%s\\0%s\\0' \"$f\" \"$(wc -c < \"$f\")\"; cat -- \"$f\"; done\n")
  if not r.ok then return nil, "cannot read the fragments of " .. src .. ": " .. ctx.chomp(r.stderr or "") end
  local out = r.stdout or ""
  if out:match("^NOSRC") then return nil, "Source (" .. src .. ") does not exist" end
  if out:match("^NOTDIR") then return nil, "Source (" .. src .. ") is not a directory" end
  local frags, i = {}, (out:find("\n", 1, true) or #out) + 1
  while i <= #out do
    local a = out:find("\0", i, true)
    local b = a and out:find("\0", a + 1, true)
    if not b then break end
    local name, size = out:sub(i, a - 1), tonumber(out:sub(a + 1, b - 1)) or 0
    frags[#frags + 1] = { name = name, content = out:sub(b + 1, b + size) }
    i = b + size + 1
  end
  return frags
end

local function read_local(ctx, src, decrypt)
  local dir = ctx:find_local(src, "files")
  local st = dir and ctx.local_stat(dir)
  if not st then return nil, "Could not find or access '" .. src .. "'" end
  if st.type ~= "directory" then return nil, "Source (" .. dir .. ") is not a directory" end
  local entries, err = ctx.walk_local(dir)
  if not entries then return nil, err end
  local frags = {}
  for _, e in ipairs(entries) do
    if not e.path:find("/", 1, true) then
      local full = dir .. "/" .. e.path
      local fst = ctx.local_stat(full)
      if fst and fst.type == "file" then
        local content, rerr
        if decrypt == false then content, rerr = ctx.read_raw(full) else content, rerr = ctx.read_file(full) end
        if not content then return nil, "cannot read " .. full .. ": " .. tostring(rerr) end
        frags[#frags + 1] = { name = e.path, content = content }
      end
    end
  end
  return frags
end

return {
  controller_paths = { src = "remote_src" }, -- (`~` in src is this machine's unless remote_src)
  params = {
    src = { type = "path", required = true },
    dest = { type = "path", required = true },
    delimiter = { type = "string" },
    remote_src = { type = "boolean", default = true },
    regexp = { type = "string" },
    ignore_hidden = { type = "boolean", default = false },
    validate = { type = "string" },
    backup = { type = "boolean", default = false },
    follow = { type = "boolean", default = false },
    decrypt = { type = "boolean", default = true },
  },
  param_groups = { "file" },
  check_args = function(args, _, checks)
    if args.regexp then
      local ok, err = checks.regex(args.regexp, "regexp")
      if not ok then return nil, err end
    end
    if args.validate and not args.validate:find("%s", 1, true) then
      return nil, "argument 'validate' must contain %s: " .. args.validate
    end
    return true
  end,
  check_mode = false, -- as Ansible's: skipped under --check
  run = function(ctx, args)
    local frags, err
    if args.remote_src then frags, err = read_remote(ctx, args.src)
    else frags, err = read_local(ctx, args.src, args.decrypt) end
    if not frags then return { failed = true, msg = err } end
    table.sort(frags, function(a, b) return a.name < b.name end)
    local keep = {}
    local rx = args.regexp and ctx.regex.compile(args.regexp)
    for _, f in ipairs(frags) do
      if not (rx and not rx:search(f.name)) and not (args.ignore_hidden and f.name:sub(1, 1) == ".") then
        keep[#keep + 1] = f
      end
    end
    local content = join(keep, args.delimiter)
    if args.validate then
      local _, have = ctx:stat_sha256(args.dest)
      if have ~= ctx.sha256(content) then
        local q = ctx.quote
        local tmp = ctx:sh("mktemp")
        if tmp == "" then return { failed = true, msg = "cannot make a temporary file on the host" } end
        local ok, werr = ctx:write(content, tmp)
        if not ok then return { failed = true, msg = "cannot write " .. tmp .. ": " .. tostring(werr) } end
        local cmd = args.validate:gsub("%%s", function() return q(tmp) end)
        local r = ctx:run(cmd .. "\nrc=$?; rm -f " .. q(tmp) .. "; exit $rc")
        if not r.ok then
          return { failed = true, validation = { rc = r.rc, stdout = r.stdout, stderr = r.stderr },
            msg = "failed to validate: rc:" .. tostring(r.rc) .. " error:" .. (r.stderr or "") }
        end
      end
    end
    local res = ctx:module("copy").install(ctx, content, { dest = args.dest, mode = args.mode, owner = args.owner,
      group = args.group, backup = args.backup, force = true, follow = args.follow,
      after_header = args.src })
    if not res.failed then res.src, res.msg = args.src, "OK" end
    return res
  end,
}
