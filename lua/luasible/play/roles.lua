--- luasible.play.roles: a play's `roles:` (Ansible's layout) read into the
-- play model. Each role named (a name, or a mapping with `role:`/`name:`,
-- `vars:`, `when:`, `tags:` and its params) is found on the role search
-- path, its meta/main.yml dependencies applied before it (a role applied
-- once per play unless `allow_duplicates`, a cycle refused naming the
-- chain), and its tasks/main.yml and handlers/main.yml converted as the
-- playbook's own tasks are. Every task of a role carries the role's folder
-- (`role_path`: templates/ and files/ searched there first), its vars
-- (vars/main.yml, then `vars:` and params: above the play's vars) and its
-- defaults (defaults/main.yml: below everything), see play/vars.lua.
-- docs/TASKS.md, "Roles".
local yaml = require "luasible.yaml"
local json = require "luasible.json"
local path = require "luasible.util.path"
local S = require "luasible.util.schema"

local mdefaults = require "luasible.play.module_defaults"
local M = {}

local rf = require "luasible.play.role_files"
local is_mapping, find, main_file, read_yaml, read_vars = rf.is_mapping, rf.find, rf.main_file, rf.read_yaml,
  rf.read_vars
M.search_dirs = rf.search_dirs

-- A canonical text of a value (the params of a role, to tell two uses apart).
local function canon(v, depth)
  depth = depth or 0
  if type(v) ~= "table" or depth > 32 then return type(v) .. ":" .. tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = canon(k, depth + 1) .. "=" .. canon(v[k], depth + 1) end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- Keywords a role entry takes beside those it gives its tasks (play/role_keywords.lua).
local ROLE_KEYS = { role = true, name = true, vars = true, when = true, tags = true, module_defaults = true }
local rk = require "luasible.play.role_keywords"

-- A list from a `when` or `tags` value (nil: empty).
local function listed(v)
  if v == nil or yaml.is_null(v) then return {} end
  if type(v) == "table" then
    local out = {}
    for i, x in ipairs(v) do out[i] = x end
    return out
  end
  return { v }
end
local function concat(a, b)
  local out = {}
  for _, x in ipairs(a) do out[#out + 1] = x end
  for _, x in ipairs(b) do out[#out + 1] = x end
  return out
end

-- A role name with {{ }} rendered when the playbook is read (as Ansible's), with the play's vars
-- (vars_files too) and the extra vars (ctx.name_vars).
local function render_name(ctx, name, at, label)
  if not name:find("{{", 1, true) then return name end
  local v, err = require("luasible.template").render(name, ctx.name_vars or {})
  if not v then
    ctx.raise(at .. label .. ": the role name " .. S.quote(name) .. ": " .. tostring(err) .. " (a role name in"
      .. " roles:, import_role and dependencies sees the play's vars and the extra vars)")
  end
  if type(v) ~= "string" or v == "" then
    ctx.raise(at .. label .. ": the role name " .. S.quote(name) .. " renders to no name")
  end
  return v
end

-- Read one role entry: name, params (vars: and the other keys), when, tags,
-- and the keywords given to its tasks (play/role_keywords.lua): kw, env.
local function parse_entry(ctx, e, at, label, what)
  if type(e) == "string" then
    if e == "" then ctx.raise(at .. label .. ": a role name must not be empty") end
    return render_name(ctx, e, at, label), {}, {}, {}
  end
  if not is_mapping(e) or next(e) == nil then
    ctx.raise(at .. label .. ": a role must be a name or a mapping with role:, got " .. S.show(e))
  end
  local name = e.role
  if name == nil then name = e.name end
  if type(name) ~= "string" or name == "" then
    ctx.raise(at .. label .. ": a role entry must name its role (role: NAME), got " .. S.show(name))
  end
  name = render_name(ctx, name, at, label)
  local params = {}
  for _, k in ipairs(yaml.ordered_keys(e)) do
    if type(k) ~= "string" then ctx.raise(at .. label .. ": a keyword must be a string, got " .. S.show(k)) end
    local refused = not ROLE_KEYS[k] and not rk.is_keyword(k) and rk.refusal(k, what or "a role")
    if refused then
      ctx.raise(at .. label .. ": " .. refused)
    elseif not ROLE_KEYS[k] and not rk.is_keyword(k) then
      params[k] = e[k] -- a role param (Ansible's old style)
    end
  end
  if e.vars ~= nil and not yaml.is_null(e.vars) then
    if not is_mapping(e.vars) then ctx.raise(at .. label .. ": vars must be a mapping, got " .. S.show(e.vars)) end
    for k, v in pairs(e.vars) do params[k] = v end
  end
  local kw, env = rk.read(ctx, e, at, label)
  return name, params, listed(e.when), listed(e.tags), kw, env
end

-- What a role's task file cannot hold yet (play/blocks.lua reads them in a play's lists only).
local BLOCKS = { block = true, rescue = true, always = true, import_tasks = true, include_tasks = true }

-- A block (or an import_tasks) of a role's task file: converted as a play's
-- (ctx.convert_list: play/playbook_list.lua), its leaves made the role's by
-- `decorate`, the role's when and tags on the block itself (its tasks get
-- them: play/blocks.lua). Appends the node to tasks, the leaves' maps to maps.
local function role_block(ctx, r, t, what, when, tags, decorate, tasks, maps, in_role)
  local m = {}
  local node = ctx.convert_list(r, { t }, what .. ": block", m)[1]
  local function walk(n)
    if type(n) ~= "table" then return end
    if n.include and not (n.role_tasks or n.dynamic_role) then -- include_tasks: its tasks the role's (include.lua)
      n.in_role = in_role
    elseif n.block or n.rescue or n.always then
      for _, sec in ipairs({ "block", "rescue", "always" }) do
        for _, x in ipairs(n[sec] or {}) do walk(x) end
      end
    elseif n.role_path == nil and not (n.role_tasks or n.dynamic_role) then
      decorate(n) -- (an import_role's are its role's)
    end
  end
  walk(node)
  if #when > 0 then node.when = concat(when, listed(node.when)) end
  if #tags > 0 then node.tags = concat(tags, listed(node.tags)) end
  tasks[#tasks + 1] = node
  for _, x in ipairs(m) do maps[#maps + 1] = x end
end

-- Apply one role (and its dependencies first) to st: its tasks into
-- sink (st when nil), its handlers into st. `imp` (import_role): { tasks_from
-- =, vars_from =, defaults_from =, handlers_from = } and applied whatever
-- was before, as Ansible's import_role.
local function apply(ctx, st, e, at, label, inherited, sink, imp)
  sink = sink or st
  local name, params, when, tags, kw, env = parse_entry(ctx, e, at, label, imp and imp.what)
  local dir, tried = find(name, ctx)
  if not dir then
    local shown = {}
    for i, d in ipairs(tried) do shown[i] = S.escape(d) end
    ctx.raise(at .. label .. ": the role " .. S.quote(name) .. " was not found in: " .. table.concat(shown, ", "))
  end
  local real = require("luasible.core").realpath(dir) or dir
  for i, s in ipairs(st.stack) do
    if s.real == real then
      local chain = {}
      for j = i, #st.stack do chain[#chain + 1] = st.stack[j].name end
      chain[#chain + 1] = name
      ctx.raise(at .. label .. ": circular role dependency: " .. table.concat(chain, " -> "))
    end
  end
  if #st.stack >= 64 then ctx.raise(at .. label .. ": role dependencies nested more than 64 deep") end
  local meta_file = main_file(dir, "meta")
  local meta = read_yaml(ctx, meta_file) or {}
  if not is_mapping(meta) then ctx.raise(S.escape(meta_file) .. ": meta must be a mapping, got " .. S.show(meta)) end
  local key = real .. "\0" .. canon(params)
  local dup = meta.allow_duplicates
  if imp and imp.allow_duplicates ~= nil then dup = imp.allow_duplicates end
  if st.applied[key] and dup ~= true and not (imp and imp.allow_duplicates == nil) then return end
  imp = imp or {}
  for _, f in ipairs({ { "tasks_from", "tasks" }, { "vars_from", "vars" }, { "defaults_from", "defaults" },
    { "handlers_from", "handlers" } }) do
    if imp[f[1]] and not main_file(dir, f[2], imp[f[1]]) then
      ctx.raise(at .. label .. ": " .. f[1] .. ": the role " .. S.quote(name) .. " has no "
        .. S.escape(path.join(dir, f[2], imp[f[1]])) .. ".yml (nor .yaml, nor .lua)")
    end
  end
  -- a role of `roles:`, an import_role and their dependencies are applied
  -- once per play; an include_role (and its dependencies) marks nothing: the
  -- play's tasks are read before its roles, and its include of the same role
  -- must not make `roles:` skip it
  -- (an import_role's own role neither: Ansible caches it apart, from_include, so a later `roles:` dependency on
  -- it still runs, as the play's tasks are read before its roles here)
  if not inherited.dynamic and not (imp and imp.what == "import_role") then st.applied[key] = true end
  when, tags = concat(inherited.when, when), concat(inherited.tags, tags)
  local rname = path.basename(name)
  -- a dependency sees the vars and defaults of the roles that depend on it (as Ansible's dep chain), its own over them
  local rvars = json.object()
  local own_vars = read_vars(ctx, dir, "vars", imp.vars_from)
  for k, v in pairs(inherited.vars or {}) do rvars[k] = v end
  for k, v in pairs(own_vars) do rvars[k] = v end
  for k, v in pairs(params) do rvars[k] = v end
  rvars.role_name, rvars.role_path = rname, real
  local defaults = json.object()
  local own_defaults = read_vars(ctx, dir, "defaults", imp.defaults_from)
  for k, v in pairs(inherited.defaults or {}) do defaults[k] = v end
  for k, v in pairs(own_defaults) do defaults[k] = v end
  -- the entry's module_defaults: for its tasks and its dependencies' (Ansible's dep chain)
  local emd = type(e) == "table" and e.module_defaults or nil
  if emd ~= nil and yaml.is_null(emd) then emd = nil end
  local smd = st.stack[#st.stack] and st.stack[#st.stack].md
  local role_md = mdefaults.concat(smd, emd) -- (kept: an include_tasks' tasks get it when read, later)
  st.stack[#st.stack + 1] = { real = real, name = name, md = role_md }
  -- the keywords given to its tasks: a block around them (and its dependencies'), the environment and
  -- check_mode in effect while they are read (ctx.scope: play/playbook.lua's converters), its handlers' own
  local outer_scope, outer_sink = ctx.scope, nil
  local scope = { environment = rk.merge_env(outer_scope.environment, env), check_mode = outer_scope.check_mode }
  if kw and kw.check_mode ~= nil then scope.check_mode = kw.check_mode end
  ctx.scope = scope
  local hkw = rk.merge(inherited.kw, kw)
  if kw then outer_sink, sink = sink, { tasks = {}, maps = sink.maps } end
  local deps = meta.dependencies
  if deps ~= nil and not yaml.is_null(deps) then
    local mr = ctx.reader(meta_file)
    if type(deps) ~= "table" or not S.is_list(deps) or (json.is_object(deps) and next(deps) ~= nil) then
      ctx.raise(ctx.where(mr, meta, "dependencies") .. "dependencies must be a list of roles, got " .. S.show(deps))
    end
    for i, d in ipairs(deps) do
      apply(ctx, st, d, ctx.where(mr, deps, i), "role " .. S.quote(name) .. ", dependency " .. i,
        { when = when, tags = tags, vars = rvars, defaults = defaults, dynamic = inherited.dynamic, kw = hkw },
        sink)
    end
  end
  -- a role of `roles:` or import_role shows its vars and defaults (not its params) to the whole
  -- play, as Ansible's (private_role_vars false): after its dependencies', in the order applied
  if not inherited.dynamic then
    for k, v in pairs(own_vars) do st.exports.vars[k] = v end
    for k, v in pairs(own_defaults) do st.exports.defaults[k] = v end
    -- (a `roles:` entry's `vars:` too, as Ansible's; its bare params stay the role's)
    local ev = not imp.what and type(e) == "table" and is_mapping(e.vars) and e.vars or {}
    for k, v in pairs(ev) do st.exports.vars[k] = v end
  end
  -- its tasks and handlers, as the playbook's own (an import_role in them: on the stack)
  for _, kind in ipairs({ "tasks", "handlers" }) do
    -- a role's handlers are the play's once, however often the role is applied
    local from = kind == "tasks" and imp.tasks_from or imp.handlers_from
    local file = not (kind == "handlers" and st.handlers_of[real .. "\0" .. tostring(from)])
      and main_file(dir, kind, from)
    if kind == "handlers" then st.handlers_of[real .. "\0" .. tostring(from)] = true end
    local list = read_yaml(ctx, file)
    if list ~= nil then
      -- with_fileglob and friends: the role's files/; import_tasks: its tasks/
      local r = { file = file, dir = dir, tasks_dir = path.dirname(file) }
      if type(list) ~= "table" or not S.is_list(list) or (json.is_object(list) and next(list) ~= nil) then
        ctx.raise(ctx.where(r, list) .. "role " .. S.quote(name) .. ": " .. kind .. "/" .. path.basename(file)
          .. " must be a list of tasks, got " .. S.show(list))
      end
      for j, t in ipairs(list) do
        local what = string.format("role %s, %s %d", S.quote(name), kind == "handlers" and "handler" or "task", j)
        if kind == "tasks" and M.import(ctx, r, t, what, sink.tasks, sink.maps,
          { when = when, tags = tags, vars = rvars, defaults = defaults }) then
          goto next
        end
        if kind == "tasks" then -- include_role: a node run when reached (play/include.lua)
          local node = M.include(ctx, r, t, what, { when = when, tags = tags, vars = rvars, defaults = defaults })
          if node then sink.tasks[#sink.tasks + 1] = node goto next end
        end
        local function decorate(task, own_when, own_tags)
          task.role_path, task.role_vars, task.role_defaults = real, rvars, defaults
          task.module_defaults = mdefaults.concat(role_md, task.module_defaults)
          if task.vars ~= nil and imp.vars then -- import_role's vars: below the task's own
            local mv = json.object()
            for k, v in pairs(imp.vars) do mv[k] = v end
            for k, v in pairs(task.vars) do mv[k] = v end
            task.vars = mv
          elseif imp.vars then task.vars = imp.vars end
          if kind == "tasks" then
            -- shown as Ansible shows it: "ROLE : NAME"
            task.name = rname .. " : " .. (type(task.name) == "string" and task.name or task.module)
            if own_when and #when > 0 then task.when = concat(when, listed(task.when)) end
            if own_tags and #tags > 0 then task.tags = concat(tags, listed(task.tags)) end
          elseif type(task.name) == "string" then
            -- a handler too is shown "ROLE : NAME"; a notify of its own name still finds it
            task.listen = concat(listed(task.listen), { task.name })
            task.name = rname .. " : " .. task.name
          end
          if kind == "handlers" then rk.give(task, hkw) end
          if scope.check_mode ~= nil and task.check_mode == nil then task.check_mode = scope.check_mode end
        end
        if kind == "tasks" and type(t) == "table" and not (t.module or t.action) then
          local structural
          for k in pairs(t) do
            local m = type(k) == "string" and k:gsub("^ansible%.builtin%.", ""):gsub("^ansible%.legacy%.", "")
            if BLOCKS[m] then structural = true end
          end
          if structural then
            -- an include_tasks' tasks (read when it is reached): the role's, with its tags (its when is the include's)
            local in_role = { vars = rvars, defaults = defaults, tags = tags,
              decorate = function(task) decorate(task, false, true) end }
            role_block(ctx, r, t, what, when, tags, decorate, sink.tasks, sink.maps, in_role)
            goto next
          end
        end
        if type(t) == "table" then
          for k in pairs(t) do
            local m = type(k) == "string" and k:gsub("^ansible%.builtin%.", ""):gsub("^ansible%.legacy%.", "")
            if kind == "handlers" and BLOCKS[m] then
              ctx.raise(ctx.where(r, t, k) .. what .. ": " .. S.quote(k) .. " in a role's " .. kind
                .. " is not supported yet")
            end
          end
        end
        local task, keymap = ctx.convert_task(r, t, what, kind == "handlers", list, j)
        decorate(task, true, true)
        local out = kind == "tasks" and sink.tasks or st.handlers
        local maps = kind == "tasks" and sink.maps or st.hmaps
        out[#out + 1] = task
        maps[#maps + 1] = { node = t, keys = keymap, line = yaml.line(list, j), file = file }
        ::next::
      end
    end
  end
  if outer_sink and #sink.tasks > 0 then outer_sink.tasks[#outer_sink.tasks + 1] = rk.block(sink.tasks, kw) end
  ctx.scope = outer_scope
  st.stack[#st.stack] = nil
end

--- import_role and include_role at their place in a task list: play/role_tasks.lua
function M.import(...) return require("luasible.play.role_tasks").import(...) end
function M.include(...) return require("luasible.play.role_tasks").include(...) end

-- for play/role_tasks.lua
M.apply, M.listed, M.concat, M.is_mapping = apply, listed, concat, is_mapping

--- The roles context of a play: ctx = { r =, raise =, where =, reader =,
--- convert_task =, label =, roles_path =, check_mode =, environment = } given the state of
--- the roles applied in the play.
function M.context(ctx)
  ctx.dir = ctx.r.dir
  ctx.scope = { environment = ctx.environment, check_mode = ctx.check_mode } -- (play/role_keywords.lua)
  ctx.st = { applied = {}, handlers_of = {}, stack = {}, tasks = {}, maps = {}, handlers = {}, hmaps = {},
    exports = { vars = json.object(), defaults = json.object() } }
  return ctx
end

--- The `roles:` of play p (YAML, read by play/playbook.lua): their tasks put
--- before the play's `tasks` (as Ansible runs them: after pre_tasks, before
--- tasks, handlers flushed after both) and their handlers (and those of the
--- play's import_roles) before the play's. ctx: M.context's; out the model
--- play, src its source map.
function M.expand(ctx, p, out, src)
  local list, st = p.roles, ctx.st
  if yaml.is_null(list) then list = nil end
  if list ~= nil and (type(list) ~= "table" or not S.is_list(list) or (json.is_object(list) and next(list) ~= nil)) then
    ctx.raise(ctx.where(ctx.r, p, "roles") .. ctx.label .. ": roles must be a list of roles, got " .. S.show(list))
  end
  for i, e in ipairs(list or {}) do
    apply(ctx, st, e, ctx.where(ctx.r, list, i), ctx.label .. ", role " .. i, { when = {}, tags = {} })
  end
  local function prepend(field, tasks, maps)
    if #tasks == 0 then return end
    for _, t in ipairs(out[field] or {}) do tasks[#tasks + 1] = t end
    for _, m in ipairs(src[field] or {}) do maps[#maps + 1] = m end
    out[field], src[field] = tasks, maps
  end
  prepend("tasks", st.tasks, st.maps)
  prepend("handlers", st.handlers, st.hmaps)
  -- (the play's import_roles were read before: their exports are in st too)
  if next(st.exports.vars) or next(st.exports.defaults) then out.role_exports = st.exports end
end

return M
