-- #oracle: every filter and test of template/registry.lua against
-- ansible-core's own (Debian's ansible-core 2.14, jinja2 3.1): each case is
-- a call `v | name(args, kw)` (or `v is name(...)`) rendered by Ansible's
-- Templar as `to_json` text, and by luasible's registry with the same
-- JSON encoder (template/filters/pyjson.lua). The texts must be equal; a
-- case Ansible refuses must be refused here too.
local reg = require "luasible.template.registry"
local pyjson = require "luasible.template.filters.pyjson"
local values = require "luasible.template.values"
local C = require "luasible.template.filters.common"
local pyrandom = require "luasible.util.pyrandom"

-- the written cases, and 200 random structures for to_yaml / to_nice_yaml
-- (PyYAML's emitter has many rules: strings that need quotes, folding,
-- flow or block, complex keys), the same ones every run (a seeded generator)
local cases = {}
for i, c in ipairs(require "spec.integration.template_filters_cases") do cases[i] = c end
do
  local r = pyrandom.new(20261202)
  local WORDS = { "a", "key", "value", "yes", "no", "null", "~", "1", "1.5", "-", "x: y", "#c", "a #b", "it's", '"q"',
    "é", "日本", "tab\\t", "line\\nbreak", " lead", "trail ", "", "0x1F", "012", "2001-01-01", "@at", "%p", "[x]", "{y}",
    "a,b", "*s", "&a", "!t", "|p", ">f", "?q", "--", "...", "long", "word" }
  local function pick(l) return l[r:randbelow(#l) + 1] end
  local function text()
    local n = r:randbelow(100) < 15 and 10 + r:randbelow(20) or 1 + r:randbelow(4)
    local parts = {}
    for i = 1, n do parts[i] = pick(WORDS) end
    return table.concat(parts, r:randbelow(10) < 8 and " " or "")
  end
  local function value(depth)
    local k = r:randbelow(100)
    if depth > 3 or k < 45 then
      local kind = r:randbelow(8)
      if kind == 0 then return tostring(r:randbelow(201) - 100) end
      if kind == 1 then return string.format("%.6f", r:randbelow(1000000) / 997) end
      if kind == 2 then return r:randbelow(2) == 0 and "true" or "false" end
      if kind == 3 then return "null" end
      return '"' .. text():gsub('"', '\\"') .. '"'
    end
    local out = {}
    if k < 72 then
      for i = 1, r:randbelow(6) do out[i] = value(depth + 1) end
      return "[" .. table.concat(out, ", ") .. "]"
    end
    for i = 1, r:randbelow(6) do
      out[i] = '"' .. pick(WORDS):gsub('"', '\\"') .. tostring(i) .. '": ' .. value(depth + 1)
    end
    return "{" .. table.concat(out, ", ") .. "}"
  end
  for _ = 1, 200 do cases[#cases + 1] = { r:randbelow(2) == 0 and "to_yaml" or "to_nice_yaml", value(0) } end
end

local PY = "/usr/bin/python3"

local function have_ansible()
  local ok = os.execute(PY .. " -c 'import ansible.template' 2>/dev/null")
  return ok == true or ok == 0
end

-- the case list as JSON for the Python side
local function as_json(list)
  local out = {}
  for i, c in ipairs(list) do
    local name, test = c[1], false
    if name:sub(1, 3) == "is " then name, test = name:sub(4), true end
    local parts = { '"name":' .. pyjson.encode(name), '"test":' .. (test and "true" or "false") }
    if c[2] ~= "UNDEF" then parts[#parts + 1] = '"v":' .. c[2] end
    parts[#parts + 1] = '"args":' .. (c[3] or "[]")
    parts[#parts + 1] = '"kw":' .. (c[4] or "[]")
    out[i] = "{" .. table.concat(parts, ",") .. "}"
  end
  return "[" .. table.concat(out, ",") .. "]"
end

-- luasible's answer: { ok = text } or { err = message }
local function ours(c)
  local name, kind = c[1], "filter"
  if name:sub(1, 3) == "is " then name, kind = name:sub(4), "test" end
  local ok, r = pcall(function()
    local v = c[2] == "UNDEF" and values.undefined("v") or pyjson.decode(c[2])
    local pos = { v }
    for _, a in ipairs(pyjson.decode(c[3] or "[]")) do pos[#pos + 1] = a end
    local kw = {}
    for _, p in ipairs(pyjson.decode(c[4] or "[]")) do kw[#kw + 1] = { p[1], p[2] } end
    local res = reg.call(kind, name, {}, pos, kw)
    if values.is_undefined(res) then values.undefined_error(res) end
    if res == nil then res = C.none end
    return pyjson.encode(res)
  end)
  if ok then return { ok = r } end
  return { err = type(r) == "table" and r.template_error or tostring(r) }
end

describe("#oracle template filters and tests against ansible-core", function()
  if not have_ansible() then
    pending("ansible-core (python3) is not installed: scripts/deps")
    return
  end
  local answers
  lazy_setup(function()
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "w"))
    f:write(as_json(cases))
    f:close()
    local p = assert(io.popen(PY .. " spec/helpers/filter_oracle.py < " .. tmp .. " 2>/dev/null"))
    local text = p:read("a")
    p:close()
    os.remove(tmp)
    answers = pyjson.decode(text)
  end)

  for i, c in ipairs(cases) do
    local label = string.format("%s %s %s %s", c[1], c[2], c[3] or "", c[4] or "")
    it(label, function()
      local want, got = answers[i], ours(c)
      if want.err then
        assert(got.err, string.format("Ansible refuses (%s); luasible gave %s", want.err, tostring(got.ok)))
      else
        assert(got.ok, string.format("Ansible gives %s; luasible refuses: %s", want.ok, tostring(got.err)))
        assert.equal(want.ok, got.ok)
      end
    end)
  end
end)
