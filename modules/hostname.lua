-- hostname: set a host's name, as Ansible's hostname module does on Linux:
-- under systemd (or use=systemd/debian) through hostnamectl, the static and
-- the transient name; without systemd, as Ansible's file strategy of
-- Debian and its kin, /etc/hostname only (the running name follows at the
-- next boot); on Alpine (use=alpine) /etc/hostname and `hostname -F`.
-- One round trip reads the names (and which way applies); a second one
-- writes them, when needed.

local STRATEGIES = { systemd = "systemd", debian = "systemd", alpine = "alpine", file = "file" }

local function gather()
  return table.concat({
    "if [ -d /run/systemd/system ] && command -v hostnamectl >/dev/null 2>&1; then echo S:systemd;"
      .. " echo \"C:$(hostnamectl --transient status 2>/dev/null)\";"
      .. " echo \"P:$(hostnamectl --static status 2>/dev/null)\";"
      .. " fi",
    "command -v hostnamectl >/dev/null 2>&1 || echo MISSING:hostnamectl",
    "command -v hostname >/dev/null 2>&1 || echo MISSING:hostname",
    ". /etc/os-release 2>/dev/null; echo \"ID:$ID\"",
    "[ -f /etc/hostname ] && echo \"F:$(cat /etc/hostname)\"",
    "echo \"U:$(cat /proc/sys/kernel/hostname 2>/dev/null)\"",
    "echo \"Q:$(hostname -f 2>/dev/null)\"",
    "exit 0",
  }, "\n") .. "\n"
end

local function trim(s) return (s or ""):match("^%s*(.-)%s*$") end

return {
  returns_facts = true, -- ansible_hostname, ansible_fqdn, ...: the host's facts from now on
  params = {
    name = { type = "string", required = true },
    use = { type = "string", choices = { "systemd", "debian", "alpine", "file" } },
  },
  check_args = function(args)
    local n = args.name
    if n and (n == "" or not n:match("^[%w][%w.-]*$")) then
      return nil, "argument 'name' must be a host name (letters, digits, '-' and '.'), got '" .. n .. "'"
    end
    if n and #n > 64 then return nil, "argument 'name' cannot be longer than 64 characters" end
    return true
  end,
  check_mode = true,
  run = function(ctx, args)
    local q, name = ctx.quote, args.name
    local out = ctx:run(gather()).stdout or ""
    local v = { missing = {} }
    for tag, rest in out:gmatch("(%u+):([^\n]*)") do
      if tag == "MISSING" then v.missing[rest] = true else v[tag] = rest end
    end
    local how = args.use and STRATEGIES[args.use] or (v.S == "systemd" and "systemd")
      or (v.ID == "alpine" and "alpine") or "file"
    local current, permanent, cmds
    if how == "systemd" then
      if v.missing.hostnamectl then
        return { failed = true, msg = "hostnamectl not found on the host (needed by use=" .. tostring(args.use) .. ")" }
      end
      current, permanent = trim(v.C), trim(v.P)
      cmds = {}
      if permanent ~= name then cmds[#cmds + 1] = "hostnamectl --pretty --static set-hostname " .. q(name) end
      if current ~= name then cmds[#cmds + 1] = "hostnamectl --transient set-hostname " .. q(name) end
    else
      -- the file strategies: the current name is the file's, as Ansible reads it
      permanent = trim(v.F)
      current = permanent
      cmds = {}
      if permanent ~= name then
        cmds[1] = "printf '%s\\n' " .. q(name) .. " > /etc/hostname"
        if how == "alpine" then
          if v.missing.hostname then
            return { failed = true, msg = "hostname not found on the host (needed by alpine)" }
          end
          cmds[2] = "hostname -F /etc/hostname"
        end
      end
    end
    local before = (name ~= current and current) or permanent
    local changed = #cmds > 0
    local fqdn = trim(v.Q) ~= "" and trim(v.Q) or trim(v.U)
    local result = { changed = changed, name = name, ansible_facts = ctx.object({
      ansible_hostname = name:match("^[^.]*"), ansible_nodename = name,
      ansible_fqdn = fqdn, ansible_domain = fqdn:match("^[^.]*%.(.*)$") or "" }) }
    if changed and ctx.diff then
      result.diff = { before = "hostname = " .. before .. "\n", after = "hostname = " .. name .. "\n" }
    end
    if not changed then return result end
    local ok, res = ctx:apply(cmds, result)
    if not ok then
      return { failed = true, changed = false, msg = "cannot set the hostname: " .. ctx.chomp(res.stderr) }
    end
    return result
  end,
}
