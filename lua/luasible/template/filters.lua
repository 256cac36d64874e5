--- luasible.template.filters: the filters of `value | name(args)`, as
-- name -> function(value, args...). Only these exist. An undefined value
-- reaches only `default` (`d`); the others get an error first.
local values = require "luasible.template.values"
local path = require "luasible.util.path"
local shell = require "luasible.util.shell"

local fail, truthy, tostr, is_undef = values.fail, values.truthy, values.tostring, values.is_undefined
local concat = table.concat

local M = {}

function M.default(v, d, also_false)
  if is_undef(v) or v == nil or (also_false and not truthy(v)) then return d end
  return v
end
M.d = M.default

function M.upper(v) return tostr(v):upper() end
function M.lower(v) return tostr(v):lower() end
function M.trim(v) return (tostr(v):gsub("^%s+", ""):gsub("%s+$", "")) end
M.length = values.length
M.count = values.length
function M.int(v) return math.tointeger(math.floor(tonumber(v) or 0)) end
function M.float(v) return (tonumber(v) or 0) + 0.0 end
function M.string(v) return tostr(v) end

local TRUE = { yes = true, ["true"] = true, on = true, ["1"] = true }
function M.bool(v)
  if type(v) == "string" then return TRUE[v:lower()] or false end
  return truthy(v)
end

function M.join(v, sep)
  local out = {}
  for i, x in ipairs(v) do out[i] = tostr(x) end
  return concat(out, sep or "")
end

function M.first(v) return v[1] end
function M.last(v) return v[#v] end

--- Every `a` in the text replaced by `b` (plain text, not a pattern).
function M.replace(v, a, b)
  local s = tostr(v)
  local out, i = {}, 1
  while true do
    local j, k = s:find(a, i, true)
    if not j or a == "" then break end
    out[#out + 1] = s:sub(i, j - 1) .. b
    i = k + 1
  end
  out[#out + 1] = s:sub(i)
  return concat(out)
end

--- POSIX shell quoting (util/shell.quote).
function M.quote(v) return shell.quote(tostr(v)) end
function M.to_json(v) return values.to_json(v) end
function M.keys(v) return values.sorted_keys(v) end

function M.lines(v)
  local out = {}
  for l in (tostr(v) .. "\n"):gmatch("(.-)\r?\n") do out[#out + 1] = l end
  if out[#out] == "" then out[#out] = nil end
  return out
end

function M.round(v, precision)
  local n = tonumber(v)
  if not n then fail("round of a " .. type(v)) end
  local p = math.tointeger(tonumber(precision) or 0) or 0
  local m = 10 ^ p
  local r = math.floor(n * m + 0.5) / m
  if p <= 0 then return math.tointeger(r) or r end
  return r
end

--- Python's os.path.basename / dirname, as Jinja's filters: "a/b/" -> "" / "a/b".
function M.basename(v) return path.py_basename(tostr(v)) end
function M.dirname(v) return path.py_dirname(tostr(v)) end

return M
