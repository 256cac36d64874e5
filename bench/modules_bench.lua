--- The modules of issue 14 on test hosts against ansible-playbook (with
-- pipelining) on the same hosts, in the same invocation. Each section is a
-- function (helpers add their own); run from the repo root, as root, after
-- `make`:
--   lua5.4 bench/modules_bench.lua [SECTION=all] [HOSTS=10] [ROUNDS=3]
-- Sections: net (get_url and git, unchanged runs).
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
local th = require "spec.helpers.testhosts"
local webhost = require "spec.helpers.webhost"
local files = require "spec.helpers.files"

local SECTION = arg[1] or "all"
local HOSTS = tonumber(arg[2]) or 10
local ROUNDS = tonumber(arg[3]) or 3

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("a"))
  p:close()
  return t
end
local function median(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c[(#c + 1) // 2]
end

-- INI inventories of `hosts` for both tools (as spec/helpers/twins.lua)
local function inventories(hosts, list, dir)
  local a, l = { "[targets]" }, { "[targets]" }
  for _, h in ipairs(list) do
    local base = h.name .. " ansible_host=" .. h.address .. " ansible_user=root ansible_ssh_private_key_file=" .. h.key
    a[#a + 1] = base .. " ansible_ssh_common_args='-o UserKnownHostsFile=" .. hosts.known_hosts
      .. " -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -F /dev/null'"
    l[#l + 1] = base .. " luasible_known_hosts=" .. hosts.known_hosts .. " luasible_host_key_check=strict"
      .. " luasible_ssh_config=none"
  end
  files.write(dir .. "/ansible.ini", table.concat(a, "\n") .. "\n")
  files.write(dir .. "/luasible.ini", table.concat(l, "\n") .. "\n")
end

-- one timed run of a playbook by a tool; asserts it succeeded and changed what `want_changed` says
local function run(tool, dir, play, want_changed)
  local cmd
  if tool == "ansible" then
    cmd = "cd " .. q(dir) .. " && env ANSIBLE_PIPELINING=1 ANSIBLE_HOST_KEY_CHECKING=1 ANSIBLE_NOCOLOR=1"
      .. " ANSIBLE_FORKS=" .. HOSTS .. " ANSIBLE_CONFIG=oracle.cfg ANSIBLE_SSH_CONTROL_PATH_DIR=" .. q(dir .. "/.cp")
      .. " ansible-playbook -i ansible.ini " .. play
  else
    cmd = "cd " .. q(dir) .. " && env LUASIBLE_CONFIG=/dev/null NO_COLOR=1 " .. q(os.getenv("PWD") .. "/bin/luasible")
      .. " run -f " .. HOSTS .. " -i luasible.ini " .. play
  end
  local t0 = now()
  local out, ok = files.run(cmd .. " 2>&1")
  local dt = now() - t0
  assert(ok, tool .. " failed:\n" .. out)
  local changed = 0
  for n in out:gmatch("changed=(%d+)") do changed = changed + tonumber(n) end
  if want_changed ~= nil then
    assert((changed > 0) == want_changed, tool .. ": changed=" .. changed .. " (expected "
      .. tostring(want_changed) .. ")\n" .. out)
  end
  return dt
end

local sections = {}

---------------------------------------------------------------------------
-- net (wt-mod-net): get_url (If-Modified-Since, checksum) and git (fetch)
-- unchanged on HOSTS test hosts, against one server test host
---------------------------------------------------------------------------
function sections.net()
  local names = { "srv" }
  for i = 1, HOSTS do names[#names + 1] = string.format("t%02d", i) end
  local hosts = th.start { names = names }
  local srv = hosts:get("srv")
  local web = webhost.start(srv)
  web:put("a.txt", string.rep("payload\n", 1000))
  local sum = srv:exec("sha256sum /srv/www/a.txt"):match("%x+")
  local env = "export HOME=/root GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t; "
  srv:exec(env .. "git init -q -b main /srv/work && cd /srv/work && for i in 1 2 3; do echo $i > f$i; git add f$i;"
    .. " git commit -qm c$i; done && mkdir -p /srv/git && git clone -q --bare /srv/work /srv/git/repo.git")
  srv:exec("mkdir -p /srv/cgi/cgi-bin && printf '#!/bin/sh\\n%s\\n' 'export GIT_CONFIG_COUNT=1"
    .. " GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=*' 'exec /usr/lib/git-core/git-http-backend'"
    .. " > /srv/cgi/cgi-bin/git && chmod +x /srv/cgi/cgi-bin/git")
  srv:exec("cd /srv/cgi && GIT_PROJECT_ROOT=/srv/git GIT_HTTP_EXPORT_ALL=1 setsid /usr/bin/python3 -m http.server"
    .. " --cgi 8081 </dev/null >/srv/cgi.log 2>&1 &")
  os.execute("sleep 0.5")
  local list = {}
  for i = 2, #hosts do list[#list + 1] = hosts[i] end
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. q(dir)))
  inventories(hosts, list, dir)
  files.write(dir .. "/oracle.cfg", "[defaults]\n")
  local git_url = "http://" .. srv.address .. ":8081/cgi-bin/git/repo.git"
  files.write(dir .. "/site.yml", [[
- hosts: targets
  gather_facts: false
  tasks:
    - get_url: url=]] .. web.url .. [[/files/a.txt dest=/root/a.txt mode=0644
    - get_url: url=]] .. web.url .. [[/files/a.txt dest=/root/b.txt checksum=sha256:]] .. sum .. "\n" .. [[
    - git: repo=]] .. git_url .. [[ dest=/root/repo
]])
  -- each tool's own first run (changes), on its own copy of the files: the
  -- hosts are reset between the tools
  local times = { ansible = {}, luasible = {} }
  local firsts = {}
  for _, tool in ipairs { "ansible", "luasible" } do
    for _, h in ipairs(list) do h:exec("rm -rf /root/a.txt /root/b.txt /root/repo") end
    firsts[tool] = run(tool, dir, "site.yml", true)
    for r = 1, ROUNDS do times[tool][r] = run(tool, dir, "site.yml", false) end
  end
  hosts:stop()
  os.execute("rm -rf " .. q(dir))
  local a, l = median(times.ansible), median(times.luasible)
  print(string.format("net: %d hosts, get_url x2 + git, %d unchanged rounds each", HOSTS, ROUNDS))
  print(string.format("  first run (changes): ansible-playbook %.2f s, luasible %.2f s (%.1fx)",
    firsts.ansible, firsts.luasible, firsts.ansible / firsts.luasible))
  local function fmt(t)
    local o = {}
    for i, v in ipairs(t) do o[i] = string.format("%.2f", v) end
    return table.concat(o, ", ")
  end
  print(string.format("  unchanged: ansible-playbook median %.2f s (%s), luasible median %.2f s (%s): %.1fx",
    a, fmt(times.ansible), l, fmt(times.luasible), a / l))
  print(string.format("  target >= 10x faster than ansible-playbook with pipelining: %s",
    a / l >= 10 and "met" or "NOT met"))
end

for name, fn in pairs(sections) do
  if SECTION == "all" or SECTION == name then fn() end
end
