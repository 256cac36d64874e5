--- luasible.template.globals: the functions and objects every template
-- sees by name (Jinja2's range, dict, lipsum, cycler, joiner, namespace,
-- self, and Ansible's lookup/query/q). Built over the runtime:
-- require("luasible.template.globals")(R, globals) fills `globals`.
local values = require "luasible.template.values"

local fail, truthy = values.fail, values.truthy
local none, is_mapping = values.none, values.is_mapping
local type_name = values.type_name
local type, mtype, setmetatable = type, math.type, setmetatable

return function(R, globals)
local M = {}
local callable, check, iter = R.callable, R.check, R.iter

globals.range = callable(function(pos)
  local n = pos.n or #pos
  for i = 1, n do
    local x = pos[i]
    if type(x) == "boolean" then pos[i] = x and 1 or 0
    elseif mtype(x) ~= "integer" then
      check(x)
      fail("'" .. type_name(x) .. "' object cannot be interpreted as an integer")
    end
  end
  local a, b, c = pos[1], pos[2], pos[3]
  if n == 0 then fail("range expected at least 1 argument, got 0") end
  if n == 1 then a, b = 0, a end
  c = c or 1
  if c == 0 then fail("range() arg 3 must not be zero") end
  local count = c > 0 and ((b - a + c - 1) // c) or ((a - b - c - 1) // -c)
  if count > 1000000 then fail("range too big: more than 1000000 items") end
  local out = {}
  for i = 1, math.max(count, 0) do out[i] = a + (i - 1) * c end
  return out
end)

globals.dict = callable(function(pos, kw)
  local m = values.mapping()
  if pos[1] ~= nil then
    local src = pos[1]
    if is_mapping(src) then
      for _, k in ipairs(values.keys(src)) do values.set(m, k, src[k]) end
    else
      for _, pair in ipairs(iter(src)) do
        local k, v = R.unpack(pair, 2)
        values.set(m, k, v)
      end
    end
  end
  if kw then for _, k in ipairs(values.keys(kw)) do values.set(m, k, kw[k]) end end
  return m
end)

local LOREM = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
  .. "et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea "
  .. "commodo consequat"):gmatch("%a+")
local WORDS = {}
for w in LOREM do WORDS[#WORDS + 1] = w end

--- lipsum(n=5, html=True, min=20, max=100): Jinja2's lorem ipsum (its
--- words in a fixed order here, not random).
globals.lipsum = callable(function(pos, kw)
  local n = pos[1] or (kw and kw.n) or 5
  local html = pos[2]
  if html == nil and kw then html = kw.html end
  if html == nil then html = true end
  local lo = pos[3] or (kw and kw.min) or 20
  local paras = {}
  for p = 1, n do
    local words = {}
    for i = 1, lo do words[i] = WORDS[(p + i - 2) % #WORDS + 1] end
    local text = table.concat(words, " ")
    text = text:sub(1, 1):upper() .. text:sub(2) .. "."
    paras[p] = html and ("<p>" .. text .. "</p>") or text
  end
  return table.concat(paras, "\n\n")
end)

--- cycler(*items): .next(), .reset(), .current
globals.cycler = callable(function(pos)
  local items = {}
  for i = 1, pos.n or #pos do items[i] = pos[i] end
  if #items == 0 then fail("cycler() needs at least one item") end
  local c = values.mapping()
  local i = 1
  local function set() values.set(c, "current", items[i]) end
  set()
  values.set(c, "next", callable(function()
    local v = items[i]
    i = i % #items + 1
    set()
    return v
  end))
  values.set(c, "reset", callable(function() i = 1; set(); return none end))
  return c
end)

--- joiner(sep=', '): "" the first time it is called, sep after.
globals.joiner = callable(function(pos, kw)
  local sep = pos[1] or (kw and kw.sep) or ", "
  local used = false
  return callable(function()
    if used then return sep end
    used = true
    return ""
  end)
end)

-- Jinja2's `self` (the template's reference; blocks are not kept apart here).
globals.self = setmetatable({}, { __name = "luasible.template_reference",
  __pyrepr = function() return "<TemplateReference None>" end })

local Namespace = { __name = "luasible.namespace" }
local NS = setmetatable({}, { __mode = "k" })
globals.namespace = callable(function(pos, kw)
  local ns = values.mapping()
  if pos[1] ~= nil and is_mapping(pos[1]) then
    for _, k in ipairs(values.keys(pos[1])) do values.set(ns, k, pos[1][k]) end
  end
  if kw then for _, k in ipairs(values.keys(kw)) do values.set(ns, k, kw[k]) end end
  NS[ns] = Namespace
  return ns
end)

--- Is t a namespace() (its attributes may be set)?
function M.is_namespace(t) return NS[t] ~= nil end

--- {% set ns.attr = v %}
function M.setattr(ns, attr, v)
  if not M.is_namespace(ns) then fail("cannot assign attribute on non-namespace object") end
  values.set(ns, attr, v)
end

--- A list of the given values; lookup/query through luasible.lookup.
local function lookup_call(wantlist)
  return function(pos, kw, rc)
    local ok, lookup = pcall(require, "luasible.lookup")
    if not ok then fail("lookups are not available: " .. tostring(lookup)) end
    local name = pos[1]
    if type(name) ~= "string" then fail("lookup(): the first argument must be the name of a lookup") end
    local terms = {}
    for i = 2, pos.n or #pos do terms[#terms + 1] = check(pos[i]) end
    local k = values.mapping()
    local want = wantlist
    if kw then
      for _, key in ipairs(values.keys(kw)) do
        if key == "wantlist" then want = truthy(kw[key]) else values.set(k, key, kw[key]) end
      end
    end
    return lookup.call(name, terms, k, rc and rc.lookup_env and rc.lookup_env() or {}, want)
  end
end
M.lookup_call = lookup_call
globals.lookup = callable(lookup_call(false))
globals.query = callable(lookup_call(true))
globals.q = globals.query

return M
end
