--- luasible.template.filters.pyyaml: YAML written as Ansible's to_yaml and
-- to_nice_yaml write it (PyYAML's dump with AnsibleDumper: libYAML's
-- emitter rules): keys sorted, a collection of scalars in flow style
-- unless default_flow_style=False, block sequences not indented inside a
-- mapping, strings quoted only when they must be (they would read back as
-- another type, or hold indicators, leading or trailing spaces, line
-- breaks or unprintable characters), long scalars folded past 80 columns.
-- lyaml's emitter makes other choices (no folding, other quoting), so the
-- emitter's choices are made here, following PyYAML's emitter (the
-- scalars' styles and writers: filters/pyyaml_scalar.lua).
--
--   pyyaml.dump(v, { indent = 2, width = 80, flow = nil|true|false,
--     sort_keys = true, explicit_start = false, anchors = false }) -> text
-- anchors: a table met twice is written once with an &idNNN anchor and
-- then as *idNNN aliases, as PyYAML does for a Python object met twice
-- (ansible-inventory --yaml; the filters leave it off: Ansible's templating
-- copies values where Lua shares them).
local C = require "luasible.template.filters.common"
local scalars = require "luasible.template.filters.pyyaml_scalar"

local M = {}

local concat = table.concat

-- the emitter: PyYAML's writer state, and its write_* functions (the scalar ones from pyyaml_scalar)
local E = {}
E.__index = E

function E:write(s, n)
  self.out[#self.out + 1] = s
  self.column = self.column + (n or utf8.len(s) or #s)
end
function E:line_break(data)
  self.out[#self.out + 1] = data or "\n"
  self.whitespace, self.indention, self.column = true, true, 0
end
function E:write_indent()
  local indent = self.indent or 0
  if not self.indention or self.column > indent or (self.column == indent and not self.whitespace) then
    self:line_break()
  end
  if self.column < indent then self:write(string.rep(" ", indent - self.column)) end
  self.whitespace, self.indention = true, true
end
function E:indicator(ind, need_ws, whitespace, indention)
  local data = (self.whitespace or not need_ws) and ind or (" " .. ind)
  self.whitespace = whitespace or false
  self.indention = self.indention and (indention or false)
  self:write(data)
end
function E:push_indent(flow, indentless)
  self.indents[#self.indents + 1] = self.indent or false
  if self.indent == nil then
    self.indent = flow and self.best_indent or 0
  elseif not indentless then
    self.indent = self.indent + self.best_indent
  end
end
function E:pop_indent()
  local i = table.remove(self.indents)
  if i == false then i = nil end
  self.indent = i
end

scalars.install(E)
local scalar_text, is_scalar = scalars.scalar_text, scalars.is_scalar

-- a mapping's keys, sorted when asked (Python's sort: an error for mixed types leaves the order)
function E:keys_of(m)
  local keys = C.copy_list(C.keys(m))
  if self.sort_keys then
    local ok = pcall(table.sort, keys, function(a, b) return C.lt(a, b) end)
    if not ok then keys = C.copy_list(C.keys(m)) end
  end
  return keys
end

-- does the collection take flow style (representer's best_style)?
function E:flow_style(v, keys)
  if self.flow ~= nil then return self.flow end
  if keys then
    for _, k in ipairs(keys) do if not is_scalar(k) or not is_scalar(v[k]) then return false end end
    return true
  end
  for _, x in ipairs(v) do if not is_scalar(x) then return false end end
  return true
end

local function simple_key_ok(k)
  if type(k) == "table" and not C.is_none(k) then return false end
  local text = scalar_text(k) or k
  if type(text) ~= "string" then return false end
  local n = utf8.len(text) or #text
  return n < 128 and not text:find("[\n\r\u{85}]")
end

function E:node(v, ctx)
  if is_scalar(v) or C.is_undefined(v) then return self:scalar(v, ctx == "key") end
  local anchor = self.anchors and self.anchors[v]
  if anchor then -- PyYAML's anchors and aliases for a collection met twice
    if self.emitted[v] then return self:indicator("*" .. anchor, true) end
    self.emitted[v] = true
    self:indicator("&" .. anchor, true)
  end
  local list = C.is_list(v)
  local keys = not list and self:keys_of(v) or nil
  local empty = (list and #v == 0) or (keys and #keys == 0)
  local mapping_ctx = ctx == "mapping" or ctx == "key"
  if self.flow_level > 0 or empty or self:flow_style(v, keys) then
    if list then self:flow_sequence(v) else self:flow_mapping(v, keys) end
  elseif list then
    self:block_sequence(v, mapping_ctx)
  else
    self:block_mapping(v, keys)
  end
end

function E:flow_sequence(v)
  self:indicator("[", true, true)
  self.flow_level = self.flow_level + 1
  self:push_indent(true)
  for i, x in ipairs(v) do
    if i > 1 then self:indicator(",", false) end
    if self.column > self.best_width then self:write_indent() end
    self:node(x, "sequence")
  end
  self:pop_indent()
  self.flow_level = self.flow_level - 1
  self:indicator("]", false)
end

function E:flow_mapping(m, keys)
  self:indicator("{", true, true)
  self.flow_level = self.flow_level + 1
  self:push_indent(true)
  for i, k in ipairs(keys) do
    if i > 1 then self:indicator(",", false) end
    if self.column > self.best_width then self:write_indent() end
    if simple_key_ok(k) then
      self:node(k, "key")
      self:indicator(":", false)
    else
      self:indicator("?", true)
      self:node(k, "mapping")
      if self.column > self.best_width then self:write_indent() end
      self:indicator(":", true)
    end
    self:node(m[k], "mapping")
  end
  self:pop_indent()
  self.flow_level = self.flow_level - 1
  self:indicator("}", false)
end

function E:block_sequence(v, mapping_ctx)
  self:push_indent(false, mapping_ctx and not self.indention)
  for _, x in ipairs(v) do
    self:write_indent()
    self:indicator("-", true, false, true)
    self:node(x, "sequence")
  end
  self:pop_indent()
end

function E:block_mapping(m, keys)
  self:push_indent(false)
  for _, k in ipairs(keys) do
    self:write_indent()
    if simple_key_ok(k) then
      self:node(k, "key")
      self:indicator(":", false)
    else
      self:indicator("?", true, false, true)
      self:node(k, "mapping")
      self:write_indent()
      self:indicator(":", true, false, true)
    end
    self:node(m[k], "mapping")
  end
  self:pop_indent()
end

function M.dump(v, opts)
  opts = opts or {}
  local indent = opts.indent or 2
  local width = opts.width or 80
  local e = setmetatable({
    out = {}, column = 0, whitespace = true, indention = true, indents = {}, indent = nil, flow_level = 0,
    best_indent = (indent > 1 and indent < 10) and indent or 2,
    sort_keys = opts.sort_keys ~= false, flow = opts.flow,
  }, E)
  e.best_width = (width > e.best_indent * 2) and width or 80
  if opts.anchors then
    -- PyYAML's serializer: a collection met a second time (walking in the
    -- order it is written) gets the next &idNNN, written there first, and
    -- *idNNN everywhere after
    local seen, n = {}, 0
    e.anchors, e.emitted = {}, {}
    local function walk(x)
      if is_scalar(x) or C.is_undefined(x) then return end
      if seen[x] then
        if not e.anchors[x] then
          n = n + 1
          e.anchors[x] = ("id%03d"):format(n)
        end
        return
      end
      seen[x] = true
      if C.is_list(x) then
        for _, y in ipairs(x) do walk(y) end
      else
        for _, k in ipairs(e:keys_of(x)) do walk(k); walk(x[k]) end
      end
    end
    walk(v)
  end
  if opts.explicit_start then e:indicator("---", true) end
  e:node(v, "root")
  e:write_indent()
  if opts.explicit_end then e:indicator("...", true); e:write_indent() end
  return concat(e.out)
end

return M
