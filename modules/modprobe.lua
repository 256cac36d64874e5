-- modprobe: a kernel module loaded or removed, and kept across boots, as
-- community.general.modprobe: `persistent: present` writes
-- /etc/modules-load.d/NAME.conf (the name) and /etc/modprobe.d/NAME.conf
-- (`options NAME p=v` for each of params), after commenting out the other
-- files' lines setting NAME's options; `absent` comments out NAME's lines
-- in both folders. Loaded: /proc/modules, or built in (modules.builtin, or
-- /sys/module/NAME without an initstate: this is also how a kernel without
-- loadable modules, no /proc/modules, is read). Loading changes the real
-- kernel: only where the host allows it (CAP_SYS_MODULE; a container or a
-- namespace without it fails, naming it).
-- Round trips: 1 to read (state, the dry run `modprobe -n`, the files), a
-- second only to load/remove or write.
local M = {
  params = {
    name = { type = "string", required = true },
    state = { type = "string", default = "present", choices = { "absent", "present" } },
    params = { type = "string", default = "" },
    persistent = { type = "string", default = "disabled", choices = { "disabled", "present", "absent" } },
  },
  check_mode = true,
}

local LOAD_DIR, OPT_DIR = "/etc/modules-load.d", "/etc/modprobe.d"

function M.check_args(args)
  if args.name and not args.name:match("^[%w_%-]+$") then
    return nil, "argument 'name' must be a kernel module name (letters, digits, '_', '-'), got '" .. args.name .. "'"
  end
  return true
end

-- Ansible's re_find_module: `^ *NAME *(?:[#;].*)?\n?\Z`
local function names_module(line, name)
  local rest = line:match("^ *(.*)$")
  if rest:sub(1, #name) ~= name then return false end
  rest = rest:sub(#name + 1):gsub("^ *", "")
  return rest == "" or rest:match("^[#;]") ~= nil
end

-- Ansible's re_get_params_and_values: `^options NAME (\w+=\S+) *(?:[#;].*)?\n?\Z` -> "k=v"
local function option_of(line, name)
  local pre = "options " .. name .. " "
  if line:sub(1, #pre) ~= pre then return nil end
  local kv, rest = line:sub(#pre + 1):match("^([%w_]+=%S+) *(.*)$")
  if kv and (rest == "" or rest:match("^[#;]")) then return kv end
  return nil
end

local function gather(ctx, args, argv)
  local q = ctx.quote
  local n = args.name:gsub("%-", "_")
  local dry = { "modprobe", "-n", args.name }
  for _, a in ipairs(argv) do dry[#dry + 1] = a end
  for i, w in ipairs(dry) do dry[i] = q(w) end
  if args.state == "absent" then dry = { "modprobe", "-n", "-r", q(args.name) } end
  return table.concat({
    'command -v modprobe >/dev/null 2>&1 || { echo "@missing"; exit 0; }',
    "export LANG=C LC_ALL=C; n=" .. q(n) .. "; m=" .. q(args.name),
    'if [ -r /proc/modules ]; then grep -q "^$n " /proc/modules && echo "@loaded"; else echo "@noproc"; fi',
    'b=/lib/modules/$(uname -r)/modules.builtin',
    '[ -f "$b" ] && grep -q "/$m\\.ko\\$" "$b" && echo "@builtin"',
    '[ -d "/sys/module/$n" ] && [ ! -e "/sys/module/$n/initstate" ] && echo "@builtin"',
    [=[c=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)]=],
    '[ -n "$c" ] && [ $(( (0x$c >> 16) & 1 )) = 0 ] && echo "@nocap"',
    'for d in ' .. LOAD_DIR .. " " .. OPT_DIR .. '; do for f in "$d"/*; do [ -f "$f" ] || continue',
    '  printf "@file %s\\n" "$f"; sed "s/^/@c /" -- "$f"; [ -n "$(tail -c 1 -- "$f")" ] && echo "@nonl"; done; done',
    "o=$(" .. table.concat(dry, " ") .. ' 2>&1); rc=$?',
    'printf "@dry %s\\n" "$rc"; printf "%s\\n" "$o" | sed "s/^/@d /"',
    "exit 0",
  }, "\n")
end

local function read(out)
  local st = { files = {}, order = {}, dry_out = {} }
  local cur
  for line in (out or ""):gmatch("[^\n]*") do
    local k, v = line:match("^@(%a+) ?(.*)$")
    if k == "file" then
      cur = { path = v, lines = {} }
      st.files[v] = cur
      st.order[#st.order + 1] = cur
    elseif k == "c" then cur.lines[#cur.lines + 1] = v
    elseif k == "nonl" then cur.nonl = true
    elseif k == "d" then if v ~= "" then st.dry_out[#st.dry_out + 1] = v end
    elseif k == "dry" then st.dry = tonumber(v)
    elseif k then st[k] = true end
  end
  return st
end

local function text_of(f)
  return table.concat(f.lines, "\n") .. ((#f.lines > 0 and not f.nonl) and "\n" or "")
end

-- the files' new texts: { path = text } of those that change
local function persist(args, st)
  local name, want = args.name, {}
  for w in args.params:gmatch("%S+") do want[w] = true end
  local changes = {}
  local function in_dir(f, dir) return f.path:sub(1, #dir + 1) == dir .. "/" end
  local persisted, have = false, {}
  for _, f in ipairs(st.order) do
    for _, l in ipairs(f.lines) do
      if in_dir(f, LOAD_DIR) and names_module(l, name) then persisted = true end
      local kv = in_dir(f, OPT_DIR) and option_of(l, name)
      if kv then have[kv] = true end
    end
  end
  local params_set = true
  for k in pairs(want) do if not have[k] then params_set = false end end
  for k in pairs(have) do if not want[k] then params_set = false end end
  local function comment(dir, match)
    for _, f in ipairs(st.order) do
      if in_dir(f, dir) then
        local lines, hit = {}, false
        for i, l in ipairs(f.lines) do
          if match(l) then lines[i] = "#" .. l; hit = true else lines[i] = l end
        end
        if hit then changes[f.path] = text_of({ lines = lines, nonl = f.nonl }) end
      end
    end
  end
  local opt_match = function(l) return option_of(l, name) ~= nil end
  if args.persistent == "present" and not (persisted and params_set) then
    if not persisted then changes[LOAD_DIR .. "/" .. name .. ".conf"] = name .. "\n" end
    if not params_set then
      comment(OPT_DIR, opt_match)
      local t = {}
      for w in args.params:gmatch("%S+") do t[#t + 1] = "options " .. name .. " " .. w end
      changes[OPT_DIR .. "/" .. name .. ".conf"] = table.concat(t, "\n") .. "\n"
    end
  elseif args.persistent == "absent" and (persisted or next(have)) then
    comment(LOAD_DIR, function(l) return names_module(l, name) end)
    comment(OPT_DIR, opt_match)
  end
  return changes
end

function M.run(ctx, args)
  local q = ctx.quote
  local result = { changed = false, name = args.name, params = args.params, state = args.state }
  local argv = ctx.argv(args.params)
  if not argv then
    result.failed, result.msg = true, "argument 'params' cannot be split: " .. args.params
    return result
  end
  local st = read(ctx:run(gather(ctx, args, argv)).stdout)
  if st.missing then
    result.failed, result.msg = true, "Failed to find required executable \"modprobe\" in paths (the host has no"
      .. " modprobe: kmod)"
    return result
  end
  local loaded = st.loaded or st.builtin
  local cmd
  if args.state == "present" and not loaded then
    if st.dry ~= 0 then
      result.failed = true
      result.msg = table.concat(st.dry_out, "\n") .. (st.noproc and " (the host's kernel lists no loadable modules:"
        .. " no /proc/modules)" or "")
      result.rc = st.dry
      return result
    end
    cmd = { "modprobe", args.name }
    for _, a in ipairs(argv) do cmd[#cmd + 1] = a end
  elseif args.state == "absent" and loaded then
    if st.builtin and not st.loaded then
      result.failed, result.msg = true, "Module " .. args.name .. " is builtin (it cannot be removed)"
      return result
    end
    if ctx.check_mode and st.dry ~= 0 then -- (as Ansible: modprobe -r -n's failure fails the task)
      result.failed, result.msg, result.rc = true, table.concat(st.dry_out, "\n"), st.dry
      return result
    end
    cmd = { "modprobe", "-r", args.name }
  end
  if cmd and st.nocap and not ctx.check_mode then
    result.failed = true
    result.msg = "the host does not allow " .. (args.state == "present" and "loading " or "removing ") .. args.name
      .. ": no CAP_SYS_MODULE (a container or a namespace without it cannot change the kernel's modules)"
    return result
  end
  local changes = args.persistent ~= "disabled" and persist(args, st) or {}
  local paths = {}
  for p in pairs(changes) do paths[#paths + 1] = p end
  table.sort(paths)
  result.changed = cmd ~= nil or #paths > 0
  if ctx.diff and #paths > 0 then
    result.diff = {}
    for _, p in ipairs(paths) do
      result.diff[#result.diff + 1] = ctx:diff_result(st.files[p] and text_of(st.files[p]) or "", changes[p], p)
    end
  end
  if not result.changed or ctx.check_mode then return result end
  local s = { "set -e", "export LANG=C LC_ALL=C" }
  if cmd then
    for i, w in ipairs(cmd) do cmd[i] = q(w) end
    s[#s + 1] = table.concat(cmd, " ") .. " 2>&1"
  end
  for _, p in ipairs(paths) do
    s[#s + 1] = "mkdir -p -- " .. q(ctx.path.dirname(p)) .. "; t=" .. q(p .. ".luasible-tmp")
      .. "; printf '%s' " .. q(changes[p]) .. ' > "$t"; chmod 0644 "$t"; mv -f -- "$t" ' .. q(p)
  end
  local r = ctx:run(table.concat(s, "\n"))
  if not r.ok then
    result.failed, result.rc = true, r.rc
    result.msg = ctx.chomp((r.stdout or "") .. (r.stderr or ""))
    if result.msg:find("Operation not permitted", 1, true) then
      result.msg = result.msg .. " (the host does not allow changing the kernel's modules: CAP_SYS_MODULE)"
    end
  end
  return result
end

return M
