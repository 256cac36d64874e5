--- lookup('file', NAME...): a file's text (files/ of the search path;
-- Ansible's file lookup): options lstrip (false), rstrip (true).
local lookup = require "luasible.lookup"
local fs = require "luasible.util.fs"

local DEFAULTS = { lstrip = false, rstrip = true }

return {
  run = function(terms, kw, env)
    local o = lookup.options(kw, DEFAULTS, "file", env)
    local out = {}
    for _, term in ipairs(terms) do
      local p = lookup.find_file(env, "files", term)
      local text = p and fs.read(p)
      if not text then lookup.fail("could not locate file in lookup: " .. tostring(term)) end
      if lookup.bool(o.lstrip) then text = text:gsub("^%s+", "") end
      if lookup.bool(o.rstrip) then text = text:gsub("%s+$", "") end
      out[#out + 1] = text
    end
    return out
  end,
}
