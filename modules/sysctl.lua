-- sysctl: a kernel parameter in a sysctl file (and the running kernel), as
-- Ansible's ansible.posix.sysctl on Linux: the file keeps one `name=value`
-- line per key (the first; others dropped, as Ansible rewrites it), reload
-- runs `sysctl -p FILE` when something changed, sysctl_set sets the running
-- value with `sysctl -w`. One round trip reads the running value and the
-- file; a second one sets, writes (atomically, the text on stdin) and reloads.

local TRUE = { y = true, yes = true, on = true, ["1"] = true, ["true"] = true, t = true }
local FALSE = { n = true, no = true, off = true, ["0"] = true, ["false"] = true, f = true }

local function parse_value(v)
  if v == nil then return "" end
  local l = tostring(v):lower()
  if TRUE[l] then return "1" end
  if FALSE[l] then return "0" end
  return (tostring(v):match("^%s*(.-)%s*$"))
end

local function trim(s) return (s:match("^%s*(.-)%s*$")) end

local function words_equal(a, b)
  if a == nil or b == nil then return false end
  local x, y = {}, {}
  for w in a:gmatch("%S+") do x[#x + 1] = w end
  for w in b:gmatch("%S+") do y[#y + 1] = w end
  if #x ~= #y then return false end
  for i = 1, #x do if x[i] ~= y[i] then return false end end
  return true
end

local function is_entry(line)
  return line ~= "" and not line:find("^[#;]") and line:find("=", 1, true) ~= nil
end

return {
  params = {
    name = { type = "string", required = true, aliases = { "key" } },
    value = { type = "string", aliases = { "val" } },
    state = { type = "string", default = "present", choices = { "present", "absent" } },
    reload = { type = "boolean", default = true },
    sysctl_set = { type = "boolean", default = false },
    ignoreerrors = { type = "boolean", default = false },
    sysctl_file = { type = "path", default = "/etc/sysctl.conf" },
  },
  check_args = function(args, all)
    local n = args.name and trim(args.name)
    if n and not n:match("^[%w_./*%-]+$") then
      return nil, "argument 'name' must be a sysctl key (letters, digits, '.', '/', '_', '-'), got '"
        .. args.name .. "'"
    end
    if all.state ~= "absent" and (all.value == nil or (args.value and trim(args.value) == "")) then
      return nil, "argument 'value' is required (and not blank) with state=present"
    end
    if args.value and args.value:find("[\n\"]") then return nil, "argument 'value' must be one line without '\"'" end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q = ctx.quote
    local name, file = trim(args.name), args.sysctl_file
    local value = parse_value(args.value)
    local e = args.ignoreerrors and "-e " or ""
    local out = ctx:run("command -v sysctl >/dev/null 2>&1 || { echo MISSING; exit 0; }\n"
      .. "v=$(LANG=C LC_ALL=C sysctl -e -n " .. q(name) .. " 2>/dev/null) && printf 'V:%s\\n' \"$v\"\n"
      .. "[ -f " .. q(file) .. " ] && { echo FILE; cat -- " .. q(file) .. "; }\nexit 0\n").stdout or ""
    if out:match("^MISSING") then return { failed = true, msg = "sysctl not found on the host (procps)" } end
    local proc = out:match("^V:([^\n]*)\n")
    local text = out:match("FILE\n(.*)$") or ""
    -- the file as Ansible reads it: lines stripped, the last value of a key wins
    local lines, values = {}, {}
    for l in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = trim(l) end
    local tail = text:match("([^\n]+)$")
    if tail then lines[#lines + 1] = trim(tail) end
    for _, l in ipairs(lines) do
      if is_entry(l) then
        local k, v = l:match("^([^=]*)=(.*)$")
        values[trim(k)] = trim(v)
      end
    end
    -- the file as Ansible writes it: the first line of each key, `k=v`
    local fixed, seen = {}, {}
    for _, l in ipairs(lines) do
      if not is_entry(l) then fixed[#fixed + 1] = l
      else
        local k, v = l:match("^([^=]*)=(.*)$")
        k, v = trim(k), trim(v)
        if not seen[k] then
          seen[k] = true
          if k == name then
            if args.state == "present" then fixed[#fixed + 1] = k .. "=" .. value end
          else
            fixed[#fixed + 1] = k .. "=" .. v
          end
        end
      end
    end
    if not seen[name] and args.state == "present" then fixed[#fixed + 1] = name .. "=" .. value end
    local cur = values[name]
    local changed, write, set = false, false, false
    if cur == nil then
      if args.state == "present" then changed, write = true, true end
    elseif args.state == "absent" then
      if cur ~= "" then changed, write = true, true end
    elseif cur ~= value then
      changed, write = true, true
    elseif args.reload and not words_equal(proc, value) then
      changed = true
    end
    if args.sysctl_set and args.state == "present" then
      if proc == nil then changed = true
      elseif not words_equal(proc, value) then changed, set = true, true end
    end
    local result = { changed = changed }
    local new = {}
    for _, l in ipairs(fixed) do new[#new + 1] = trim(l) .. "\n" end
    new = table.concat(new)
    if write then result.diff = ctx:diff_result(text, new, file) end
    if not changed then return result end
    if ctx.check_mode then
      result.msg = "would " .. (write and ("write " .. file) or "reload") .. (set and " and set " .. name or "")
      return result
    end
    local s = { "set -e", "export LANG=C LC_ALL=C" }
    if set then
      s[#s + 1] = "sysctl " .. e .. "-w " .. q(name .. "=" .. value) .. " 2>&1"
    end
    if write then
      s[#s + 1] = "f=" .. q(file) .. "; t=$(mktemp \"$(dirname -- \"$f\")/.ansible_m_sysctl_XXXXXX.conf\")"
      s[#s + 1] = "trap 'rm -f \"$t\"' EXIT; cat > \"$t\"; if [ -e \"$f\" ]; then chmod --reference=\"$f\" \"$t\";"
        .. " else chmod 0644 \"$t\"; fi; mv -f -- \"$t\" \"$f\"; trap - EXIT"
    end
    if args.reload then s[#s + 1] = "sysctl " .. e .. "-p " .. q(file) .. " 2>&1" end
    local r = ctx:run(table.concat(s, "\n"), { stdin = write and new or "" })
    local err = (r.stdout or "") .. (r.stderr or "")
    if not r.ok or err:find("sysctl: setting key \"[^\"]+\": Invalid argument")
      or err:find("sysctl: setting key \"[^\"]+\": Read%-only file system") then
      return { failed = true, changed = write, msg = "setting " .. name .. " failed: " .. ctx.chomp(err) }
    end
    return result
  end,
}
