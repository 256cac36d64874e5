--- luasible.util.toml_dump: a Lua value written as TOML, laid out as
-- Python's `toml` library (0.10, what ansible-inventory --toml uses) lays
-- it out: a table's plain values first, then its arrays of tables, then
-- its sub-tables breadth first as `[a.b.c]` headers (a header only for a
-- table with plain values of its own or with nothing at all), arrays as
-- `[ 1, "a",]`, nil (YAML null) values left out.
--
--   toml_dump.dump(t) -> text | nil, err     t: a mapping
--   toml_dump.ordered() -> a mapping that remembers the order of its keys
--
-- A mapping's keys come in the order ordered() recorded, else sorted (a Lua
-- table keeps no insertion order). Written here rather than taken from a
-- library: lua-toml and friends are not in Debian, and the layout must be
-- the one Ansible users diff against. Where Python's library is wrong (a
-- control character \x01 comes out as the text `x01`, a lone \x at the end
-- raises), this writes TOML's \u0001 escapes instead.
local json = require "luasible.json"
local pyrepr = require "luasible.util.pyrepr"

local M = {}

local ORDER = setmetatable({}, { __mode = "k" })
local Ordered = {
  __name = "luasible.object", -- a mapping for json.is_object, pyrepr and the YAML writer
  __newindex = function(t, k, v)
    rawset(t, k, v)
    local o = ORDER[t]
    o[#o + 1] = k
  end,
}

--- A new mapping whose keys() come in the order they were first set.
function M.ordered()
  local t = setmetatable({}, Ordered)
  ORDER[t] = {}
  return t
end

local function is_map(v)
  return type(v) == "table" and (ORDER[v] ~= nil or json.is_object(v) or (next(v) ~= nil and #v == 0))
end

local function is_list(v)
  return type(v) == "table" and not is_map(v)
end

-- t's keys: in recorded order (present ones, once each), else sorted
local function keys(t)
  local out, seen = {}, {}
  if ORDER[t] then
    for _, k in ipairs(ORDER[t]) do
      if rawget(t, k) ~= nil and not seen[k] then
        seen[k] = true
        out[#out + 1] = k
      end
    end
    return out
  end
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out, function(a, b) return tostring(a) < tostring(b) end)
  return out
end

local ESC = { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function str(s)
  return '"' .. s:gsub('[%c\\"]', function(c) return ESC[c] or string.format("\\u%04x", c:byte()) end) .. '"'
end

local function key(k)
  k = tostring(k)
  if k:match("^[A-Za-z0-9_-]+$") then return k end
  return str(k)
end

local value

local function list(v, path)
  local out = { "[" }
  for i = 1, #v do out[#out + 1] = " " .. value(v[i], path) .. "," end
  out[#out + 1] = "]"
  return table.concat(out)
end

function value(v, path)
  local t = type(v)
  if t == "string" then return str(v) end
  if t == "boolean" then return tostring(v) end
  if math.type(v) == "integer" then return tostring(v) end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      error({ toml = path .. ": " .. tostring(v) .. " has no TOML form here" }, 0)
    end
    return (pyrepr.float(v):gsub("e%+0", "e+"):gsub("e%-0", "e-"))
  end
  if t == "table" and is_list(v) then return list(v, path) end
  error({ toml = path .. ": a value of type " .. t .. " cannot be represented in TOML" }, 0)
end

local function has_table(l)
  for i = 1, #l do if is_map(l[i]) then return true end end
  return false
end

-- toml's dump_sections: the plain lines of mapping o (whose header is
-- `sup`) and its sub-tables, as { {qualified name, table}, ... }
local function sections(o, sup, null)
  local plain, arrays, subs = {}, {}, {}
  if sup ~= "" then sup = sup .. "." end
  for _, k in ipairs(keys(o)) do
    local v, qk = o[k], key(k)
    if is_map(v) then
      subs[#subs + 1] = { sup .. qk, v }
    elseif is_list(v) and has_table(v) then
      for _, item in ipairs(v) do
        if not is_map(item) then
          error({ toml = sup .. qk .. ": a list mixing tables and other values cannot be represented in TOML" }, 0)
        end
        arrays[#arrays + 1] = "[[" .. sup .. qk .. "]]\n"
        local p, s = sections(item, sup .. qk, null)
        arrays[#arrays + 1] = p
        arrays[#arrays + 1] = "\n"
        local level = s
        while #level > 0 do
          local nextl = {}
          for _, sec in ipairs(level) do
            local p2, s2 = sections(sec[2], sec[1], null)
            if p2 ~= "" then arrays[#arrays + 1] = "[" .. sec[1] .. "]\n" .. p2 end
            for _, x in ipairs(s2) do nextl[#nextl + 1] = x end
          end
          level = nextl
        end
      end
    elseif v ~= nil and v ~= null then
      plain[#plain + 1] = qk .. " = " .. value(v, sup .. qk) .. "\n"
    end
  end
  return table.concat(plain) .. table.concat(arrays), subs
end

--- t (a mapping) as TOML text, or nil, err naming the value that TOML
--- cannot hold (a float nan, a mixed list, a function...). `null`: the value
--- that stands for YAML's null (left out, as nil).
function M.dump(t, null)
  local ok, res = pcall(function()
    local top, level = sections(t, "", null)
    local out, last = { top }, top:sub(-2)
    local function add(s)
      out[#out + 1] = s
      last = (#s >= 2) and s:sub(-2) or (last .. s):sub(-2)
    end
    while #level > 0 do
      local nextl = {}
      for _, sec in ipairs(level) do
        local p, s = sections(sec[2], sec[1], null)
        if p ~= "" or #s == 0 then
          if last ~= "" and last ~= "\n\n" then add("\n") end
          add("[" .. sec[1] .. "]\n" .. p)
        end
        for _, x in ipairs(s) do nextl[#nextl + 1] = x end
      end
      level = nextl
    end
    return table.concat(out)
  end)
  if ok then return res end
  if type(res) == "table" and res.toml then return nil, res.toml end
  error(res, 0)
end

return M
