--- spec/helpers/twins.lua: Ansible as the oracle, on twin test hosts.
-- The same playbook tree is run by Debian's ansible-playbook against one
-- test host and by `luasible run` against its twin (same inventory name,
-- same vars, its own machine), both at once; a spec then compares what they
-- left on their hosts, their task-by-task results and their recaps.
--
--   local twins = require "spec.helpers.twins"
--   describe("#hosts #oracle user module", function()
--     local ok, why = twins.available()
--     if not ok then pending("no oracle: " .. why) return end
--     local t
--     lazy_setup(function() t = twins.start { names = { "web" } } end)
--     lazy_teardown(function() if t then t:stop() end end)
--     it("creates a user as Ansible does", function()
--       local r = t:run [[
--       - hosts: all
--         gather_facts: false
--         tasks:
--           - user: name=bob shell=/bin/sh ]]
--       assert.are.same(r.ansible.changed, r.luasible.changed)   -- per task
--       assert.are.same(r.ansible.recap, r.luasible.recap)
--       local a, l = t:both("getent passwd bob")
--       assert.are.equal(a, l)
--     end)
--   end)
--
-- twins.available() -> true, or false and why: test hosts (root, netns,
--   overlayfs: testhosts.available) and ansible-playbook on PATH.
-- twins.start(opts) -> t; opts: names = { "target" } (the inventory names;
--   each gets two test hosts, "a-NAME" for Ansible, "l-NAME" for luasible),
--   group = "testhosts", config (sshd_config lines, as testhosts.start).
-- t.ansible[i], t.luasible[i]: the test host objects (testhosts.lua) of the
--   i-th name; t.names; t.hosts: the testhosts run holding all of them.
-- t:inventory(side, vars) -> INI text for "ansible" or "luasible": the names
--   with each side's connection vars (ansible_host, user root, the run's
--   key; known_hosts strict on both sides) plus `vars` for every host.
-- t:run(tree, opts) -> r. tree: the playbook text (site.yml) or a table of
--   relative path -> content (site.yml plus roles/, templates/, files/ ...),
--   written into a fresh folder per side. opts: playbook = "site.yml",
--   args = { "-e", "x=1", ... } (both sides), check = true (-C), diff =
--   true (-D), vars (inventory vars), env = { K = "v" } (both sides),
--   timeout = 300 (seconds, each side).
--   r.ansible / r.luasible = {
--     code,            exit code
--     out, err,        stdout (the terminal text, no colour), stderr
--     dir,             the folder the side ran in (its files stay until stop)
--     results,         { { task, host, status, changed, result }, ... } in
--                      order: status is ok / changed / failed / ignored /
--                      skipped / unreachable (Ansible's through the
--                      callback in ansible_callbacks/, luasible's from its
--                      --log events)
--     changed,         { "task name" = { host = true/false } }: the changed
--                      flag of each task on each host (the last result of a
--                      task name wins, as a handler rerun would)
--     status,          the same with the status
--     recap,           { host = { ok, changed, unreachable, failed, skipped,
--                      rescued, ignored } } from the PLAY RECAP lines
--   }
-- t:both(cmd[, i]) -> the stdout of `sh -c cmd` on the i-th (default 1)
--   Ansible host and on its luasible twin (host:exec: no SSH).
-- t:agree(r, label[, code]): asserts what the module oracles compare of a
--   t:run: both sides exited `code` (default 0), the same changed flag and
--   status for every task on every host, the same recap counts (ok,
--   changed, failed, skipped) for every name the play ran on (one at least);
--   `label` names the run in the messages.
-- t:same(cmd[, i]) -> the stdout of t:both(cmd, i), asserted the same on both.
-- twins.registered(r, task) -> Ansible's and luasible's result of the task
--   named `task` in the run r (the last one; {} when none).
-- t:stop(): the hosts and folders are gone.
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local cli = require "spec.helpers.cli"
local cjson = require "cjson"
local luassert = require "luassert"

local M = {}

local HERE = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/helpers")
local function absolute(p)
  if p:sub(1, 1) == "/" then return p end
  return (os.getenv("PWD") or ".") .. "/" .. p:gsub("^%./", "")
end
local CALLBACKS = absolute(HERE .. "/ansible_callbacks")
local LUASIBLE = absolute(HERE .. "/../../bin/luasible")
local ROOT = absolute(HERE .. "/../..")

local function q(s) return "'" .. tostring(s):gsub("'", [['\'']]) .. "'" end

function M.available()
  local ok, why = th.available()
  if not ok then return false, why end
  if not os.execute("command -v ansible-playbook >/dev/null 2>&1") then
    return false, "ansible-playbook not installed (scripts/deps installs ansible-core)"
  end
  return true
end

local Twins = {}
Twins.__index = Twins

function M.start(opts)
  opts = opts or {}
  local names = opts.names or { "target" }
  local hostnames = {}
  for _, n in ipairs(names) do hostnames[#hostnames + 1] = "a-" .. n end
  for _, n in ipairs(names) do hostnames[#hostnames + 1] = "l-" .. n end
  local hosts = th.start { names = hostnames, config = opts.config, group = opts.group }
  local t = setmetatable({ hosts = hosts, names = names, ansible = {}, luasible = {},
    group = opts.group or hosts.group, runs = 0 }, Twins)
  for i, n in ipairs(names) do
    t.ansible[i] = hosts:get("a-" .. n)
    t.luasible[i] = hosts:get("l-" .. n)
  end
  t.dir = os.tmpname()
  os.remove(t.dir)
  assert(os.execute("mkdir -p " .. q(t.dir)))
  return t
end

function Twins:inventory(side, vars)
  local lines = { "[" .. self.group .. "]" }
  for i, n in ipairs(self.names) do
    local h = self[side][i]
    local v = { ansible_host = h.address, ansible_port = h.port, ansible_user = h.user,
      ansible_ssh_private_key_file = h.key }
    if side == "ansible" then
      v.ansible_ssh_common_args = "'-o UserKnownHostsFile=" .. h.known_hosts
        .. " -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -F /dev/null'"
    else
      v.luasible_known_hosts, v.luasible_host_key_check, v.luasible_ssh_config =
        h.known_hosts, "strict", "none"
    end
    for k, x in pairs(vars or {}) do v[k] = x end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    local words = { n }
    for _, k in ipairs(keys) do words[#words + 1] = k .. "=" .. tostring(v[k]) end
    lines[#lines + 1] = table.concat(words, " ")
  end
  return table.concat(lines, "\n") .. "\n"
end

local function write_tree(dir, tree)
  if type(tree) == "string" then tree = { ["site.yml"] = tree } end
  for rel, content in pairs(tree) do
    local path = dir .. "/" .. rel
    local parent = path:match("^(.*)/[^/]*$")
    assert(os.execute("mkdir -p " .. q(parent)))
    files.write(path, content)
  end
end

local function tables_of(results)
  local changed, status = {}, {}
  for _, r in ipairs(results) do
    changed[r.task] = changed[r.task] or {}
    status[r.task] = status[r.task] or {}
    changed[r.task][r.host] = r.changed
    status[r.task][r.host] = r.status
  end
  return changed, status
end

local function read_lines(path)
  local out = {}
  local s = files.read(path) or ""
  for line in s:gmatch("[^\n]+") do out[#out + 1] = cjson.decode(line) end
  return out
end

-- luasible's host_task_result events, in Ansible's status words
local function luasible_results(log)
  local out = {}
  for _, ev in ipairs(read_lines(log)) do
    if ev.type == "host_task_result" then
      local res = type(ev.result) == "table" and ev.result or {}
      local status = ev.status
      if status == "failed" and res.ignored then status = "ignored" end
      out[#out + 1] = { task = ev.task, host = ev.host, status = status,
        changed = res.changed == true, result = res }
    end
  end
  return out
end

function Twins:run(tree, opts)
  opts = opts or {}
  self.runs = self.runs + 1
  local r = {}
  local cmds = {}
  for _, side in ipairs { "ansible", "luasible" } do
    local dir = string.format("%s/run%d-%s", self.dir, self.runs, side)
    assert(os.execute("mkdir -p " .. q(dir)))
    write_tree(dir, tree)
    files.write(dir .. "/inventory.ini", self:inventory(side, opts.vars))
    local args = { "-i", "inventory.ini" }
    if opts.check then args[#args + 1] = "-C" end
    if opts.diff then args[#args + 1] = "-D" end
    for _, a in ipairs(opts.args or {}) do args[#args + 1] = a end
    args[#args + 1] = opts.playbook or "site.yml"
    local quoted = {}
    for i, a in ipairs(args) do quoted[i] = q(a) end
    local env = { "NO_COLOR=1" }
    for k, v in pairs(opts.env or {}) do env[#env + 1] = k .. "=" .. q(v) end
    local cmd
    if side == "ansible" then
      env[#env + 1] = "ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_PIPELINING=1"
      env[#env + 1] = "ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_HOST_KEY_CHECKING=1"
      env[#env + 1] = "ANSIBLE_CALLBACK_PLUGINS=" .. q(CALLBACKS)
      env[#env + 1] = "ANSIBLE_CALLBACKS_ENABLED=luasible_oracle"
      env[#env + 1] = "LUASIBLE_ORACLE_LOG=" .. q(dir .. "/results.ndjson")
      env[#env + 1] = "ANSIBLE_LOCAL_TEMP=" .. q(dir .. "/.ansible-tmp")
      env[#env + 1] = "ANSIBLE_SSH_CONTROL_PATH_DIR=" .. q(dir .. "/.cp")
      files.write(dir .. "/oracle.cfg", "[defaults]\n")
      env[#env + 1] = "ANSIBLE_CONFIG=" .. q(dir .. "/oracle.cfg")
      cmd = "ansible-playbook " .. table.concat(quoted, " ")
    else
      quoted[#quoted + 1] = "--log " .. q(dir .. "/events.ndjson")
      env[#env + 1] = "LUASIBLE_CONFIG=/dev/null"
      cmd = q(LUASIBLE) .. " run " .. table.concat(quoted, " ")
    end
    cmds[#cmds + 1] = string.format("(cd %s && env %s timeout %d %s >%s 2>%s </dev/null; echo $? >%s) &",
      q(dir), table.concat(env, " "), opts.timeout or 300, cmd, q(dir .. "/out"), q(dir .. "/err"),
      q(dir .. "/rc"))
    r[side] = { dir = dir }
  end
  -- both sides at once: `luasible` from the tree (LUA_PATH is its own)
  assert(os.execute("cd " .. q(ROOT) .. " && " .. table.concat(cmds, " ") .. " wait"))
  for side, s in pairs(r) do
    s.code = tonumber(files.read(s.dir .. "/rc"))
    s.out = files.read(s.dir .. "/out") or ""
    s.err = files.read(s.dir .. "/err") or ""
    s.results = side == "ansible" and read_lines(s.dir .. "/results.ndjson")
      or luasible_results(s.dir .. "/events.ndjson")
    s.changed, s.status = tables_of(s.results)
    s.recap = cli.recaps(s.out)
  end
  return r
end

function Twins:both(cmd, i)
  i = i or 1
  return (self.ansible[i]:exec(cmd)), (self.luasible[i]:exec(cmd))
end

function M.registered(r, name)
  local a, l
  for _, x in ipairs(r.ansible.results) do if x.task == name then a = x.result end end
  for _, x in ipairs(r.luasible.results) do if x.task == name then l = x.result end end
  return a or {}, l or {}
end

function Twins:agree(r, label, code)
  luassert.are.equal(code or 0, r.ansible.code, r.ansible.out .. r.ansible.err)
  luassert.are.equal(code or 0, r.luasible.code, r.luasible.out .. r.luasible.err)
  luassert.are.same(r.ansible.changed, r.luasible.changed, label)
  luassert.are.same(r.ansible.status, r.luasible.status, label)
  local compared = 0
  for _, n in ipairs(self.names) do
    local a, l = r.ansible.recap[n], r.luasible.recap[n]
    if a or l then -- a name in the play
      compared = compared + 1
      for _, k in ipairs { "ok", "changed", "failed", "skipped", "ignored" } do
        luassert.are.equal((a or {})[k], (l or {})[k], k .. " in " .. label)
      end
    end
  end
  luassert.is_true(compared > 0, "no recap of " .. table.concat(self.names, ", ") .. " in " .. label)
end

--- A playbook with a bad argument (its task named "bad"): Ansible's task
--- fails on the host; luasible refuses the playbook in one line holding
--- each of `words`, and runs nothing. Returns the run.
function Twins:refused(play, words)
  local r = self:run(play)
  luassert.are_not.equal(0, r.ansible.code)
  luassert.are.equal("failed", select(2, next(r.ansible.status["bad"] or {})), r.ansible.out)
  luassert.are_not.equal(0, r.luasible.code)
  local err = r.luasible.err:gsub("\n$", "")
  luassert.is_nil(err:find("\n"), err)
  for _, w in ipairs(words) do luassert.truthy(err:find(w, 1, true), err) end
  luassert.is_nil(r.luasible.out:find("PLAY RECAP", 1, true), r.luasible.out)
  luassert.are.same({}, r.luasible.results)
  return r
end

function Twins:same(cmd, i)
  local a, l = self:both(cmd, i)
  luassert.are.equal(a, l)
  return a
end

function Twins:stop()
  if self.hosts then self.hosts:stop() end
  self.hosts = nil
  if self.dir then os.execute("rm -rf " .. q(self.dir)) end
  self.dir = nil
end
Twins.__close = Twins.stop
Twins.__gc = Twins.stop

return M
