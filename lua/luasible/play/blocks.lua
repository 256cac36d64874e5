--- luasible.play.blocks: `block` / `rescue` / `always` (docs/TASKS.md,
-- "Blocks"). A play's task lists may hold block nodes
-- `{ block = {...}, rescue = {...}, always = {...}, name =, when =, ... }`
-- (a YAML playbook's `block:` and `import_tasks:` become them, a Lua play
-- writes them as they are). flatten() turns a play's lists into the flat
-- lists of leaf tasks prepare checks (depth first: block, rescue, always,
-- the order a YAML playbook's locator numbers them in), each leaf given the
-- keywords of its blocks (Ansible's inheritance), and keeps the tree beside
-- them (play.blocks[list]); run() walks that tree on the hosts: a host that
-- fails in a block runs the rescue (ansible_failed_task and
-- ansible_failed_result set), counts as rescued and goes on; always runs
-- on every host that entered the block; a failure not rescued leaves the
-- play after the always, as in Ansible. Unreachable hosts leave at once.
local S = require "luasible.util.schema"
local md = require "luasible.play.module_defaults"

local M = {}

-- The keywords a block takes (given to its tasks), beside block/rescue/always.
M.KEYWORDS = { name = true, when = true, tags = true, vars = true, become = true, become_user = true,
  ignore_errors = true, no_log = true, check_mode = true, run_once = true, diff = true, become_method = true,
  any_errors_fatal = true, ignore_unreachable = true, throttle = true, -- (play/rolling.lua)
  delegate_to = true, delegate_facts = true, -- (play/delegate.lua)
  module_defaults = true, -- (play/module_defaults.lua: the outer block's entries first)
  timeout = true }
local SECTIONS = { "block", "rescue", "always" }

--- Is t a block node?
function M.is_block(t)
  return type(t) == "table" and (t.block ~= nil or t.rescue ~= nil or t.always ~= nil) and t.module == nil
end

local function as_list(v)
  if v == nil then return {} end
  if type(v) == "table" then return v end
  return { v }
end

--- Is t an include_tasks node (of a YAML playbook: the file name and its folder)?
function M.is_include(t)
  return type(t) == "table" and type(t.include) == "string" and type(t.dir) == "string" and t.module == nil
end

-- The keywords a block gives down: its parent's, then its own over them.
local function inherit(parent, b)
  local k = {}
  for key, v in pairs(parent) do k[key] = v end
  if b.when ~= nil then
    local w = {}
    for _, c in ipairs(as_list(parent.when)) do w[#w + 1] = c end
    for _, c in ipairs(as_list(b.when)) do w[#w + 1] = c end
    k.when = w
  end
  if b.tags ~= nil then
    local tg = {}
    for _, x in ipairs(as_list(parent.tags)) do tg[#tg + 1] = x end
    for _, x in ipairs(as_list(b.tags)) do tg[#tg + 1] = x end
    k.tags = tg
  end
  if b.vars ~= nil then
    local v = {}
    for key, x in pairs(parent.vars or {}) do v[key] = x end
    for key, x in pairs(b.vars) do v[key] = x end
    k.vars = v
  end
  for key in pairs(M.KEYWORDS) do
    if key ~= "when" and key ~= "tags" and key ~= "vars" and key ~= "name" and b[key] ~= nil then k[key] = b[key] end
  end
  k.module_defaults = md.concat(parent.module_defaults, b.module_defaults)
  return k
end

-- A leaf task with the keywords of its blocks: a copy (the play's own table is not changed).
local function apply(t, k)
  if next(k) == nil or type(t) ~= "table" then return t end
  local c = {}
  for key, v in pairs(t) do c[key] = v end
  if k.when ~= nil then
    local w = {}
    for _, x in ipairs(as_list(k.when)) do w[#w + 1] = x end
    for _, x in ipairs(as_list(t.when)) do w[#w + 1] = x end
    c.when = w
  end
  if k.tags ~= nil then
    local tg = {}
    for _, x in ipairs(as_list(k.tags)) do tg[#tg + 1] = x end
    for _, x in ipairs(as_list(t.tags)) do tg[#tg + 1] = x end
    c.tags = tg
  end
  if k.vars ~= nil then
    local v = {}
    for key, x in pairs(k.vars) do v[key] = x end
    for key, x in pairs(t.vars or {}) do v[key] = x end -- the task's own win
    c.vars = v
  end
  for key in pairs(M.KEYWORDS) do
    if key ~= "when" and key ~= "tags" and key ~= "vars" and key ~= "name" and c[key] == nil then c[key] = k[key] end
  end
  c.module_defaults = md.concat(k.module_defaults, t.module_defaults)
  return c
end

-- The tree of list (its leaves appended to flat), or nil, err.
local function walk(list, flat, k, where, depth)
  if depth > 64 then return nil, where .. ": blocks nested more than 64 deep" end
  local tree = {}
  for i, t in ipairs(list) do
    if M.is_include(t) then -- include_tasks (play/include.lua): its tasks get k too when they are read
      local c = apply(t, k)
      if c ~= t then c.inherit = k end
      tree[#tree + 1] = { include = c }
    elseif M.is_block(t) then
      for key in pairs(t) do
        if not M.KEYWORDS[key] and key ~= "block" and key ~= "rescue" and key ~= "always" then
          return nil, string.format("%s, task %d: the keyword %s is not supported on a block", where, i, S.quote(key))
        end
      end
      local node = { name = t.name }
      local nk = inherit(k, t)
      for _, sec in ipairs(SECTIONS) do
        local l = t[sec]
        if l ~= nil and (type(l) ~= "table" or not S.is_list(l)) then
          return nil, string.format("%s, task %d: %s must be a list of tasks, got %s", where, i, sec, S.show(l))
        end
        local sub, err = walk(l or {}, flat, nk, where, depth + 1)
        if not sub then return nil, err end
        node[sec] = sub
      end
      tree[#tree + 1] = node
    else
      local leaf = apply(t, k)
      flat[#flat + 1] = leaf
      tree[#tree + 1] = { task = leaf }
    end
  end
  return tree
end

--- The handlers of a list holding blocks (a YAML playbook's import_tasks
--- too) and include_tasks: each task of a block's `block` a handler with
--- the block's keywords (its rescue and always are no handlers, as in
--- Ansible: never run), an include_tasks a handler itself (play/handlers.lua
--- runs its file's tasks when it is notified). Returns the flat list, or nil, err.
function M.handlers(list, where)
  local flat = {}
  local function go(l, k, depth)
    if depth > 64 then return where .. ": blocks nested more than 64 deep" end
    for i, t in ipairs(l) do
      if M.is_block(t) then
        for key in pairs(t) do
          if not M.KEYWORDS[key] and key ~= "block" and key ~= "rescue" and key ~= "always" then
            return string.format("%s, task %d: the keyword %s is not supported on a block", where, i, S.quote(key))
          end
        end
        if t.block ~= nil and (type(t.block) ~= "table" or not S.is_list(t.block)) then
          return string.format("%s, task %d: block must be a list of tasks, got %s", where, i, S.show(t.block))
        end
        local err = go(t.block or {}, inherit(k, t), depth + 1)
        if err then return err end
      else
        local c = apply(t, k)
        if M.is_include(t) and c ~= t then c.inherit = k end
        flat[#flat + 1] = c
      end
    end
  end
  local err = go(list, {}, 0)
  if err then return nil, err end
  return flat
end

--- A play whose lists hold blocks as one with flat lists and play.blocks;
--- the play itself when none does. Returns play or nil, err.
function M.flatten(play, label)
  if type(play) ~= "table" then return play end
  local any = false
  for _, list in ipairs({ "pre_tasks", "tasks", "post_tasks" }) do
    if type(play[list]) == "table" then
      for _, t in ipairs(play[list]) do
        if M.is_block(t) or M.is_include(t) then any = true end
      end
    end
  end
  local hany = false
  for _, t in ipairs(type(play.handlers) == "table" and play.handlers or {}) do
    if M.is_block(t) or M.is_include(t) then hany = true end
  end
  if not any and not hany then return play end
  local out = setmetatable({ blocks = {} }, { __index = play })
  for k, v in pairs(play) do out[k] = v end
  out.blocks = {}
  if hany then
    local flat, err = M.handlers(play.handlers, (label or "play") .. ", handlers")
    if not flat then return nil, err end
    out.handlers = flat
  end
  if not any then return out end
  for _, list in ipairs({ "pre_tasks", "tasks", "post_tasks" }) do
    if type(play[list]) == "table" then
      local flat = {}
      local tree, err = walk(play[list], flat, {}, (label or "play") .. ", " .. list, 0)
      if not tree then return nil, err end
      out[list], out.blocks[list] = flat, tree
    end
  end
  return out
end

--- The tree of a list of tasks, and its leaves (flat); or nil, err. k: the
--- keywords of the blocks around (an include's: play/include.lua).
function M.tree(list, label, k)
  local flat = {}
  local tree, err = walk(list, flat, k or {}, label or "tasks", 0)
  if not tree then return nil, err end
  return tree, flat
end

-- Running ---------------------------------------------------------------

local function live_hosts(run, hosts, failed)
  local out = {}
  for _, h in ipairs(hosts) do
    if not run.state[h].out and not failed[h] then out[#out + 1] = h end
  end
  return out
end

-- Run a tree on hosts. `rescuable`: a block around has a rescue (a failure
-- is counted rescued, not failed, as Ansible counts it); `nested`: inside a
-- block (a failed host stays in the play for the rescue/always);
-- `guarded`: a rescue or an always of a block around takes a failure here,
-- so any_errors_fatal does not stop the play for it (Ansible's
-- iterator.is_failed); `in_always`: an always section (a failure in it
-- stops the play unless the other hosts have always tasks left, as
-- Ansible's linear strategy peeks). Returns the hosts that failed in it:
-- host -> { task =, result = }.
local run_tree
function run_tree(run, tree, hosts, strategy, rescuable, nested, guarded, in_always)
  local failed = {}
  local prepared = run.play.prepared or {}
  for i, node in ipairs(tree) do
    local exempt = guarded or (in_always and i < #tree) or nil -- (play/rolling.lua: after_task)
    local live = live_hosts(run, hosts, failed)
    if #live == 0 then break end
    if node.include then
      local function catch(h)
        if not nested then return end
        run.state[h].out = nil
      end
      for _, h in ipairs(live) do run.state[h].rescuable = rescuable or nil end -- (play/recap.lua counts it)
      local f = require("luasible.play.include").run(run, node, live, function(_, tree2, hs)
        return run_tree(run, tree2, hs, strategy, rescuable, nested, guarded)
      end, catch)
      if nested then for h, v in pairs(f) do failed[h] = v end end
    elseif node.task then
      local task = prepared[node.task]
      if task then -- (nil: not selected by --tags)
        -- a failure a rescue will take is counted rescued, not failed (play/recap.lua)
        for _, h in ipairs(live) do run.state[h].rescuable, run.state[h].aef_exempt = rescuable or nil, exempt end
        strategy.run_step(run, task, live)
        for _, h in ipairs(live) do run.state[h].rescuable, run.state[h].aef_exempt = nil, nil end
        if nested then
          for _, h in ipairs(live) do
            local st = run.state[h]
            if st.out == "failed" then
              st.out = nil
              local d = run.details[h]
              failed[h] = { task = task, result = d[#d] and d[#d].result or {} }
            end
          end
        end
      end
    else
      local has_rescue, has_always = #node.rescue > 0, #node.always > 0
      local f = run_tree(run, node.block, live, strategy, rescuable or has_rescue, true,
        guarded or has_rescue or has_always)
      local still = f
      if has_rescue then
        local rh = {}
        for _, h in ipairs(live) do
          if f[h] then
            rh[#rh + 1] = h
            local reg = run.state[h].registered
            reg.ansible_failed_task = { name = f[h].task.name, action = f[h].task.module }
            reg.ansible_failed_result = f[h].result
          end
        end
        still = #rh > 0 and run_tree(run, node.rescue, rh, strategy, rescuable, true, guarded or has_always) or {}
      end
      -- always: every host that entered, failed in it or not (unreachable ones have left)
      local af = run_tree(run, node.always, live, strategy, rescuable, true, guarded, true)
      for h, v in pairs(af) do still[h] = still[h] or v end
      for h, v in pairs(still) do
        if nested then failed[h] = v else run.state[h].out = "failed" end
      end
    end
  end
  return failed
end

M.run_tree = function(...) return run_tree(...) end

--- Run the tree of a section (run.play.raw.blocks[list]) with strategy's run_step.
function M.run(run, tree, strategy)
  run_tree(run, tree, strategy.active_hosts(run), strategy, false, false)
end

return M
