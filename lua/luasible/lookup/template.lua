--- lookup('template', NAME...): a template file (templates/ of the search
-- path) rendered with the vars, plus template_vars; options
-- variable_start_string, variable_end_string, comment_start_string,
-- comment_end_string, convert_data, jinja2_native (Ansible's). The
-- template also sees Ansible's template vars: template_path (the name
-- given), template_fullpath, template_host (this machine's name),
-- template_uid (the file owner's name), template_destpath (None),
-- template_mtime and template_run_date (as Python prints a datetime) and
-- ansible_managed ("Ansible managed", Ansible's default).
local lookup = require "luasible.lookup"
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"

local core = require "luasible.core"
local values = require "luasible.template.values"

-- the login name of uid (from /etc/passwd), else the number as text
local function user_name(uid)
  for line in (fs.read("/etc/passwd") or ""):gmatch("[^\n]+") do
    local name, id = line:match("^([^:]*):[^:]*:(%d+):")
    if id and tonumber(id) == uid then return name end
  end
  return tostring(uid)
end

-- Python's str(datetime.fromtimestamp(t)): local time, microseconds when not 0
local function py_datetime(t)
  local whole = math.floor(t)
  local us = math.floor((t - whole) * 1e6 + 0.5)
  local s = os.date("%Y-%m-%d %H:%M:%S", whole)
  if us > 0 then s = s .. string.format(".%06d", us) end
  return s
end

local function template_vars(term, p)
  local st = core.stat(p) or {}
  local host = (fs.read("/proc/sys/kernel/hostname") or ""):gsub("%s+$", "")
  return {
    template_host = host, template_path = term, template_fullpath = p,
    template_uid = st.uid and user_name(st.uid) or "", template_destpath = values.none,
    template_mtime = st.mtime and py_datetime(st.mtime) or values.none,
    template_run_date = py_datetime(os.time()),
    ansible_managed = "Ansible managed",
  }
end

local DEFAULTS = {
  convert_data = true, template_vars = {}, jinja2_native = false,
  variable_start_string = "{{", variable_end_string = "}}",
  comment_start_string = "{#", comment_end_string = "#}",
}

return {
  run = function(terms, kw, env)
    local o = lookup.options(kw, DEFAULTS, "template", env)
    if not env.render then lookup.fail("no template engine to render with") end
    local out = {}
    for _, term in ipairs(terms) do
      local p = lookup.find_file(env, "templates", term)
      local text = p and fs.read(p)
      if not text then lookup.fail("the template file " .. tostring(term) .. " could not be found for the lookup") end
      local vars = setmetatable(template_vars(term, p), { __index = env.vars })
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
