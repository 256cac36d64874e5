--- lookup('together', LIST...) (with_together): the lists side by side,
-- the shorter ones padded with None.
local lookup = require "luasible.lookup"
local values = require "luasible.template.values"

return {
  run = function(terms)
    if #terms == 0 then lookup.fail("with_together requires at least one element in each list") end
    local lists, n = {}, 0
    for i, t in ipairs(terms) do
      lists[i] = values.is_list(t) and t or { t }
      n = math.max(n, #lists[i])
    end
    local out = {}
    for j = 1, n do
      local row = {}
      for i, l in ipairs(lists) do
        local v = l[j]
        if v == nil then v = values.none end
        row[i] = v
      end
      out[j] = lookup.flatten(row)
    end
    return out
  end,
}
