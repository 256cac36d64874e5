--- luasible.template.filters: the filters of `value | name(args)`, as
-- name -> function(value, args...). Only these exist. An undefined value
-- reaches only `default` (`d`); the others get an error first.
--
-- Each filter checks what it is given: a value or an argument of the wrong
-- type is an error naming the filter and what it got ("filter 'last'
-- expects a list or a string, got a number (2)"), never a Lua error. How
-- many arguments each takes is in M.ARITY, checked when the expression is
-- compiled (template/expr.lua).
local values = require "luasible.template.values"
local path = require "luasible.util.path"
local shell = require "luasible.util.shell"
local show = require("luasible.util.schema").show

local fail, truthy, tostr, is_undef = values.fail, values.truthy, values.tostring, values.is_undefined
local is_list = values.is_list
local concat = table.concat

local M = {}

--- name -> { min, max } arguments (after the value). (Not a filter: the
--- parser takes only the functions of this table.)
M.ARITY = {
  default = { 0, 2 }, d = { 0, 2 }, upper = { 0, 0 }, lower = { 0, 0 }, trim = { 0, 0 },
  length = { 0, 0 }, count = { 0, 0 }, int = { 0, 1 }, float = { 0, 1 }, string = { 0, 0 }, bool = { 0, 0 },
  join = { 0, 1 }, first = { 0, 0 }, last = { 0, 0 }, replace = { 2, 3 }, quote = { 0, 0 },
  to_json = { 0, 0 }, keys = { 0, 0 }, lines = { 0, 0 }, round = { 0, 1 }, basename = { 0, 0 },
  dirname = { 0, 0 },
}

-- What a filter takes, by kind of value.
local KINDS = {
  text = "a string", list = "a list", listtext = "a list or a string", sized = "a string, a list or a mapping",
  mapping = "a mapping", number = "a number or a string of one",
}
local function kind_of(v)
  local t = type(v)
  if t == "string" then return "string" end
  if t == "number" or t == "boolean" then return t end
  if t == "table" then return is_list(v) and "list" or "mapping" end
  return t
end
local TAKES = {
  text = { string = true, number = true, boolean = true, ["nil"] = true }, -- none is ""
  list = { list = true },
  listtext = { list = true, string = true },
  sized = { string = true, list = true, mapping = true },
  mapping = { mapping = true },
  number = { number = true, string = true, boolean = true },
}

-- v itself when filter `name` takes it (kind: a key of KINDS), else the error.
local function expect(name, v, kind)
  if not TAKES[kind][kind_of(v)] then
    fail(string.format("filter '%s' expects %s, got %s", name, KINDS[kind], show(v)))
  end
  return v
end

-- The argument `what` of filter `name` as text (strings and numbers).
local function text_arg(name, what, v)
  if type(v) ~= "string" and type(v) ~= "number" then
    fail(string.format("filter '%s': %s must be a string, got %s", name, what, show(v)))
  end
  return tostr(v)
end

-- An integer argument of filter `name` within [lo, hi].
local function int_arg(name, what, v, lo, hi)
  local n = math.type(v) == "float" and math.tointeger(v) or v
  if math.type(n) ~= "integer" or n < lo or n > hi then
    fail(string.format("filter '%s': %s must be an integer from %d to %d, got %s", name, what, lo, hi, show(v)))
  end
  return n
end

function M.default(v, d, also_false)
  if is_undef(v) or v == nil or (also_false and not truthy(v)) then return d end
  return v
end
M.d = M.default

function M.upper(v) return tostr(expect("upper", v, "text")):upper() end
function M.lower(v) return tostr(expect("lower", v, "text")):lower() end
function M.trim(v) return (tostr(expect("trim", v, "text")):gsub("^%s+", ""):gsub("%s+$", "")) end
function M.length(v) return values.length(expect("length", v, "sized")) end
function M.count(v) return values.length(expect("count", v, "sized")) end

-- A number from v: numbers as they are, numeric text, booleans as 1/0;
-- `default` for other text (as Jinja's int and float).
local function number_of(name, v, default)
  expect(name, v, "number")
  if type(v) == "boolean" then return v and 1 or 0 end
  local n = tonumber(v)
  if n == nil then return default end
  return n
end

function M.int(v, default)
  if default ~= nil and math.type(default) ~= "integer" then
    fail("filter 'int': the default must be an integer, got " .. show(default))
  end
  local n = number_of("int", v, default or 0)
  if n ~= n or n == math.huge or n == -math.huge then fail("filter 'int' cannot make an integer of " .. show(v)) end
  local i = math.tointeger(n < 0 and math.ceil(n) or math.floor(n)) -- towards zero, as Python's int()
  if not i then fail("filter 'int': " .. show(v) .. " is out of the range of integers") end
  return i
end

function M.float(v, default)
  if default ~= nil and type(default) ~= "number" then
    fail("filter 'float': the default must be a number, got " .. show(default))
  end
  return number_of("float", v, default or 0) + 0.0
end

function M.string(v) return tostr(v) end

local TRUE = { yes = true, ["true"] = true, on = true, ["1"] = true }
function M.bool(v)
  if type(v) == "string" then return TRUE[v:lower()] or false end
  return truthy(v)
end

function M.join(v, sep)
  expect("join", v, "list")
  sep = sep == nil and "" or text_arg("join", "the separator", sep)
  local out = {}
  for i, x in ipairs(v) do out[i] = tostr(x) end
  return concat(out, sep)
end

-- first and last: of a list its first/last item, of a string its first/last
-- character (an empty one: nothing).
function M.first(v)
  expect("first", v, "listtext")
  if type(v) == "string" then return v:sub(1, utf8.len(v) and (utf8.offset(v, 2) or 2) - 1 or 1) end
  return v[1]
end
function M.last(v)
  expect("last", v, "listtext")
  if type(v) == "string" then
    if v == "" then return "" end
    return v:sub(utf8.len(v) and utf8.offset(v, -1) or -1)
  end
  return v[#v]
end

--- Every `a` in the text replaced by `b` (plain text, not a pattern); at
--- most `count` times when given.
function M.replace(v, a, b, count)
  local s = tostr(expect("replace", v, "text"))
  a, b = text_arg("replace", "the text to replace", a), text_arg("replace", "the replacement", b)
  local max = count == nil and math.huge or int_arg("replace", "the count", count, 0, math.maxinteger)
  local out, i, n = {}, 1, 0
  while n < max and a ~= "" do
    local j, k = s:find(a, i, true)
    if not j then break end
    out[#out + 1] = s:sub(i, j - 1) .. b
    i, n = k + 1, n + 1
  end
  out[#out + 1] = s:sub(i)
  return concat(out)
end

--- POSIX shell quoting (util/shell.quote).
function M.quote(v) return shell.quote(tostr(expect("quote", v, "text"))) end
function M.to_json(v) return values.to_json(v) end
function M.keys(v) return values.sorted_keys(expect("keys", v, "mapping")) end

function M.lines(v)
  local out = {}
  for l in (tostr(expect("lines", v, "text")) .. "\n"):gmatch("(.-)\r?\n") do out[#out + 1] = l end
  if out[#out] == "" then out[#out] = nil end
  return out
end

function M.round(v, precision)
  local n = number_of("round", v, nil)
  if n == nil then fail("filter 'round' expects a number or a string of one, got " .. show(v)) end
  local p = precision == nil and 0 or int_arg("round", "the precision", precision, -300, 300)
  if n ~= n or n == math.huge or n == -math.huge then return n end
  local m = 10.0 ^ p
  local r = math.floor(n * m + 0.5) / m
  if r ~= r or r == math.huge or r == -math.huge then r = n end -- too many digits: the number as it is
  if p <= 0 then return math.tointeger(r) or r end
  return r
end

--- Python's os.path.basename / dirname, as Jinja's filters: "a/b/" -> "" / "a/b".
function M.basename(v) return path.py_basename(tostr(expect("basename", v, "text"))) end
function M.dirname(v) return path.py_dirname(tostr(expect("dirname", v, "text"))) end

return M
