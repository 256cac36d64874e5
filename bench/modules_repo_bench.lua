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

local twins = require "spec.helpers.twins"
local aptrepo = require "spec.helpers.aptrepo"
local rpmrepo = require "spec.helpers.rpmrepo"
local files = require "spec.helpers.files"

local N = tonumber(arg[1]) or 10

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

local function main()
  local ok, why = twins.available()
  if not ok then error("modules_repo_bench needs test hosts and ansible-playbook: " .. why) end
  local names = {}
  for i = 1, N do names[i] = string.format("r%02d", i) end
  local t = twins.start { names = names }
  t.root = (os.getenv("PWD") or ".")
  local okr, err = pcall(function()
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
    report("issue 14 repository and package modules", 7, race(t, { ["site.yml"] = PLAY }, "repo"))
  end)
  t:stop()
  if not okr then error(err, 0) end
end

main()
