--- lookup('varnames', REGEX...): the names of the variables that a Python
-- regex finds (re.search) in, in the order of the vars (luasible.util.regex).
local lookup = require "luasible.lookup"
local regex = require "luasible.util.regex"
local values = require "luasible.template.values"

return {
  run = function(terms, _, env)
    local names = {}
    local vars = env.vars or {}
    local order = env.var_names and env.var_names() or values.keys(vars)
    for _, k in ipairs(order) do
      if type(k) == "string" then names[#names + 1] = k end
    end
    local out = {}
    for _, term in ipairs(terms) do
      if type(term) ~= "string" then
        lookup.fail('Invalid setting identifier, "' .. values.tostring(term) .. '" is not a string, it is a '
          .. values.type_name(term))
      end
      local re, err = regex.compile(term)
      if not re then lookup.fail('Unable to use "' .. term .. '" as a search parameter: ' .. err) end
      for _, name in ipairs(names) do
        if re:search(name) then out[#out + 1] = name end
      end
    end
    return out
  end,
}
