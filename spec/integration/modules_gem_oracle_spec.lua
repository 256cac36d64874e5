--- #hosts #oracle gem against Ansible's community.general.gem: the same
-- playbook by ansible-playbook on "a-rb" and by luasible on "l-rb", each
-- with its own gem repository on 127.0.0.1:8808 (`gem generate_index`
-- served by httpd.py) and the same local .gem file. The changed flags,
-- statuses, recaps and the gems left must agree, twice and under --check.
local twins = require "spec.helpers.twins"
local pkgservers = require "spec.helpers.pkgservers"

describe("#hosts #oracle gem", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t
  lazy_setup(function()
    t = twins.start { names = { "rb" } }
    for _, h in ipairs { t.ansible[1], t.luasible[1] } do
      pkgservers.gem_repo(h, { { "hello_lsb", "1.0.0" }, { "hello_lsb", "1.1.0" }, { "other_lsb", "0.5.0" } },
        { address = "127.0.0.1" })
      pkgservers.gem_build(h, "local_lsb", "2.0.0")
    end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  local PLAY = [[
- hosts: rb
  gather_facts: false
  vars: { repo: "http://127.0.0.1:8808/files/" }
  tasks:
    - name: a version
      gem: { name: hello_lsb, version: 1.0.0, repository: "{{ repo }}", user_install: false }
    - name: latest
      gem: { name: hello_lsb, state: latest, repository: "{{ repo }}", user_install: false }
    - name: a local file
      gem: { name: local_lsb, gem_source: /srv/gemsrc/local_lsb-2.0.0/local_lsb-2.0.0.gem, user_install: false }
    - name: for the user
      gem: { name: other_lsb, repository: "{{ repo }}" }
    - name: absent one version
      gem: { name: hello_lsb, version: 1.0.0, state: absent }
]]

  it("the same changes and gems, twice and under --check", function()
    t:agree(t:run(PLAY, { check = true }), "check on fresh hosts")
    for round = 1, 2 do
      local r = t:run(PLAY)
      t:agree(r, "round " .. round)
      if round == 1 then assert.are.same({ rb = true }, r.ansible.changed["a version"]) end
      local a, l = t:both("gem list --local --norc lsb; ls -d /root/.local/share/gem/ruby/*/gems/*")
      assert.are.equal(a, l)
      assert.matches("hello_lsb %(1%.1%.0%)", l)
      assert.matches("other_lsb%-0%.5%.0", l)
    end
    t:agree(t:run(PLAY, { check = true }), "check after")
  end)
end)
