-- setup: gather facts about the host. Returns ansible_facts; the runner
-- makes each fact a variable (os_family, distribution, hostname, ...).
-- Names and values follow Ansible's: distribution "Debian" (not os-release's
-- NAME "Debian GNU/Linux"), os_family "Debian", default_ipv4 a table.
local SCRIPT = [[
f=
for c in /etc/os-release /usr/lib/os-release; do [ -r "$c" ] && { f=$c; break; }; done
[ -n "$f" ] && sed -n 's/^\([A-Z_][A-Z0-9_]*\)=/osr_\1=/p' "$f"
[ -r /etc/debian_version ] && echo "debian_version=$(head -n 1 /etc/debian_version)"
echo "hostname=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
echo "fqdn=$(hostname -f 2>/dev/null || hostname)"
echo "kernel=$(uname -r)"
echo "system=$(uname -s)"
echo "architecture=$(uname -m)"
echo "processor_count=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
echo "memtotal_kb=$(awk '/^MemTotal:/{print $2}' /proc/meminfo 2>/dev/null)"
echo "memfree_kb=$(awk '/^MemAvailable:/{print $2}' /proc/meminfo 2>/dev/null)"
echo "user_id=$(id -un)"
addrs=$(hostname -I 2>/dev/null) ||
  addrs=$(ip -o addr show 2>/dev/null | awk '{split($4,a,"/"); print a[1]}' | tr '\n' ' ')
echo "addresses=$addrs"
r=$(ip -4 route get 8.8.8.8 2>/dev/null | head -n 1)
echo "route4=$r"
dev=$(echo "$r" | sed -n 's/.* dev \([^ ]*\).*/\1/p')
if [ -z "$dev" ] && [ -r /proc/net/route ]; then
  dev=$(awk '$2 == "00000000" { print $1; exit }' /proc/net/route)
  echo "procgw4=$(awk '$2 == "00000000" { print $3; exit }' /proc/net/route)"
fi
if [ -n "$dev" ]; then
  echo "dev4=$dev"
  echo "inet4=$(ip -o -4 addr show dev "$dev" 2>/dev/null | head -n 1 | sed 's/\\.*//')"
  echo "mac4=$(cat "/sys/class/net/$dev/address" 2>/dev/null)"
  echo "mtu4=$(cat "/sys/class/net/$dev/mtu" 2>/dev/null)"
  echo "type4=$(cat "/sys/class/net/$dev/type" 2>/dev/null)"
fi
]]

-- os-release ID -> Ansible's distribution name
local DISTRIBUTION = {
  debian = "Debian", raspbian = "Debian", ubuntu = "Ubuntu", centos = "CentOS", rhel = "RedHat",
  fedora = "Fedora", rocky = "Rocky", almalinux = "AlmaLinux", alpine = "Alpine", arch = "Archlinux",
  amzn = "Amazon", ol = "OracleLinux", sles = "SLES", sles_sap = "SLES_SAP", sled = "SLED",
  ["opensuse-leap"] = "openSUSE Leap", ["opensuse-tumbleweed"] = "openSUSE Tumbleweed", opensuse = "openSUSE",
  linuxmint = "Linux Mint", kali = "Kali", pop = "Pop!_OS", devuan = "Devuan", gentoo = "Gentoo",
  manjaro = "Manjaro", void = "Void", nixos = "NixOS", scientific = "Scientific", cloudlinux = "CloudLinux",
  virtuozzo = "Virtuozzo", xenserver = "XenServer", neon = "KDE neon", parrot = "Parrot", osmc = "OSMC",
}

-- distribution -> os_family (Ansible's OS_FAMILY_MAP)
local FAMILY = {}
for family, names in pairs({
  RedHat = { "RedHat", "Fedora", "CentOS", "Scientific", "OracleLinux", "Amazon", "Virtuozzo", "XenServer",
    "CloudLinux", "AlmaLinux", "Rocky" },
  Debian = { "Debian", "Ubuntu", "Linux Mint", "Kali", "Pop!_OS", "Devuan", "KDE neon", "Parrot", "OSMC" },
  Suse = { "SLES", "SLES_SAP", "SLED", "openSUSE", "openSUSE Leap", "openSUSE Tumbleweed" },
  Archlinux = { "Archlinux", "Manjaro" },
  Alpine = { "Alpine" },
  Gentoo = { "Gentoo" },
}) do
  for _, n in ipairs(names) do FAMILY[n] = family end
end
-- an ID_LIKE word -> os_family, for distributions not in the map
local FAMILY_LIKE = { debian = "Debian", ubuntu = "Debian", rhel = "RedHat", fedora = "RedHat",
  centos = "RedHat", suse = "Suse", opensuse = "Suse", arch = "Archlinux", alpine = "Alpine", gentoo = "Gentoo" }

-- The value of an os-release line: shell quoting undone.
local function unquote(v)
  v = v:match("^%s*(.-)%s*$")
  local q = v:sub(1, 1)
  if q == '"' and v:sub(-1) == '"' and #v >= 2 then
    return (v:sub(2, -2):gsub("\\([\"\\$`])", "%1"))
  elseif q == "'" and v:sub(-1) == "'" and #v >= 2 then
    return v:sub(2, -2)
  end
  return v
end

--- The distribution facts from os-release's variables (`osr` = { ID =,
--- NAME =, ID_LIKE =, VERSION_ID =, VERSION =, VERSION_CODENAME =,
--- UBUNTU_CODENAME = }), as Ansible names them. `debian_version` is the
--- first line of /etc/debian_version (Debian gives its point release there);
--- `system` the kernel's name, used when there is no os-release.
local function distribution_facts(osr, debian_version, system)
  local id = (osr.ID or ""):lower()
  local dist = DISTRIBUTION[id]
  if not dist and id:match("^opensuse") then dist = "openSUSE" end
  if not dist then dist = (osr.NAME or ""):match("^%s*(%S+)") or system or "NA" end
  local version = osr.VERSION_ID ~= "" and osr.VERSION_ID or nil
  if dist == "Debian" and debian_version and debian_version:match("^%d+%.%d+") then
    version = debian_version:match("^(%d+%.%d+)")
  end
  version = version or "NA"
  local release = osr.VERSION_CODENAME
  if release == nil or release == "" then release = osr.UBUNTU_CODENAME end
  if release == nil or release == "" then release = (osr.VERSION or ""):match("%(([^)]+)%)") end
  if release == nil or release == "" then release = "NA" end
  local family = FAMILY[dist]
  if not family then
    for w in (osr.ID_LIKE or ""):gmatch("%S+") do family = family or FAMILY_LIKE[w:lower()] end
  end
  return {
    distribution = dist,
    distribution_version = version,
    distribution_major_version = version:match("^(%d+)") or version,
    distribution_minor_version = version:match("^%d+%.(%d+)") or "NA",
    distribution_release = release,
    distribution_id = osr.ID,
    os_family = family or dist,
  }
end

local function prefix_netmask(prefix)
  local mask = prefix == 0 and 0 or ((0xffffffff << (32 - prefix)) & 0xffffffff)
  return mask
end

local function ip_string(n)
  return string.format("%d.%d.%d.%d", (n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255)
end

local function ip_number(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  return (tonumber(a) << 24) | (tonumber(b) << 16) | (tonumber(c) << 8) | tonumber(d)
end

--- Ansible's ansible_default_ipv4: { address, interface, gateway, netmask,
--- network, prefix, broadcast, macaddress, mtu, type, alias }, or {} when
--- the host has no IPv4 default route. `object` marks a table a mapping
--- (ctx.object), so that the empty one shows as {}, not as the empty list [].
local function default_ipv4(raw, object)
  local route = raw.route4 or ""
  local out = object and object() or {}
  local dev = raw.dev4
  if not dev or dev == "" then return out end
  out.interface, out.alias = dev, dev
  out.gateway = route:match(" via (%S+)")
  out.address = route:match(" src (%S+)")
  if not out.gateway and raw.procgw4 and raw.procgw4:match("^%x+$") then
    -- /proc/net/route gives the gateway as little-endian hex
    local n = tonumber(raw.procgw4, 16)
    out.gateway = string.format("%d.%d.%d.%d", n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >> 24) & 255)
  end
  local inet = raw.inet4 or ""
  local addr, prefix = inet:match(" inet (%d+%.%d+%.%d+%.%d+)/(%d+)")
  out.address = out.address or addr
  if addr and prefix then
    local p = tonumber(prefix)
    local mask = prefix_netmask(p)
    out.prefix = prefix
    out.netmask = ip_string(mask)
    out.network = ip_string(ip_number(addr) & mask)
    out.broadcast = inet:match(" brd (%d+%.%d+%.%d+%.%d+)")
  end
  if raw.mac4 and raw.mac4 ~= "" then out.macaddress = raw.mac4 end
  out.mtu = tonumber(raw.mtu4)
  local ty = tonumber(raw.type4)
  out.type = ty == 1 and "ether" or ty == 772 and "loopback" or ty and "unknown" or nil
  return out
end

---------------------------------------------------------------------------
-- local facts (Ansible's LocalFactCollector): each *.fact file of fact_path
-- on the host, read (or run, when executable: its stdout), as JSON, else
-- INI (ConfigParser's: [section] key = value, keys in lower case); the value
-- under its name without .fact in ansible_local. A file that cannot be read
-- or run, or is neither, gets Ansible's message as its value, and a warning.
---------------------------------------------------------------------------
local function local_script(dir, token, q)
  local body = [=[
[ -d "$d" ] || exit 0
for f in "$d"/*.fact; do
  [ -e "$f" ] || continue
  n=${f##*/}; n=${n%.fact}
  if [ -x "$f" ]; then
    printf '\n%s BEGIN x %s\n' "$T" "$n"
    e=$(mktemp) || exit 1
    "$f" 2>"$e"; rc=$?
    printf '\n%s ERR %s\n' "$T" "$rc"; cat "$e"; rm -f "$e"
  else
    printf '\n%s BEGIN f %s\n' "$T" "$n"
    cat "$f" || printf '\n%s ERR read\n' "$T"
  fi
done
printf '\n%s END\n' "$T"
]=]
  return "d=" .. q(dir) .. "\nT=" .. q(token) .. "\n" .. body
end

-- ConfigParser's reading of an INI text: { section = { key = value } }, or
-- nil when it would raise (an option before any section, a line that is no
-- option, a section or an option twice).
local function parse_ini(text, object) -- (object: ctx.object, a mapping shown {} even empty)
  object = object or function() return {} end
  local out, defaults, sect, last, seen = object(), {}, nil, nil, {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = line:gsub("\r$", "")
    local stripped = line:match("^%s*(.-)%s*$")
    if stripped == "" or stripped:match("^[#;]") then
      if stripped == "" then last = nil end
    elseif line:match("^%s") and last then -- a continuation line
      sect[last] = sect[last] .. "\n" .. stripped
    else
      local name = stripped:match("^%[(.*)%]$")
      if name then
        if seen[name] then return nil end
        seen[name] = true
        if name == "DEFAULT" then sect = defaults else out[name] = object(); sect = out[name] end
        last = nil
      else
        if not sect then return nil end
        local k, v = line:match("^%s*([^=:]-)%s*[=:]%s*(.-)%s*$")
        if not k or k == "" then return nil end
        k = k:lower()
        if sect[k] ~= nil then return nil end
        sect[k], last = v, k
      end
    end
  end
  for _, t in pairs(out) do
    for k, v in pairs(defaults) do if t[k] == nil then t[k] = v end end
  end
  return out
end

local function local_facts(ctx, dir, warnings)
  local token = string.format("luasible-fact-%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  local res = ctx:run(local_script(dir, token, ctx.quote))
  local facts = ctx.object and ctx.object() or {}
  if not res.ok then return facts end
  local out = res.stdout or ""
  local marker = "\n" .. token .. " "
  local parts, i = {}, 1
  while true do
    local a, b = out:find(marker, i, true)
    if not a then break end
    local e = out:find("\n", b + 1, true) or #out + 1
    parts[#parts + 1] = { head = out:sub(b + 1, e - 1), from = e + 1, at = a }
    i = e
  end
  for k, p in ipairs(parts) do
    p.body = out:sub(p.from, (parts[k + 1] and parts[k + 1].at or #out + 1) - 1)
  end
  local k = 1
  while parts[k] do
    local p = parts[k]
    local kind, name = p.head:match("^BEGIN (%a) (.*)$")
    if kind then
      local file = dir .. "/" .. name .. ".fact"
      local nxt = parts[k + 1]
      local failed
      if nxt and nxt.head:match("^ERR ") then
        local rc = nxt.head:match("^ERR (.*)$")
        if rc == "read" then failed = "error loading fact - could not read " .. file
        elseif rc ~= "0" then
          failed = string.format("Failure executing fact script (%s), rc: %s, err: %s", file, rc, nxt.body)
        end
        k = k + 1
      end
      local fact = failed
      if not fact then
        local v = ctx.eval({ vars = { fact_text = p.body } }, "fact_text | from_json") -- (nil, err: no JSON)
        if v ~= nil then fact = v
        else
          fact = parse_ini(p.body, ctx.object)
          if not fact then fact = "error loading facts as JSON or ini - please check content: " .. file end
        end
      end
      if type(fact) == "string" and fact ~= "" and (failed or fact:find("^error loading")) then
        warnings[#warnings + 1] = fact
      end
      facts[name] = fact
    end
    k = k + 1
  end
  return facts
end

-- gather_subset (Ansible's): the subsets each fact is in; min's are always
-- there unless "!min"; "all" is every subset; "!x" leaves x out.
local SUBSET_OF = {
  hostname = "platform", fqdn = "platform", kernel = "platform", system = "platform", architecture = "platform",
  user_id = "user", processor_count = "hardware", memtotal_mb = "hardware", memfree_mb = "hardware",
  all_ipv4_addresses = "network", all_ipv6_addresses = "network", addresses = "network", default_ipv4 = "network",
}
local MIN = { platform = true, user = true, distribution = true, ["local"] = true }
local SUBSETS = { all = true, min = true, hardware = true, network = true, virtual = true, ohai = true, facter = true,
  platform = true, user = true, distribution = true, ["local"] = true }

--- The subsets gather_subset (a list) asks for: set of names, or nil, err.
local function subsets(list)
  local want, exclude, any_pos = {}, {}, false
  local split = {}
  for _, s in ipairs(list) do
    for x in tostring(s):gmatch("[^,]+") do split[#split + 1] = x end
  end
  for _, s in ipairs(split) do
    s = tostring(s):match("^%s*(.-)%s*$")
    local neg = s:sub(1, 1) == "!"
    local name = neg and s:sub(2) or s
    if not SUBSETS[name] then
      return nil, "bad subset '" .. name .. "' (the subsets: all, "
        .. "distribution, facter, hardware, local, min, network, ohai, platform, user, virtual, and ! before one)"
    end
    if neg then exclude[name] = true else want[name], any_pos = true, true end
  end
  local out = {}
  if want.all or (not any_pos and not exclude.all) then
    for k in pairs(SUBSETS) do out[k] = true end
  end
  for k in pairs(want) do out[k] = true end
  if exclude.all then -- "!all": min stays unless asked to go too
    for k in pairs(out) do if not want[k] then out[k] = nil end end
  end
  if not exclude.min then for k in pairs(MIN) do out[k] = true end end
  for k in pairs(exclude) do if k ~= "all" then out[k] = nil end end
  if exclude.min then for k in pairs(MIN) do if not want[k] then out[k] = nil end end end
  return out
end

return {
  params = { filter = { type = "string" }, gather_subset = { type = "list", default = { "all" } },
    fact_path = { type = "string", default = "/etc/ansible/facts.d" } },
  check_mode = true,
  distribution_facts = distribution_facts,
  subsets = subsets, -- (play/prepare.lua checks a play's gather_subset with it before anything runs)
  default_ipv4 = default_ipv4,
  run = function(ctx, args)
    local res = ctx:run(SCRIPT)
    if not res.ok then return { failed = true, msg = "could not gather facts: " .. (res.stderr or "") } end
    local raw, osr = {}, {}
    for k, v in res.stdout:gmatch("([%w_]+)=([^\n]*)") do
      local ok = k:match("^osr_(.+)$")
      if ok then osr[ok] = unquote(v) else raw[k] = v end
    end
    local addrs, v4, v6 = {}, {}, {}
    for a in (raw.addresses or ""):gmatch("%S+") do
      addrs[#addrs + 1] = a
      if a:find(":", 1, true) then v6[#v6 + 1] = a else v4[#v4 + 1] = a end
    end
    local facts = {
      hostname = raw.hostname, fqdn = raw.fqdn, kernel = raw.kernel, system = raw.system,
      architecture = raw.architecture, processor_count = tonumber(raw.processor_count),
      memtotal_mb = tonumber(raw.memtotal_kb) and tonumber(raw.memtotal_kb) // 1024,
      memfree_mb = tonumber(raw.memfree_kb) and tonumber(raw.memfree_kb) // 1024,
      user_id = raw.user_id, all_ipv4_addresses = v4, all_ipv6_addresses = v6, addresses = addrs,
      default_ipv4 = default_ipv4(raw, ctx.object),
    }
    for k, v in pairs(distribution_facts(osr, raw.debian_version, raw.system)) do facts[k] = v end
    local want, serr = subsets(args.gather_subset or { "all" })
    if not want then return { failed = true, msg = serr } end
    for k in pairs(facts) do
      if not want[SUBSET_OF[k] or "distribution"] then facts[k] = nil end
    end
    local warnings = {}
    if want["local"] then -- ansible_local (ansible_facts.ansible_local, as Ansible names it)
      facts.ansible_local = local_facts(ctx, args.fact_path or "/etc/ansible/facts.d", warnings)
    end
    facts.gather_subset, facts.module_setup = args.gather_subset or { "all" }, true
    if args.filter then
      local only = {}
      for k, v in pairs(facts) do if k:find(args.filter) then only[k] = v end end
      facts = only
    end
    return { changed = false, ansible_facts = facts, warnings = #warnings > 0 and warnings or nil }
  end,
}
