--- luasible.template.filters.data: filters of mappings and structured
-- text: combine, dict2items, items2dict, subelements, extract, dictsort,
-- items, attr, from_json, to_json, to_nice_json, tojson, from_yaml,
-- from_yaml_all, to_yaml, to_nice_yaml, pprint.
local C = require "luasible.template.filters.common"
local values = require "luasible.template.values"
local yaml = require "luasible.yaml"
local pyjson = require "luasible.template.filters.pyjson"
local pyyaml = require "luasible.template.filters.pyyaml"
local unicase = require "luasible.util.unicase"

local fail, is_mapping, is_list, is_none = C.fail, C.is_mapping, C.is_list, C.is_none

-- a shallow copy of a mapping, in its key order
local function copy_map(m)
  local out = C.mapping()
  for _, k in ipairs(C.keys(m)) do C.put(out, k, m[k]) end
  return out
end

local MERGES = { replace = true, keep = true, append = true, prepend = true, append_rp = true, prepend_rp = true }

-- Ansible's merge_hash(x, y): y's keys over x's
local function merge(x, y, recursive, list_merge)
  local out = copy_map(x)
  for _, k in ipairs(C.keys(y)) do
    local yv, xv = y[k], out[k]
    if xv == nil then
      C.put(out, k, yv)
    elseif is_mapping(xv) and is_mapping(yv) then
      C.put(out, k, recursive and merge(xv, yv, recursive, list_merge) or yv)
    elseif is_list(xv) and is_list(yv) then
      local r
      if list_merge == "replace" then r = yv
      elseif list_merge == "keep" then r = xv
      else
        r = {}
        local function add(l, unless)
          for _, z in ipairs(l) do if not (unless and C.contains(unless, z)) then r[#r + 1] = z end end
        end
        if list_merge == "append" then add(xv); add(yv)
        elseif list_merge == "prepend" then add(yv); add(xv)
        elseif list_merge == "append_rp" then add(xv, yv); add(yv)
        else add(yv); add(xv, yv) end
      end
      C.put(out, k, r)
    else
      C.put(out, k, yv)
    end
  end
  return out
end

-- Python's list of (key, value) pairs of a mapping
local function items(m)
  local out = {}
  for i, k in ipairs(C.keys(m)) do out[i] = C.tuple({ k, m[k] }) end
  return out
end

local function check_defined(v, depth)
  if values.is_undefined(v) then values.undefined_error(v) end
  if type(v) == "table" and depth < 50 then
    for _, x in pairs(v) do check_defined(x, depth + 1) end
  end
end

return function(reg)
  reg.filter("combine", "value, *terms, recursive=False, list_merge='replace'", function(v, terms, recursive, lm)
    -- [d1, d2] | combine as well as d1 | combine(d2): flattened one level
    local dicts = {}
    for _, t in ipairs({ v, table.unpack(terms) }) do
      if is_list(t) then for _, d in ipairs(t) do dicts[#dicts + 1] = d end else dicts[#dicts + 1] = t end
    end
    for _, d in ipairs(dicts) do
      check_defined(d, 0)
      if not is_mapping(d) then C.expects("combine", "mappings", d) end
    end
    if #dicts == 0 then return C.mapping() end
    if #dicts == 1 then return dicts[1] end
    if not MERGES[lm] then
      fail("filter 'combine': list_merge must be one of 'replace', 'keep', 'append', 'prepend', 'append_rp' or "
        .. "'prepend_rp', got " .. C.describe(lm))
    end
    local result = dicts[#dicts]
    for i = #dicts - 1, 1, -1 do result = merge(dicts[i], result, C.truthy(recursive), lm) end
    return result
  end)

  reg.filter("dict2items", "value, key_name='key', value_name='value'", function(v, kn, vn)
    if not is_mapping(v) then C.expects("dict2items", "a mapping", v) end
    local out = {}
    for i, k in ipairs(C.keys(v)) do
      local m = C.mapping()
      C.put(m, kn, k)
      C.put(m, vn, v[k])
      out[i] = m
    end
    return out
  end)

  reg.filter("items2dict", "value, key_name='key', value_name='value'", function(v, kn, vn)
    if not is_list(v) then C.expects("items2dict", "a list", v) end
    local out = C.mapping()
    for _, item in ipairs(v) do
      if not is_mapping(item) then C.expects("items2dict", "a list of mappings", item) end
      local k, x = item[kn], item[vn]
      if k == nil or x == nil then
        C.error("items2dict", "each mapping must have the keys '%s' and '%s', got %s", C.str(kn), C.str(vn),
          C.repr(item))
      end
      C.put(out, k, x)
    end
    return out
  end)

  reg.filter("subelements", "value, subelements, skip_missing=False", function(v, path, skip)
    local elements
    if is_mapping(v) then
      elements = {}
      for i, k in ipairs(C.keys(v)) do elements[i] = v[k] end
    elseif is_list(v) then
      elements = v
    else
      C.expects("subelements", "a list of mappings or a mapping", v)
    end
    local parts
    if is_list(path) then parts = path
    elseif type(path) == "string" then
      parts = {}
      for part in (path .. "."):gmatch("(.-)%.") do parts[#parts + 1] = part end
    else C.error("subelements", "subelements must be a list or a string, got %s", C.describe(path)) end
    local out = {}
    for _, el in ipairs(elements) do
      local vals = el
      for _, p in ipairs(parts) do
        if not is_mapping(vals) then
          C.error("subelements", "the key %s should point to a dictionary, got %s", C.str(p), C.repr(vals))
        end
        local x = vals[p]
        if x == nil then
          if C.truthy(skip) then vals = {} break end
          C.error("subelements", "could not find %s key in iterated item %s", C.repr(p), C.repr(vals))
        end
        vals = x
      end
      if not is_list(vals) then
        C.error("subelements", "the key %s should point to a list, got %s", C.repr(parts[#parts]), C.repr(vals))
      end
      for _, x in ipairs(vals) do out[#out + 1] = C.tuple({ el, x }) end
    end
    return out
  end)

  reg.filter("extract", "value, container, morekeys=None", function(item, container, more)
    local keys = { item }
    if is_list(more) then for _, k in ipairs(more) do keys[#keys + 1] = k end
    elseif more ~= nil and not is_none(more) then keys[2] = more end
    local v = container
    for _, k in ipairs(keys) do
      local x = C.getitem(v, k)
      if x == nil then return values.undefined(C.str(k)) end
      v = x
    end
    return v
  end)

  reg.filter("dictsort", "value, case_sensitive=False, by='key', reverse=False", function(v, cs, by, reverse)
    if not is_mapping(v) then C.expects("dictsort", "a mapping", v) end
    local pos = by == "key" and 1 or by == "value" and 2
    if not pos then fail("filter 'dictsort': you can only sort by either \"key\" or \"value\"") end
    local l = items(v)
    local fold = not C.truthy(cs)
    local function key(p)
      local x = p[pos]
      if fold and type(x) == "string" then return unicase.lower(x) end
      return x
    end
    local idx = {}
    for i = 1, #l do idx[i] = i end
    local rev = C.truthy(reverse)
    table.sort(idx, function(a, b)
      local ka, kb = key(l[a]), key(l[b])
      if rev then ka, kb = kb, ka end
      if C.lt(ka, kb, "dictsort") then return true end
      if C.lt(kb, ka, "dictsort") then return false end
      return a < b
    end)
    local out = {}
    for i, j in ipairs(idx) do out[i] = l[j] end
    return out
  end)

  reg.filter("items", "value", function(v)
    if values.is_undefined(v) then return {} end
    if not is_mapping(v) then fail("filter 'items': can only get item pairs from a mapping, got " .. C.describe(v)) end
    return items(v)
  end, { undefined = true })

  -- Jinja's attr: an attribute of the object, never a key or an item; the
  -- data of a template (strings, numbers, lists, mappings) has none
  reg.filter("attr", "value, name", function(_, name)
    return values.undefined(C.str(name))
  end)

  -- JSON: Python's json.dumps as Ansible calls it (key order kept,
  -- ensure_ascii) and as Jinja's tojson (keys sorted, HTML-safe)
  local function json_opts(name, kw, defaults)
    local o = {}
    for k, x in pairs(defaults) do o[k] = x end
    for k, x in pairs(kw) do
      if k == "indent" then o.indent = (not is_none(x)) and x or nil
      elseif k == "sort_keys" or k == "ensure_ascii" then o[k] = C.truthy(x)
      elseif k == "separators" then o.separators = x
      elseif k ~= "vault_to_text" and k ~= "preprocess_unsafe" and k ~= "skipkeys" and k ~= "allow_nan" then
        C.error(name, "unexpected keyword argument '%s'", tostring(k))
      end
    end
    return o
  end
  reg.filter("to_json", "value, **kw", function(v, kw) return pyjson.encode(v, json_opts("to_json", kw, {})) end)
  reg.filter("to_nice_json", "value, indent=4, sort_keys=True, **kw", function(v, indent, sk, kw)
    local o = json_opts("to_nice_json", kw, { indent = indent, sort_keys = C.truthy(sk), separators = { ",", ": " } })
    return pyjson.encode(v, o)
  end)
  reg.filter("tojson", "value, indent=None", function(v, indent)
    return pyjson.encode(v, { indent = indent, sort_keys = true, html_safe = true })
  end)
  reg.filter("from_json", "value", function(v) return pyjson.decode(v) end)

  -- YAML: read as Ansible reads it (luasible.yaml: YAML 1.1); written as
  -- PyYAML's dump writes it (keys sorted)
  local function load(name, v, all)
    if type(v) ~= "string" then return v end
    local ok, r = pcall(all and yaml.decode_all or yaml.decode, v)
    if not ok then fail(string.format("filter '%s': %s", name, tostring(r))) end
    if r == nil then return C.none end
    return r
  end
  reg.filter("from_yaml", "value", function(v) return load("from_yaml", v, false) end)
  reg.filter("from_yaml_all", "value", function(v) return load("from_yaml_all", v, true) end)

  local function yaml_opts(name, kw, o)
    for k, x in pairs(kw) do
      if k == "indent" or k == "width" then o[k] = C.int_arg(name, k, x, 1)
      elseif k == "default_flow_style" then
        if is_none(x) then o.flow = nil else o.flow = C.truthy(x) end
      elseif k == "sort_keys" or k == "explicit_start" or k == "explicit_end" or k == "allow_unicode" then
        o[k] = C.truthy(x)
      else
        C.error(name, "unexpected keyword argument '%s'", tostring(k))
      end
    end
    return o
  end
  reg.filter("to_yaml", "value, **kw", function(v, kw)
    return pyyaml.dump(v, yaml_opts("to_yaml", kw, { indent = 2, sort_keys = true }))
  end)
  reg.filter("to_nice_yaml", "value, indent=4, **kw", function(v, indent, kw)
    local o = yaml_opts("to_nice_yaml", kw, { sort_keys = true })
    o.indent, o.flow = C.int_arg("to_nice_yaml", "indent", indent, 1), false
    return pyyaml.dump(v, o)
  end)

  -- Python's pprint.pformat: repr with the keys of mappings sorted (not
  -- wrapped at 80 columns: a deliberate difference, docs/TASKS.md)
  local function sorted_copy(v, depth)
    if type(v) ~= "table" or C.is_none(v) or depth > 50 then return v end
    if is_list(v) then
      local out = {}
      for i, x in ipairs(v) do out[i] = sorted_copy(x, depth + 1) end
      return out
    end
    local keys = C.copy_list(C.keys(v))
    pcall(table.sort, keys, function(a, b) return C.lt(a, b) end)
    local out = C.mapping()
    for _, k in ipairs(keys) do C.put(out, k, sorted_copy(v[k], depth + 1)) end
    return out
  end
  -- Ansible's rekey_on_member: a mapping of the items by one of their keys
  reg.filter("rekey_on_member", "value, key, duplicates='error'", function(v, key, duplicates)
    if duplicates ~= "error" and duplicates ~= "overwrite" then
      fail("filter 'rekey_on_member': duplicates parameter to rekey_on_member has unknown value: " .. C.str(duplicates))
    end
    local members
    if is_mapping(v) then
      members = {}
      for i, k in ipairs(C.keys(v)) do members[i] = v[k] end
    elseif is_list(v) then
      members = v
    else
      fail("filter 'rekey_on_member': Type is not a valid list, set, or dict, got " .. C.describe(v))
    end
    local out = C.mapping()
    for _, item in ipairs(members) do
      if not is_mapping(item) then fail("filter 'rekey_on_member': List item is not a valid dict") end
      local k = item[key]
      if k == nil then fail("filter 'rekey_on_member': Key " .. C.str(key) .. " was not found") end
      if out[k] ~= nil and duplicates == "error" then
        fail("filter 'rekey_on_member': Key " .. C.str(k) .. " is not unique, cannot correctly turn into dict")
      end
      C.put(out, k, item)
    end
    return out
  end)

  reg.filter("pprint", "value", function(v) return C.repr(sorted_copy(v, 0)) end)
end
