--- bench/common.lua: what the benches that race luasible against
-- ansible-playbook on test hosts share: quoting, the clock, medians, a timed
-- CLI run, the PLAY RECAP's totals, each side's INI inventory and command
-- line (bench/modules30_bench.lua); twin test hosts for a bench, the race of
-- a play run twice on each side and its table (bench/modules_*_bench.lua:
-- each says only what it sets up and what it measures).
--   local common = require "bench.common"
local files = require "spec.helpers.files"

local M = {}

--- a value single-quoted for sh
function M.q(s) return "'" .. tostring(s):gsub("'", [['\'']]) .. "'" end
local q = M.q

--- wall clock seconds (date +%s.%N: the benches run outside luasible's loop)
function M.now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("a"))
  p:close()
  return t
end

function M.median(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c[(#c + 1) // 2]
end

--- run `cmd` in `dir` (stderr with stdout): seconds, exit code, output
function M.timed(dir, cmd)
  local t0 = M.now()
  local p = io.popen("cd " .. q(dir) .. " && " .. cmd .. " 2>&1")
  local out = p:read("a")
  local _, _, code = p:close()
  return M.now() - t0, code, out
end

--- the PLAY RECAP's totals: { ok, changed, failed, unreachable, hosts }
function M.recap(out)
  local r = { ok = 0, changed = 0, failed = 0, unreachable = 0, hosts = 0 }
  local text = out:match("PLAY RECAP.*$") or ""
  for line in text:gmatch("[^\n]+") do
    local ok = line:match("ok=(%d+)")
    if ok then
      r.hosts = r.hosts + 1
      r.ok = r.ok + tonumber(ok)
      for _, k in ipairs { "changed", "failed", "unreachable" } do
        r[k] = r[k] + tonumber(line:match(k .. "=(%d+)") or 0)
      end
    end
  end
  return r
end

--- INI inventory text for side "ansible" or "luasible": entries = { { name,
-- host } ... } (host: a testhosts.lua host), in [group], plus `vars` lines in
-- [group:vars]. Host keys checked strictly on both sides, as twins.lua.
function M.inventory(side, entries, group, vars)
  local lines = { "[" .. group .. "]" }
  for _, e in ipairs(entries) do
    local h = e.host
    local w = { e.name, "ansible_host=" .. h.address, "ansible_port=" .. h.port, "ansible_user=" .. h.user,
      "ansible_ssh_private_key_file=" .. h.key }
    if side == "ansible" then
      w[#w + 1] = "ansible_ssh_common_args='-o UserKnownHostsFile=" .. h.known_hosts
        .. " -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -F /dev/null'"
    else
      w[#w + 1] = "luasible_known_hosts=" .. h.known_hosts .. " luasible_host_key_check=strict luasible_ssh_config=none"
    end
    lines[#lines + 1] = table.concat(w, " ")
  end
  if vars then
    lines[#lines + 1] = "[" .. group .. ":vars]"
    local keys = {}
    for k in pairs(vars) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do lines[#lines + 1] = k .. "=" .. vars[k] end
  end
  return table.concat(lines, "\n") .. "\n"
end

--- the command line of one side running `play` with `forks` in its folder
-- (inventory inv.ini there); ansible-playbook with pipelining, its own
-- config file (empty), control sockets and temp folder in the folder.
function M.command(side, dir, forks, play, extra)
  extra = extra and (" " .. extra) or ""
  if side == "ansible" then
    files.write(dir .. "/ansible.cfg", "[defaults]\n")
    return "env ANSIBLE_CONFIG=ansible.cfg ANSIBLE_PIPELINING=True ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_NOCOLOR=1"
      .. " ANSIBLE_LOCAL_TEMP=" .. q(dir .. "/.tmp") .. " ANSIBLE_SSH_CONTROL_PATH_DIR=" .. q(dir .. "/.cp")
      .. " ansible-playbook -f " .. forks .. " -i inv.ini" .. extra .. " " .. play
  end
  return "env LUASIBLE_CONFIG=/dev/null NO_COLOR=1 " .. q((os.getenv("PWD") or ".") .. "/bin/luasible")
    .. " run -f " .. forks .. " -i inv.ini" .. extra .. " " .. play
end

--- test hosts (spec/helpers/testhosts.lua) or the end of the bench: a
-- machine without them gets "test hosts unavailable: WHY" on stderr and exit
-- status 1
function M.need_test_hosts()
  local ok, why = require("spec.helpers.testhosts").available()
  if not ok then
    io.stderr:write("test hosts unavailable: ", why, "\n")
    os.exit(1)
  end
end

--- luasible.play of `play` on the inventory `inv` with `forks`, its events
-- dropped; raises when the play is refused or a host failed or was
-- unreachable ("host H failed" .. where). Returns the recap.
function M.play_ok(play, inv, forks, where)
  local recap, err = require("luasible.play").play(play, { inventory = inv, forks = forks, on_event = function() end })
  assert(recap, err)
  for h, c in pairs(recap) do
    if c.failed > 0 or c.unreachable > 0 then error("host " .. h .. " failed" .. (where or "")) end
  end
  return recap
end

--- twin test hosts (spec/helpers/twins.lua) named PREFIX01..PREFIXnn and
-- `more` names after them, for f(t); stopped after f, which may raise. A
-- machine without test hosts or ansible-playbook: "BENCH needs ...".
function M.with_twins(bench, prefix, n, more, f)
  local twins = require "spec.helpers.twins"
  local ok, why = twins.available()
  if not ok then error(bench .. " needs test hosts and ansible-playbook: " .. why) end
  local names = {}
  for i = 1, n do names[i] = string.format("%s%02d", prefix, i) end
  for _, m in ipairs(more or {}) do names[#names + 1] = m end
  local t = twins.start { names = names }
  local okr, err = pcall(f, t)
  t:stop()
  if not okr then error(err, 0) end
end

--- the modules benches' race on twins `t`: the playbook tree (site.yml and
-- its files) run twice by each side, luasible first, one side after the
-- other, in t.dir/LABEL-SIDE with its inventory t:inventory(side) and
-- `forks`; ansible-playbook with pipelining. A failed run raises.
-- Returns { { side, run, secs, changed } ... }.
function M.twin_race(t, tree, label, forks)
  local rows = {}
  for _, side in ipairs({ "luasible", "ansible" }) do
    local dir = t.dir .. "/" .. label .. "-" .. side
    assert(os.execute("mkdir -p " .. q(dir)))
    M.write_tree(dir, tree)
    files.write(dir .. "/inv.ini", t:inventory(side))
    local cmd = side == "ansible"
      and ("env ANSIBLE_PIPELINING=True ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_NOCOLOR=1 ansible-playbook -f "
        .. forks .. " -i inv.ini site.yml")
      or (q(os.getenv("PWD") or ".") .. "/bin/luasible run -f " .. forks .. " -i inv.ini site.yml")
    for run = 1, 2 do
      local secs, code, out = M.timed(dir, cmd)
      if code ~= 0 then error(side .. " run " .. run .. " failed:\n" .. out) end
      rows[#rows + 1] = { side = side, run = run, secs = secs, changed = M.recap(out).changed }
    end
  end
  return rows
end

--- print twin_race's rows as bench/RESULTS.md's table: each run's seconds
-- and changed count per side, the ratio, the issue's target (>= 10x)
function M.twin_report(label, ntasks, nhosts, rows)
  local by = {}
  for _, r in ipairs(rows) do by[r.side .. r.run] = r end
  print(string.format("\n%s: %d tasks on %d hosts per side", label, ntasks, nhosts))
  M.race_table(by)
end

--- the table of a race, two runs a side: by = { luasible1 = { secs, changed },
-- ansible1 = ..., luasible2 = ..., ansible2 = ... }
function M.race_table(by)
  print("| run | luasible | changed | ansible-playbook (pipelining) | changed | ratio | target >= 10x |")
  print("|---|---|---|---|---|---|---|")
  for run = 1, 2 do
    local l, a = by["luasible" .. run], by["ansible" .. run]
    local ratio = a.secs / l.secs
    print(string.format("| %d | %.2f s | %d | %.2f s | %d | %.1fx | %s |", run, l.secs, l.changed, a.secs, a.changed,
      ratio, ratio >= 10 and "met" or "NOT met"))
  end
end

--- the benches' server test host `srv`: httpd.py on 8080 (a.txt, 8000
-- bytes, under /files/) and a git repository of three commits served by
-- git http-backend on 8081. Returns { web = its URL, git_url = the repo's }.
function M.serve(srv)
  local web = require("spec.helpers.webhost").start(srv)
  web:put("a.txt", string.rep("payload\n", 1000))
  local env = "export HOME=/root GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t; "
  assert(select(2, srv:exec(env .. "git init -q -b main /srv/work && cd /srv/work && for i in 1 2 3; do echo $i > f$i;"
    .. " git add f$i; git commit -qm c$i; done && mkdir -p /srv/git"
    .. " && git clone -q --bare /srv/work /srv/git/repo.git")))
  srv:exec("mkdir -p /srv/cgi/cgi-bin && printf '#!/bin/sh\\n%s\\n' 'export GIT_CONFIG_COUNT=1"
    .. " GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=*' 'exec /usr/lib/git-core/git-http-backend'"
    .. " > /srv/cgi/cgi-bin/git && chmod +x /srv/cgi/cgi-bin/git")
  srv:exec("cd /srv/cgi && GIT_PROJECT_ROOT=/srv/git GIT_HTTP_EXPORT_ALL=1 setsid /usr/bin/python3 -m http.server"
    .. " --cgi 8081 </dev/null >/srv/cgi.log 2>&1 &")
  os.execute("sleep 0.5")
  return { web = web.url, git_url = "http://" .. srv.address .. ":8081/cgi-bin/git/repo.git" }
end

--- write a tree { relpath = content } under dir
function M.write_tree(dir, tree)
  for rel, content in pairs(tree) do
    local path = dir .. "/" .. rel
    assert(os.execute("mkdir -p " .. q(path:match("^(.*)/[^/]*$"))))
    files.write(path, content)
  end
end

return M
