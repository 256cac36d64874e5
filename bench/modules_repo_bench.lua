-- bench/modules_repo_bench.lua: issue 14's repository and package modules
-- (apt_key, apt_repository, apt, dnf, yum, package), a play run twice (the
-- first run changes everything, the second finds nothing to do) by luasible
-- and by ansible-playbook with pipelining, on test hosts of their own
-- (twins), one side after the other. Each host serves the same signed apt
-- repository and has the same rpm repository (built once on the first host,
-- copied to the others): nothing leaves the test hosts.
--
--   make && lua5.4 bench/modules_repo_bench.lua [HOSTS]     (root: test hosts; default 10 per side)
--
-- Target (issue 14): luasible >= 10x faster than ansible-playbook with
-- pipelining, both runs.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local aptrepo = require "spec.helpers.aptrepo"
local rpmrepo = require "spec.helpers.rpmrepo"
local common = require "bench.common"

local N = tonumber(arg[1]) or 10

local PLAY = [[
- hosts: all
  gather_facts: false
  tasks:
    - name: key
      apt_key: { url: "http://127.0.0.1:8080/files/repo/key.asc", keyring: /etc/apt/keyrings/bench.gpg }
    - name: source
      apt_repository:
        repo: "deb [signed-by=/etc/apt/keyrings/bench.gpg] http://127.0.0.1:8080/files/repo stable main"
        filename: bench
    - name: another source
      apt_repository: { repo: "deb http://mirror.invalid/debian bookworm main", update_cache: false }
    - name: a deb from it
      apt: { name: lsb-hello }
    - name: package (apt here)
      package: { name: lsb-pkg }
    - name: an rpm
      dnf: { name: lsb-rpm }
    - name: yum
      yum: { name: lsb-yum, use_backend: dnf }
]]

common.with_twins("modules_repo_bench", "r", N, nil, function(t)
  local first = t.ansible[1]
  local repo = aptrepo.start(first, { local_url = true })
  repo:package("lsb-hello", "1.0")
  repo:package("lsb-pkg", "1.0")
  rpmrepo.package(first, "lsb-rpm", "1.0")
  rpmrepo.package(first, "lsb-yum", "1.0")
  rpmrepo.index(first)
  local all = {}
  for i = 1, N do all[#all + 1] = t.ansible[i]; all[#all + 1] = t.luasible[i] end
  for _, h in ipairs(all) do
    if h ~= first then
      repo:mirror(h)
      assert(os.execute("cp -a " .. first.root .. rpmrepo.DIR .. " " .. h.root .. "/srv/"))
    end
    aptrepo.plain(h)
    rpmrepo.repo_file(h, "bench", "file://" .. rpmrepo.DIR)
  end
  print(os.date("!%Y-%m-%d %H:%M UTC") .. "  lua5.4 bench/modules_repo_bench.lua " .. N)
  common.twin_report("issue 14 repository and package modules", 7, N,
    common.twin_race(t, { ["site.yml"] = PLAY }, "repo", N))
end)
