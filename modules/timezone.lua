-- timezone: the host's time zone and hardware clock, as community.general's
-- timezone on Linux: through timedatectl where it answers (systemd), else
-- as its "no systemd" way: the zone's name in /etc/timezone (dpkg systems:
-- then `ln -sf` /etc/localtime and `dpkg-reconfigure tzdata`; the clock in
-- /etc/default/rcS), /etc/conf.d/hwclock and setup-timezone (Alpine), or
-- /etc/sysconfig/clock (ZONE=, TIMEZONE=) and a copy to /etc/localtime;
-- the clock by `hwclock --systohc`. Values read as Ansible reads them (the
-- file, then /etc/localtime's link or bytes; the clock's file, then
-- /etc/adjtime). One round trip reads; a second one sets, when needed.

local function gather(q, name)
  local tz = name and q("/usr/share/zoneinfo/" .. name) or "''"
  return table.concat({
    "export LANG=C LC_ALL=C",
    "if command -v timedatectl >/dev/null 2>&1 && s=$(timedatectl status 2>/dev/null); then",
    "  echo '@@SYSTEMD'; printf '%s\\n' \"$s\"",
    "else",
    "  echo '@@FILES'; . /etc/os-release 2>/dev/null; echo \"@@ID $ID\"",
    "  command -v dpkg-reconfigure >/dev/null 2>&1 && echo '@@DPKG'",
    "  command -v hwclock >/dev/null 2>&1 && echo '@@HWCLOCK'",
    "  command -v setup-timezone >/dev/null 2>&1 && echo '@@SETUPTZ'",
    "  if [ -L /etc/localtime ]; then echo \"@@LINK $(readlink /etc/localtime)\";",
    "    [ -e /etc/localtime ] || echo '@@DANGLING'",
    "  elif [ -n " .. tz .. " ] && cmp -s /etc/localtime " .. tz .. "; then echo '@@SAMEBYTES'; fi",
    "  for f in /etc/timezone /etc/sysconfig/clock /etc/default/rcS /etc/conf.d/hwclock /etc/adjtime; do",
    "    [ -f \"$f\" ] && { echo \"@@FILE $f\"; sed 's/^/|/' \"$f\"; }",
    "  done",
    "fi",
    "[ -n " .. tz .. " ] && [ -f " .. tz .. " ] && echo '@@TZOK'",
    "exit 0",
  }, "\n") .. "\n"
end

local TRUE = { yes = true, on = true, ["1"] = true, ["true"] = true, y = true, t = true }
local FALSE = { no = true, off = true, ["0"] = true, ["false"] = true, n = true, f = true }

return {
  params = {
    name = { type = "string" },
    hwclock = { type = "string", choices = { "local", "UTC" }, aliases = { "rtc" } },
  },
  required_one_of = { { "hwclock", "name" } },
  check_args = function(args)
    if args.name and (args.name == "" or args.name:find("%.%.") or args.name:find("^/") or args.name:find("%s")) then
      return nil, "argument 'name' must be a time zone name (Europe/Paris, UTC), got '" .. args.name .. "'"
    end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q, rx = ctx.quote, ctx.regex
    local out = ctx:run(gather(q, args.name)).stdout or ""
    local msgs = {}
    local function abort(m)
      return { failed = true, msg = "Error message:\n" .. m .. (#msgs > 0 and ("\nOther message(s):\n"
        .. table.concat(msgs, "\n")) or "") }
    end
    if args.name and not out:find("\n@@TZOK\n") then
      return abort("given timezone \"" .. args.name .. "\" is not available")
    end
    local keys = {}
    if args.hwclock then keys[#keys + 1] = "hwclock" end
    if args.name then keys[#keys + 1] = "name" end
    local planned = { name = args.name, hwclock = args.hwclock }
    local before, cmds, files = {}, {}, {}
    local function search(pat, text)
      local st, _, caps = rx.compile(pat, "m"):search(text or "")
      return st and caps[1] or (st and "") or nil
    end
    if out:match("^@@SYSTEMD\n") then
      local status = out
      local function get(key)
        if key == "name" then return search("^\\s*Time ?zone\\s*:\\s*([^\\s]+)", status) or "n/a" end
        local v = (search("^\\s*RTC in local TZ\\s*:\\s*([^\\s]+)", status) or ""):lower()
        return TRUE[v] and "local" or "UTC"
      end
      for _, k in ipairs(keys) do
        before[k] = get(k)
        if before[k] ~= planned[k] then
          local c = k == "name" and ("timedatectl set-timezone " .. q(planned.name))
            or ("timedatectl set-local-rtc " .. (planned.hwclock == "local" and "yes" or "no"))
          cmds[#cmds + 1] = c
          msgs[#msgs + 1] = "executed `" .. c .. "`"
        end
      end
    else
      local text, cur = {}, nil
      for l in out:gmatch("[^\n]*") do
        local f = l:match("^@@FILE (.+)$")
        if f then cur = {}; text[f] = cur
        elseif l:sub(1, 1) == "|" and cur then cur[#cur + 1] = l:sub(2) .. "\n"
        elseif l:sub(1, 2) == "@@" then cur = nil end
      end
      local id = out:match("@@ID ([^\n]*)") or ""
      local dpkg, alpine = out:find("\n@@DPKG\n") ~= nil, id == "alpine" or id == "gentoo"
      if not out:find("\n@@HWCLOCK\n") then return abort("hwclock not found on the host (needed by timezone)") end
      local conf = { name = "/etc/timezone", hwclock = nil }
      local pats = { name = "^([^\\s]+)", hwclock = "^UTC\\s*=\\s*([^\\s]+)" }
      local fmt = "%s\n"
      if dpkg then conf.hwclock = "/etc/default/rcS"
      elseif alpine then conf.hwclock = "/etc/conf.d/hwclock"
      else
        conf.name, conf.hwclock = "/etc/sysconfig/clock", "/etc/sysconfig/clock"
        local clock = table.concat(text["/etc/sysconfig/clock"] or {})
        if search("^TIMEZONE\\s*=", clock) then
          pats.name, fmt = "^TIMEZONE\\s*=\\s*\"?([^\"\\s]+)\"?", "TIMEZONE=\"%s\"\n"
        else pats.name, fmt = "^ZONE\\s*=\\s*\"?([^\"\\s]+)\"?", "ZONE=\"%s\"\n" end
      end
      local function config(key)
        local f = key == "adjtime" and "/etc/adjtime" or conf[key]
        local t = f and text[f]
        if key == "adjtime" then
          local v = t and search("^(UTC|LOCAL)$", table.concat(t))
          return (v == "LOCAL" and "local") or "UTC"
        end
        local v = t and search(pats[key], table.concat(t))
        if not v then return "n/a" end
        if key == "hwclock" then
          local l = v:lower()
          if TRUE[l] then return "UTC" elseif FALSE[l] then return "local" end
          return "n/a"
        end
        return v
      end
      local function get(key)
        local v = config(key)
        if v ~= planned[key] then return v end
        if key == "hwclock" then return config("adjtime") end
        local link = out:match("@@LINK ([^\n]*)")
        if link then
          if out:find("\n@@DANGLING\n") then return "n/a" end
          local tz = search("(?:/(?:usr/share|etc)/zoneinfo/)(.*)", link)
          if not tz then return "n/a" end
          return tz
        end
        return out:find("\n@@SAMEBYTES\n") and v or "n/a"
      end
      -- Ansible's _edit_file: every matching line out, the new one where the first was
      local function edit(f, pat, line)
        local lines, first, n = {}, nil, 0
        local r = rx.compile(pat)
        for i, l in ipairs(text[f] or {}) do
          if r:search(l) then first = first or (i - n); n = n + 1 else lines[#lines + 1] = l end
        end
        table.insert(lines, first or 1, line)
        text[f] = lines
        files[f] = table.concat(lines)
        msgs[#msgs + 1] = "Added 1 line and deleted " .. n .. " line(s) on " .. f
      end
      local tzfile = args.name and ("/usr/share/zoneinfo/" .. args.name)
      for _, k in ipairs(keys) do
        before[k] = get(k)
        if before[k] ~= planned[k] then
          if k == "name" then
            edit(conf.name, pats.name, fmt:format(planned.name))
            if dpkg then
              cmds[#cmds + 1] = { "ln -sf " .. q(tzfile) .. " /etc/localtime",
                "dpkg-reconfigure --frontend noninteractive tzdata" }
            elseif id == "alpine" then
              if not out:find("\n@@SETUPTZ\n") then return abort("setup-timezone not found on the host") end
              cmds[#cmds + 1] = { "setup-timezone -z " .. q(planned.name) }
            else
              cmds[#cmds + 1] = { "cp --remove-destination " .. q(tzfile) .. " /etc/localtime" }
            end
            cmds[#cmds].file = conf.name
          else
            local opt, utc = "--utc", "yes"
            if planned.hwclock == "local" then opt, utc = "--localtime", "no" end
            if conf.hwclock then edit(conf.hwclock, pats.hwclock, "UTC=" .. utc .. "\n") end
            cmds[#cmds + 1] = { "hwclock --systohc " .. opt, file = conf.hwclock, log = true }
          end
        end
      end
    end
    local diff = { before = ctx.object({}), after = ctx.object({}) }
    for _, k in ipairs(keys) do diff.before[k], diff.after[k] = before[k], planned[k] end
    local changed = #cmds > 0
    local result = { changed = changed, diff = ctx:diff_result(diff.before, diff.after) }
    if #msgs > 0 then result.msg = table.concat(msgs, "\n") end
    if not changed or ctx.check_mode then
      if ctx.check_mode then result.msg = nil end
      return result
    end
    for _, c in ipairs(cmds) do
      local s, stdin = { "set -e" }, nil
      if type(c) == "string" then s[#s + 1] = c
      else
        if c.file and files[c.file] then
          s[#s + 1] = "f=" .. q(c.file) .. "; cat > \"$f\""
          stdin = files[c.file]
          files[c.file] = nil
        end
        for _, x in ipairs(c) do s[#s + 1] = x .. " 2>&1" end
        if c.log then msgs[#msgs + 1] = "executed `" .. c[1] .. "`" end
      end
      local r = ctx:run(table.concat(s, "\n"), { stdin = stdin or "" })
      if not r.ok then -- Ansible's run_command(check_rc): the command's error
        return { failed = true, rc = r.rc, msg = ctx.chomp((r.stdout or "") .. (r.stderr or "")) }
      end
    end
    if #msgs > 0 then result.msg = table.concat(msgs, "\n") end
    return result
  end,
}
