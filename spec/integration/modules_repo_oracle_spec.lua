--- #hosts #oracle apt_key and apt_repository against Ansible's own modules
-- (apt-key and python3-apt on the hosts): the same play by ansible-playbook
-- on "a-deb" and by luasible on "l-deb", each host serving the same signed
-- repository (spec/helpers/aptrepo.lua) on its own 127.0.0.1:8080. The
-- changed flags, statuses, recaps, the sources files (names and text), the
-- keys in the keyrings and the packages installed from the repository (by
-- apt, and by package choosing apt from the host's facts) must
-- agree, twice and under --check.
local twins = require "spec.helpers.twins"
local aptrepo = require "spec.helpers.aptrepo"

describe("#hosts #oracle apt_key and apt_repository", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t, repo
  lazy_setup(function()
    t = twins.start { names = { "deb" } }
    repo = aptrepo.start(t.ansible[1], { local_url = true })
    repo:package("lsb-hello", "1.0")
    repo:package("lsb-pkg", "1.0")
    repo:mirror(t.luasible[1])
    aptrepo.plain(t.ansible[1])
    aptrepo.plain(t.luasible[1])
  end)
  lazy_teardown(function() if t then t:stop() end end)

  local function play()
    return ([[
- hosts: deb
  gather_facts: false
  tasks:
    - name: the key into a signed-by keyring
      apt_key: { url: "KEYURL", keyring: /etc/apt/keyrings/spec.gpg }
    - name: the key from a file, apt's own trusted.gpg
      apt_key: { file: /srv/www/repo/key.asc }
    - name: the source
      apt_repository: { repo: "deb [signed-by=/etc/apt/keyrings/spec.gpg] URL stable main" }
    - name: a package from it
      apt: { name: lsb-hello }
      when: not ansible_check_mode   # under --check the source is not there: Ansible's apt fails
    - name: package, apt by the host's pkg_mgr (Ansible's setup; luasible's own rule)
      package: { name: lsb-pkg, state: present }
      when: not ansible_check_mode
    - name: another source, named
      apt_repository: { repo: "deb http://mirror.invalid/debian bookworm main", filename: extra, update_cache: false }
    - name: a third in sources.list's folder, then gone
      apt_repository: { repo: "deb-src http://u:p@src.invalid:81/x/ y z", update_cache: false }
    - name: gone
      apt_repository: { repo: "deb-src http://u:p@src.invalid:81/x/ y z", state: absent, update_cache: false }
    - name: a key not there, absent
      apt_key: { id: "0123456789ABCDEF", keyring: /etc/apt/keyrings/spec.gpg, state: absent }
]]):gsub("KEYURL", repo.key_url):gsub("URL", repo.url)
  end

  it("the same sources, keys and package, twice and under --check", function()
    local state = "cd /etc/apt && for f in sources.list sources.list.d/*; do"
      .. " [ -f \"$f\" ] && echo \"== $f $(stat -c %a $f)\" && cat \"$f\"; done;"
      .. " for k in keyrings/spec.gpg trusted.gpg; do echo \"== $k\"; [ -f $k ] &&"
      .. " gpg --batch --no-default-keyring --keyring /etc/apt/$k --with-colons --list-keys 2>/dev/null"
      .. " | awk -F: '$1==\"pub\"{print $5}'; done; dpkg-query -W -f='${db:Status-Abbrev}${Version}\\n' lsb-hello"
      .. " 2>/dev/null; dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' lsb-pkg"
      .. " 2>/dev/null; true"
    t:agree(t:run(play(), { check = true }), "check on fresh hosts")
    local a, l = t:both(state)
    assert.are.equal(a, l)
    for round = 1, 2 do
      t:agree(t:run(play(), { diff = true }), "round " .. round)
      a, l = t:both(state)
      assert.are.equal(a, l)
      assert.matches("127_0_0_1_8080_files_repo%.list 644", l)
      assert.matches("extra%.list", l)
      assert.matches("ii 1%.0", l)
      assert.matches("lsb%-pkg ii", l)
      assert.matches(repo.id, l)
    end
    t:agree(t:run(play(), { check = true }), "check after the runs")
  end)
end)
