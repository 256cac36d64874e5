--- luasible.config.values: a setting's text (from the file or the
-- environment) as the value of its type, as Ansible's ensure_type reads
-- it: booleans as Ansible's boolean() (yes/no, true/false, on/off, 1/0,
-- y/n, t/f, any case), paths with ~ expanded and taken from the file's
-- folder (from the current folder for an environment variable), pathlist
-- a comma list of paths, pathspec a colon list, strings with one pair of
-- surrounding quotes removed, list a comma list of texts.
local path = require "luasible.util.path"
local shell = require "luasible.util.shell"
local quote = require("luasible.util.schema").quote

local M = {}

local TRUE = { y = true, yes = true, on = true, ["1"] = true, ["true"] = true, t = true, ["1.0"] = true }
local FALSE = { n = true, no = true, off = true, ["0"] = true, ["false"] = true, f = true, ["0.0"] = true }

local function unquote(s)
  local q = s:sub(1, 1)
  if #s >= 2 and (q == "'" or q == '"') and s:sub(-1) == q then return s:sub(2, -2) end
  return s
end

local function a_path(s, base, home)
  s = path.expand_user(unquote(s), home)
  if s == "" then return s end
  return path.resolve(base, s)
end

local function paths(s, sep, base, home)
  local out = {}
  for p in s:gmatch("[^" .. sep .. "]+") do
    p = p:match("^%s*(.-)%s*$")
    if p ~= "" then out[#out + 1] = a_path(p, base, home) end
  end
  return out
end

-- the options of ssh_args luasible leaves out: -C and the ControlMaster
-- family (luasible keeps its own sessions)
local DROPPED_O = { controlmaster = true, controlpersist = true, controlpath = true }

-- ssh_args: the words luasible keeps (quoted again), and notes on the others
local function ssh_args(s)
  local words, werr = shell.words(s)
  if not words then return nil, "bad ssh arguments: " .. werr end
  local keep, notes, i = {}, {}, 1
  while i <= #words do
    local w = words[i]
    if w == "-C" then
      notes[#notes + 1] = "-C ignored (compression is not used)"
    elseif w == "-o" or w:match("^%-o.") then
      local val = w == "-o" and words[i + 1] or w:sub(3)
      if w == "-o" then i = i + 1 end
      local k = val and val:match("^%s*(%a+)")
      if k and DROPPED_O[k:lower()] then
        notes[#notes + 1] = val .. " ignored (luasible keeps one session per host itself)"
      else
        keep[#keep + 1] = "-o"
        keep[#keep + 1] = val
      end
    else
      keep[#keep + 1] = w
    end
    i = i + 1
  end
  local shown = {}
  for j, w in ipairs(keep) do shown[j] = w:match("^[%w%-_./=:@,+%%]+$") and w or shell.quote(w) end
  local text = table.concat(shown, " ")
  -- checked now by the one SSH options parser, so a bad one names the file
  local ok, err = require("luasible.inventory.connect").ssh_args(text, {})
  if not ok then return nil, require("luasible.util.schema").escape(err, 200) end
  return text, nil, notes
end

--- The value of setting `s` (config/settings.lua) from text `raw`; paths
--- relative to `base`. Returns value, nil, notes; or nil, err.
function M.convert(s, raw, base, home)
  local t = s.type
  local v = raw:match("^%s*(.-)%s*$")
  if t == "string" then return unquote(v) end
  if t == "path" then return a_path(v, base, home) end
  if t == "pathlist" then return paths(v, ",", base, home) end
  if t == "pathspec" then return paths(v, ":", base, home) end
  if t == "list" then
    local out = {}
    for x in unquote(v):gmatch("[^,]+") do
      x = x:match("^%s*(.-)%s*$")
      if x ~= "" then out[#out + 1] = x end
    end
    return out
  end
  if t == "boolean" then
    local l = unquote(v):lower()
    if TRUE[l] then return true end
    if FALSE[l] then return false end
    return nil, "must be a boolean (yes/no, true/false, on/off, 1/0), got " .. quote(v)
  end
  if t == "integer" or t == "number" then
    local n = tonumber(unquote(v))
    if t == "integer" then n = n and math.tointeger(n) end
    if not n then
      return nil, "must be " .. (t == "integer" and "a whole number" or "a number") .. ", got " .. quote(v)
    end
    if n < (s.min or 0) then return nil, "must be at least " .. (s.min or 0) .. ", got " .. quote(v) end
    return n
  end
  if t == "choice" then
    local l = unquote(v):lower()
    if not s.choices[l] then
      local names = {}
      for k in pairs(s.choices) do names[#names + 1] = k end
      table.sort(names)
      return nil, "must be one of " .. table.concat(names, ", ") .. ", got " .. quote(v)
    end
    return l
  end
  if t == "ssh_args" then return ssh_args(unquote(v)) end
  error("luasible.config: setting " .. s.name .. " has unknown type " .. tostring(t))
end

return M
