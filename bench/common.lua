--- bench/common.lua: what the benches that race luasible against
-- ansible-playbook on test hosts share: quoting, the clock, medians, a timed
-- CLI run, the PLAY RECAP's totals, each side's INI inventory and command
-- line. (bench/modules30_bench.lua uses it; the older module benches still
-- carry their own copies.)
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

--- write a tree { relpath = content } under dir
function M.write_tree(dir, tree)
  for rel, content in pairs(tree) do
    local path = dir .. "/" .. rel
    assert(os.execute("mkdir -p " .. q(path:match("^(.*)/[^/]*$"))))
    files.write(path, content)
  end
end

return M
