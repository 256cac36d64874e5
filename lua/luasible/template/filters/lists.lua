--- luasible.template.filters.lists: filters of lists (and of anything
-- Python iterates: a mapping's keys, a string's characters): join, first,
-- last, length/count, min, max, sum, unique, sort, flatten, map, select,
-- reject, selectattr, rejectattr, batch, slice, groupby (zip, product, the
-- set operations, random and shuffle: filters/sets.lua).
local C = require "luasible.template.filters.common"
local values = require "luasible.template.values"
local unicase = require "luasible.util.unicase"

local str, fail, iter, eq, lt, is_none = C.str, C.fail, C.iter, C.eq, C.lt, C.is_none
local concat = table.concat

-- Jinja's ignore_case: strings lower-cased for comparing
local function fold(v) if type(v) == "string" then return unicase.lower(v) end return v end

-- The key function of `attribute=` (one attribute, or several joined by
-- commas for sort), folding case unless case_sensitive.
local function key_fn(attribute, case_sensitive, default)
  local post = case_sensitive and function(v) return v end or fold
  if attribute == nil or is_none(attribute) then return post end
  local parts = {}
  if type(attribute) == "string" and attribute:find(",", 1, true) then
    for a in attribute:gmatch("[^,]+") do parts[#parts + 1] = C.attrgetter(a) end
  else
    parts[1] = C.attrgetter(attribute)
  end
  local function get(get1, item)
    local v, missing, parent = get1(item)
    if v == nil then
      if default ~= nil then return default end
      return C.missing(parent, missing)
    end
    return v
  end
  if #parts == 1 then
    local g = parts[1]
    return function(item) return post(get(g, item)) end
  end
  return function(item)
    local out = {}
    for i, g in ipairs(parts) do out[i] = post(get(g, item)) end
    return out
  end
end

-- A stable sort (Python's): items of l by key, in place of a copy.
local function stable_sort(name, l, key, reverse)
  local n = #l
  local keys, idx = {}, {}
  for i = 1, n do keys[i] = key(l[i]); idx[i] = i end
  table.sort(idx, function(a, b)
    local ka, kb = keys[a], keys[b]
    if values.is_undefined(ka) then values.undefined_error(ka) end
    if values.is_undefined(kb) then values.undefined_error(kb) end
    if reverse then
      if lt(kb, ka, name) then return true end
      if lt(ka, kb, name) then return false end
    else
      if lt(ka, kb, name) then return true end
      if lt(kb, ka, name) then return false end
    end
    return a < b
  end)
  local out = {}
  for i = 1, n do out[i] = l[idx[i]] end
  return out
end

-- groupby's items: (grouper, list) tuples whose fields are also named
-- (Jinja's _GroupTuple): g.grouper, g.list
local GROUP = { __index = function(t, k)
  if k == "grouper" then return rawget(t, 1) end
  if k == "list" then return rawget(t, 2) end
end }

local as_list = C.as_list

return function(reg)
  reg.filter("join", "value, d='', attribute=None", function(v, d, attribute)
    local l = iter("join", v)
    d = C.text_arg("join", "the separator", d)
    local get = (attribute ~= nil and not is_none(attribute)) and key_fn(attribute, true) or nil
    local out = {}
    for i, x in ipairs(l) do
      if get then x = get(x) end
      if values.is_undefined(x) then values.undefined_error(x) end
      out[i] = str(x)
    end
    return concat(out, d)
  end)

  reg.filter("first", "value", function(v)
    local l = iter("first", v)
    if #l == 0 then return values.undefined("first", "No first item, sequence was empty.") end
    return l[1]
  end)
  reg.filter("last", "value", function(v)
    local l = iter("last", v)
    if #l == 0 then return values.undefined("last", "No last item, sequence was empty.") end
    return l[#l]
  end)

  local function length(v)
    if type(v) == "string" then return utf8.len(v) or #v end
    if type(v) == "table" and not is_none(v) then
      if C.is_list(v) then return #v end
      local n = 0
      for _ in pairs(v) do n = n + 1 end
      return n
    end
    C.expects("length", "a string, a list or a mapping", v)
  end
  reg.filter("length", "value", length)
  reg.filter("count", "value", length)

  local function min_or_max(name, want_max)
    return function(v, case_sensitive, attribute)
      local l = iter(name, v)
      if #l == 0 then return values.undefined("min", "No aggregated item, sequence was empty.") end
      local key = key_fn(attribute, C.truthy(case_sensitive))
      local best, bk = l[1], key(l[1])
      for i = 2, #l do
        local k = key(l[i])
        if want_max then
          if lt(bk, k, name) then best, bk = l[i], k end
        elseif lt(k, bk, name) then
          best, bk = l[i], k
        end
      end
      return best
    end
  end
  reg.filter("min", "value, case_sensitive=False, attribute=None", min_or_max("min", false))
  reg.filter("max", "value, case_sensitive=False, attribute=None", min_or_max("max", true))

  reg.filter("sum", "value, attribute=None, start=0", function(v, attribute, start)
    local l = iter("sum", v)
    local get = (attribute ~= nil and not is_none(attribute)) and key_fn(attribute, true) or nil
    local total = start
    for _, x in ipairs(l) do
      if get then x = get(x) end
      if values.is_undefined(x) then values.undefined_error(x) end
      if C.is_list(total) and C.is_list(x) then
        local t = C.copy_list(total)
        for _, y in ipairs(x) do t[#t + 1] = y end
        total = t
      else
        local a, b = total, x
        if type(a) == "boolean" then a = a and 1 or 0 end
        if type(b) == "boolean" then b = b and 1 or 0 end
        if type(a) ~= "number" or type(b) ~= "number" then
          fail(string.format("filter 'sum': cannot add %s and %s", C.describe(total), C.describe(x)))
        end
        total = a + b
      end
    end
    return total
  end)

  -- Jinja's unique (Ansible passes case_sensitive=False unless given)
  reg.filter("unique", "value, case_sensitive=False, attribute=None", function(v, case_sensitive, attribute)
    local l = iter("unique", v)
    local key = key_fn(attribute, C.truthy(case_sensitive))
    local out, seen, tables = {}, {}, {}
    for _, x in ipairs(l) do
      local k = key(x)
      local h = C.hash_key(k)
      if h then
        if not seen[h] then seen[h] = true; out[#out + 1] = x end
      else
        local dup = false
        for _, t in ipairs(tables) do if eq(t, k) then dup = true break end end
        if not dup then tables[#tables + 1] = k; out[#out + 1] = x end
      end
    end
    return out
  end)

  reg.filter("sort", "value, reverse=False, case_sensitive=False, attribute=None", function(v, reverse, cs, attribute)
    local l = iter("sort", v)
    return stable_sort("sort", l, key_fn(attribute, C.truthy(cs)), C.truthy(reverse))
  end)

  -- Ansible's flatten: lists (not strings, not mappings) spliced in, to
  -- `levels` deep; None, 'None' and 'null' dropped unless skip_nulls=False.
  local function flatten(l, levels, skip)
    local out = {}
    for _, x in ipairs(l) do
      if skip and (is_none(x) or x == "None" or x == "null") then -- luacheck: ignore 542
      elseif C.is_list(x) and (levels == nil or levels >= 1) then
        for _, y in ipairs(flatten(x, levels and levels - 1, skip)) do out[#out + 1] = y end
      else
        out[#out + 1] = x
      end
    end
    return out
  end
  reg.filter("flatten", "value, levels=None, skip_nulls=True", function(v, levels, skip)
    local l = as_list("flatten", v)
    if levels ~= nil and not is_none(levels) then levels = C.int_arg("flatten", "levels", levels) else levels = nil end
    return flatten(l, levels, C.truthy(skip))
  end)

  -- map(attribute='x', default=None) or map('filter', args...)
  reg.filter("map", "ctx, value, *args, **kwargs", function(ctx, v, args, kw)
    local l = iter("map", v)
    local out = {}
    if #args == 0 and kw.attribute ~= nil then
      local attribute, default = kw.attribute, kw.default
      for k in pairs(kw) do
        if k ~= "attribute" and k ~= "default" then C.error("map", "unexpected keyword argument '%s'", tostring(k)) end
      end
      local get = C.attrgetter(attribute)
      for i, x in ipairs(l) do
        local y, missing, parent = get(x)
        if y == nil then
          if default ~= nil then y = default else y = C.missing(parent, missing) end
        end
        out[i] = y
      end
      return out
    end
    if #args == 0 then C.error("map", "map requires a filter argument") end
    local name = args[1]
    if type(name) ~= "string" then C.error("map", "the filter name must be a string, got %s", C.describe(name)) end
    local kwl = {}
    for _, k in ipairs(C.keys(kw)) do kwl[#kwl + 1] = { k, kw[k] } end
    for i, x in ipairs(l) do
      local pos = { x }
      for j = 2, #args do pos[j] = args[j] end
      out[i] = reg.call("filter", name, ctx, pos, kwl)
    end
    return out
  end)

  -- select / reject (test name and args, or truth) and the attr variants
  local function chooser(name, want, with_attr)
    local spec = with_attr and "ctx, value, attr, *args, **kwargs" or "ctx, value, *args, **kwargs"
    reg.filter(name, spec, function(ctx, v, a1, a2, a3)
      local attr, args, kw
      if with_attr then attr, args, kw = a1, a2, a3 else args, kw = a1, a2 end
      local l = iter(name, v)
      local get = attr ~= nil and C.attrgetter(attr) or nil
      local test
      if #args == 0 then
        test = function(x)
          if values.is_undefined(x) then values.undefined_error(x) end
          return C.truthy(x)
        end
      else
        local tname = args[1]
        if type(tname) ~= "string" then C.error(name, "the test name must be a string, got %s", C.describe(tname)) end
        local kwl = {}
        for _, k in ipairs(C.keys(kw)) do kwl[#kwl + 1] = { k, kw[k] } end
        test = function(x)
          local pos = { x }
          for j = 2, #args do pos[j] = args[j] end
          return C.truthy(reg.call("test", tname, ctx, pos, kwl))
        end
      end
      local out = {}
      for _, x in ipairs(l) do
        local y = x
        if get then
          local missing, parent
          y, missing, parent = get(x)
          if y == nil then y = C.missing(parent, missing) end
        end
        if test(y) == want then out[#out + 1] = x end
      end
      return out
    end)
  end
  chooser("select", true, false)
  chooser("reject", false, false)
  chooser("selectattr", true, true)
  chooser("rejectattr", false, true)

  reg.filter("batch", "value, linecount, fill_with=None", function(v, n, fill)
    local l = iter("batch", v)
    n = C.int_arg("batch", "linecount", n, 1)
    local out, cur = {}, {}
    for _, x in ipairs(l) do
      cur[#cur + 1] = x
      if #cur == n then out[#out + 1] = cur; cur = {} end
    end
    if #cur > 0 then
      if fill ~= nil then while #cur < n do cur[#cur + 1] = fill end end
      out[#out + 1] = cur
    end
    return out
  end)

  reg.filter("slice", "value, slices, fill_with=None", function(v, slices, fill)
    local l = iter("slice", v)
    slices = C.int_arg("slice", "slices", slices, 1)
    local per, extra = #l // slices, #l % slices
    local out, offset = {}, 0
    for s = 0, slices - 1 do
      local start = offset + s * per
      if s < extra then offset = offset + 1 end
      local stop = offset + (s + 1) * per
      local part = {}
      for i = start + 1, stop do part[#part + 1] = l[i] end
      if fill ~= nil and s >= extra then part[#part + 1] = fill end
      out[#out + 1] = part
    end
    return out
  end)

  reg.filter("groupby", "value, attribute, default=None, case_sensitive=False", function(v, attribute, default, cs)
    local l = iter("groupby", v)
    cs = C.truthy(cs)
    local key = key_fn(attribute, cs, default)
    local real = key_fn(attribute, true, default)
    local sorted = stable_sort("groupby", l, key, false)
    local out = {}
    local cur, ck
    for _, x in ipairs(sorted) do
      local k = key(x)
      if cur and eq(k, ck) then
        cur[#cur + 1] = x
      else
        cur, ck = { x }, k
        out[#out + 1] = setmetatable(C.tuple({ real(x), cur }), GROUP)
      end
    end
    return out
  end)
end
