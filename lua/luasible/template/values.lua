--- luasible.template.values: what every part of the template engine shares
-- about values (contract B of issue 11):
--
--   undefined   values.undefined(name [, msg]): a missing variable or
--               attribute; strict as in Ansible: using it as a value raises
--               "'name' is undefined" (or msg: "'dict object' has no
--               attribute 'x'"); `is defined`, `default` and `omit` see it.
--   None        values.none == luasible.yaml.null; values.is_none(v) is
--               true for nil and none.
--   bool, integer, float (math.type), string (UTF-8 bytes; Python's len,
--               index and slice count code points: values.length, ulen).
--   list        a table not marked a mapping whose keys are 1..n
--               (values.is_list); tuples are lists; 0-based in templates.
--   mapping     a table marked with json.object (or with keys that are not
--               1..n); values.keys(t) in the order of the text
--               (luasible.yaml.keys), or of insertion where recorded
--               (values.mapping(), values.set), else sorted.
--   text        values.tostring(v): Python's str() as Jinja2 prints it
--               (True, None, 2.0, ['a', 1], {'k': 'v'}); values.repr(v).
local json = require "luasible.json"
local yaml = require "luasible.yaml"
local pyrepr = require "luasible.util.pyrepr"

local type, pairs, next, getmetatable, setmetatable = type, pairs, next, getmetatable, setmetatable
local mtype, concat, sort = math.type, table.concat, table.sort

local M = {}

--- An expression's error: raised as { template_error = msg } and turned
--- into `nil, msg` by the face (template/init.lua).
function M.fail(msg) error({ template_error = msg }, 0) end
local fail = M.fail

-- ------------------------------------------------------------ None

--- Python's None (the YAML null).
M.none = yaml.null
local none = M.none

--- Is v None (nil or the YAML null)?
function M.is_none(v) return v == nil or v == none or json.is_null(v) end
local is_none = M.is_none

-- ------------------------------------------------------------ undefined

local Undefined = { __name = "luasible.undefined" }
Undefined.__index = Undefined

--- The undefined value of the variable (or path, "a.b") `name`; `msg`: the
--- error using it raises (default "'name' is undefined").
function M.undefined(name, msg) return setmetatable({ name = name, msg = msg }, Undefined) end

function M.is_undefined(v) return getmetatable(v) == Undefined end
M.UNDEFINED = Undefined -- the metatable of undefined values (for fast checks)
local is_undef = M.is_undefined

--- The message of an undefined value.
function M.undefined_message(v)
  return v.msg or ("'" .. tostring(v.name) .. "' is undefined")
end

--- Raise the undefined error of an undefined value.
function M.undefined_error(v) error({ template_error = M.undefined_message(v), undefined = true }, 0) end

--- Jinja2's plain Undefined (what `x if false` gives without an else):
--- printed as "", false as a condition; any other use is the error.
function M.lenient_undefined(msg) return setmetatable({ msg = msg, lenient = true }, Undefined) end

--- `v` itself; raises when it is undefined.
function M.defined(v)
  if getmetatable(v) == Undefined then M.undefined_error(v) end
  return v
end

-- ------------------------------------------------------------ kinds

--- Is t a list: a table not marked a mapping (nor None, nor undefined)
--- whose keys are exactly 1..#t (an empty one too)?
-- Lists checked already: table -> #t + 1 when it was a list of #t items,
-- -(#t + 1) when not (a table that changes its length is checked again).
local LISTS = setmetatable({}, { __mode = "k" })

function M.is_list(t)
  if type(t) ~= "table" then return false end
  local mt = getmetatable(t)
  if mt ~= nil then
    if mt == Undefined or t == none or json.is_object(t) or json.is_null(t) then return false end
  end
  local n = #t
  if n > 0 then
    local c = LISTS[t]
    if c == n + 1 then return true elseif c == -(n + 1) then return false end
  end
  for k in pairs(t) do
    if mtype(k) ~= "integer" or k < 1 or k > n then
      if n > 0 then LISTS[t] = -(n + 1) end
      return false
    end
  end
  if n > 0 then LISTS[t] = n + 1 end
  return true
end
local is_list = M.is_list

--- Is t a mapping: a table that is not a list, None or undefined?
function M.is_mapping(t)
  if type(t) ~= "table" or t == none or is_undef(t) or json.is_null(t) then return false end
  if json.is_object(t) then return true end
  return not is_list(t)
end
local is_mapping = M.is_mapping

--- Template truth (Python's): False, None, 0, 0.0, "", an empty list or
--- mapping are false. An undefined value raises (strict, as Ansible).
function M.truthy(v)
  if v == nil or v == false or v == 0 or v == "" then return false end
  if type(v) == "table" then
    if getmetatable(v) == Undefined then
      if v.lenient then return false end
      M.undefined_error(v)
    end
    if v == none or json.is_null(v) then return false end
    return next(v) ~= nil
  end
  return true
end

-- ------------------------------------------------------------ order of keys

-- Orders recorded by values.mapping / values.set: table -> list of keys.
local ORDER = setmetatable({}, { __mode = "k" })

--- A new mapping (marked json.object) that records the order its keys are
--- set in with values.set.
function M.mapping()
  local t = json.object()
  ORDER[t] = {}
  return t
end

--- t[k] = v, recording k's place in t's order (when t records one).
function M.set(t, k, v)
  local o = ORDER[t]
  if o and t[k] == nil and v ~= nil then o[#o + 1] = k end
  t[k] = v
end

-- sorted: by type first, then by value; others by their text
local function before(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

--- The keys of t, sorted (by type first, then by value).
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys, before)
  return keys
end

--- The keys of mapping t in order: the recorded (or YAML text) order, keys
--- added since after them, sorted; a table without one: sorted.
function M.keys(t)
  local known = ORDER[t] or yaml.keys(t)
  if not known then return M.sorted_keys(t) end
  local keys, seen, extra = {}, {}, nil
  for _, k in ipairs(known) do
    if t[k] ~= nil and not seen[k] then keys[#keys + 1] = k; seen[k] = true end
  end
  for k in pairs(t) do
    if not seen[k] then extra = extra or {}; extra[#extra + 1] = k end
  end
  if extra then
    sort(extra, before)
    for _, k in ipairs(extra) do keys[#keys + 1] = k end
  end
  return keys
end

--- A copy of mapping t that keeps its order (a new ordered mapping).
function M.copy_mapping(t)
  local m = M.mapping()
  for _, k in ipairs(M.keys(t)) do M.set(m, k, t[k]) end
  return m
end

-- ------------------------------------------------------------ tuples

-- Lists that are Python tuples (shown with parentheses): a weak set.
local TUPLES = setmetatable({}, { __mode = "k" })

--- Mark list t a tuple (it stays a list for everything but its text); returns t.
function M.tuple(t) TUPLES[t] = true; return t end
function M.is_tuple(t) return TUPLES[t] == true end

-- ------------------------------------------------------------ text

-- Python's repr of a float: the shortest text that reads back (fast for
-- the common case: no exponent; pyrepr.float else).
local format = string.format
local function float_repr(x)
  local t = format("%.15g", x)
  if tonumber(t) ~= x then
    t = format("%.16g", x)
    if tonumber(t) ~= x then t = format("%.17g", x) end
  end
  if t:find("[en]") then return pyrepr.float(x) end
  if not t:find(".", 1, true) then
    if #t > (t:sub(1, 1) == "-" and 17 or 16) then return pyrepr.float(x) end
    return t .. ".0"
  end
  return t
end
M.float_repr = float_repr

local ESC = { ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

-- Python's repr of a str.
local function quote(s)
  local q = (s:find("'", 1, true) and not s:find('"', 1, true)) and '"' or "'"
  s = s:gsub("[%c\\" .. q .. "]", function(c)
    return ESC[c] or (c == q and "\\" .. c) or string.format("\\x%02x", c:byte())
  end)
  return q .. s .. q
end

local function repr(v, depth)
  if v == nil or v == none then return "None" end
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "boolean" then return v and "True" or "False" end
  if t == "number" then return mtype(v) == "integer" and tostring(v) or float_repr(v) end
  if t ~= "table" then return quote(tostring(v)) end
  if is_undef(v) then M.undefined_error(v) end
  local mt = getmetatable(v)
  if mt and mt.__pyrepr then return mt.__pyrepr(v) end
  if json.is_null(v) then return "None" end
  if depth > 32 then return "[...]" end
  local out = {}
  if is_list(v) then
    for i = 1, #v do out[i] = repr(v[i], depth + 1) end
    if TUPLES[v] then return "(" .. concat(out, ", ") .. (#v == 1 and ",)" or ")") end
    return "[" .. concat(out, ", ") .. "]"
  end
  for i, k in ipairs(M.keys(v)) do out[i] = repr(k, depth + 1) .. ": " .. repr(v[k], depth + 1) end
  return "{" .. concat(out, ", ") .. "}"
end

--- Python's repr(v): 'text', 3, 2.5, True, None, [1, 'a'], {'k': 1}.
function M.repr(v) return repr(v, 0) end

--- The text of a value as Jinja2 prints it: Python's str() (a string as it
--- is, None as "None", 2.0, True, lists and dicts as their repr). Raises
--- for an undefined value.
function M.tostring(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if mtype(v) == "integer" then return tostring(v) end
    return float_repr(v)
  end
  if t == "boolean" then return v and "True" or "False" end
  return repr(v, 0)
end

-- JSON with keys in sorted order (stable output): json.encode.
M.to_json = function(v) return json.encode(v) end

-- ------------------------------------------------------------ lengths

--- The length of a string in code points (bytes when it is not UTF-8).
function M.ulen(s) return utf8.len(s) or #s end
--- Is the string pure ASCII (bytes index code points)?
function M.is_ascii(s) return not string.find(s, "[\128-\255]") end
local ulen = M.ulen

--- Python's len(): code points of a string, items of a list or mapping.
function M.length(v)
  if type(v) == "string" then return ulen(v) end
  if type(v) == "table" and not is_undef(v) and not is_none(v) then
    if is_list(v) then return #v end
    local n = 0
    for _ in pairs(v) do n = n + 1 end
    return n
  end
  if is_undef(v) then M.undefined_error(v) end
  fail("object of type '" .. M.type_name(v) .. "' has no len()")
end

--- Python's type name of a value: str, int, float, bool, list, dict, NoneType.
function M.type_name(v)
  local t = type(v)
  if t == "string" then return "str" end
  if t == "number" then return mtype(v) == "integer" and "int" or "float" end
  if t == "boolean" then return "bool" end
  if is_none(v) then return "NoneType" end
  if is_undef(v) then return "AnsibleUndefined" end
  if is_list(v) then return "list" end
  if is_mapping(v) then return "dict" end
  return t
end

return M
