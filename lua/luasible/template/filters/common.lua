--- luasible.template.filters.common: what the filter and test modules
-- share: Python's view of a value (its type name, its truth, equality and
-- order, iteration), mappings that keep their key order, and the errors of
-- a filter given what it does not take ("filter 'join' expects a list, got
-- an integer (2)").
local values = require "luasible.template.values"
local json = require "luasible.json"

local M = {}

local fail = values.fail
M.fail = fail
M.none = values.none
local NONE = M.none
local is_undef = values.is_undefined
M.is_undefined = is_undef

--- None: nil or the YAML null.
M.is_none = values.is_none
local is_none = M.is_none

--- A mapping: a table marked json.object, or one with keys other than 1..n.
M.is_mapping = values.is_mapping
local is_mapping = M.is_mapping

--- A list (or tuple): a table not marked a mapping, keys 1..n.
function M.is_list(v)
  if type(v) ~= "table" or v == NONE or is_undef(v) or json.is_object(v) then return false end
  return values.is_list(v)
end
local is_list = M.is_list

--- A new mapping (json.object) that keeps the order of M.put.
M.mapping = values.mapping

--- m[k] = v, keeping the order of insertion in a mapping made by M.mapping.
function M.put(m, k, v)
  if k == nil or k ~= k then fail("a mapping cannot have " .. (k == nil and "None (nil)" or "NaN") .. " as a key") end
  return values.set(m, k, v)
end

--- The keys of mapping t in order: of the text (YAML), of insertion, else sorted.
M.keys = values.keys
local keys_of = M.keys

--- Python's repr() (tuples in parentheses).
M.repr = values.repr

--- Python's str() of a value, as Jinja prints it.
M.str = values.tostring
local str = M.str

--- Mark list t a Python tuple (shown in parentheses); returns t.
M.tuple = values.tuple

--- Python's type name of a value (type_debug): str, int, float, bool,
--- NoneType, list, dict, AnsibleUndefined.
function M.type_name(v)
  if is_none(v) then return "NoneType" end
  if is_undef(v) then return "AnsibleUndefined" end
  local t = type(v)
  if t == "string" then return "str" end
  if t == "boolean" then return "bool" end
  if t == "number" then return math.type(v) == "integer" and "int" or "float" end
  if t == "table" then return is_list(v) and "list" or "dict" end
  if t == "function" then return "function" end
  return t
end

--- A value described for an error message: "a string ('abc')", "an integer (2)".
function M.describe(v)
  if is_none(v) then return "None" end
  if is_undef(v) then return "an undefined value" end
  local t = type(v)
  local r = M.repr(v)
  if #r > 40 then r = r:sub(1, 37) .. "..." end
  if t == "string" then return "a string (" .. r .. ")" end
  if t == "boolean" then return "a boolean (" .. r .. ")" end
  if t == "number" then return (math.type(v) == "integer" and "an integer (" or "a float (") .. r .. ")" end
  if t == "table" then return (is_list(v) and "a list (" or "a mapping (") .. r .. ")" end
  return "a " .. t
end
local describe = M.describe

--- Raise "filter 'name' expects WHAT, got <value>".
function M.expects(name, what, v, kind)
  fail(string.format("%s '%s' expects %s, got %s", kind or "filter", name, what, describe(v)))
end
local expects = M.expects

--- Raise "filter 'name': MSG".
function M.error(name, fmt, ...) fail(string.format("filter '%s': " .. fmt, name, ...)) end

--- v as text for a filter that takes a string: strings as they are, numbers
--- and booleans as Python's str() (Ansible's to_text); else the error.
function M.text(name, v, what)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" or t == "boolean" then return str(v) end
  expects(name, what or "a string", v)
end

--- An argument as text (its name `what` in the message).
function M.text_arg(name, what, v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return str(v) end
  fail(string.format("filter '%s': %s must be a string, got %s", name, what, describe(v)))
end

--- An integer argument (an integral float is taken).
function M.int_arg(name, what, v, lo)
  local n = math.type(v) == "float" and math.tointeger(v) or v
  if type(v) == "boolean" then n = v and 1 or 0 end
  if math.type(n) ~= "integer" or (lo and n < lo) then
    fail(string.format("filter '%s': %s must be an integer%s, got %s", name, what,
      lo and (" of at least " .. lo) or "", describe(v)))
  end
  return n
end

--- The code points of s as a list of strings (bytes when s is not UTF-8).
function M.chars(s)
  local out = {}
  if utf8.len(s) then
    for _, c in utf8.codes(s) do out[#out + 1] = utf8.char(c) end
  else
    for i = 1, #s do out[i] = s:sub(i, i) end
  end
  return out
end

--- Python's iteration of v: a list's items, a mapping's keys, a string's
--- characters; else the error of filter `name`.
function M.iter(name, v, kind)
  if is_list(v) then return v end
  if is_mapping(v) then return keys_of(v) end
  if type(v) == "string" then return M.chars(v) end
  expects(name, "a list, a mapping or a string", v, kind)
end

-- ------------------------------------------------------------ truth, ==, <

--- Python's truth.
function M.truthy(v)
  if v == nil or v == false or v == 0 or v == "" or v == NONE or is_undef(v) then return false end
  if type(v) == "table" and next(v) == nil then return false end
  return true
end

-- bools are numbers in Python's == and <
local function num(v)
  if type(v) == "boolean" then return v and 1 or 0 end
  return v
end

--- Python's ==: deep for lists and mappings, 1 == 1.0 == True.
local function eq(a, b)
  if a == b then return true end
  if is_none(a) or is_none(b) then return is_none(a) and is_none(b) end
  local x, y = num(a), num(b)
  if type(x) == "number" and type(y) == "number" then return x == y end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  local la, lb = is_list(a), is_list(b)
  if la ~= lb then
    -- an empty table unmarked is an empty list; empty {} marked is a dict
    return false
  end
  if la then
    if #a ~= #b then return false end
    for i = 1, #a do if not eq(a[i], b[i]) then return false end end
    return true
  end
  for k, v in pairs(a) do if not eq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
M.eq = eq

--- Python's <: numbers with numbers, strings with strings (by code point:
--- UTF-8 bytes order the same), lists item by item; else the error.
local function lt(a, b, name)
  local x, y = num(a), num(b)
  if type(x) == "number" and type(y) == "number" then return x < y end
  if type(a) == "string" and type(b) == "string" then return a < b end
  if is_list(a) and is_list(b) then
    for i = 1, math.min(#a, #b) do
      if not eq(a[i], b[i]) then return lt(a[i], b[i], name) end
    end
    return #a < #b
  end
  fail(string.format("%s'<' not supported between %s and %s", name and ("filter '" .. name .. "': ") or "",
    describe(a), describe(b)))
end
M.lt = lt

--- A key under which equal scalars meet (1, 1.0 and True alike), for sets;
--- nil for a table (compared with M.eq instead).
function M.hash_key(v)
  local t = type(v)
  if t == "string" then return "s" .. v end
  if t == "boolean" then return v and "n1" or "n0" end
  if t == "number" then
    local i = math.tointeger(v)
    return "n" .. (i and tostring(i) or string.format("%.17g", v))
  end
  if is_none(v) then return "none" end
  return nil
end
local hash_key = M.hash_key

--- The items of list l without repeats (the first of each), Python's ==.
function M.unique(l)
  local out, seen, tables = {}, {}, {}
  for _, v in ipairs(l) do
    local k = hash_key(v)
    if k then
      if not seen[k] then seen[k] = true; out[#out + 1] = v end
    else
      local dup = false
      for _, t in ipairs(tables) do if eq(t, v) then dup = true break end end
      if not dup then tables[#tables + 1] = v; out[#out + 1] = v end
    end
  end
  return out
end

--- Does list l hold v (Python's `in`)?
function M.contains(l, v)
  for _, x in ipairs(l) do if eq(x, v) then return true end end
  return false
end

--- A copy of a list.
function M.copy_list(l)
  local out = {}
  for i = 1, #l do out[i] = l[i] end
  return out
end

--- Item `key` of v as Jinja's environment.getitem does (attribute or item):
--- a mapping's key, a list's 0-based index; nil when there is none.
function M.getitem(v, key)
  if type(v) ~= "table" or is_none(v) or is_undef(v) then return nil end
  if is_list(v) then
    local i = math.tointeger(num(key))
    if not i then
      if type(key) == "string" and key:match("^%-?%d+$") then return nil end
      return nil
    end
    if i < 0 then i = #v + i end
    return v[i + 1]
  end
  local x = v[key]
  if x == nil and type(key) == "boolean" then x = v[key and 1 or 0] end
  return x
end

--- The undefined value of attribute `key` missing from `parent`, with
--- Jinja's message ("'dict object' has no attribute 'x'").
function M.missing(parent, key)
  return values.undefined(str(key), string.format("'%s object' has no attribute '%s'", M.type_name(parent), str(key)))
end

--- Jinja's attribute getter for `attribute=` arguments: "a.b.0" walks
--- mappings and lists (digits index lists); an integer indexes a list.
--- Returns a function(item) -> value, or nil, the key missing, the value
--- that lacks it.
function M.attrgetter(attribute)
  local parts = {}
  if type(attribute) == "string" then
    for p in attribute:gmatch("[^.]+") do parts[#parts + 1] = tonumber(p) and math.tointeger(tonumber(p)) or p end
  else
    parts[1] = attribute
  end
  return function(item)
    local v = item
    for _, p in ipairs(parts) do
      local x = M.getitem(v, p)
      if x == nil and type(p) == "number" then x = M.getitem(v, tostring(p)) end
      if x == nil then return nil, p, v end
      v = x
    end
    return v
  end
end

--- A filter's list argument: a list as it is, a mapping's keys or a
--- string's characters as a list, else the filter's "expects a list" error.
function M.as_list(name, v)
  if M.is_list(v) then return v end
  if M.is_mapping(v) or type(v) == "string" then return M.iter(name, v) end
  M.expects(name, "a list", v)
end

return M
