--- lookup('dict', MAPPING...) (with_dict): {key, value} items of each
-- mapping, in its key order.
local lookup = require "luasible.lookup"
local values = require "luasible.template.values"
return {
  run = function(terms)
    local out = {}
    for _, term in ipairs(terms) do
      if not values.is_mapping(term) then lookup.fail("with_dict expects a dict") end
      for _, k in ipairs(values.keys(term)) do
        local item = values.mapping()
        values.set(item, "key", k)
        values.set(item, "value", term[k])
        out[#out + 1] = item
      end
    end
    return out
  end,
}
