--- luasible.template.access: attribute and item access as Jinja2 does it
-- over Python's values: obj[key] (0-based and negative list indexes, code
-- points of strings, the item else the attribute), obj.attr (the attribute
-- else the item, a str/list/dict method bound as a template function),
-- obj.name(args) and slices. Built over the runtime (template/runtime.lua),
-- whose callables and methods it uses: require("luasible.template.access")(R)
-- returns { getitem, getattr, callmethod, slice }.
local values = require "luasible.template.values"
local json = require "luasible.json"

local fail, is_undef, undefined = values.fail, values.is_undefined, values.undefined
local none, is_none, is_list = values.none, values.is_none, values.is_list
local type_name, ulen = values.type_name, values.ulen
local type, mtype, getmetatable, rawget = type, math.type, getmetatable, rawget
local sub, concat, floor = string.sub, table.concat, math.floor

return function(R)
local M = {}
local callable, undef_error = R.callable, R.undef_error
local ascii = values.is_ascii

local function obj_repr(o)
  if is_none(o) then return "None" end
  return type_name(o) .. " object"
end


-- Is the string pure ASCII (bytes index code points)?

-- The code point i (1-based) of s, or nil.
local function char_at(s, i)
  if ascii(s) then
    if i < 1 or i > #s then return nil end
    return sub(s, i, i)
  end
  local n = utf8.len(s)
  if not n then
    if i < 1 or i > #s then return nil end
    return sub(s, i, i)
  end
  if i < 1 or i > n then return nil end
  local a = utf8.offset(s, i)
  local b = utf8.offset(s, i + 1)
  return sub(s, a, b - 1)
end

-- A list index (0-based, negative from the end) as a Lua index, or nil.
local function lindex(n, k)
  if mtype(k) ~= "integer" then
    if mtype(k) == "float" and k == floor(k) then return nil end
    if type(k) == "boolean" then k = k and 1 or 0 else return nil end
  end
  if k < 0 then k = n + k end
  if k < 0 or k >= n then return nil end
  return k + 1
end

local OBJECT = getmetatable(json.object())

--- obj[key] (Jinja2's getitem: the item, else the attribute).
function M.getitem(obj, key)
  local t = type(obj)
  if t == "table" then
    local mt = getmetatable(obj)
    if mt == nil and mtype(key) == "integer" then
      -- a list (fast path): 0-based, negative from the end
      local n = #obj
      if n > 0 and obj[0] == nil and is_list(obj) then
        if key < 0 then key = n + key end
        if key >= 0 and key < n then return obj[key + 1] end
        return undefined(nil, "'list object' has no element " .. tostring(key < 0 and key - n or key))
      end
    elseif mt == OBJECT and type(key) == "string" then
      local v = obj[key]
      if v ~= nil then return v end
    end
    if is_undef(obj) then return obj end
    if is_undef(key) then undef_error(key) end
    if obj == none or json.is_null(obj) then
      return undefined(nil, "'None' has no attribute " .. values.repr(key))
    end
    if is_list(obj) and (mtype(key) or type(key) == "boolean") and next(obj) ~= nil then
      local i = lindex(#obj, key)
      if i then return obj[i] end
      return undefined(nil, "'list object' has no element " .. values.repr(key))
    end
    local v = obj[key]
    if v == nil and mtype(key) == "float" and key == floor(key) then v = obj[math.tointeger(key)] end
    if v == nil and type(key) == "boolean" then v = obj[key and 1 or 0] end
    if v ~= nil then return v end
    if type(key) == "string" then return M.getattr(obj, key, true) end
    if is_list(obj) and mtype(key) then return undefined(nil, "'list object' has no element " .. values.repr(key)) end
    return undefined(nil, "'" .. obj_repr(obj) .. "' has no attribute " .. values.repr(key))
  elseif t == "string" then
    if is_undef(key) then undef_error(key) end
    if mtype(key) then
      local n = ascii(obj) and #obj or ulen(obj)
      local i = lindex(n, key)
      if i then return char_at(obj, i) end
      return undefined(nil, "'str object' has no element " .. values.repr(key))
    end
    if type(key) == "string" then return M.getattr(obj, key, true) end
    return undefined(nil, "'str object' has no element " .. values.repr(key))
  end
  if obj == nil then return undefined(nil, "'None' has no attribute " .. values.repr(key)) end
  return undefined(nil, "'" .. obj_repr(obj) .. "' has no attribute " .. values.repr(key))
end

-- A bound method of obj: a template function.
local function bound(obj, m)
  return callable(function(pos, kw) return m(obj, pos, kw) end)
end

--- obj.attr (Jinja2's getattr: the attribute, else the item).
function M.getattr(obj, attr, from_item)
  local t = type(obj)
  if t == "table" then
    local mt = getmetatable(obj)
    if mt == nil or mt == OBJECT then
      local v = obj[attr]
      if v ~= nil then return v end
    end
    if is_undef(obj) then return obj end
    if obj == none or json.is_null(obj) then return undefined(nil, "'None' has no attribute '" .. attr .. "'") end
    local v = obj[attr]
    if v ~= nil then return v end
    local kind = is_list(obj) and "list" or "dict"
    local m = R.methods[kind][attr]
    if m then return bound(obj, m) end
    if not from_item and kind == "list" and next(obj) == nil and R.methods.dict[attr] then
      return bound(obj, R.methods.dict[attr])
    end
    return undefined(nil, "'" .. kind .. " object' has no attribute '" .. attr .. "'")
  elseif t == "string" then
    local m = R.methods.str[attr]
    if m then return bound(obj, m) end
    return undefined(nil, "'str object' has no attribute '" .. attr .. "'")
  end
  if obj == nil then return undefined(nil, "'None' has no attribute '" .. attr .. "'") end
  if not from_item and t == "number" then
    if attr == "real" then return obj end
    if attr == "imag" then return 0 end
  end
  return undefined(nil, "'" .. obj_repr(obj) .. "' has no attribute '" .. attr .. "'")
end

--- obj.name(args): a method of a str, list or dict, else the attribute called.
function M.callmethod(obj, name, pos, kw, rc)
  local t = type(obj)
  local m
  if t == "string" then m = R.methods.str[name]
  elseif t == "table" and not is_undef(obj) and obj ~= none then
    local mt = getmetatable(obj)
    if not (mt and mt.__call) and not rawget(obj, name) then
      m = R.methods[is_list(obj) and "list" or "dict"][name]
      if not m and next(obj) == nil then m = R.methods.dict[name] end
    end
  end
  if m then return m(obj, pos, kw) end
  local f = M.getattr(obj, name)
  if is_undef(f) then undef_error(f) end
  return R.call(f, pos, kw, rc, name)
end

-- Python's slice indices for a sequence of length n: start, stop, step (0-based).
local function slice_indices(n, a, b, c)
  local step = 1
  if not is_none(c) then
    if mtype(c) ~= "integer" then fail("slice indices must be integers or None") end
    if c == 0 then fail("slice step cannot be zero") end
    step = c
  end
  local function norm(x, dflt_pos, dflt_neg)
    if is_none(x) then return step > 0 and dflt_pos or dflt_neg end
    if type(x) == "boolean" then x = x and 1 or 0 end
    if mtype(x) ~= "integer" then fail("slice indices must be integers or None") end
    if x < 0 then
      x = x + n
      if x < 0 then x = step > 0 and 0 or -1 end
    elseif x >= n then
      x = step > 0 and n or n - 1
    end
    return x
  end
  return norm(a, 0, n - 1), norm(b, n, -1), step
end

--- obj[a:b:c] for lists and strings (by code point).
function M.slice(obj, a, b, c)
  if is_undef(obj) then return obj end
  for _, x in ipairs({ a, b, c }) do if is_undef(x) then undef_error(x) end end
  if type(obj) == "string" then
    local chars
    local n
    if ascii(obj) then n = #obj else
      chars = {}
      for _, cp in utf8.codes(obj) do chars[#chars + 1] = utf8.char(cp) end
      n = #chars
    end
    local i, j, step = slice_indices(n, a, b, c)
    if step == 1 and not chars then return sub(obj, i + 1, j) end
    local out = {}
    if step > 0 then
      while i < j do out[#out + 1] = chars and chars[i + 1] or sub(obj, i + 1, i + 1); i = i + step end
    else
      while i > j do out[#out + 1] = chars and chars[i + 1] or sub(obj, i + 1, i + 1); i = i + step end
    end
    return concat(out)
  end
  if type(obj) == "table" and is_list(obj) then
    local i, j, step = slice_indices(#obj, a, b, c)
    local out, k = {}, 0
    if step > 0 then
      while i < j do k = k + 1; out[k] = obj[i + 1]; i = i + step end
    else
      while i > j do k = k + 1; out[k] = obj[i + 1]; i = i + step end
    end
    return out
  end
  if is_none(obj) then fail("'NoneType' object is not subscriptable") end
  fail("'" .. type_name(obj) .. "' object is not subscriptable")
end

return M
end
