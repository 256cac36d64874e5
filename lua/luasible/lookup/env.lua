--- lookup('env', NAME...): environment variables of the controller (the
-- first word of each term); `default` ("" by default) for one not set.
local lookup = require "luasible.lookup"

return {
  run = function(terms, kw, env)
    local o = lookup.options(kw, { default = "" }, "env", env)
    local out = {}
    for _, term in ipairs(terms) do
      local name = tostring(term):match("%S+") or ""
      local v = os.getenv(name)
      if v == nil then v = o.default end
      out[#out + 1] = v
    end
    return out
  end,
}
