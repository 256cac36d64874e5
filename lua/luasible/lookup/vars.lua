--- lookup('vars', NAME...): the values of variables named by strings (a
-- value that holds templates is rendered, unless it is unsafe); `default`
-- for one not defined.
local lookup = require "luasible.lookup"
local values = require "luasible.template.values"

local function template() return require "luasible.template" end

-- v with every string that holds a template rendered (as text), as
-- Ansible's templar.template(value) does for the value of a variable
local function render_leaves(v, vars, env)
  if type(v) == "string" then
    if not v:find("{[{%%#]") then return v end
    local r, err = env.render(v, vars)
    if r == nil then lookup.fail(tostring(err)) end
    return r
  end
  if type(v) ~= "table" or values.is_none(v) then return v end
  local out = values.is_mapping(v) and values.mapping() or {}
  if values.is_mapping(v) then
    for _, k in ipairs(values.keys(v)) do values.set(out, k, render_leaves(v[k], vars, env)) end
  else
    for i, x in ipairs(v) do out[i] = render_leaves(x, vars, env) end
  end
  return out
end

return {
  run = function(terms, kw, env)
    local o = lookup.options(kw, { default = values.none }, "vars", env)
    local vars = env.vars or {}
    local out = {}
    for _, term in ipairs(terms) do
      if type(term) ~= "string" then
        lookup.fail('Invalid setting identifier, "' .. values.tostring(term) .. '" is not a string, its a '
          .. values.type_name(term))
      end
      local v = vars[term]
      if v == nil and type(vars.hostvars) == "table" and vars.inventory_hostname then
        local hv = vars.hostvars[vars.inventory_hostname]
        v = type(hv) == "table" and hv[term] or nil
      end
      if v == nil or values.is_undefined(v) then
        if values.is_none(o.default) then
          lookup.undefined("No variable found with this name: " .. term)
        end
        v = o.default
      elseif env.render and not template().is_unsafe(vars, term) then
        v = render_leaves(v, vars, env)
      end
      out[#out + 1] = v
    end
    return out
  end,
}
