--- luasible.play.include: `include_tasks` (docs/TASKS.md, "Blocks and
-- task files"), dynamic: the file named (a template: the host's variables,
-- the include's `vars`, its loop item) is read when the include is reached,
-- per host and per loop item; the hosts that include the same file for the
-- same item run its tasks together (Ansible's linear strategy). Each
-- include counts ok for the host (skipped when its `when` is false), as in
-- Ansible; its `vars` and loop variable are the included tasks' (above task
-- vars, st.include_vars: play/vars.lua). A file already being included on
-- that host (a cycle) fails the host, naming the chain.
-- `include_role` (play/roles.lua read the role when the playbook was
-- loaded: node.role_tasks) runs the same way: its when, loop and tags are
-- the include's own, its vars the role's tasks'; `public: true` leaves the
-- role's vars (st.public_role_vars) and defaults to the host's later tasks.
local conditions = require "luasible.play.conditions"
local template = require "luasible.template"
local vars = require "luasible.play.vars"
local path = require "luasible.util.path"
local recap = require "luasible.play.recap"
local S = require "luasible.util.schema"

local M = {}

local function as_list(v)
  if v == nil then return {} end
  if type(v) == "table" then return v end
  return { v }
end

--- The include_tasks nodes of a tree (of a role's included file) given the
--- role's `in_role` too: their tasks are the role's.
function M.in_role(tree, in_role)
  for _, n in ipairs(tree) do
    if n.include and not (n.include.role_tasks or n.include.dynamic_role) and n.include.in_role ~= in_role then
      local inc = n.include
      inc.in_role = in_role
      -- the role's tags select the include too, as its tasks
      if in_role.tags and #in_role.tags > 0 then
        local t = {}
        for _, x in ipairs(in_role.tags) do t[#t + 1] = x end
        for _, x in ipairs(as_list(inc.tags)) do t[#t + 1] = x end
        inc.tags = t
      end
    end
    for _, sec in ipairs({ "block", "rescue", "always" }) do
      if type(n[sec]) == "table" then M.in_role(n[sec], in_role) end
    end
  end
end

-- The tree of an included file for this play (read once per file), or nil,
-- err; inc.role_tasks: an include_role's tasks, read with the playbook.
local function tree_of(run, file, inc)
  local play = run.play
  play.include_cache = play.include_cache or {}
  -- (a role's, an include with keywords around it or its own apply:, environment: its own tree)
  local key = (inc.in_role or inc.inherit or inc.apply or (inc.scope and inc.scope.environment))
    and (file .. "\0" .. tostring(inc)) or file
  local c = play.include_cache[key]
  if c then return c.tree, c.err end
  local blocks = require "luasible.play.blocks"
  local prepare = require "luasible.play.prepare"
  local tree, err
  local list, maps
  if inc.role_tasks then list, maps = inc.role_tasks, inc.role_maps
  elseif inc.dynamic_role then -- a templated include_role: the role named for this host read now
    local ok, hs, hm
    ok, list, maps, hs, hm = inc.load(inc.names[file], file)
    if not ok then list, maps = nil, list
    else -- its handlers join the play's (once per role: play/roles.lua), as Ansible's
      for i, h in ipairs(hs) do
        local m = hm[i] or {}
        local shown = string.format("%s:%s: handler %s", S.escape(m.file or file), tostring(m.line or "?"), i)
        local task, perr = prepare.prepare_task(h, shown, play.path, nil, true, play.module_defaults)
        if not task then list, maps = nil, perr break end
        task.handler = true
        play.handlers[#play.handlers + 1] = task
      end
    end
  else list, maps = require("luasible.play.playbook").task_file(file, inc.scope) end
  if not list then err = maps
  else
    -- apply: a block of its keywords around the file's tasks; the keywords of the blocks (and role)
    -- around the include given to them too (Ansible's parent chain skips the include itself)
    if inc.apply and not (inc.role_tasks or inc.dynamic_role) then
      list = { require("luasible.play.role_keywords").block(list, inc.apply) }
    end
    local flat
    tree, flat = blocks.tree(list, "include_tasks " .. S.escape(file), inc.inherit)
    if not tree then err = flat
    else
      if inc.in_role then M.in_role(tree, inc.in_role) end
      for i, leaf in ipairs(flat) do
        if inc.in_role then inc.in_role.decorate(leaf) end
        local m = maps[i] or {}
        local shown = string.format("%s:%s: include %s, task %d", S.escape(m.file or file), tostring(m.line or "?"),
          S.escape((inc.role_tasks or inc.dynamic_role) and file or path.basename(file)), i)
        local task, perr = prepare.prepare_task(leaf, shown, play.path, play.raw.tags, nil, play.module_defaults)
        if not task then err = perr break end
        if prepare.selected_by_tags(task, play.tags, play.skip_tags) then play.prepared[leaf] = task end
      end
    end
  end
  if err then tree = nil end
  play.include_cache[key] = { tree = tree, err = err }
  return tree, err
end

--- Run an include node (from play/blocks.lua's tree) on hosts; run_tree
--- runs the included tree; catch(h) takes a failure of the include itself
--- into the block around it (play/blocks.lua). Returns the hosts that failed: host -> { task =, result = }.
function M.run(run, node, hosts, run_tree, catch)
  local inc = node.include
  local is_role = inc.role_tasks or inc.dynamic_role
  local kind = is_role and "include_role" or "include_tasks"
  local task = { name = inc.name or (is_role and ("include_role : " .. tostring(inc.role))
      or ("include_tasks " .. tostring(inc.include))), module = kind,
    notify = {}, ignore_errors = inc.ignore_errors }
  local failed = {}
  local function direct(h, res)
    recap.record(run, h, task, res)
    if run.state[h].out == "failed" then
      failed[h] = { task = task, result = res }
      catch(h)
    end
  end
  local prepare = require "luasible.play.prepare"
  local itags = {}
  for _, t in ipairs(as_list(inc.tags)) do itags[#itags + 1] = t end
  for _, t in ipairs(as_list(run.play.raw.tags)) do itags[#itags + 1] = t end
  if not prepare.selected_by_tags({ tags = itags }, run.play.tags, run.play.skip_tags) then return failed end
  run.events:emit({ type = "task_start", task = task.name, module = task.module, handler = inc.handler or nil })
  -- each host's entries: { file =, vars = } per loop item
  local entries, fails = {}, {}
  for _, h in ipairs(hosts) do
    local r = inc.in_role -- (an include_tasks of a role's tasks: the role's vars and defaults)
    local hv = setmetatable(vars.copy_into({}, inc.vars), { __index = vars.host_vars(run, h,
      r and { role_vars = r.vars, role_defaults = r.defaults } or nil) })
    local function fail(msg) fails[h] = { failed = true, changed = false, msg = msg } end
    local when, werr = conditions.compile(inc.when, "when")
    local go
    if not werr then go, werr = conditions.eval(when, hv) end
    if werr then fail("when: " .. werr)
    elseif not go then
      recap.record(run, h, task, { skipped = true, changed = false, msg = "condition was false" })
    else
      local items = { false }
      if inc.loop ~= nil then
        local l, lerr = inc.loop
        if type(l) == "string" then l, lerr = template.render_value(l, hv) end
        if lerr or type(l) ~= "table" then fail("loop: " .. (lerr or "must be a list")) items = {} else items = l end
      end
      entries[h] = {}
      for i, item in ipairs(items) do
        local iv = hv
        local own = vars.copy_into({}, inc.vars)
        if inc.loop ~= nil then
          own[inc.loop_var or "item"] = item
          -- loop_control index_var and extended (ansible_loop), as a task's (play/host_task.lua)
          require("luasible.play.host_task").loop_control(run, { index_var = inc.index_var,
            loop_extended = inc.loop_extended }, own, items, i)
          iv = setmetatable({ [inc.loop_var or "item"] = item }, { __index = hv })
        end
        local name, rerr = inc.include, nil
        if inc.dynamic_role then -- a templated role name: its own tree per name (inc.load)
          local rn
          name, rn, rerr = nil, template.render(inc.role_template, iv)
          if rn == "" then rn, rerr = nil, "the role name " .. S.quote(inc.role_template) .. " renders to no name" end
          if rn then
            name = inc.role_key(rn)
            inc.names = inc.names or {}
            inc.names[name] = rn
          end
        elseif not inc.role_tasks then name, rerr = template.render(inc.include, iv) end
        if not name then fail(kind .. ": " .. tostring(rerr)) break end
        local file = (is_role or path.is_abs(name)) and name or path.join(inc.dir, name)
        entries[h][#entries[h] + 1] = { file = file, vars = own }
      end
    end
    if fails[h] then entries[h] = nil; direct(h, fails[h]) end
  end
  -- entry k of every host, grouped by file, in the order the hosts are
  local k = 1
  while true do
    local groups, order = {}, {}
    for _, h in ipairs(hosts) do
      local e = entries[h] and entries[h][k]
      if e and not run.state[h].out and not failed[h] then
        if not groups[e.file] then groups[e.file] = {}; order[#order + 1] = e.file end
        table.insert(groups[e.file], h)
      end
    end
    local any = false
    for h in pairs(entries) do if entries[h][k] then any = true end end
    if not any then break end
    for _, file in ipairs(order) do
      local ghosts = {}
      for _, h in ipairs(groups[file]) do
        local st = run.state[h]
        local chain = st.include_chain or {}
        for _, f in ipairs(chain) do
          if f == file then
            local res = { failed = true, changed = false, msg = "circular include: "
              .. S.escape(table.concat(chain, " -> ") .. " -> " .. file) }
            direct(h, res)
            break
          end
        end
        if not failed[h] and not st.out then ghosts[#ghosts + 1] = h end
      end
      local tree, err = tree_of(run, file, inc)
      local runners = {}
      for _, h in ipairs(ghosts) do
        local res = tree and { changed = false, include = file } or { failed = true, changed = false, msg = err }
        -- an include_role that runs is counted nowhere, as in Ansible (an include_tasks is ok)
        if not (tree and is_role) then direct(h, res) end
        if tree and not failed[h] and not run.state[h].out then runners[#runners + 1] = h end
      end
      if #runners > 0 then
        local saved = {}
        for _, h in ipairs(runners) do
          local st = run.state[h]
          saved[h] = { st.include_vars, st.include_chain }
          local iv = vars.copy_into({}, st.include_vars)
          st.include_vars = vars.copy_into(iv, entries[h][k].vars)
          local chain = { table.unpack(st.include_chain or {}) }
          chain[#chain + 1] = file
          st.include_chain = chain
        end
        local f = run_tree(run, tree, runners)
        for h, v in pairs(f) do failed[h] = v end
        for _, h in ipairs(runners) do
          local st = run.state[h]
          st.include_vars, st.include_chain = saved[h][1], saved[h][2]
          if inc.public and not failed[h] then -- the role's vars and defaults, for the host's later tasks
            local pub = inc.public_of and inc.public_of[file] or inc
            st.public_role_vars = vars.copy_into(vars.copy_into({}, st.public_role_vars), pub.role_vars)
            st.public_role_defaults = vars.copy_into(vars.copy_into({}, st.public_role_defaults), pub.role_defaults)
          end
        end
      end
    end
    k = k + 1
  end
  return failed
end

return M
