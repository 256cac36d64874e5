--- lookup('template', NAME...): a template file (templates/ of the search
-- path) rendered with the vars, plus template_vars; options
-- variable_start_string, variable_end_string, comment_start_string,
-- comment_end_string, convert_data, jinja2_native (Ansible's).
local lookup = require "luasible.lookup"
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"

local DEFAULTS = {
  convert_data = true, template_vars = {}, jinja2_native = false,
  variable_start_string = "{{", variable_end_string = "}}",
  comment_start_string = "{#", comment_end_string = "#}",
}

return {
  run = function(terms, kw, env)
    local o = lookup.options(kw, DEFAULTS, "template")
    if not env.render then lookup.fail("no template engine to render with") end
    local out = {}
    for _, term in ipairs(terms) do
      local p = lookup.find_file(env, "templates", term)
      local text = p and fs.read(p)
      if not text then lookup.fail("the template file " .. tostring(term) .. " could not be found for the lookup") end
      local vars = setmetatable({}, { __index = env.vars })
      for k, v in pairs(o.template_vars or {}) do vars[k] = v end
      local r, err = env.render(text, vars, {
        name = p, search_dir = path.dirname(p),
        variable_start_string = o.variable_start_string, variable_end_string = o.variable_end_string,
        comment_start_string = o.comment_start_string, comment_end_string = o.comment_end_string,
      })
      if r == nil then lookup.fail(tostring(err)) end
      out[#out + 1] = r
    end
    return out
  end,
}
