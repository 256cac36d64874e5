--- lookup('list', ...) (with_list): the terms as they are.
local values = require "luasible.template.values"
local lookup = require "luasible.lookup"
return {
  run = function(terms)
    if not values.is_list(terms) then lookup.fail("with_list expects a list") end
    return terms
  end,
}
