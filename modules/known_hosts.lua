-- known_hosts: a host's key in a known_hosts file, as Ansible's
-- ansible.builtin.known_hosts: ssh-keygen on the host does the matching
-- (`-F NAME`: plain and hashed entries alike), `hash_host` hashes the line
-- with `ssh-keygen -H`; a key of the same type as one found for the host
-- replaces that line; absent without a key removes every line of the host
-- (`ssh-keygen -R`, which leaves FILE.old, as Ansible's). One round trip
-- checks the key against the name and reads the file; a second one writes
-- it (atomically: a temporary file beside it, renamed; the text on stdin).

local function trim(s) return (s:match("^%s*(.-)%s*$")) end

-- a key line as Ansible's normalize_known_hosts_key: options, host, type, key
local function normalize(line)
  local w = {}
  for x in trim(line):gmatch("%S+") do w[#w + 1] = x end
  if (w[1] or ""):sub(1, 1) == "@" then return { options = w[1], host = w[2], type = w[3], key = w[4] } end
  return { host = w[1], type = w[2], key = w[3] }
end

local function same(a, b)
  return a.options == b.options and a.host == b.host and a.type == b.type and a.key == b.key
end

-- the shell words of a path, `~` and `~/...` as the host's $HOME
local function path_words(q, p)
  if p == "~" then return "\"$HOME\"" end
  local rest = p:match("^~/(.*)$")
  if rest then return "\"$HOME\"/" .. q(rest) end
  return q(p)
end

-- the lines of a text, each with its newline (Python's splitlines(True))
local function lines_of(text)
  local out = {}
  for l in text:gmatch("[^\n]*\n") do out[#out + 1] = l end
  local tail = text:match("[^\n]+$")
  if tail then out[#out + 1] = tail end
  return out
end

-- Ansible's add_path_info: the file's owner, mode, kind and size in the result
local function path_info(result, line)
  local uid, gid, nlink, mode, size, kind, owner, group =
    (line or ""):match("^(%d+) (%d+) (%d+) (%d+) (%d+) ([^|]*)|([^|]*)|(.*)$")
  if not uid then return result end
  result.uid, result.gid, result.size = math.tointeger(tonumber(uid)), math.tointeger(tonumber(gid)),
    math.tointeger(tonumber(size))
  result.owner = owner ~= "UNKNOWN" and owner or uid
  result.group = group ~= "UNKNOWN" and group or gid
  result.mode = "0" .. string.rep("0", 3 - #mode) .. mode
  result.state = (kind == "symbolic link" and "link") or (kind == "directory" and "directory")
    or (tonumber(nlink) > 1 and "hard") or "file"
  return result
end

local function gather(q, host, key, path, hash)
  local s = {
    "command -v ssh-keygen >/dev/null 2>&1 || { echo MISSING; exit 0; }",
    "p=" .. path_words(q, path) .. "; printf 'P:%s\\n' \"$p\"",
    "t=$(mktemp) || exit 1; trap 'rm -f \"$t\" \"$t.old\"' EXIT",
  }
  if key then
    s[#s + 1] = "printf '%s' " .. q(key) .. " > \"$t\""
    if hash then s[#s + 1] = "ssh-keygen -H -f \"$t\" >/dev/null 2>&1; printf 'H:%s\\n' \"$(grep -v '^#' \"$t\")\"" end
    s[#s + 1] = "[ -n \"$(ssh-keygen -F " .. q(host) .. " -f \"$t\" 2>/dev/null)\" ] || echo NOMATCH"
  end
  s[#s + 1] = "[ -e \"$p\" ] && stat -c 'ST:%u %g %h %a %s %F|%U|%G' -- \"$p\""
  s[#s + 1] = "if [ -e \"$p\" ]; then o=$(ssh-keygen -F " .. q(host) .. " -f \"$p\" 2>\"$t\"); echo \"RC:$?\";"
    .. " printf '%s\\n' \"$o\" | sed 's/^/O:/'; sed 's/^/E:/' \"$t\"; echo FILE; cat -- \"$p\"; fi"
  s[#s + 1] = "exit 0"
  return table.concat(s, "\n") .. "\n"
end

return {
  params = {
    name = { type = "string", required = true, aliases = { "host" } },
    key = { type = "string" },
    path = { type = "path", default = "~/.ssh/known_hosts" },
    hash_host = { type = "boolean", default = false },
    state = { type = "string", default = "present", choices = { "present", "absent" } },
  },
  check_args = function(args, all)
    if all.state ~= "absent" and all.key == nil then
      return nil, "argument 'key' is required with state=present (no key specified when adding a host)"
    end
    if args.key and trim(args.key) == "" and all.state ~= "absent" then
      return nil, "argument 'key' is required with state=present (no key specified when adding a host)"
    end
    if args.key and args.key ~= "" and args.name and args.name:find("%S+%s*,") then
      return nil, "argument 'name': comma separated list of names is not supported; "
        .. "pass a single name to look up in the known_hosts file"
    end
    if args.key and trim(args.key) ~= "" and trim(args.key):find("\n") then
      return nil, "argument 'key' must be one known_hosts line"
    end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q = ctx.quote
    local host = args.name:lower()
    local key = args.key
    if key == "" then key = nil end
    local out = ctx:run(gather(q, host, key, args.path, args.hash_host)).stdout or ""
    if out:match("^MISSING") then
      return { failed = true, msg = "ssh-keygen not found on the host (openssh-client)" }
    end
    local path = out:match("P:([^\n]*)\n") or args.path
    if key and args.hash_host then key = out:match("\nH:([^\n]*)\n") or key end
    if key and key:sub(-1) ~= "\n" then key = key .. "\n" end
    if key and out:find("\nNOMATCH\n") then
      return { failed = true, msg = "Host parameter does not match hashed host field in supplied key" }
    end
    local head, text = out:match("^(.-)\nFILE\n(.*)$")
    head = head or out
    local exists = text ~= nil
    text = text or ""
    local found, replace, found_line = false, false, nil
    if exists then
      local rc = tonumber(head:match("\nRC:(%d+)"))
      local o, e = {}, {}
      for l in head:gmatch("\nO:([^\n]*)") do o[#o + 1] = l end
      for l in head:gmatch("\nE:([^\n]*)") do e[#e + 1] = l end
      local stdout = table.concat(o, "\n"):gsub("^%s*$", "")
      if stdout == "" and #e == 0 and (rc == 0 or rc == 1) then
        found = false
      elseif rc ~= 0 then
        return { failed = true, msg = "ssh-keygen failed (rc=" .. tostring(rc) .. "): " .. table.concat(e, "\n") }
      elseif not key then
        found = true
      else
        found, replace = true, true
        local new, hit = normalize(key), false
        for _, l in ipairs(o) do
          if l:sub(1, 1) == "#" then
            found_line = tonumber(l:match("found: line (%d+)")) or found_line
          elseif l ~= "" then
            local f = normalize(l)
            if (new.host or ""):sub(1, 3) == "|1|" and (f.host or ""):sub(1, 3) == "|1|" then new.host = f.host end
            if same(new, f) then replace, hit = false, true; break
            elseif new.type == f.type then hit = true; break end
          end
        end
        if not hit then found_line = nil end -- no key of that type: added, no line replaced
      end
    end
    -- the diff, as Ansible's compute_diff
    local lines = lines_of(text)
    local state = args.state
    if (replace or state == "absent") and found_line and found_line >= 1 and found_line <= #lines then
      table.remove(lines, found_line)
    end
    if state == "present" and (replace or found_line == nil) then lines[#lines + 1] = key end
    local after = table.concat(lines)
    local result = { name = args.name, key = args.key, path = path, hash_host = args.hash_host, state = state,
      changed = false }
    local d = ctx:diff_result(text, after, path)
    if d and not exists then d.before_header = "/dev/null" end
    result.diff = d
    local st_line = out:match("\nST:([^\n]*)")
    if state == "absent" and not found_line and key then return path_info(result, st_line) end
    local remove_all = found and not key and state == "absent"
    local rewrite = replace or found ~= (state == "present")
    result.changed = remove_all or rewrite
    -- under --check Ansible's module returns only these two
    if ctx.check_mode then return { changed = result.changed, diff = result.diff } end
    if not result.changed then return path_info(result, st_line) end
    local s = { "set -e", "f=" .. q(path) }
    if remove_all then s[#s + 1] = "ssh-keygen -R " .. q(host) .. " -f \"$f\" >/dev/null 2>&1" end
    local new = after
    if remove_all then new = nil end -- the file as ssh-keygen left it, copied as is
    s[#s + 1] = "t=$(mktemp \"$(dirname -- \"$f\")/tmpXXXXXXXX\"); trap 'rm -f \"$t\"' EXIT"
    if new then s[#s + 1] = "cat > \"$t\""
    else s[#s + 1] = "cat -- \"$f\" > \"$t\"" end
    s[#s + 1] = "if [ -e \"$f\" ]; then chmod --reference=\"$f\" \"$t\"; "
      .. " chown --reference=\"$f\" \"$t\" 2>/dev/null || :;"
      .. " else chmod $(printf '%o' $((0666 & ~$(umask)))) \"$t\"; fi; mv -f -- \"$t\" \"$f\"; trap - EXIT"
    s[#s + 1] = "stat -c 'ST:%u %g %h %a %s %F|%U|%G' -- \"$f\""
    local r = ctx:run(table.concat(s, "\n"), { stdin = new or "" })
    if not r.ok then
      return { failed = true, changed = false, msg = "Failed to write to file " .. path .. ": "
        .. ctx.chomp((r.stderr or "") .. (r.stdout or "")) }
    end
    return path_info(result, (r.stdout or ""):match("ST:([^\n]*)"))
  end,
}
