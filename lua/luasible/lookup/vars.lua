--- lookup('vars', NAME...): the values of variables named by strings (a
-- value that is a template is rendered); `default` for one not defined.
local lookup = require "luasible.lookup"
local values = require "luasible.template.values"

return {
  run = function(terms, kw, env)
    local o = lookup.options(kw, { default = values.none }, "vars")
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
      elseif type(v) == "string" and env.render and v:find("{[{%%]") then
        v = env.render(v, vars, { value = true })
      end
      out[#out + 1] = v
    end
    return out
  end,
}
