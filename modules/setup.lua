-- setup: gather facts about the host. Returns ansible_facts; the runner
-- makes each fact a variable (os_family, distribution, hostname, ...).
local SCRIPT = [[
. /etc/os-release 2>/dev/null
echo "distribution=${NAME:-unknown}"
echo "distribution_id=${ID:-unknown}"
echo "id_like=${ID_LIKE:-}"
echo "distribution_version=${VERSION_ID:-}"
echo "distribution_release=${VERSION_CODENAME:-}"
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
]]

local FAMILY = { debian = "Debian", ubuntu = "Debian", rhel = "RedHat", fedora = "RedHat", centos = "RedHat",
  alpine = "Alpine", arch = "Archlinux", suse = "Suse", opensuse = "Suse" }

return {
  params = { filter = { type = "string" } },
  check_mode = true,
  run = function(ctx, args)
    local res = ctx:run(SCRIPT)
    if not res.ok then return { failed = true, msg = "could not gather facts: " .. (res.stderr or "") } end
    local raw = {}
    for k, v in res.stdout:gmatch("([%w_]+)=([^\n]*)") do raw[k] = v end
    local family
    for id in ((raw.distribution_id or "") .. " " .. (raw.id_like or "")):gmatch("%S+") do
      family = family or FAMILY[id]
    end
    local addrs, v4, v6 = {}, {}, {}
    for a in (raw.addresses or ""):gmatch("%S+") do
      addrs[#addrs + 1] = a
      if a:find(":", 1, true) then v6[#v6 + 1] = a else v4[#v4 + 1] = a end
    end
    local facts = {
      os_family = family or raw.system, distribution = raw.distribution, distribution_id = raw.distribution_id,
      distribution_version = raw.distribution_version, distribution_release = raw.distribution_release,
      distribution_major_version = (raw.distribution_version or ""):match("^(%d+)"),
      hostname = raw.hostname, fqdn = raw.fqdn, kernel = raw.kernel, system = raw.system,
      architecture = raw.architecture, processor_count = tonumber(raw.processor_count),
      memtotal_mb = tonumber(raw.memtotal_kb) and tonumber(raw.memtotal_kb) // 1024,
      memfree_mb = tonumber(raw.memfree_kb) and tonumber(raw.memfree_kb) // 1024,
      user_id = raw.user_id, all_ipv4_addresses = v4, all_ipv6_addresses = v6, addresses = addrs,
      default_ipv4 = v4[1],
    }
    if args.filter then
      local only = {}
      for k, v in pairs(facts) do if k:find(args.filter) then only[k] = v end end
      facts = only
    end
    return { changed = false, ansible_facts = facts }
  end,
}
