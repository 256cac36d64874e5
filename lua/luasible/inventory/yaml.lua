--- luasible.inventory.yaml: Ansible's YAML inventory format, and a Lua
-- table of the same shape:
--   { all = { hosts = { h = { vars } }, vars = {}, children = { g = { ... } } } }
-- Errors name the file and, for YAML text, the line of the key concerned.
local yaml = require "luasible.yaml"
local model = require "luasible.inventory.model"
local vars_error = require("luasible.inventory.connect").vars_error
local S = require "luasible.util.schema"

local M = {}

local is_null = yaml.is_null

local GROUP_KEYS = { hosts = true, vars = true, children = true }

--- An Inventory from table t (decoded from `text`, when there is one, read
--- from `source`), or nil, "source[:line]: what is wrong".
function M.from_table(t, source, text)
  source = source or "<inventory table>"
  local inv = model.new(source)
  local function where(key)
    local n = yaml.key_line(text, key)
    return n and string.format("%s:%d", source, n) or source
  end
  local function bad(key, msg) error({ inv_error = where(key) .. ": " .. msg }, 0) end
  local function group(name, g, parent)
    if type(name) ~= "string" or not name:match(model.GROUP_NAME) then
      bad(tostring(name), "bad group name " .. (type(name) == "string" and S.quote(name) or S.show(name)))
    end
    inv:add_group(name)
    if parent then inv:add_child(parent, name) end
    if is_null(g) then return end
    if type(g) ~= "table" then bad(name, "group '" .. name .. "' must be a mapping (hosts, vars, children)") end
    for _, k in ipairs(yaml.ordered_keys(g, text)) do
      if not GROUP_KEYS[k] then
        bad(name, "unknown key " .. S.quote(k) .. " in group '" .. name .. "' (expected hosts, vars or children)")
      end
    end
    if not is_null(g.vars) then
      if type(g.vars) ~= "table" then bad(name, "vars of group '" .. name .. "' must be a mapping") end
      local verr = vars_error(g.vars, is_null)
      if verr then bad(name, "group '" .. name .. "': " .. verr) end
      for k, v in pairs(g.vars) do inv.groups[name].vars[k] = v end
    end
    if not is_null(g.hosts) then
      if type(g.hosts) ~= "table" then bad(name, "hosts of group '" .. name .. "' must be a mapping") end
      local list = #g.hosts > 0 -- a list of names
      if list and not S.is_list(g.hosts) then
        bad(name, "hosts of group '" .. name .. "' must be a mapping of names or a list of names, not both")
      end
      local hnames = list and g.hosts or yaml.ordered_keys(g.hosts, text)
      for _, h in ipairs(hnames) do
        local hv = list and {} or g.hosts[h]
        if type(h) ~= "string" or h == "" then
          bad(name, "host names in group '" .. name .. "' must be strings, got " .. S.show(h))
        end
        if is_null(hv) then hv = {} end
        if type(hv) ~= "table" then bad(h, "vars of host " .. S.quote(h) .. " must be a mapping") end
        local verr = vars_error(hv, is_null)
        if verr then bad(h, "host " .. S.quote(h) .. ": " .. verr) end
        local ok, herr = inv:add_hosts(h, hv, name)
        if not ok then bad(h, herr) end
      end
    end
    if not is_null(g.children) then
      if type(g.children) ~= "table" then bad(name, "children of group '" .. name .. "' must be a mapping") end
      for _, c in ipairs(yaml.ordered_keys(g.children, text)) do group(c, g.children[c], name) end
    end
  end
  local ok, e = pcall(function()
    if type(t) ~= "table" then bad("", "inventory must be a mapping of groups") end
    for _, k in ipairs(yaml.ordered_keys(t, text)) do group(k, t[k], k ~= "all" and "all" or nil) end
  end)
  if not ok then
    if type(e) == "table" and e.inv_error then return nil, e.inv_error end
    error(e, 0)
  end
  local cok, cerr = model.check_cycles(inv)
  if not cok then return nil, source .. ": " .. cerr end
  return inv
end

--- Parse YAML inventory text read from `source`: an Inventory, or nil,
--- "source:line: what is wrong".
function M.parse(text, source)
  source = source or "<inventory>"
  local t, err = yaml.load(text, source)
  if err then return nil, err end
  if is_null(t) then return model.new(source) end
  return M.from_table(t, source, text)
end

return M
