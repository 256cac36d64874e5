--- luasible.template.expr: expressions, parsed by a small Pratt parser into
-- closures f(vars, rc) -> value, where `vars` is the scope and `rc` the
-- render context of the call (template/unsafe.lua). Nothing is ever
-- handed to load(): an expression can read variables, compare, do
-- arithmetic and apply the fixed filters and tests, and nothing else.
--
--   expr  := or-expr [ "if" expr "else" expr ]
--   ops   := or, and, not, == != ~= < <= > >= in, not in, is [not] TEST,
--            .. ~ (concat), + -, * / // %, unary -, | filter(args), .name [index]
--   atoms := numbers, 'str', "str", true false nil none, [list], (expr), names
local values = require "luasible.template.values"
local ops = require "luasible.template.ops"
local unsafe = require "luasible.template.unsafe"
local filters = require "luasible.template.filters"
local tests = require "luasible.template.tests"
local lexer = require "luasible.template.lexer"
local tokenize, shown = lexer.tokenize, lexer.shown

local fail, truthy, tostr = values.fail, values.truthy, values.tostring
local undefined, is_undef, defined = values.undefined, values.is_undefined, values.defined
local is_unsafe = unsafe.is_unsafe

local M = {}

--- How deep an expression may nest (parentheses, lists, operators): the
--- parser and the closures it makes recurse once per level.
M.MAX_DEPTH = 100

local BINARY = {
  ["or"] = 1, ["and"] = 2,
  ["=="] = 4, ["!="] = 4, ["~="] = 4, ["<"] = 4, ["<="] = 4, [">"] = 4, [">="] = 4,
  ["in"] = 4, ["not"] = 4, ["is"] = 4,
  [".."] = 5, ["~"] = 5, ["+"] = 6, ["-"] = 6, ["*"] = 7, ["/"] = 7, ["//"] = 7, ["%"] = 7,
}

-- A variable whose value is itself a template ("{{ root }}/x") is rendered
-- when it is used, by the face's nested() (required here when first
-- needed: the face requires this file).
local function nested(v, vars, name, rc)
  return require("luasible.template").nested(v, vars, name, rc)
end

local Parser = {}
Parser.__index = Parser

function Parser:peek() return self.toks[self.i] end
function Parser:next() local t = self.toks[self.i]; self.i = self.i + 1; return t end
function Parser:expect(t)
  local tok = self:next()
  if tok.t ~= t then
    fail(string.format("expected '%s' at position %d in expression: %s", t, tok.pos, shown(self.src)))
  end
  return tok
end

-- The source text from offset `start` to the last token read.
function Parser:text(start)
  return (self.src:sub(start, self.toks[self.i - 1].stop):gsub("^%s+", ""):gsub("%s+$", ""))
end

-- One level deeper (raises past M.MAX_DEPTH); :leave() on the way back.
function Parser:enter()
  self.depth = self.depth + 1
  if self.depth > M.MAX_DEPTH then
    fail(string.format("expression nested more than %d levels deep: %s", M.MAX_DEPTH, shown(self.src)))
  end
end
function Parser:leave() self.depth = self.depth - 1 end

function Parser:expr(minprec)
  minprec = minprec or 0
  self:enter()
  local start = self:peek().pos
  local left = self:unary()
  while true do
    local tok = self:peek()
    local prec = BINARY[tok.t]
    if tok.t == "not" and self.toks[self.i + 1].t ~= "in" then prec = nil end
    if not prec or prec <= minprec then break end
    self:next()
    left = self:binary(tok.t, left, prec, start)
  end
  if minprec == 0 and self:peek().t == "if" then
    self:next()
    local cond = self:expr(0)
    local other = function() return nil end
    if self:peek().t == "else" then self:next(); other = self:expr(0) end
    local yes = left
    left = function(v, rc) if truthy(cond(v, rc)) then return yes(v, rc) end return other(v, rc) end
  end
  self:leave()
  return left
end

-- The name of a test after `is [not]`: a name, or none (which the lexer
-- reads as a value).
function Parser:test_name()
  local tok = self:peek()
  if tok.t == "val" and tok.word then
    self:next()
    return tok.word:lower()
  end
  return self:expect("name").v
end

function Parser:binary(op, left, prec, start)
  if op == "is" then
    local negate = false
    if self:peek().t == "not" then self:next(); negate = true end
    local name = self:test_name()
    local test = tests[name]
    if type(test) ~= "function" then fail("unknown test '" .. name .. "' in expression: " .. shown(self.src)) end
    return function(v, rc) local r = test(left(v, rc)); if negate then return not r end return r end
  end
  if op == "not" then self:expect("in") end
  local right = self:expr(prec)
  if op == "and" then
    return function(v, rc) local a = left(v, rc); if not truthy(a) then return a end return right(v, rc) end
  end
  if op == "or" then
    return function(v, rc) local a = left(v, rc); if truthy(a) then return a end return right(v, rc) end
  end
  if op == "==" then return function(v, rc) return ops.eq(left(v, rc), right(v, rc)) end end
  if op == "!=" or op == "~=" then return function(v, rc) return not ops.eq(left(v, rc), right(v, rc)) end end
  if op == ".." or op == "~" then return function(v, rc) return tostr(left(v, rc)) .. tostr(right(v, rc)) end end
  local f = (BINARY[op] == 4) and ops.compare(op) or ops.arith(op)
  local text = self:text(start)
  if op == "in" then return function(v, rc) return ops.contains(right(v, rc), left(v, rc), text) end end
  if op == "not" then return function(v, rc) return not ops.contains(right(v, rc), left(v, rc), text) end end
  return function(v, rc) return f(left(v, rc), right(v, rc), text) end
end

function Parser:unary()
  local tok = self:peek()
  if tok.t == "not" then
    self:next()
    local e = self:expr(3)
    return function(v, rc) return not truthy(e(v, rc)) end
  elseif tok.t == "-" then
    self:next()
    self:enter()
    local e = self:unary()
    self:leave()
    local text = self:text(tok.pos)
    return function(v, rc) return ops.negate(e(v, rc), text) end
  end
  return self:postfix(self:atom())
end

-- A comma-separated list of expressions up to `close`.
function Parser:list(close)
  local items = {}
  if self:peek().t ~= close then
    repeat items[#items + 1] = self:expr(0) until self:peek().t ~= "," or not self:next()
  end
  self:expect(close)
  return items
end

function Parser:postfix(e)
  local label = self.label or "value"
  while true do
    local tok = self:peek()
    if tok.t == "." then
      self:next()
      local nt = self:next()
      local key
      if nt.t == "name" then key = nt.v
      elseif nt.t == "val" and math.type(nt.v) == "integer" then key = nt.v
      else fail("expected a name after '.' in expression: " .. shown(self.src)) end
      local obj, l = e, label
      e = function(v, rc) return ops.index(obj(v, rc), key, l) end
      label = label .. "." .. tostring(key)
    elseif tok.t == "[" then
      self:next()
      local k = self:expr(0)
      self:expect("]")
      local obj, l = e, label
      e = function(v, rc) return ops.index(obj(v, rc), k(v, rc), l) end
      label = label .. "[]"
    elseif tok.t == "|" then
      self:next()
      local name = self:expect("name").v
      local filter = filters[name]
      if type(filter) ~= "function" then
        fail("unknown filter '" .. name .. "' in expression: " .. shown(self.src))
      end
      local args = {}
      if self:peek().t == "(" then self:next(); args = self:list(")") end
      local arity = filters.ARITY[name]
      if arity and (#args < arity[1] or #args > arity[2]) then
        local n = arity[1] == arity[2] and tostring(arity[1]) or (arity[1] .. " to " .. arity[2])
        fail(string.format("filter '%s' takes %s argument%s, got %d, in expression: %s", name, n,
          arity[2] == 1 and "" or "s", #args, shown(self.src)))
      end
      local obj = e
      local lenient = (name == "default" or name == "d")
      e = function(v, rc)
        local x = obj(v, rc)
        if not lenient then defined(x) end
        local a = {}
        for i, f in ipairs(args) do
          a[i] = f(v, rc)
          if not lenient then defined(a[i]) end
        end
        return filter(x, table.unpack(a, 1, #args))
      end
    else
      return e
    end
  end
end

function Parser:atom()
  local tok = self:next()
  self.label = nil
  if tok.t == "val" then
    local v = tok.v
    return function() return v end
  elseif tok.t == "name" then
    local name = tok.v
    self.label = name
    return function(vars, rc)
      local v = vars[name]
      if v == nil then return undefined(name) end
      if (type(v) == "string" or type(v) == "table") and is_unsafe(vars, name) then
        rc.unsafe_reads = rc.unsafe_reads + 1
        return v
      end
      if type(v) == "string" and v:find("{[{%%]") then return nested(v, vars, name, rc) end
      return v
    end
  elseif tok.t == "(" then
    local e = self:expr(0)
    self:expect(")")
    return e
  elseif tok.t == "[" then
    local items = self:list("]")
    return function(v, rc)
      local out = {}
      for i, f in ipairs(items) do out[i] = f(v, rc) end
      return out
    end
  end
  fail(string.format("unexpected '%s' at position %d in expression: %s",
    tok.t == "eof" and "end" or tok.t, tok.pos, shown(self.src)))
end

-- Compiled expressions by their text. The closures are pure functions of
-- (vars, rc): they hold no state of a render, so one may serve any number
-- of renders at once. Emptied when it grows past CACHE_MAX entries.
local CACHE_MAX = 4096
local cache, cached = {}, 0

--- Compile an expression: f(vars, rc) -> value; raises { template_error }.
function M.compile(src)
  local f = cache[src]
  if f then return f end
  if not src:find("%S") then fail("empty expression") end
  local p = setmetatable({ toks = tokenize(src), i = 1, src = src, depth = 0 }, Parser)
  f = p:expr(0)
  if p:peek().t ~= "eof" then
    fail(string.format("unexpected '%s' at position %d in expression: %s", p:peek().t, p:peek().pos, shown(src)))
  end
  if cached >= CACHE_MAX then cache, cached = {}, 0 end
  cache[src], cached = f, cached + 1
  return f
end

--- The value of `src` in `vars`, with render context `rc`; undefined raises.
function M.value(src, vars, rc)
  local v = M.compile(src)(vars, rc)
  if is_undef(v) then values.undefined_error(v) end
  return v
end

return M
