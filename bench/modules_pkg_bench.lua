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

local twins = require "spec.helpers.twins"
local pkgservers = require "spec.helpers.pkgservers"
local files = require "spec.helpers.files"

local N = tonumber(arg[1]) or 5

local function q(s) return "'" .. tostring(s):gsub("'", [['\'']]) .. "'" end
local function now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("a"))
  p:close()
  return t
end

-- Run `cmd` in `dir`; returns seconds, exit status, output.
local function timed(dir, cmd)
  local t0 = now()
  local p = io.popen("cd " .. q(dir) .. " && " .. cmd .. " 2>&1")
  local out = p:read("a")
  local _, _, code = p:close()
  return now() - t0, code, out
end

local function changed_total(out)
  local n = 0
  for c in (out:match("PLAY RECAP.*$") or ""):gmatch("changed=(%d+)") do n = n + tonumber(c) end
  return n
end

-- One play on both sides, twice each: { { side, run, seconds, changed } ... }
local function race(t, play, label)
  local base = t.dir .. "/" .. label
  local rows = {}
  for _, side in ipairs({ "luasible", "ansible" }) do
    local dir = base .. "-" .. side
    assert(os.execute("mkdir -p " .. q(dir)))
    for rel, content in pairs(play) do
      local path = dir .. "/" .. rel
      assert(os.execute("mkdir -p " .. q(path:match("^(.*)/[^/]*$"))))
      files.write(path, content)
    end
    files.write(dir .. "/inv.ini", t:inventory(side))
    local cmd = side == "ansible"
      and ("env ANSIBLE_PIPELINING=True ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_NOCOLOR=1 ansible-playbook -f "
        .. N .. " -i inv.ini site.yml")
      or (q(t.root) .. "/bin/luasible run -f " .. N .. " -i inv.ini site.yml")
    for run = 1, 2 do
      local secs, code, out = timed(dir, cmd)
      if code ~= 0 then error(side .. " run " .. run .. " failed:\n" .. out) end
      rows[#rows + 1] = { side = side, run = run, secs = secs, changed = changed_total(out) }
    end
  end
  return rows
end

local function report(label, ntasks, rows)
  local by = {}
  for _, r in ipairs(rows) do by[r.side .. r.run] = r end
  print(string.format("\n%s: %d tasks on %d hosts per side", label, ntasks, N))
  print("| run | luasible | changed | ansible-playbook (pipelining) | changed | ratio | target >= 10x |")
  print("|---|---|---|---|---|---|---|")
  for run = 1, 2 do
    local l, a = by["luasible" .. run], by["ansible" .. run]
    local ratio = a.secs / l.secs
    print(string.format("| %d | %.2f s | %d | %.2f s | %d | %.1fx | %s |", run, l.secs, l.changed, a.secs, a.changed,
      ratio, ratio >= 10 and "met" or "NOT met"))
  end
end

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
  return report("issue 14 npm/gem modules", 8, race(t, play, "pkg"))
end

local function main()
  local ok, why = twins.available()
  if not ok then error("modules_pkg_bench needs test hosts and ansible-playbook: " .. why) end
  local names = {}
  for i = 1, N do names[i] = string.format("p%02d", i) end
  local t = twins.start { names = names }
  t.root = (os.getenv("PWD") or ".")
  local okr, err = pcall(function()
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
  t:stop()
  if not okr then error(err, 0) end
end

main()
