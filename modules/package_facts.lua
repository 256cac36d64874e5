-- package_facts: the host's installed packages as the fact `packages`, in
-- the shape of Ansible's ansible.builtin.package_facts: a mapping of name to
-- a list of { name, version, arch, ..., source } (a list: a name may be
-- installed in several versions or architectures). apt reads dpkg's
-- database (dpkg-query: no python3-apt needed) and each version's origin
-- from apt's lists; rpm `rpm -qa`; apk `apk info -v`; pacman `pacman -Q`.
-- manager auto (or several, in order): with strategy first the first
-- usable one; all: every usable one. An rpm tool on a dpkg system with an
-- empty rpm database is not usable (Ansible's rpm lister, with python3-rpm,
-- would win with no package). One round trip; nothing is changed.

local MANAGERS = { "rpm", "apt", "pacman", "apk" } -- Ansible's order (its classes' order)
local KNOWN = { apt = true, rpm = true, apk = true, pacman = true }

-- the script of one manager: "@@M name" then its lines, or "@@X name" when unusable
local SCRIPTS = {
  apt = [[
if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo '@@M apt'
  dpkg-query -W -f '${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${Section}\n' 2>/dev/null |
    awk -F '\t' '$1 != "not-installed" && $1 != "config-files" { print "P\t" $2 "\t" $3 "\t" $4 "\t" $5 }'
  if command -v apt-cache >/dev/null 2>&1; then
    apt-cache policy 2>/dev/null |
      awk '/^ *-?[0-9]+ / { f = $0 } / release / { if (f != "") print "R\t" f "\t" $0; f = "" }'
    dpkg-query -W -f '${db:Status-Status}\t${Package}:${Architecture}\n' 2>/dev/null |
      awk -F '\t' '$1 != "not-installed" && $1 != "config-files" { print $2 }' |
      xargs -r apt-cache madison 2>/dev/null | sed 's/^/V\t/'
    dpkg-query -W -f '${db:Status-Status}\t${Package}:${Architecture}=${Version}\n' 2>/dev/null |
      awk -F '\t' '$1 != "not-installed" && $1 != "config-files" { print $2 }' | xargs -r apt-cache show 2>/dev/null |
      awk '/^Package:/ { p = $2 } /^Version:/ { v = $2 } /^Section:/ { s = $2 }
        /^$/ { if (p != "") print "S\t" p "\t" v "\t" s; p = ""; s = "" }'
  fi
else echo '@@X apt'; fi
]],
  rpm = [[
if command -v rpm >/dev/null 2>&1 &&
  { [ -n "$(rpm -qa 2>/dev/null | head -n 1)" ] || ! command -v dpkg >/dev/null 2>&1; }; then
  echo '@@M rpm'
  rpm -qa --qf 'P\t%{NAME}\t%{VERSION}\t%{RELEASE}\t%{EPOCH}\t%{ARCH}\n' 2>/dev/null
else echo '@@X rpm'; fi
]],
  apk = [[
if command -v apk >/dev/null 2>&1; then echo '@@M apk'; apk info -v 2>/dev/null | sed 's/^/P\t/'
else echo '@@X apk'; fi
]],
  pacman = [[
if command -v pacman >/dev/null 2>&1; then echo '@@M pacman'; LC_ALL=C pacman -Q 2>/dev/null | sed 's/^/P\t/'
else echo '@@X pacman'; fi
]],
}

local function fields(line)
  local out = {}
  for f in (line .. "\t"):gmatch("([^\t]*)\t") do out[#out + 1] = f end
  return out
end
local function trim(s) return (s:match("^%s*(.-)%s*$")) end

-- apt: the origin (o=) of each list file, by its "URL suite/component arch" text;
-- the list file of each version (madison); the section of each version (apt-cache show)
local function apt_origins(lines)
  local by_file, by_pkg, sections = {}, {}, {}
  for _, l in ipairs(lines) do
    local f = fields(l)
    if f[1] == "R" then
      local where = trim(f[2]):match("^%-?%d+%s+(.-)%s*$")
      where = where and where:gsub("%s+Packages$", "")
      local o = f[3]:match("o=([^,]*)")
      if where and o then by_file[where] = o end
    elseif f[1] == "S" then
      local k = f[2] .. "\0" .. f[3]
      if sections[k] == nil and f[4] ~= "" then sections[k] = f[4] end
    elseif f[1] == "V" then
      -- "name | version | URL suite/component arch Packages"
      local name, ver, src = f[2]:match("^%s*(%S+)%s*|%s*(%S+)%s*|%s*(.-)%s*$")
      if name then
        src = src:gsub("%s+Packages$", "")
        by_pkg[name .. "\0" .. ver] = by_pkg[name .. "\0" .. ver] or src
      end
    end
  end
  return by_file, by_pkg, sections
end

local PARSE = {
  apt = function(lines, null)
    local by_file, by_pkg, sections = apt_origins(lines)
    local out = {}
    for _, l in ipairs(lines) do
      local f = fields(l)
      if f[1] == "P" then
        local name, ver = f[2], f[3]
        local src = by_pkg[name .. "\0" .. ver]
        out[#out + 1] = { name = name, version = ver, arch = f[4], category = sections[name .. "\0" .. ver]
          or (f[5] ~= "" and f[5]) or null,
          origin = (src and by_file[src]) or "", source = "apt" }
      end
    end
    return out
  end,
  rpm = function(lines, null)
    local out = {}
    for _, l in ipairs(lines) do
      local f = fields(l)
      if f[1] == "P" then
        out[#out + 1] = { name = f[2], version = f[3], release = f[4],
          epoch = (f[5] ~= "(none)" and math.tointeger(tonumber(f[5]))) or null, arch = f[6], source = "rpm" }
      end
    end
    return out
  end,
  apk = function(lines)
    local out = {}
    for _, l in ipairs(lines) do
      local p = l:match("^P\t(.*)$")
      if p then
        local n, v, r = p:match("^(.*)%-([^-]*)%-([^-]*)$")
        out[#out + 1] = n and { name = n, version = v, release = r, source = "apk" }
          or { name = p, version = "", release = "", source = "apk" }
      end
    end
    return out
  end,
  pacman = function(lines)
    local out = {}
    for _, l in ipairs(lines) do
      local n, v = l:match("^P\t(%S+)%s+(%S+)")
      if n then out[#out + 1] = { name = n, version = v, source = "pacman" } end
    end
    return out
  end,
}

return {
  params = {
    manager = { type = "list", default = { "auto" } },
    strategy = { type = "string", default = "first", choices = { "first", "all" } },
  },
  check_args = function(args)
    local bad = {}
    for _, m in ipairs(type(args.manager) == "table" and args.manager or {}) do
      local l = tostring(m):lower()
      if l ~= "auto" and not KNOWN[l] then bad[#bad + 1] = tostring(m) end
    end
    if #bad > 0 then
      return nil, "argument 'manager': unsupported package managers requested: " .. table.concat(bad, ", ")
        .. " (auto, " .. table.concat(MANAGERS, ", ") .. ")"
    end
    return true
  end,
  returns_facts = true,
  check_mode = true,
  run = function(ctx, args)
    local wanted, seen = {}, {}
    for _, m in ipairs(args.manager) do
      local l = tostring(m):lower()
      if l == "auto" then
        for _, x in ipairs(MANAGERS) do if not seen[x] then seen[x] = true; wanted[#wanted + 1] = x end end
      elseif not seen[l] then seen[l] = true; wanted[#wanted + 1] = l end
    end
    local script = { "export LC_ALL=C LANG=C" }
    for _, m in ipairs(wanted) do script[#script + 1] = SCRIPTS[m] end
    script[#script + 1] = "exit 0"
    local out = ctx:run(table.concat(script, "\n")).stdout or ""
    local blocks, order, cur = {}, {}, nil
    for _, l in ipairs(ctx.lines(out)) do
      local tag, m = l:match("^@@([MX]) (%S+)$")
      if tag then
        cur = nil
        if tag == "M" then cur = {}; blocks[m] = cur; order[#order + 1] = m end
      elseif cur then cur[#cur + 1] = l end
    end
    local null = ctx:eval("None")
    local packages, found = ctx.object({}), 0
    for _, m in ipairs(order) do
      if found > 0 and args.strategy == "first" then break end
      found = found + 1
      local mine = {}
      for _, p in ipairs(PARSE[m](blocks[m], null)) do
        mine[p.name] = mine[p.name] or {}
        table.insert(mine[p.name], p)
      end
      for k, v in pairs(mine) do packages[k] = v end -- a later manager's name replaces (dict.update)
    end
    if found == 0 then
      return { failed = true, msg = "Could not detect a supported package manager from the following list: "
        .. table.concat(wanted, ", ") }
    end
    return { changed = false, ansible_facts = { packages = packages } }
  end,
}
