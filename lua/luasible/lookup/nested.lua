--- lookup('nested', LIST...) (with_nested): the product of the lists, each
-- combination flattened one level (Ansible's _combine).
local lookup = require "luasible.lookup"
local values = require "luasible.template.values"

local function as_list(x) return values.is_list(x) and x or { x } end

return {
  run = function(terms)
    if #terms == 0 then lookup.fail("with_nested requires at least one element in the nested list") end
    local result = as_list(terms[1])
    for i = 2, #terms do
      local nxt, b = {}, as_list(terms[i])
      for _, x in ipairs(result) do
        for _, y in ipairs(b) do nxt[#nxt + 1] = lookup.flatten({ x, y }) end
      end
      result = nxt
    end
    local out = {}
    for i, x in ipairs(result) do out[i] = lookup.flatten(as_list(x)) end
    return out
  end,
}
