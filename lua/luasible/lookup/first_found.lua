--- lookup('first_found', TERMS, files=, paths=, skip=) (with_first_found):
-- the absolute path of the first file that exists. Ansible's rules: a
-- term is a name, a list of them, or a mapping {files, paths, skip}; with
-- paths, each file is looked for in each path (names and paths may be
-- lists or strings split on , ; and , : ; for paths); a name is searched
-- as the file lookup searches (files/ of the search path). Nothing found:
-- an error, or [] with skip=True.
local lookup = require "luasible.lookup"
local values = require "luasible.template.values"

local function split(v, seps)
  local out = {}
  local function add(s)
    for part in s:gmatch("[^" .. seps .. "]+") do
      part = part:match("^%s*(.-)%s*$")
      if part ~= "" then out[#out + 1] = part end
    end
  end
  if type(v) == "string" then add(v)
  elseif values.is_list(v) then
    for _, x in ipairs(v) do
      if type(x) == "string" then add(x) else out[#out + 1] = x end
    end
  end
  return out
end

local DEFAULTS = { files = {}, paths = {}, skip = false }

local function process(terms, kw, search, env)
  local skip = false
  for _, term in ipairs(terms) do
    local o
    if values.is_mapping(term) then
      o = lookup.options(term, DEFAULTS, "first_found", env)
    elseif type(term) == "string" then
      o = lookup.options(kw, DEFAULTS, "first_found", env)
    elseif values.is_list(term) then
      local s = process(term, kw, search, env)
      skip = s
      goto continue
    else
      lookup.fail("Invalid term supplied, can handle string, mapping or list of strings but got: "
        .. values.type_name(term) .. " for " .. values.tostring(term))
    end
    skip = lookup.bool(o.skip)
    do
      local files, paths = split(o.files, ",;"), split(o.paths, ",:;")
      if #paths > 0 then
        for _, p in ipairs(paths) do
          for _, f in ipairs(files) do search[#search + 1] = p:gsub("/+$", "") .. "/" .. f end
        end
      elseif #files > 0 then
        -- Ansible replaces what earlier terms added (its own NOTE says so)
        for i = #search, 1, -1 do search[i] = nil end
        for i, f in ipairs(files) do search[i] = f end
      else
        search[#search + 1] = term
      end
    end
    ::continue::
  end
  return skip
end

return {
  run = function(terms, kw, env)
    local search = {}
    local skip = process(terms, kw, search, env)
    for _, fn in ipairs(search) do
      local p = lookup.find_file(env, "files", fn)
      if p then return { p } end
    end
    if skip then return {} end
    lookup.fail("No file was found when using first_found.")
  end,
}
