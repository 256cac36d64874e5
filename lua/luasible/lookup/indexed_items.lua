--- lookup('indexed_items', ...) (with_indexed_items): [index, item] pairs
-- of the flattened terms, from 0.
local lookup = require "luasible.lookup"
return {
  run = function(terms)
    local out = {}
    for i, v in ipairs(lookup.flatten(terms)) do out[i] = { i - 1, v } end
    return out
  end,
}
