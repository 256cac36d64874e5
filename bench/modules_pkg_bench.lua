-- bench/modules_pkg_bench.lua: issue 14's npm and gem modules, a play run
-- twice (the first run installs, the second finds nothing to do) by luasible
-- and by ansible-playbook with pipelining, on twin test hosts (each side its
-- own machines), one side after the other. The packages come from one npm
-- registry (spec/helpers/npm_registry.js) and one gem repository (`gem
-- generate_index`) on the first luasible host, reached by its address.
--
--   make && lua5.4 bench/modules_pkg_bench.lua [HOSTS]     (root: test hosts; default 5 per side)
--
-- Target (issue 14): luasible >= 10x faster than ansible-playbook with
-- pipelining, both runs.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local pkgservers = require "spec.helpers.pkgservers"
local common = require "bench.common"

local N = tonumber(arg[1]) or 5

-- npm and gem: 8 tasks
local function pkg_bench(t, reg, repo)
  local play = {
    ["site.yml"] = [[
- hosts: all
  gather_facts: false
  vars: { reg: "]] .. reg .. [[", repo: "]] .. repo .. [[" }
  tasks:
    - name: npm a version
      npm: { name: left-lsb, version: 1.0.0, path: /srv/app, registry: "{{ reg }}" }
    - name: npm a dependency
      npm: { name: right-lsb, path: /srv/app2, registry: "{{ reg }}" }
    - name: npm the package.json
      npm: { path: /srv/app2, registry: "{{ reg }}" }
    - name: npm global
      npm: { name: left-lsb, global: true, registry: "{{ reg }}" }
    - name: gem a version
      gem: { name: hello_lsb, version: 1.0.0, repository: "{{ repo }}", user_install: false }
    - name: gem for the user
      gem: { name: other_lsb, repository: "{{ repo }}" }
    - name: gem a local file
      gem: { name: local_lsb, gem_source: /srv/local_lsb-2.0.0.gem, user_install: false }
    - name: gem absent
      gem: { name: nothere_lsb, state: absent }
]],
  }
  return common.twin_report("issue 14 npm/gem modules", 8, N, common.twin_race(t, play, "pkg", N))
end

common.with_twins("modules_pkg_bench", "p", N, nil, function(t)
  local srv = t.luasible[1]
  local reg = pkgservers.npm_registry(srv, {
    { name = "left-lsb", version = "1.0.0" }, { name = "left-lsb", version = "1.1.0" },
    { name = "right-lsb", version = "0.5.0", dependencies = { ["left-lsb"] = "^1.0.0" } } })
  local repo = pkgservers.gem_repo(srv, { { "hello_lsb", "1.0.0" }, { "other_lsb", "0.5.0" } })
  local gemfile = srv:read(pkgservers.gem_build(srv, "local_lsb", "2.0.0"))
  for i = 1, N do
    for _, h in ipairs { t.ansible[i], t.luasible[i] } do
      pkgservers.npmrc(h)
      h:write("/srv/local_lsb-2.0.0.gem", gemfile)
    end
  end
  print(os.date("!%Y-%m-%d %H:%M UTC") .. "  lua5.4 bench/modules_pkg_bench.lua " .. N)
  pkg_bench(t, reg.url, repo.url)
end)
