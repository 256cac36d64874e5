--- lookup('subelements', LIST_OR_DICT, 'key[.sub]' [, {skip_missing: bool}])
-- (with_subelements): [item, subitem] for every element of each item's
-- list under the key (a dotted path into mappings). Items with skipped
-- set are left out.
local lookup = require "luasible.lookup"
local values = require "luasible.template.values"

local function terms_error(msg)
  lookup.fail("subelements lookup expects a list of two or three items, " .. (msg or ""))
end

local function text(v) return values.repr and values.repr(v) or values.tostring(v) end

local function skipped(item)
  local s = item.skipped
  return s ~= nil and s ~= false
end

return {
  run = function(terms)
    if #terms < 2 or #terms > 3 then terms_error() end
    local top, key = terms[1], terms[2]
    if not (values.is_list(top) or values.is_mapping(top)) or type(key) ~= "string" then
      terms_error("first a dict or a list, second a string pointing to the subkey")
    end
    local elements
    if values.is_mapping(top) then
      if skipped(top) then return {} end
      elements = {}
      for _, k in ipairs(values.keys(top)) do elements[#elements + 1] = top[k] end
    else
      elements = top
    end
    local flags = terms[3] or {}
    if not values.is_mapping(flags) and not values.is_list(flags) then
      terms_error("the optional third item must be a dict with flags skip_missing")
    end
    local skip_missing = lookup.bool(values.is_mapping(flags) and flags.skip_missing or false)
    local path = {}
    for part in (key .. "."):gmatch("(.-)%.") do path[#path + 1] = part end
    local out = {}
    for _, item in ipairs(elements) do
      if not values.is_mapping(item) then
        lookup.fail("subelements lookup expects a dictionary, got '" .. text(item) .. "'")
      end
      if not skipped(item) then
        local sub, list = item, {}
        for i, k in ipairs(path) do
          local v = values.is_mapping(sub) and sub[k] or nil
          if v == nil then
            if not skip_missing then
              lookup.fail("could not find '" .. k .. "' key in iterated item '" .. text(sub) .. "'")
            end
            break
          end
          if i < #path then
            if not values.is_mapping(v) then
              if not skip_missing then
                lookup.fail("the key " .. k .. " should point to a dictionary, got '" .. text(v) .. "'")
              end
              break
            end
            sub = v
          else
            if not values.is_list(v) or values.is_mapping(v) then
              lookup.fail("the key " .. k .. " should point to a list, got '" .. text(v) .. "'")
            end
            list = v
          end
        end
        -- Ansible pops the list from the item it returns: a copy here
        local shown = item
        if #list > 0 then
          shown = values.copy_mapping(item)
          local at = shown
          for i = 1, #path - 1 do
            at[path[i]] = values.copy_mapping(at[path[i]])
            at = at[path[i]]
          end
          at[path[#path]] = nil
        end
        for _, x in ipairs(list) do out[#out + 1] = { shown, x } end
      end
    end
    return out
  end,
}
