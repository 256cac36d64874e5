-- package_facts and service_facts against Ansible's own modules: the same
-- playbook by ansible-playbook on "a-box" and by luasible on "l-box" (twin
-- overlays of this machine, so the same packages and init scripts); the
-- facts (every package's name, version, arch, category, origin, source;
-- every service's state and source), the statuses and the recaps must be
-- the same. Ansible's apt lister needs python3-apt on the host: when this
-- machine has none, the .debs in build/oracle-cache/ (scripts/deps puts them in apt's cache; or `apt-get download
-- python3-apt python-apt-common`) are installed on both twins, else the
-- package part is pending. A bad manager or strategy: Ansible fails the
-- task on the host, luasible refuses the playbook, one line, nothing run.
local twins = require "spec.helpers.twins"
local files = require "spec.helpers.files"

describe("#hosts #oracle package_facts, service_facts", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t, has_apt
  lazy_setup(function()
    t = twins.start { names = { "box" } }
    local debs = {}
    for _, n in ipairs { "python3-apt", "python-apt-common" } do
      local p = io.popen("ls build/oracle-cache/" .. n .. "_*.deb /var/cache/apt/archives/" .. n
        .. "_*.deb 2>/dev/null | head -n 1")
      local f = p:read("l"); p:close()
      if f then debs[#debs + 1] = f end
    end
    has_apt = select(2, t.ansible[1]:exec("python3 -c 'import apt'"))
    if not has_apt and #debs == 2 then
      for _, h in ipairs { t.ansible[1], t.luasible[1] } do
        for i, d in ipairs(debs) do h:write("/tmp/p" .. i .. ".deb", assert(files.read(d))) end
        h:exec("dpkg -i /tmp/p2.deb /tmp/p1.deb >/dev/null 2>&1; rm -f /tmp/p1.deb /tmp/p2.deb")
      end
      has_apt = select(2, t.ansible[1]:exec("python3 -c 'import apt'"))
    end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  -- (spec/helpers/twins.lua: the same compare for every twin oracle)
  local registered = twins.registered
  local function compare(r, label) return t:agree(r, label) end
  local function refused(play, words) return t:refused(play, words) end
  -- the differences of two mappings of lists, as lines (first 20)
  local function differences(a, l)
    local out = {}
    local enc = require("cjson").encode
    for k, v in pairs(a or {}) do
      if enc(v) ~= enc((l or {})[k]) then out[#out + 1] = k .. ": " .. enc(v) .. " vs " .. enc((l or {})[k]) end
    end
    for k, v in pairs(l or {}) do if (a or {})[k] == nil then out[#out + 1] = k .. ": only luasible " .. enc(v) end end
    table.sort(out)
    return table.concat(out, "\n", 1, math.min(#out, 20)), #out
  end

  it("package_facts: every package of dpkg alike (name, version, arch, category, origin, source)", function()
    if not has_apt then pending("python3-apt missing on the host and not in build/oracle-cache/") return end
    local r = t:run([[
- hosts: all
  gather_facts: false
  tasks:
    - name: packages
      package_facts: manager=auto
    - name: apt only, every manager
      package_facts: { manager: [apt], strategy: all }
    - name: used
      copy: dest=/tmp/pf content="{{ packages['openssh-server'][0].version }} {{ 'bash' in ansible_facts.packages }}"
]])
    compare(r, "package_facts")
    local a, l = registered(r, "apt only, every manager")
    local d, n = differences(a.ansible_facts.packages, l.ansible_facts.packages)
    assert.are.equal(0, n, d)
    assert.truthy(l.ansible_facts.packages.bash)
    -- auto: Ansible's rpm lister comes first; with python3-rpm and an rpm tool on this Debian
    -- machine it wins with no package at all, where luasible passes over an empty rpm database
    local a2, l2 = registered(r, "packages")
    if next(a2.ansible_facts.packages) == nil and (t.ansible[1]:exec("command -v rpm")) ~= "" then
      d, n = differences(a.ansible_facts.packages, l2.ansible_facts.packages)
    else
      d, n = differences(a2.ansible_facts.packages, l2.ansible_facts.packages)
    end
    assert.are.equal(0, n, d)
    assert.truthy((t.luasible[1]:exec("cat /tmp/pf")):find(" True$"))
  end)

  it("package_facts: a bad manager and a bad strategy are refused before anything runs", function()
    refused([[
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      package_facts: manager=yumyum
]], { "package_facts", "'manager'" })
    refused([[
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      package_facts: strategy=some
]], { "package_facts", "'strategy'" })
  end)

  it("service_facts: the init scripts' services and states alike, under --check too", function()
    for _, check in ipairs { false, true } do
      local r = t:run([[
- hosts: all
  gather_facts: false
  tasks:
    - name: services
      service_facts:
    - name: used
      copy: dest=/tmp/sf content="{{ services | length > 0 }} {{ ansible_facts.services.ssh.state | default('none') }}"
]], { check = check })
      compare(r, "service_facts")
      local a, l = registered(r, "services")
      local d, n = differences((a.ansible_facts or {}).services, (l.ansible_facts or {}).services)
      assert.are.equal(0, n, d)
      assert.truthy(next(l.ansible_facts.services))
    end
  end)
end)
