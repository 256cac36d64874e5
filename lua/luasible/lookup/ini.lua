--- lookup('ini', KEY..., section=, file=, default=, re=, type=, encoding=,
-- case_sensitive=, allow_no_value=): values of an INI file as Python's
-- configparser reads it (Ansible's ini lookup): [sections], `key = value`
-- or `key: value`, # and ; comment lines, indented continuation lines,
-- keys lowercased unless case_sensitive, the DEFAULT section under every
-- other, %(name)s interpolation and %% (BasicInterpolation). type=properties
-- reads a Java properties file (no sections). re=True: the values of every
-- key the regex matches from its start (Python's re.match). The inline form
-- `KEY section=s file=f` is read as Ansible reads it. A missing key gives
-- `default` (""); a missing section is an error.
local lookup = require "luasible.lookup"
local values = require "luasible.template.values"
local regex = require "luasible.util.regex"
local fs = require "luasible.util.fs"

local DEFAULTS = {
  type = "ini", file = "ansible.ini", section = "global", re = false, encoding = "utf-8",
  default = "", case_sensitive = false, allow_no_value = false, allow_none = false,
}

local function strip(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- { [section] = { order = {keys}, vals = { [key] = value } } } of INI text, or raises
local function parse(text, file, case_sensitive, allow_none)
  local sections, order = {}, {}
  local cur, curname, lastkey, lastindent
  local n = 0
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    local indent = #line:match("^%s*")
    local s = strip(line)
    if s == "" or s:match("^[#;]") then
      if s == "" then lastkey = nil end
    elseif cur and lastkey and indent > lastindent then
      -- a continuation line of the last value
      local v = cur.vals[lastkey]
      cur.vals[lastkey] = (v == values.none and "" or v) .. "\n" .. s
    elseif s:match("^%[.*%]$") then
      curname = s:sub(2, -2)
      if sections[curname] then
        lookup.fail("Duplicate section in '" .. file .. "': While reading from '<string>' [line "
          .. string.format("%2d", n) .. "]: section '" .. curname .. "' already exists")
      end
      cur = { order = {}, vals = {} }
      sections[curname] = cur
      order[#order + 1] = curname
      lastkey = nil
    else
      if not cur then
        lookup.fail("File contains no section headers.\nfile: '<string>', line: " .. n .. "\n" .. line)
      end
      local k, v = s:match("^(.-)%s*[=:]%s*(.*)$")
      if not k then
        if not allow_none then
          lookup.fail("Source contains parsing errors: '<string>'\n\t[line " .. string.format("%2d", n) .. "]: "
            .. line)
        end
        k, v = s, values.none
      end
      k = strip(k)
      if not case_sensitive then k = k:lower() end
      if cur.vals[k] ~= nil then
        lookup.fail("Duplicate option in '" .. file .. "': While reading from '<string>' [line "
          .. string.format("%2d", n) .. "]: option '" .. k .. "' in section '" .. curname .. "' already exists")
      end
      cur.order[#cur.order + 1] = k
      cur.vals[k] = v
      lastkey, lastindent = k, indent
    end
  end
  return sections, order
end

-- BasicInterpolation of a value of section `sec`
local function interpolate(v, sec, default, depth)
  if type(v) ~= "string" or not v:find("%", 1, true) then return v end
  if depth > 10 then lookup.fail("Recursion limit exceeded in value substitution") end
  local out, i = {}, 1
  while i <= #v do
    local c = v:sub(i, i)
    if c ~= "%" then
      out[#out + 1] = c
      i = i + 1
    elseif v:sub(i + 1, i + 1) == "%" then
      out[#out + 1] = "%"
      i = i + 2
    else
      local name, j = v:match("^%%%((.-)%)s()", i)
      if not name then
        lookup.fail("'%' must be followed by '%' or '(', found: " .. values.repr(v:sub(i)))
      end
      local key = name:lower()
      local r = sec[key]
      if r == nil and default then r = default[key] end
      if r == nil then lookup.fail("Bad value substitution: option '" .. key .. "' references '" .. name .. "'") end
      out[#out + 1] = interpolate(r, sec, default, depth + 1)
      i = j
    end
  end
  return table.concat(out)
end

-- the inline form: "KEY k=v k=v" (Ansible's _parse_params)
local function inline(term, o)
  local params, keys, thiskey = {}, {}, "key"
  local n = 0
  for phrase in term:gmatch("%S+") do
    n = n + 1
    if phrase:find("=", 1, true) then
      for k in pairs(DEFAULTS) do
        if phrase:find(k .. "=", 1, true) then thiskey = k end
      end
    end
    if n == 1 or (params[thiskey] or "") == "" then
      params[thiskey] = phrase
      keys[#keys + 1] = thiskey
    else
      params[thiskey] = params[thiskey] .. " " .. phrase
    end
  end
  local key
  for _, k in ipairs(keys) do
    local param = params[k]
    if param:find("=", 1, true) then
      local name, value = param:match("^([^=]*)=([^=]*)$")
      if not name then lookup.fail("Could not use '" .. param .. "': too many values to unpack (expected 2)") end
      if DEFAULTS[name] == nil then lookup.fail(name .. " is not a valid option.") end
      o[name] = value
    elseif not key then
      key = param
    end
  end
  if not key then
    lookup.option_error("No key to lookup was provided as first term with in string inline options: " .. term)
  end
  return key
end

local function flag(v)
  if type(v) == "string" then return v ~= "" end   -- inline values: Python's truth of the text
  return lookup.bool(v)
end

return {
  run = function(terms, kw, env)
    local out = {}
    for _, term in ipairs(terms) do
      local o = lookup.options(kw, DEFAULTS, "ini", env)
      local key = term
      if type(term) == "string" and (term:find("=", 1, true) or strip(term):find(" ", 1, true)) then
        key = inline(term, o)
      end
      local p = lookup.find_file(env, "files", o.file)
      local text = p and fs.read(p)
      if not text then lookup.fail("Invalid filename: '" .. tostring(p or "None") .. "'") end
      local section = o.section
      if o.type == "properties" then
        text = "[java_properties]\n" .. text
        section = "java_properties"
      end
      local sections = parse(text, o.file, flag(o.case_sensitive), flag(o.allow_no_value) or flag(o.allow_none))
      local default = sections.DEFAULT
      local sec = section == "DEFAULT" and default or sections[section]
      if not sec then lookup.fail("No section '" .. tostring(section) .. "' in " .. tostring(o.file)) end
      if flag(o.re) then
        local re, err = regex.compile(tostring(key))
        if not re then lookup.fail(err) end
        local names = {}
        for _, k in ipairs(sec.order) do names[#names + 1] = k end
        if default and sec ~= default then
          for _, k in ipairs(default.order) do if sec.vals[k] == nil then names[#names + 1] = k end end
        end
        for _, k in ipairs(names) do
          if re:match(k) then
            local v = sec.vals[k]
            if v == nil then v = default.vals[k] end
            out[#out + 1] = interpolate(v, sec.vals, default and default.vals, 0)
          end
        end
      else
        local k = flag(o.case_sensitive) and key or tostring(key):lower()
        local v = sec.vals[k]
        if v == nil and default then v = default.vals[k] end
        if v == nil then v = o.default
        else v = interpolate(v, sec.vals, default and default.vals, 0) end
        if not values.is_none(v) then out[#out + 1] = v end
      end
    end
    return out
  end,
}
