--- lookup('sequence', TERM...) (with_sequence): numbers as formatted
-- strings. A term is the shortcut form `[start-]end[/stride][:format]`
-- (`5`, `2-10/2`, `1-3:web%02d`) or key=value words: start (1), end or
-- count, stride (1), format ("%d"). Numbers as Python's int(x, 0) reads
-- them (0x1f, 0o17, 0b101). Keyword arguments are ignored, as Ansible
-- ignores them.
local lookup = require "luasible.lookup"
local kv = require "luasible.module.kv"
local pyformat_ok, pyformat = pcall(require, "luasible.template.filters.pyformat")

local function int0(s, what)
  local t = tostring(s):gsub("_", ""):lower()
  local sign, body = t:match("^%s*([+-]?)(.-)%s*$")
  local n
  if body:match("^0x[%x]+$") then n = tonumber(body:sub(3), 16)
  elseif body:match("^0o[0-7]+$") then n = tonumber(body:sub(3), 8)
  elseif body:match("^0b[01]+$") then n = tonumber(body:sub(3), 2)
  elseif body:match("^[1-9]%d*$") or body:match("^0+$") then n = tonumber(body)
  end
  if not n then lookup.fail("can't parse " .. what .. "=" .. tostring(s) .. " as integer") end
  return sign == "-" and -n or n
end

local NUM = "0[xX][%x]+"

-- one number of the shortcut form: decimal, 0x.. or 0o.. (Ansible's NUM)
local function num_at(s, i)
  for _, p in ipairs({ "^" .. NUM, "^0[oO][0-7]+", "^%d+" }) do
    local a, b = s:find(p, i)
    if a then return s:sub(a, b), b + 1 end
  end
end

-- the shortcut form, or nil when term is not one
local function shortcut(term)
  local a, i = num_at(term, 1)
  if not a then return nil end
  local start, stop, stride, fmt
  if term:sub(i, i) == "-" then
    local b, j = num_at(term, i + 1)
    if not b then return nil end
    start, stop, i = a, b, j
  else
    stop = a
  end
  if term:sub(i, i) == "/" then
    local c, j = num_at(term, i + 1)
    if not c then return nil end
    stride, i = c, j
  end
  if term:sub(i, i) == ":" and #term > i then
    fmt, i = term:sub(i + 1), #term + 1
  end
  if i <= #term then return nil end
  return { start = start, ["end"] = stop, stride = stride, format = fmt }
end

local function format(fmt, i)
  if pyformat_ok then
    local ok, r = pcall(pyformat.format, fmt, { i })
    if ok then return r end
    lookup.fail("problem formatting " .. i .. " with '" .. fmt .. "'")
  end
  local ok, r = pcall(string.format, fmt, i)
  if not ok then lookup.fail("problem formatting " .. i .. " with '" .. fmt .. "'") end
  return r
end

local function one(term, out)
  local args = shortcut(term)
  local p = { start = 1, stride = 1, format = "%d" }
  if args then
    if args.start then p.start = int0(args.start, "start") end
    p["end"] = int0(args["end"], "end")
    if args.stride then p.stride = int0(args.stride, "stride") end
    if args.format then p.format = args.format end
  else
    local kvs, err = kv.parse_kv(term)
    if not kvs then lookup.fail("unknown error parsing with_sequence arguments: " .. err) end
    local bad = {}
    for k, v in pairs(kvs) do
      if k == "start" or k == "end" or k == "count" or k == "stride" then p[k] = int0(v, k)
      elseif k == "format" then p.format = v
      else bad[#bad + 1] = "'" .. (k == "_raw" and "_raw_params" or k) .. "'" end
    end
    if #bad > 0 then
      table.sort(bad)
      lookup.fail("unrecognized arguments to with_sequence: [" .. table.concat(bad, ", ") .. "]")
    end
  end
  if p.count == nil and p["end"] == nil then lookup.fail("must specify count or end in with_sequence") end
  if p.count ~= nil and p["end"] ~= nil then lookup.fail("can't specify both count and end in with_sequence") end
  if p.count ~= nil then
    if p.count ~= 0 then p["end"] = p.start + p.count * p.stride - 1
    else p.start, p["end"], p.stride = 0, 0, 0 end
  end
  if p.stride > 0 and p["end"] < p.start then lookup.fail("to count backwards make stride negative") end
  if p.stride < 0 and p["end"] > p.start then lookup.fail("to count forward don't make stride negative") end
  if select(2, p.format:gsub("%%", "")) ~= 1 then lookup.fail("bad formatting string: " .. p.format) end
  if p.stride == 0 then return end
  local stop = p["end"] + (p.stride > 0 and 1 or -1)
  local i = p.start
  while (p.stride > 0 and i < stop) or (p.stride < 0 and i > stop) do
    out[#out + 1] = format(p.format, i)
    i = i + p.stride
  end
end

return {
  run = function(terms)
    local out = {}
    for _, term in ipairs(terms) do one(tostring(term), out) end
    return out
  end,
}
