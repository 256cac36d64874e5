--- #hosts #oracle npm against Ansible's community.general.npm: the same
-- playbook by ansible-playbook on "a-js" and by luasible on "l-js", each
-- with its own registry on 127.0.0.1:4873 (spec/helpers/npm_registry.js,
-- the same packages packed on both). The changed flags, statuses, recaps
-- and the packages left must agree, twice and under --check.
local twins = require "spec.helpers.twins"
local pkgservers = require "spec.helpers.pkgservers"

local PKGS = {
  { name = "left-lsb", version = "1.0.0" }, { name = "left-lsb", version = "1.1.0" },
  { name = "right-lsb", version = "0.5.0", dependencies = { ["left-lsb"] = "^1.0.0" } },
}

describe("#hosts #oracle npm", function()
  local ok, why = twins.available()
  if not ok then pending("no oracle: " .. why) return end
  local t
  lazy_setup(function()
    t = twins.start { names = { "js" } }
    for _, h in ipairs { t.ansible[1], t.luasible[1] } do
      pkgservers.npm_registry(h, PKGS, { address = "127.0.0.1" })
    end
  end)
  lazy_teardown(function() if t then t:stop() end end)

  local PLAY = [[
- hosts: js
  gather_facts: false
  vars: { reg: "http://127.0.0.1:4873" }
  tasks:
    - name: a version
      npm: { name: left-lsb, version: 1.0.0, path: /srv/app, registry: "{{ reg }}" }
    - name: present any version
      npm: { name: left-lsb, path: /srv/app, registry: "{{ reg }}" }
    - name: with a dependency
      npm: { name: right-lsb, path: /srv/app2, registry: "{{ reg }}" }
    - name: a package.json folder
      npm: { path: /srv/app2, registry: "{{ reg }}" }
    - name: global
      npm: { name: left-lsb, global: true, registry: "{{ reg }}" }
    - name: absent
      npm: { name: left-lsb, path: /srv/app, state: absent }
]]
  local STATE = "cd /srv && for d in app app2; do echo $d; ls $d/node_modules 2>/dev/null;"
    .. " cat $d/node_modules/*/package.json 2>/dev/null | grep '\"version\"'; done; ls /usr/lib/node_modules | grep lsb"

  it("the same changes and packages, twice and under --check", function()
    t:agree(t:run(PLAY, { check = true }), "check on fresh hosts")
    for round = 1, 2 do
      local r = t:run(PLAY)
      t:agree(r, "round " .. round)
      if round == 1 then assert.are.same({ js = true }, r.ansible.changed["a version"]) end
      local a, l = t:both(STATE)
      assert.are.equal(a, l)
      assert.matches("right%-lsb", l)
    end
    t:agree(t:run(PLAY, { check = true }), "check after")
  end)
end)
