--- luasible.template.parser_expr: Jinja2's expression grammar, as its
-- parser reads it (same precedence): conditional, or/and/not,
-- comparisons, arithmetic, filters and tests, postfix (attributes,
-- subscripts, slices, calls), literals; and the unparenthesised tuples and
-- assignment targets statements take. The parser's class
-- (template/parser.lua) has them; the nodes are listed there.
local values = require "luasible.template.values"
local describe = require("luasible.template.parser_tokens").describe

local M = {}

local P = {}

function P:enter()
  self.depth = self.depth + 1
  if self.depth > self.max_depth then self:error("expression nested more than " .. self.max_depth .. " levels deep") end
end

function P:expr(with_cond)
  self:enter()
  local pos = self:peek().pos
  local e = self:or_expr()
  if with_cond ~= false and self:is_name("if") then
    self:next()
    local test = self:or_expr()
    local no
    if self:skip_name("else") then no = self:expr() end
    e = { k = "cond", test = test, yes = e, no = no, pos = pos }
  end
  self.depth = self.depth - 1
  return e
end

-- a left-associative chain of `word` (or, and) over the operands nextf reads
function P:boolchain(word, nextf)
  local l = self[nextf](self)
  while self:is_name(word) do
    local pos = self:next().pos
    l = { k = word, l = l, r = self[nextf](self), pos = pos }
  end
  return l
end
function P:or_expr() return self:boolchain("or", "and_expr") end
function P:and_expr() return self:boolchain("and", "not_expr") end

function P:not_expr()
  if self:is_name("not") then
    local pos = self:next().pos
    self:enter()
    local e = self:not_expr()
    self.depth = self.depth - 1
    return { k = "not", e = e, pos = pos }
  end
  return self:compare()
end

local CMP = { ["=="] = true, ["!="] = true, ["<"] = true, ["<="] = true, [">"] = true, [">="] = true }

function P:compare()
  local pos = self:peek().pos
  local first = self:math1()
  local ops, rights = {}, {}
  while true do
    local t = self:peek()
    if t.t == "op" and CMP[t.v] then
      self:next()
      ops[#ops + 1] = t.v
    elseif t.t == "name" and t.v == "in" then
      self:next()
      ops[#ops + 1] = "in"
    elseif t.t == "name" and t.v == "not" and self:look().t == "name" and self:look().v == "in" then
      self.i = self.i + 2
      ops[#ops + 1] = "notin"
    else
      break
    end
    rights[#rights + 1] = self:math1()
  end
  if #ops == 0 then return first end
  return { k = "cmp", first = first, ops = ops, rights = rights, pos = pos }
end

function P:binloop(nextf, set)
  local l = self[nextf](self)
  while true do
    local t = self:peek()
    if t.t ~= "op" or not set[t.v] then return l end
    self:next()
    l = { k = "bin", op = t.v, l = l, r = self[nextf](self), pos = t.pos }
  end
end

local MATH1, CONCAT, MATH2 = { ["+"] = true, ["-"] = true }, { ["~"] = true },
  { ["*"] = true, ["/"] = true, ["//"] = true, ["%"] = true }
function P:math1() return self:binloop("concat", MATH1) end
function P:concat() return self:binloop("math2", CONCAT) end
function P:math2() return self:binloop("pow", MATH2) end
function P:pow()
  local l = self:unary(true)
  while self:is_op("**") do
    local pos = self:next().pos
    l = { k = "bin", op = "**", l = l, r = self:unary(true), pos = pos }
  end
  return l
end

function P:unary(with_filter)
  local t = self:peek()
  local node
  self:enter()
  if t.t == "op" and t.v == "-" then
    self:next()
    node = { k = "neg", e = self:unary(false), pos = t.pos }
  elseif t.t == "op" and t.v == "+" then
    self:next()
    node = { k = "pos", e = self:unary(false), pos = t.pos }
  else
    node = self:primary()
  end
  node = self:postfix(node)
  if with_filter then node = self:filter_expr(node) end
  self.depth = self.depth - 1
  return node
end

local CONSTS = { ["true"] = true, ["True"] = true, ["false"] = false, ["False"] = false }
local NONES = { none = true, None = true }

function P:primary()
  local t = self:next()
  if t.t == "name" then
    if CONSTS[t.v] ~= nil then return { k = "const", v = CONSTS[t.v], pos = t.pos } end
    if NONES[t.v] then return { k = "const", v = values.none, pos = t.pos } end
    return { k = "name", name = t.v, pos = t.pos }
  elseif t.t == "string" then
    local s = t.v
    while self:peek().t == "string" do s = s .. self:next().v end
    return { k = "const", v = s, pos = t.pos }
  elseif t.t == "int" or t.t == "float" then
    return { k = "const", v = t.v, pos = t.pos }
  elseif t.t == "op" and t.v == "(" then
    if self:skip_op(")") then return { k = "tuple", items = {}, pos = t.pos } end
    local e = self:expr()
    if self:is_op(",") then
      local items = { e }
      while self:skip_op(",") do
        if self:is_op(")") then break end
        items[#items + 1] = self:expr()
      end
      e = { k = "tuple", items = items, pos = t.pos }
    end
    self:expect_op(")")
    return e
  elseif t.t == "op" and t.v == "[" then
    local items = {}
    while not self:is_op("]") do
      if #items > 0 then self:expect_op(",") end
      if self:is_op("]") then break end
      items[#items + 1] = self:expr()
    end
    self:expect_op("]")
    return { k = "list", items = items, pos = t.pos }
  elseif t.t == "op" and t.v == "{" then
    local keys, vals = {}, {}
    while not self:is_op("}") do
      if #keys > 0 then self:expect_op(",") end
      if self:is_op("}") then break end
      keys[#keys + 1] = self:expr()
      self:expect_op(":")
      vals[#vals + 1] = self:expr()
    end
    self:expect_op("}")
    return { k = "dict", keys = keys, vals = vals, pos = t.pos }
  end
  self.i = self.i - 1
  self:error("unexpected " .. describe(t) .. ", expected an expression", t.pos)
end

function P:postfix(node)
  while true do
    local t = self:peek()
    if t.t ~= "op" then return node end
    if t.v == "." then
      self:next()
      local a = self:next()
      if a.t == "name" then
        node = { k = "getattr", obj = node, attr = a.v, pos = t.pos }
      elseif a.t == "int" then
        node = { k = "getitem", obj = node, key = { k = "const", v = a.v, pos = a.pos }, pos = t.pos }
      else
        self:error("expected a name after '.', got " .. describe(a), a.pos)
      end
    elseif t.v == "[" then
      self:next()
      node = self:subscript(node, t.pos)
    elseif t.v == "(" then
      node = self:call(node)
    else
      return node
    end
  end
end

function P:subscript(obj, pos)
  local args = {}
  local function part()
    if self:is_op(":") or self:is_op("]") or self:is_op(",") then return nil end
    return self:expr()
  end
  local start = part()
  if self:is_op(":") then
    self:next()
    local stop = part()
    local step
    if self:skip_op(":") then step = part() end
    self:expect_op("]")
    return { k = "slice", obj = obj, start = start, stop = stop, step = step, pos = pos }
  end
  if not start then self:error("expected an expression in '[ ]'") end
  args[1] = start
  if self:is_op(",") then
    while self:skip_op(",") do
      if self:is_op("]") then break end
      args[#args + 1] = self:expr()
    end
    start = { k = "tuple", items = args, pos = pos }
  end
  self:expect_op("]")
  return { k = "getitem", obj = obj, key = start, pos = pos }
end

-- ( args ): positional, name=value, *list, **mapping.
function P:call_args()
  self:expect_op("(")
  local args, kwnames, kwvals = {}, {}, {}
  local star, dstar
  while not self:is_op(")") do
    if #args + #kwnames > 0 or star or dstar then self:expect_op(",") end
    if self:is_op(")") then break end
    if self:is_op("**") then
      self:next()
      dstar = self:expr()
    elseif self:is_op("*") then
      self:next()
      star = self:expr()
    elseif self:peek().t == "name" and self:look().t == "op" and self:look().v == "=" then
      kwnames[#kwnames + 1] = self:next().v
      self:next()
      kwvals[#kwvals + 1] = self:expr()
    else
      if #kwnames > 0 then self:error("positional argument after a keyword argument") end
      args[#args + 1] = self:expr()
    end
  end
  self:expect_op(")")
  return args, kwnames, kwvals, star, dstar
end

function P:call(fn)
  local pos = self:peek().pos
  local args, kwnames, kwvals, star, dstar = self:call_args()
  return { k = "call", fn = fn, args = args, kwnames = kwnames, kwvals = kwvals, star = star, dstar = dstar,
    pos = pos }
end

function P:filter_name()
  local t = self:expect_name()
  local name = t.v
  while self:is_op(".") and self:look().t == "name" do
    self:next()
    name = name .. "." .. self:next().v
  end
  return name, t.pos
end

function P:filter(node, start_inline)
  while self:is_op("|") or start_inline do
    if not start_inline then self:next() end
    start_inline = false
    local name, pos = self:filter_name()
    local args, kwnames, kwvals, star, dstar = {}, {}, {}, nil, nil
    if self:is_op("(") then args, kwnames, kwvals, star, dstar = self:call_args() end
    node = { k = "filter", name = name, node = node, args = args, kwnames = kwnames, kwvals = kwvals,
      star = star, dstar = dstar, pos = pos }
  end
  return node
end

local NO_ARG = { ["else"] = true, ["or"] = true, ["and"] = true, ["if"] = true, ["in"] = true, ["is"] = true,
  ["not"] = false }

function P:filter_expr(node)
  while true do
    if self:is_op("|") then
      node = self:filter(node)
    elseif self:is_name("is") then
      self:next()
      local negate = self:skip_name("not")
      local t = self:peek()
      local name, pos
      if t.t == "name" then
        name, pos = self:filter_name()
      else
        self:error("expected a test name after 'is', got " .. describe(t))
      end
      local args, kwnames, kwvals = {}, {}, {}
      local nt = self:peek()
      if self:is_op("(") then
        args, kwnames, kwvals = self:call_args()
      elseif (nt.t == "name" and not NO_ARG[nt.v] and NO_ARG[nt.v] ~= false) or nt.t == "string"
        or nt.t == "int" or nt.t == "float" or (nt.t == "op" and (nt.v == "[" or nt.v == "{" or nt.v == "-")) then
        local arg = self:primary()
        arg = self:postfix(arg)
        args = { arg }
      end
      node = { k = "test", name = name, node = node, args = args, kwnames = kwnames, kwvals = kwvals,
        negate = negate, pos = pos }
    else
      return node
    end
  end
end

-- a, b, c without parentheses (for `set` values and `for` targets).
function P:tuple(simple, with_cond)
  local pos = self:peek().pos
  local items = {}
  local trailing = false
  while true do
    if #items > 0 then
      if not self:skip_op(",") then break end
      trailing = true
    end
    local t = self:peek()
    if t.t == "block_end" or t.t == "var_end" or t.t == "eof" or (t.t == "op" and (t.v == ")" or t.v == "="))
      or (#items > 0 and t.t == "name" and (t.v == "in" or t.v == "recursive" or t.v == "if")) then
      break
    end
    if simple then
      items[#items + 1] = self:target_name()
    else
      items[#items + 1] = self:expr(with_cond)
    end
    trailing = false
  end
  if #items == 0 then self:error("expected an expression, got " .. describe(self:peek())) end
  if #items == 1 and not trailing then return items[1] end
  return { k = "tuple", items = items, pos = pos }
end

function P:target_name()
  local t = self:expect_name()
  if self:is_op(".") and self:look().t == "name" then
    self:next()
    return { k = "nsattr", name = t.v, attr = self:next().v, pos = t.pos }
  end
  return { k = "name", name = t.v, pos = t.pos }
end

function P:target()
  local pos = self:peek().pos
  if self:skip_op("(") then
    local tt = self:tuple(true)
    self:expect_op(")")
    if tt.k ~= "tuple" then tt = { k = "tuple", items = { tt }, pos = pos } end
    return tt
  end
  return self:tuple(true)
end

M.methods = P -- the expression methods of the parser's class (template/parser.lua)

return M
