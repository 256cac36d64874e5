-- service_facts: the host's services as the fact `services`, in the shape
-- of Ansible's ansible.builtin.service_facts: name -> { name, state,
-- status, source }. As Ansible reads them: SysV init scripts through
-- `service --status-all` (where there is no chkconfig or OpenRC; `[ + ]` is
-- running), OpenRC through rc-status/rc-update, and, when PID 1 is systemd,
-- `systemctl list-units` and `list-unit-files` (the ActiveState of a unit
-- file not loaded); systemd's entries win over SysV's. One round trip;
-- nothing is changed.

local SCRIPT = [[
export LANG=C LC_ALL=C
have() { command -v "$1" >/dev/null 2>&1; }
if have service && ! have chkconfig && ! have rc-status; then
  echo '@@SYSV'; service --status-all 2>/dev/null; echo "@@RC $?"; [ -d /etc/init.d ] || echo '@@NOINITD'
fi
if ! have chkconfig && have rc-status && have rc-update; then
  echo '@@OPENRC'; rc-status -a -s -m 2>&1 | grep '^ ' | tr -d '[]'
  echo '@@OPENRC_UPDATE'; rc-update show -v 2>&1 | grep '|'
fi
if grep -q systemd /proc/1/comm 2>/dev/null; then
  s=$(command -v systemctl || { [ -x /usr/bin/systemctl ] && echo /usr/bin/systemctl; })
  if [ -n "$s" ]; then
    echo '@@UNITS'; "$s" list-units --no-pager --type service --all 2>/dev/null
    echo '@@FILES'; "$s" list-unit-files --no-pager --type service --all 2>/dev/null
    echo '@@ACTIVE'
    "$s" list-unit-files --no-pager --type service --all 2>/dev/null | awk '/\.service/ { print $1 }' |
      while read -r u; do printf '%s %s\n' "$u" "$("$s" show "$u" --property=ActiveState 2>/dev/null)"; done
  fi
fi
exit 0
]]

local BAD = { ["not-found"] = true, masked = true, failed = true }

local function words(l)
  local w = {}
  for x in l:gmatch("%S+") do w[#w + 1] = x end
  return w
end

return {
  params = {},
  check_mode = true,
  returns_facts = true,
  run = function(ctx)
    local out = ctx:run(SCRIPT).stdout or ""
    local sec, parts = nil, {}
    for _, l in ipairs(ctx.lines(out)) do
      local s = l:match("^@@([%u_]+)")
      if s and s ~= "RC" and s ~= "NOINITD" then sec = s; parts[sec] = parts[sec] or {}
      elseif s then parts[s] = parts[s] or {}; table.insert(parts[s], l)
      elseif sec then table.insert(parts[sec], l) end
    end
    local services = {}
    local null = ctx:eval("None")
    for _, l in ipairs(parts.SYSV or {}) do
      local st, name = l:match("^%s*%[ ([+-]) %]%s+(.+)$")
      if name then services[name] = { name = name, state = st == "+" and "running" or "stopped", source = "sysv" } end
    end
    if parts.OPENRC then
      local levels = {}
      for _, l in ipairs(parts.OPENRC_UPDATE or {}) do
        local n, r = l:match("^([^|]*)|(.*)$")
        if n then
          local lv = words(r)
          levels[(n:match("^%s*(.-)%s*$"))] = #lv > 0 and lv or null
        end
      end
      for _, l in ipairs(parts.OPENRC) do
        local w = words(l)
        if #w >= 2 then
          services[w[1]] = { name = w[1], runlevels = levels[w[1]], state = w[2], source = "openrc" }
        end
      end
    end
    if parts.UNITS then
      for _, l in ipairs(parts.UNITS) do
        if l:find(".service", 1, true) then
          local f = words(l)
          local status
          for _, x in ipairs(f) do if BAD[x] then status = x break end end
          if status then table.remove(f, 1) else status = f[3] end
          if f[1] then
            services[f[1]] = { name = f[1], state = f[4] == "running" and "running" or "stopped", status = status,
              source = "systemd" }
          end
        end
      end
      local active = {}
      for _, l in ipairs(parts.ACTIVE or {}) do
        local u, a = l:match("^(%S+) ActiveState=(.*)$")
        if u then active[u] = a end
      end
      for _, l in ipairs(parts.FILES or {}) do
        if l:find(".service", 1, true) then
          local f = words(l)
          if f[1] and f[2] then
            local cur = services[f[1]]
            if not cur or cur.source ~= "systemd" then
              services[f[1]] = { name = f[1], state = (active[f[1]] ~= "" and active[f[1]]) or "unknown", status = f[2],
                source = "systemd" }
            elseif not BAD[cur.status] then
              cur.status = f[2]
            end
          end
        end
      end
    end
    if next(services) == nil then
      return { skipped = true, changed = false,
        msg = "Failed to find any services. This can be due to privileges or some other configuration issue." }
    end
    return { changed = false, ansible_facts = { services = services } }
  end,
}
