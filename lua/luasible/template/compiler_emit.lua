--- luasible.template.compiler_emit: what the compiler writes into and
-- keeps while it writes: the Lua source buffer (one statement a line, each
-- with its template line for error messages), temporaries, the constants
-- table K, and the scopes of template variables (Lua locals; the names a
-- body assigns hoisted to its start, as Jinja2 scopes them). The
-- compiler's class (template/compiler.lua) has these methods.
local lexer = require "luasible.template.lexer"
local values = require "luasible.template.values"

local format, concat = string.format, table.concat

local M = {}

local C = {}

function C:error(msg, pos) lexer.error(self.src, self.name, pos or 1, msg) end

-- The template line of byte offset pos (a binary search in the line starts).
function C:line_of(pos)
  local starts = self.starts
  if not starts then
    starts = { 1 }
    local src, i = self.src or "", 1
    while true do
      local nl = src:find("\n", i, true)
      if not nl then break end
      starts[#starts + 1] = nl + 1
      i = nl + 1
    end
    self.starts = starts
  end
  pos = pos or 1
  local lo, hi = 1, #starts
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if starts[mid] <= pos then lo = mid else hi = mid - 1 end
  end
  return lo
end

-- Append Lua source (one statement); `pos`: the template offset it comes from.
function C:emit(s, pos)
  local code = self.code
  code[#code + 1] = s
  local ln = self.cur_line
  if pos then ln = self:line_of(pos); self.cur_line = ln end
  self.lines[#code] = ln
end

function C:tmp(prefix)
  self.ntmp = self.ntmp + 1
  return (prefix or "t") .. self.ntmp
end

function C:const(v)
  local k = self.kmap[v]
  if k then return k end
  self.nk = self.nk + 1
  self.K[self.nk] = v
  k = "K[" .. self.nk .. "]"
  if type(v) ~= "table" or v == values.none then self.kmap[v] = k end
  return k
end

-- ------------------------------------------------------------ scopes

function C:push(fresh)
  self.scope = { names = {}, parent = self.scope, fresh = fresh }
end
function C:pop() self.scope = self.scope.parent end

function C:lookup(name)
  local s = self.scope
  while s do
    local b = s.names[name]
    if b then return b end
    s = s.parent
  end
  return nil
end

-- Declare template variable `name` in the current scope: its Lua local.
function C:declare(name, maybe_unset)
  local lname = self:tmp("v_" .. name:gsub("[^%w_]", "_") .. "_")
  self.scope.names[name] = { lua = lname, maybe = maybe_unset }
  return lname
end

-- Every visible template variable: name -> Lua local.
function C:visible()
  local out, s = {}, self.scope
  while s do
    for name, b in pairs(s.names) do if out[name] == nil then out[name] = b.lua end end
    s = s.parent
  end
  return out
end

-- A scope table for an include/with context: visible locals over vars.
function C:scope_table()
  local parts = {}
  for name, lua in pairs(self:visible()) do parts[#parts + 1] = format("[%q] = %s", name, lua) end
  table.sort(parts)
  if #parts == 0 then return "vars" end
  return "setmetatable({" .. concat(parts, ", ") .. "}, { __index = vars })"
end

-- Names assigned in a body (not entering scoping statements).
local function assigned(body, out)
  out = out or {}
  for _, st in ipairs(body) do
    local k = st.k
    if k == "set" or k == "setblock" then
      local t = st.target
      if t.k == "name" then out[#out + 1] = t.name
      elseif t.k == "tuple" then
        for _, it in ipairs(t.items) do if it.k == "name" then out[#out + 1] = it.name end end
      end
    elseif k == "macro" then out[#out + 1] = st.name
    elseif k == "import" then out[#out + 1] = st.target
    elseif k == "fromimport" then for _, n in ipairs(st.names) do out[#out + 1] = n.alias end
    elseif k == "if" then
      for _, br in ipairs(st.branches) do assigned(br.body, out) end
      if st.else_ then assigned(st.else_, out) end
    end
  end
  return out
end

-- Does a subtree mention the name `name` (a rough, safe over-estimate)?
local function mentions(node, name, seen)
  if type(node) ~= "table" then return false end
  if node.k == "name" and node.name == name then return true end
  seen = seen or {}
  if seen[node] then return false end
  seen[node] = true
  for _, v in pairs(node) do
    if type(v) == "table" and mentions(v, name, seen) then return true end
  end
  return false
end
M.mentions = mentions

-- Declare the names a body assigns (hoisted to its start, as Jinja2's
-- scoping: an `if` makes no scope). An outer binding is the start value.
function C:hoist(body)
  local seen = {}
  for _, name in ipairs(assigned(body)) do
    if not seen[name] and not self.scope.names[name] then
      seen[name] = true
      local outer = self:lookup(name)
      local lname = self:declare(name, true)
      self:emit("local " .. lname .. (outer and (" = " .. outer.lua) or ""))
    end
  end
end

M.methods = C -- the buffer and scope methods of the compiler's class (template/compiler.lua)

return M
