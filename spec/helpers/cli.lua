--- spec/helpers/cli.lua: commands run from specs the way a user runs them
-- (bin/luasible, ansible-playbook), and what specs read back from them.
--
--   local cli = require "spec.helpers.cli"
--   local out, code, err = cli.luasible("run site.yml -i inv.ini")
--   local out, code, err = cli.run("cd " .. dir .. " && ansible-playbook ...")
--   cli.recap_of(out, "web1")  -> { ok = 2, changed = 1, failed = 0, ... }
--   cli.recaps(out)            -> { web1 = {...}, web2 = {...} }
--   cli.msgs(out[, host])      -> the messages printed (debug's msg), in order
--   cli.tree(dir)              -> { ["./a/b"] = "content", ["./a"] = "<dir>" }
--   local d = cli.case_dir(tmp, i, site_yml, { ["roles/r/tasks/main.yml"] = "..." })
--   local a, l = cli.both{ playbook = d .. "/site.yml", inventory = i, out = d, tmp = tmp }
--                              -> the same playbook by ansible-playbook and bin/luasible
local files = require "spec.helpers.files"

local M = {}

--- Run the shell command `cmd`: its stdout, exit code and stderr.
function M.run(cmd)
  local errf = os.tmpname()
  local p = assert(io.popen(cmd .. " 2>" .. errf))
  local out = p:read("a")
  local _, _, code = p:close()
  local err = files.read(errf) or ""
  os.remove(errf)
  return out, code, err
end

--- bin/luasible with `args` (shell words, quoted by the caller), from the
-- tree's root (the specs' cwd); `env`: "NAME=value ..." put before it.
function M.luasible(args, env)
  return M.run((env and (env .. " ") or "") .. "bin/luasible " .. args)
end

--- The environment the #oracle specs run ansible-playbook in on the local
-- connection: no colour, no localhost or retry-file noise, no host key
-- checks, its temp folders under `tmp`.
function M.ansible_env(tmp)
  return "ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_RETRY_FILES_ENABLED=0 "
    .. "ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_LOCAL_TEMP=" .. tmp .. "/ansible-tmp ANSIBLE_REMOTE_TEMP="
    .. tmp .. "/ansible-tmp "
end

--- A case's folder for M.both: TMP/caseI with ansible/ and luasible/ (the
-- `out` of each side), site.yml and `more` { relpath = content } in it.
function M.case_dir(tmp, i, site, more)
  local d = tmp .. "/case" .. i
  assert(os.execute("mkdir -p " .. d .. "/ansible " .. d .. "/luasible"))
  files.write(d .. "/site.yml", site)
  for name, text in pairs(more or {}) do files.write_p(d .. "/" .. name, text) end
  return d
end

--- One playbook run by ansible-playbook (in M.ansible_env(o.tmp)) and then by
-- bin/luasible, the oracle specs' pair: o.playbook, o.inventory (paths), o.out:
-- each side gets `-e out=OUT/ansible` or `-e out=OUT/luasible` (o.out_of =
-- { ansible = dir, luasible = dir } names them otherwise), o.args (shell
-- words, both sides), o.env (VAR=value words before both commands).
-- Returns each side's { out, code, err }.
function M.both(o)
  local args = o.args and (" " .. o.args) or ""
  local env = o.env and (o.env .. " ") or ""
  local out_of = o.out_of or { ansible = o.out .. "/ansible", luasible = o.out .. "/luasible" }
  local a, l = {}, {}
  a.out, a.code, a.err = M.run(env .. M.ansible_env(o.tmp) .. "ansible-playbook -i " .. o.inventory .. " " .. o.playbook
    .. " -e out=" .. out_of.ansible .. args)
  l.out, l.code, l.err = M.run(env .. "bin/luasible run " .. o.playbook .. " -i " .. o.inventory .. " -e out="
    .. out_of.luasible .. args)
  return a, l
end

--- The counts of `host`'s PLAY RECAP line (ok, changed, unreachable,
-- failed, skipped, rescued, ignored: what the line has); raises when the
-- output has no such line.
function M.recap_of(out, host)
  local line = out:match("\n" .. host:gsub("%p", "%%%0") .. "%s*:([^\n]*)")
  assert(line, "no recap line for " .. host .. " in:\n" .. out)
  local r = {}
  for k, v in line:gmatch("(%a+)=(%d+)") do r[k] = tonumber(v) end
  return r
end

--- Every host's recap counts after PLAY RECAP.
function M.recaps(out)
  local recap = {}
  local body = out:match("PLAY RECAP[^\n]*\n(.*)$") or ""
  for line in body:gmatch("[^\n]+") do
    local host, counts = line:match("^(%S+)%s*:%s*(.*)$")
    if host and counts:find("ok=", 1, true) then
      local r = {}
      for k, v in counts:gmatch("(%a+)=(%d+)") do r[k] = tonumber(v) end
      recap[host] = r
    end
  end
  return recap
end

--- The messages a run printed, in order: luasible's `ok: [h] => msg` and
-- ansible-playbook's `"msg": "..."` lines (`host`: only that host's
-- luasible lines; any host when nil).
function M.msgs(out, host)
  local list = {}
  local h = host and host:gsub("%p", "%%%0") or "[^%]]+"
  for l in out:gmatch("[^\n]+") do
    local m = l:match("^ok: %[" .. h .. "%] => (.*)$") or l:match('^%s*"msg": "(.*)"$')
    if m and m ~= "{" then list[#list + 1] = m end
  end
  return list
end

--- Every file and folder under `dir`: relative name ("./x") -> content,
-- a folder -> "<dir>".
function M.tree(dir)
  local out = {}
  local p = assert(io.popen("cd '" .. dir:gsub("'", [['\'']]) .. "' && find . -mindepth 1 | sort"))
  for name in p:lines() do
    local f = io.open(dir .. "/" .. name, "rb")
    local content = f and f:read("a")
    if f then f:close() end
    out[name] = content or "<dir>"
  end
  p:close()
  return out
end

return M
