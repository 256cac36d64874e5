--- luasible.play.vars: the variables of a host for a task (Ansible's
-- precedence, the magic variables, what is data and never a template), the
-- play folder's group_vars/ and host_vars/, `hostvars`, and the secrets
-- that events never show.
local inventory = require "luasible.inventory"
local template = require "luasible.template"
local yaml = require "luasible.yaml"
local has_template = require("luasible.module.params").has_template

local M = {}

--- Copy the keys of src (may be nil) into dst; returns dst.
local function copy_into(dst, src)
  if src then for k, v in pairs(src) do dst[k] = v end end
  return dst
end
M.copy_into = copy_into

--- Variables of a host for a task: inventory < facts < play vars < task vars
--- < registered < extra vars, plus the magic variables. `run` holds the
--- host's state (run.state[host]), the play, extra vars, groups, hostvars.
function M.host_vars(run, host, task)
  local st = run.state[host]
  local play_vars = run.play.raw.vars
  -- the play's roles' vars and defaults, every task's (Ansible's private_role_vars false; play/roles.lua)
  local exports = run.play.raw.role_exports or {}
  local v = copy_into({}, exports.defaults)
  copy_into(v, st.public_role_defaults) -- include_role public: true (play/include.lua)
  copy_into(v, task and task.role_defaults) -- a role's defaults: below everything
  copy_into(v, st.inv_vars)
  if st.facts then
    copy_into(v, st.facts)
    v.ansible_facts = st.facts
  end
  copy_into(v, play_vars)
  -- vars_files read per host (play/vars_files.lua): above the play's vars
  local files = run.play and run.play.raw.vars_files_host
    and require("luasible.play.vars_files").layer(run, host, v, task)
  copy_into(v, files)
  copy_into(v, exports.vars)
  copy_into(v, st.public_role_vars)
  if task then copy_into(v, task.role_vars) end -- a role's vars and params: above the play's
  if task then copy_into(v, task.vars) end
  copy_into(v, st.include_vars) -- include_tasks' vars and loop item (play/include.lua)
  copy_into(v, st.included_vars) -- include_vars (above task vars, below set_fact, as Ansible's)
  copy_into(v, st.set_facts) -- set_fact: with registered results, above play and task vars
  copy_into(v, st.registered)
  copy_into(v, run.extra_vars)
  -- what came from the host (facts, registered results) is data, never a
  -- template to render again; so is a value marked !unsafe (luasible.yaml)
  -- in the inventory, vars files, play or task vars; the layer a name
  -- comes from decides, as the copies above
  local unsafe = {}
  local function layer(t, data)
    if type(t) ~= "table" then return end
    local marks = yaml.unsafe_keys(t)
    for k in pairs(t) do unsafe[k] = (data or (marks and marks[k])) and true or nil end
  end
  layer(exports.defaults)
  layer(st.public_role_defaults)
  if task then layer(task.role_defaults) end
  layer(st.inv_vars)
  if st.facts then
    layer(st.facts, true)
    unsafe.ansible_facts = true
  end
  layer(play_vars)
  layer(files)
  layer(exports.vars)
  layer(st.public_role_vars)
  if task then layer(task.role_vars); layer(task.vars) end
  layer(st.include_vars)
  layer(st.included_vars)
  layer(st.set_facts)
  layer(st.registered, true)
  layer(run.extra_vars)
  if next(unsafe) then template.mark_unsafe(v, unsafe) end
  v.inventory_hostname = host
  v.groups = run.groups
  -- playbook_dir (the playbook's folder, absolute), inventory_file / inventory_dir (the
  -- file the host came from; none for a host of a comma list or add_host), as Ansible's
  v.playbook_dir = run.playbook_dir
  local ih = run.inv and run.inv.hosts[host]
  if ih and ih.source then
    v.inventory_file, v.inventory_dir = ih.source, ih.source:match("^(.*)/[^/]*$") or "."
  end
  -- the batch's hosts, the play's (play/rolling.lua: those that have not left)
  local m = require("luasible.play.rolling").magic(run)
  v.ansible_play_batch, v.play_hosts, v.ansible_play_hosts, v.ansible_play_hosts_all = m.batch, m.batch, m.hosts, m.all
  -- a task's check_mode = true / false decides for it, as in Ansible
  if task and type(task.check_mode) == "boolean" then v.ansible_check_mode = task.check_mode
  else v.ansible_check_mode = run.check end
  v.ansible_diff_mode = M.diff_mode(run, task or {})
  v.hostvars = run.hostvars
  return v
end

--- Is the task in diff mode? Its own `diff:`, else its play's, else --diff.
function M.diff_mode(run, task)
  if task.diff ~= nil then return task.diff end
  local pd = run.play and run.play.raw and run.play.raw.diff
  if pd ~= nil then return pd end
  return run.diff and true or false
end

--- The group_vars/ and host_vars/ next to the play (Ansible's playbook
--- folder: opts.play_vars_dir, else opts.base_dir; false for none), a layer
--- above the inventory's own; nil when there is none or it is the
--- inventory's folder. Returns layer or nil, nil; nil, err on a bad file.
function M.play_layer(inv, opts)
  local dir = opts.play_vars_dir
  if dir == nil then dir = opts.base_dir end
  if not dir then return nil end
  local function norm(d) return (tostring(d):gsub("/+$", ""):gsub("^%./", "")) end
  for _, l in ipairs(inv.vars_layers or {}) do
    if norm(l.dir) == norm(dir) then return nil end
  end
  local layer, err = inventory.vars_dir(dir, inv)
  if not layer then return nil, err end
  return layer
end

--- `hostvars`: a mapping (`{}` when printed, never `[]`) whose pairs()
--- lists every host of the inventory; hostvars[h] is a live view of h's
--- variables as Ansible's HostVars shows them: its inventory variables
--- (group_vars, host_vars), its facts (and `ansible_facts`), include_vars,
--- set_fact and registered results, the extra vars, and its magic names
--- (inventory_hostname, group_names, groups, playbook_dir); never the
--- play's vars. A value holding a template is rendered with h's own
--- variables when read (hostvars.a.url = "{{ x }}" is a's x, not the
--- reader's); what came from a host, or was marked !unsafe, is data.
--- `run` (optional): the run whose state the views read (else the
--- inventory's variables only).
function M.hostvars(inv, layer, run)
  local function view(h)
    local lazy = { __name = "luasible.object", __luasible_lazy = true }
    local v = setmetatable({}, lazy)
    local busy = {} -- names being rendered: "{{ y }}" in y is left as it is
    local own -- a host the run has no state of: its inventory variables, read once (add_host
    -- makes a new view: play/inventory_changes.lua drops this one)
    local function base()
      local st = run and run.state[h]
      if st then return st.inv_vars end
      own = own or inv:host_vars(h, layer)
      return own
    end
    local function render(k, x, marks)
      if busy[k] or (marks and marks[k]) then return x end
      if not has_template(x) then return x end -- (a table without one: as it is, not rendered on each read)
      busy[k] = true
      local ok, r = pcall(template.nested, x, v, k)
      busy[k] = nil
      if ok then return r end
      return x -- as Ansible's HostVarsVars (fail_on_undefined off): left unrendered
    end
    lazy.__index = function(_, k)
      local st = run and run.state[h]
      local x = run and run.extra_vars[k]
      if x ~= nil then return render(k, x) end
      if st then
        x = st.registered[k]
        if x ~= nil then return x end
        x = st.set_facts and st.set_facts[k]
        if x ~= nil then return x end
        x = st.included_vars and st.included_vars[k]
        if x ~= nil then return render(k, x) end
        if st.facts then
          if k == "ansible_facts" then return st.facts end
          x = st.facts[k]
          if x ~= nil then return x end
        end
      end
      local b = base()
      x = b[k]
      if x ~= nil then return render(k, x, yaml.unsafe_keys(b)) end
      if k == "groups" then return run and run.groups end
      if k == "playbook_dir" then return run and run.playbook_dir end
      if k == "ansible_facts" then return {} end
      return nil
    end
    lazy.__pairs = function(t)
      local keys, st = {}, run and run.state[h]
      for k in pairs(base()) do keys[k] = true end
      for _, layer_vars in ipairs(st and { st.facts or {}, st.included_vars or {}, st.set_facts or {},
        st.registered } or {}) do
        for k in pairs(layer_vars) do keys[k] = true end
      end
      for k in pairs(run and run.extra_vars or {}) do keys[k] = true end
      keys.ansible_facts, keys.groups, keys.playbook_dir = true, run and true or nil, run and true or nil
      local plain = {}
      for k in pairs(keys) do plain[k] = t[k] end
      return next, plain, nil
    end
    return v
  end
  return setmetatable({}, { __name = "luasible.object", __luasible_lazy = true, __index = function(t, h)
    if not inv.hosts[h] then return nil end
    local v = view(h)
    rawset(t, h, v)
    return v
  end, __pairs = function(t)
    for _, h in ipairs(inv.host_order) do local _ = t[h] end
    return next, t, nil
  end })
end

---------------------------------------------------------------------------
-- Secrets: the values of the connection secrets (passwords of the inventory
-- and extra vars), replaced by ******** wherever they appear in an event
---------------------------------------------------------------------------
local Secrets = {}
Secrets.__index = Secrets

function M.secrets()
  return setmetatable({ list = {}, set = {} }, Secrets)
end

--- Collect the secret values of a set of variables.
function Secrets:add(vars)
  for k in pairs(inventory.secret_vars) do
    local v = vars and vars[k]
    if v ~= nil and v ~= "" and not self.set[tostring(v)] then
      self.set[tostring(v)] = true
      self.list[#self.list + 1] = tostring(v)
    end
  end
end

-- the values decrypted from Ansible Vault content (luasible.vault): a list
-- that grows as the run decrypts, longest first; and its prefilter
local function revealed() return require("luasible.vault").revealed() end
local function vault_may_hold(s) return require("luasible.vault").may_hold(s) end

function Secrets:any() return #self.list > 0 or #revealed() > 0 end

-- Replace every secret found in strings of v; tables are copied only where
-- something was replaced.
local function scrub(v, secrets, depth, may_hold)
  local t = type(v)
  if t == "string" then
    if may_hold and not may_hold(v) then return v end
    for _, sec in ipairs(secrets) do
      if v:find(sec, 1, true) then
        local parts, i = {}, 1
        while true do
          local a, b = v:find(sec, i, true)
          if not a then break end
          parts[#parts + 1] = v:sub(i, a - 1)
          i = b + 1
        end
        parts[#parts + 1] = v:sub(i)
        v = table.concat(parts, "********")
      end
    end
    return v
  elseif t == "table" and depth < 16 then
    local copy
    for k, x in pairs(v) do
      local y = scrub(x, secrets, depth + 1, may_hold)
      if y ~= x then
        copy = copy or copy_into({}, v)
        copy[k] = y
      end
    end
    return copy or v
  end
  return v
end

--- v with every secret replaced by ********.
function Secrets:scrub(v)
  local from_vault = revealed()
  if #from_vault > 0 then v = scrub(v, from_vault, 0, vault_may_hold) end
  return scrub(v, self.list, 0)
end

return M
