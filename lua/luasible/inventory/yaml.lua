--- luasible.inventory.yaml: Ansible's YAML inventory format, read as
-- Ansible's yaml plugin reads it, and a Lua table of the same shape:
--   { all = { hosts = { h = { vars } }, vars = {}, children = { g = { ... } } } }
-- Keys are taken in the order of the text (by name for a Lua table). A
-- section given as a string (`hosts: web1`) names one entry; a host's value
-- may be empty. Deliberately stricter than Ansible, which warns and skips
-- them: a key of a group other than hosts, vars and children is refused (a
-- typo would lose hosts). Deliberately wider: `hosts` may be a list of names.
-- Errors name the file and, for YAML text, the line of the key concerned.
local yaml = require "luasible.yaml"
local model = require "luasible.inventory.model"
local vars_error = require("luasible.inventory.connect").vars_error
local S = require "luasible.util.schema"

local M = {}

local is_null = yaml.is_null

local GROUP_KEYS = { hosts = true, vars = true, children = true }

local function is_map(v) return type(v) == "table" and not is_null(v) and (yaml.keys(v) ~= nil or #v == 0) end

-- Python's falsy values, which a host's vars may be instead of a mapping
local function falsy(v)
  return is_null(v) or v == false or v == 0 or v == "" or (type(v) == "table" and next(v) == nil)
end

--- Read table t (decoded from `text`, when there is one, read from
--- `source`) into inventory `inv`. Returns true, or nil, "source[:line]:
--- what is wrong". The caller reconciles the inventory.
function M.read(inv, t, source, text)
  local function where(key)
    local n = yaml.key_line(text, key)
    return n and string.format("%s:%d", source, n) or source
  end
  local function bad(key, msg) error({ inv_error = where(key) .. ": " .. msg }, 0) end
  local function check(ok, err, key) if not ok then bad(key, err) end end
  local group
  -- a section's entries: a mapping, a list of names (hosts), or a string
  local function entries(g, name, section)
    local v = g[section]
    if type(v) == "string" then return { v }, {} end
    if is_null(v) then return {}, {} end
    if section == "hosts" and type(v) == "table" and #v > 0 and not yaml.keys(v) then
      if not S.is_list(v) then
        bad(name, "hosts of group '" .. name .. "' must be a mapping of names or a list of names, not both")
      end
      return v, {}
    end
    if not is_map(v) then bad(name, section .. " of group '" .. name .. "' must be a mapping") end
    return yaml.ordered_keys(v, text), v
  end
  function group(name, g, parent)
    if type(name) ~= "string" or name == "" then bad(tostring(name), "bad group name '" .. tostring(name) .. "'") end
    if not (is_null(g) or is_map(g)) then
      -- not a group (Ansible warns and skips it); as a child, it may name a host
      if parent and inv.hosts[name] then inv:add_host(name, nil, parent) return end
      bad(name, "group '" .. name .. "' must be a mapping (hosts, vars, children)")
    end
    inv:add_group(name)
    if parent then
      local cok, cerr = inv:add_child(parent, name)
      check(cok, cerr, name)
    end
    if is_null(g) then return end
    local keys = yaml.ordered_keys(g, text)
    for _, k in ipairs(keys) do
      if not GROUP_KEYS[k] then
        bad(name, "unknown key '" .. tostring(k) .. "' in group '" .. name .. "' (expected hosts, vars or children)")
      end
    end
    for _, k in ipairs(keys) do
      local list, map = entries(g, name, k)
      if k == "vars" then
        local verr = vars_error(map, is_null, true)
        if verr then bad(name, "group '" .. name .. "': " .. verr) end
      end
      for _, e in ipairs(list) do
        if k == "vars" then
          local sok, serr = inv:set_group_var(name, e, map[e] == nil and yaml.null or map[e], yaml.unsafe(map, e))
          check(sok, serr, name)
        elseif k == "children" then
          group(e, map[e] == nil and yaml.null or map[e], name)
        else
          if type(e) ~= "string" then
            bad(name, "host pattern " .. tostring(e) .. " in group '" .. name
              .. "' must be a string (quote integers and floats)")
          end
          local hv = map[e]
          if hv == nil or falsy(hv) then hv = {} end
          if not is_map(hv) then bad(e, "vars of host '" .. e .. "' must be a mapping") end
          local verr = vars_error(hv, is_null, true)
          if verr then bad(e, "host " .. S.quote(e) .. ": " .. verr) end
          local ok, herr = inv:add_hosts(e, hv, name)
          if not ok then bad(e, herr) end
        end
      end
    end
  end
  return model.catch(function()
    if not is_map(t) then bad("", "inventory must be a mapping of groups") end
    if t.plugin ~= nil and not is_null(t.plugin) then
      bad("plugin", "an inventory plugin's configuration (plugin: " .. tostring(t.plugin)
        .. "), not an inventory: a plugin's configuration is read from a .yml or .yaml file only")
    end
    for _, k in ipairs(yaml.ordered_keys(t, text)) do group(k, t[k]) end
  end)
end

--- An Inventory from table t (see M.read), or nil, "source[:line]: what is wrong".
function M.from_table(t, source, text)
  source = source or "<inventory table>"
  return model.read_new(source, M.read, t, source, text)
end

--- Decode YAML inventory text: the table, or nil, err (a syntax error;
--- an empty text, or one that is no mapping, is not a YAML inventory).
function M.decode(text, source)
  local t, err = yaml.load(text, source)
  if err then return nil, err end
  if is_null(t) or (type(t) == "table" and next(t) == nil) then return nil, source .. ": empty YAML inventory" end
  if not is_map(t) then return nil, source .. ": a YAML inventory must be a mapping of groups" end
  return t
end

--- Parse YAML inventory text read from `source`: an Inventory, or nil,
--- "source:line: what is wrong".
function M.parse(text, source)
  source = source or "<inventory>"
  local t, err = yaml.load(text, source)
  if err then return nil, err end
  if is_null(t) then return model.new(source):reconcile() end
  return M.from_table(t, source, text)
end

return M
