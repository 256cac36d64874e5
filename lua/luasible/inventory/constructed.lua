--- luasible.inventory.constructed: Ansible's `constructed` inventory
-- plugin, built in: a YAML source `plugin: constructed` (or
-- ansible.builtin.constructed) that adds variables (compose), groups by
-- conditions (groups) and groups by values (keyed_groups) to the hosts of
-- the sources read before it, as ansible-core 2.14's constructed.py and
-- its Constructable do (see docs/TASKS.md, "constructed"):
--
--   plugin: constructed
--   strict: false                 # an expression that fails: skipped (true: an error)
--   compose:   { ansible_host: "private_ip", rack: "'r' ~ rack_no" }
--   groups:    { web: "'web' in tags", big: "cpus >= 8" }
--   keyed_groups:
--     - { key: placement.region, prefix: aws, separator: "_", parent_group: regions,
--         default_value: unknown, trailing_separator: true }
--   leading_separator: true       # false: no "_" before a keyed group without prefix
--   use_extra_vars: false         # true: -e vars are seen, above everything
--   use_vars_plugins: false       # true: group_vars/ host_vars/ of the sources so far
--
-- Expressions are the template engine's (luasible.template). A composed
-- value is what Ansible's non-native templating gives for "{{ expr }}": a
-- list, a mapping or a boolean stays one, anything else becomes its text
-- (an integer 5 is "5", None is "None"), a text that reads as a Python
-- list or dict literal becomes one.
local yaml = require "luasible.yaml"
local template = require "luasible.template"
local literal = require "luasible.inventory.literal"
local vars_dirs = require "luasible.inventory.vars_dirs"
local path = require "luasible.util.path"
local S = require "luasible.util.schema"

local M = {}

M.NAMES = { constructed = true, ["ansible.builtin.constructed"] = true }

local OPTIONS = { plugin = true, strict = true, compose = true, groups = true, keyed_groups = true,
  leading_separator = true, use_extra_vars = true, use_vars_plugins = true, cache = true,
  cache_plugin = true, cache_timeout = true, cache_connection = true, cache_prefix = true }

local KEYED = { key = true, prefix = true, separator = true, parent_group = true, default_value = true,
  trailing_separator = true }

local is_null = yaml.is_null
local function is_map(v) return type(v) == "table" and not is_null(v) and (yaml.keys(v) ~= nil or next(v) == nil) end

-- Python's str() of a value, as '%s' formats it
local function str(v)
  if is_null(v) then return "None" end
  return template.tostring(v)
end

-- the value of "{{ expr }}" as Ansible's ansible_eval_concat leaves it
local function concat_value(v)
  if type(v) == "boolean" then return v end
  if type(v) == "table" and not is_null(v) then return v end
  local s = type(v) == "string" and v or str(v)
  if s:match("^[%[{]") or s == "True" or s == "False" then
    local ok, lv, is_lit = pcall(literal.eval, s)
    if ok and lv ~= nil and is_lit then return lv end
  end
  return s
end

--- A group name as constructed makes it (Ansible's to_safe_group_name,
--- forced): a first character that is a digit or no word character, and
--- any later one that is no word character, become "_" (bytes >= 0x80
--- count as word characters, as most of Unicode's letters do in Python).
function M.safe_group_name(name)
  local first = name:sub(1, 1)
  local rest = name:sub(2):gsub("[^%w_\128-\255]", "_")
  if first:match("^[%d]") or first:match("^[^%w_\128-\255]") then first = "_" end
  return first .. rest
end
local safe = M.safe_group_name

-- Python's truth of a value
local function truthy(v)
  if is_null(v) or v == false or v == 0 or v == "" then return false end
  if type(v) == "table" then return next(v) ~= nil end
  return true
end

-- an undefined value inside a list or mapping (what str() of it would raise on)
local function undefined_in(v, depth)
  if template.is_undefined(v) then return v end
  if type(v) ~= "table" or depth > 32 then return nil end
  for _, x in pairs(v) do
    local u = undefined_in(x, depth + 1)
    if u then return u end
  end
end

local function compose(expr, vars)
  if type(expr) ~= "string" then expr = str(expr) end
  -- Ansible's Templar: "{{ name }}" of a number or a boolean is that value, of None None
  local one = expr:match("^%s*([%w_]*)%s*$")
  if one and vars[one] ~= nil then
    local v = vars[one]
    if type(v) == "number" or type(v) == "boolean" then return v end
    if is_null(v) then return yaml.null end
  end
  local v, err = template.eval(expr, vars)
  if err then return nil, err end
  local u = undefined_in(v, 0)
  if u then return nil, "undefined variable '" .. tostring(u.name) .. "'" end
  return concat_value(v)
end

--- Check a constructed configuration `cfg` (decoded from `source`'s
--- `text`): true, or nil, "source:line: what is wrong".
function M.check(cfg, source, text)
  local function bad(key, msg)
    local n = yaml.key_line(text, key)
    return nil, (n and (source .. ":" .. n) or source) .. ": " .. msg
  end
  for _, k in ipairs(yaml.ordered_keys(cfg, text)) do
    if not OPTIONS[k] then
      return bad(k, "unknown option '" .. tostring(k) .. "' of the constructed plugin (known: compose, groups,"
        .. " keyed_groups, strict, leading_separator, use_extra_vars, use_vars_plugins)")
    end
  end
  for _, k in ipairs({ "strict", "leading_separator", "use_extra_vars", "use_vars_plugins" }) do
    if cfg[k] ~= nil and not is_null(cfg[k]) and type(cfg[k]) ~= "boolean" then
      return bad(k, k .. " must be true or false, got " .. S.show(cfg[k]))
    end
  end
  for _, k in ipairs({ "compose", "groups" }) do
    if cfg[k] ~= nil and not is_null(cfg[k]) and not is_map(cfg[k]) then
      return bad(k, k .. " must be a mapping of names to expressions, got " .. S.show(cfg[k]))
    end
  end
  local kg = cfg.keyed_groups
  if kg ~= nil and not is_null(kg) then
    if type(kg) ~= "table" or yaml.keys(kg) or not S.is_list(kg) then
      return bad("keyed_groups", "keyed_groups must be a list of mappings, got " .. S.show(kg))
    end
    for i, e in ipairs(kg) do
      if not is_map(e) then
        return bad("keyed_groups", "keyed_groups entry " .. i .. " must be a mapping (key, prefix, ...), got "
          .. S.show(e))
      end
      for k in pairs(e) do
        if not KEYED[k] then
          return bad("keyed_groups", "keyed_groups entry " .. i .. ": unknown key '" .. tostring(k)
            .. "' (known: key, prefix, separator, parent_group, default_value, trailing_separator)")
        end
      end
      if e.key == nil or is_null(e.key) then return bad("keyed_groups", "keyed_groups entry " .. i .. " has no key") end
      if e.trailing_separator ~= nil and e.default_value ~= nil then
        return bad("keyed_groups", "keyed_groups entry " .. i
          .. ": default_value and trailing_separator are mutually exclusive")
      end
    end
  end
  return true
end

-- The groups of one keyed_groups entry for `host` (vars `vars`): adds them.
local function keyed(inv, e, vars, host, strict, leading)
  local key, err = compose(e.key, vars)
  if err then
    if strict then error({ inv_error = "Could not generate group for host " .. host .. " from " .. str(e.key)
      .. " entry: " .. err }, 0) end
    return
  end
  local default = e.default_value
  if is_null(default) then default = nil end
  if not (truthy(key) or (key == "" and default ~= nil)) then
    if strict and not (type(key) == "table" and next(key) == nil) then
      error({ inv_error = "No key or key resulted empty for " .. str(e.key) .. " in host " .. host
        .. ", invalid entry" }, 0)
    end
    return
  end
  local prefix = e.prefix == nil and "" or str(e.prefix)
  local sep = e.separator == nil and "_" or str(e.separator)
  local parent = e.parent_group
  if parent ~= nil and not is_null(parent) and parent ~= "" then
    local p, perr = template.render(str(parent), vars)
    if not p then
      if strict then error({ inv_error = "Could not generate parent group " .. str(parent) .. " for group "
        .. str(key) .. ": " .. perr }, 0) end
      return
    end
    parent = p
  else
    parent = nil
  end
  local names = {}
  if type(key) == "string" then
    names[1] = (key == "" and default ~= nil) and str(default) or key
  elseif type(key) == "table" and not yaml.keys(key) and S.is_list(key) then
    for _, n in ipairs(key) do
      names[#names + 1] = (n == "" and default ~= nil) and str(default) or str(n)
    end
  elseif is_map(key) then
    for _, k in ipairs(yaml.ordered_keys(key)) do
      local gval = key[k]
      local bare = str(k) .. sep .. str(gval)
      if gval == "" then
        if default ~= nil then bare = str(k) .. sep .. str(default)
        elseif e.trailing_separator == false then bare = str(k) end
      end
      names[#names + 1] = bare
    end
  else
    error({ inv_error = "Invalid group name format, expected a string or a list of them or dictionary, got: "
      .. type(key) }, 0)
  end
  for _, bare in ipairs(names) do
    if prefix == "" and leading == false then sep = "" end
    local g = safe(prefix .. sep .. bare)
    inv:add_host(host, nil, g)
    if parent then
      local ok, cerr = inv:add_child(safe(parent), g)
      if not ok then error({ inv_error = cerr }, 0) end
    end
  end
end

--- The variables of host `h` as constructed sees them while the sources
--- are read (Ansible's Host.get_vars and get_group_vars before
--- reconcile_inventory): the vars of the host's groups and their
--- ancestors only (a group not yet under `all` does not get all's vars),
--- sorted by depth, priority and name, then with `layers` (vars_dirs
--- layers: use_vars_plugins) their group_vars/, the host's vars, its
--- host_vars/, and inventory_hostname, inventory_hostname_short and
--- group_names (its groups but all, sorted).
function M.host_vars(inv, h, layers)
  local host = inv.hosts[h]
  local member, list = {}, {}
  local function walk(g)
    if member[g] then return end
    member[g] = true
    list[#list + 1] = inv.groups[g]
    for _, p in ipairs(inv.groups[g].parent_list) do walk(p) end
  end
  for _, g in ipairs(host.group_list) do walk(g) end
  table.sort(list, function(a, b)
    if a.depth ~= b.depth then return a.depth < b.depth end
    if a.priority ~= b.priority then return a.priority < b.priority end
    return a.name < b.name
  end)
  local vars = {}
  local function merge(t) for k, x in pairs(t or {}) do vars[k] = x end end
  for _, g in ipairs(list) do merge(g.vars) end
  for _, l in ipairs(layers or {}) do
    for _, g in ipairs(list) do merge(l.groups[g.name]) end
  end
  merge(host.vars)
  for _, l in ipairs(layers or {}) do merge(l.hosts[h]) end
  local names = {}
  for _, g in ipairs(list) do if g.name ~= "all" then names[#names + 1] = g.name end end
  table.sort(names)
  vars.inventory_hostname = h
  vars.inventory_hostname_short = h:match("^[^.]*")
  vars.group_names = names
  return vars
end

--- Apply the configuration `cfg` (checked by M.check) from `source` to
--- inventory `inv`. opts.extra_vars (with use_extra_vars), opts.layers
--- (the vars layers of the sources read so far, with use_vars_plugins).
--- Returns true, or nil, "failed to parse SOURCE: what".
function M.apply(inv, cfg, source, opts)
  opts = opts or {}
  local strict = cfg.strict == true
  local leading = cfg.leading_separator ~= false
  local extra = cfg.use_extra_vars == true and opts.extra_vars or nil
  local layers
  if cfg.use_vars_plugins == true then
    -- the group_vars/ host_vars/ of the sources read so far, and of this file's folder
    layers = {}
    local dirs, seen = {}, {}
    for _, l in ipairs(opts.layers or {}) do dirs[#dirs + 1] = l.dir end
    dirs[#dirs + 1] = path.dirname(source)
    for _, d in ipairs(dirs) do
      if not seen[d] then
        seen[d] = true
        local layer, verr = vars_dirs.vars_dir(d, inv)
        if not layer then return nil, verr end
        layers[#layers + 1] = layer
      end
    end
  end
  local comp = is_map(cfg.compose) and cfg.compose or nil
  local groups = is_map(cfg.groups) and cfg.groups or nil
  local kg = type(cfg.keyed_groups) == "table" and not is_null(cfg.keyed_groups) and cfg.keyed_groups or nil
  local function host_vars(h)
    local v = M.host_vars(inv, h, layers)
    if extra then for k, x in pairs(extra) do v[k] = x end end
    return v
  end
  local ok, err = pcall(function()
    local order = { table.unpack(inv.host_order) }
    for _, h in ipairs(order) do
      if comp then
        local vars = host_vars(h)
        for _, name in ipairs(yaml.ordered_keys(comp)) do
          local v, cerr = compose(comp[name], vars)
          if cerr then
            if strict then
              error({ inv_error = "Could not set " .. str(name) .. " for host " .. h .. ": " .. cerr }, 0)
            end
          else
            inv:add_host(h, { [name] = v })
          end
        end
      end
      local vars = host_vars(h)
      if groups then
        for _, name in ipairs(yaml.ordered_keys(groups)) do
          local cond = groups[name]
          local r, terr = template.test(type(cond) == "string" and cond or str(cond), vars)
          if terr then
            if strict then
              error({ inv_error = "Could not add host " .. h .. " to group " .. str(name) .. ": " .. terr }, 0)
            end
          elseif r then
            -- Ansible's add_child(group, h): a group of the host's name, if any, becomes the child
            local g = safe(str(name))
            if inv.groups[h] then
              local ok2, cerr = inv:add_child(g, h)
              if not ok2 then error({ inv_error = cerr }, 0) end
            else
              inv:add_host(h, nil, g)
            end
          end
        end
      end
      for _, e in ipairs(kg or {}) do keyed(inv, e, vars, h, strict, leading) end
    end
  end)
  if ok then return true end
  if type(err) == "table" and err.inv_error then return nil, "failed to parse " .. source .. ": " .. err.inv_error end
  error(err, 0)
end

return M
