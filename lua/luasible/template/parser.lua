--- luasible.template.parser: tokens (template/lexer.lua) -> a tree of
-- nodes, as Jinja2's parser reads them (same precedence, same statements).
--
--   parser.template(toks, src, name) -> { k = "template", body }
--   parser.expression(toks, src, name) -> an expression node
--
-- Expression nodes: const (v), name, list/tuple (items), dict (keys, vals),
-- getattr (obj, attr), getitem (obj, key), slice (obj, start, stop, step),
-- call (fn, args, kwnames, kwvals), filter / test (name, node, args,
-- kwnames, kwvals; negate), bin (op + - * / // % ** ~), cmp (first, ops,
-- rights), and / or (l, r), not / neg / pos (e), cond (test, yes, no).
-- Statements: data, emit, if, for, set, setblock, macro, callblock,
-- filterblock, include, import, fromimport, with, do, break, continue.
-- Every node has `pos` (a byte offset in src) for messages. A syntax error
-- raises { template_error = "name:line:col: what was expected" }.
local lexer = require "luasible.template.lexer"
local values = require "luasible.template.values"

local M = {}

local P = {}
P.__index = P

function P:error(msg, pos)
  lexer.error(self.src, self.name, pos or self:peek().pos, msg)
end

local function describe(tok)
  if tok.t == "eof" then return "end of template" end
  if tok.t == "op" or tok.t == "name" then return "'" .. tostring(tok.v) .. "'" end
  if tok.t == "block_end" then return "end of statement block" end
  if tok.t == "var_end" then return "end of print statement" end
  if tok.t == "string" then return "string" end
  if tok.t == "int" or tok.t == "float" then return "number" end
  return tok.t
end

function P:peek() return self.toks[self.i] end
function P:look(n) return self.toks[self.i + (n or 1)] end
function P:next() local t = self.toks[self.i]; self.i = self.i + 1; return t end
function P:is_op(v) local t = self.toks[self.i]; return t.t == "op" and t.v == v end
function P:is_name(v) local t = self.toks[self.i]; return t.t == "name" and (v == nil or t.v == v) end
function P:skip_op(v) if self:is_op(v) then self.i = self.i + 1 return true end return false end
function P:skip_name(v) if self:is_name(v) then self.i = self.i + 1 return true end return false end
function P:expect_op(v)
  if not self:is_op(v) then self:error("expected '" .. v .. "', got " .. describe(self:peek())) end
  return self:next()
end
function P:expect_name(v)
  local t = self:peek()
  if t.t ~= "name" or (v and t.v ~= v) then
    self:error("expected " .. (v and ("'" .. v .. "'") or "a name") .. ", got " .. describe(t))
  end
  return self:next()
end
function P:expect(kind)
  local t = self:peek()
  if t.t ~= kind then
    local want = kind == "block_end" and "end of statement block ('%}')"
      or kind == "var_end" and "end of print statement ('}}')" or kind
    self:error("expected " .. want .. ", got " .. describe(t))
  end
  return self:next()
end

-- ------------------------------------------------------------ expressions

M.MAX_DEPTH = 200

function P:enter()
  self.depth = self.depth + 1
  if self.depth > M.MAX_DEPTH then self:error("expression nested more than " .. M.MAX_DEPTH .. " levels deep") end
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

function P:or_expr()
  local l = self:and_expr()
  while self:is_name("or") do
    local pos = self:next().pos
    l = { k = "or", l = l, r = self:and_expr(), pos = pos }
  end
  return l
end

function P:and_expr()
  local l = self:not_expr()
  while self:is_name("and") do
    local pos = self:next().pos
    l = { k = "and", l = l, r = self:not_expr(), pos = pos }
  end
  return l
end

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

-- ------------------------------------------------------------ statements

local END_OF = { ["if"] = "endif", ["for"] = "endfor", macro = "endmacro", call = "endcall", filter = "endfilter",
  set = "endset", with = "endwith", block = "endblock" }

-- Statements until a block tag named in `stop`; returns body, the stop word.
function P:body(stop, opener)
  local body = {}
  while true do
    local t = self:peek()
    if t.t == "data" then
      self:next()
      body[#body + 1] = { k = "data", v = t.v, pos = t.pos }
    elseif t.t == "var_begin" then
      self:next()
      local e = self:tuple(false)
      self:expect("var_end")
      body[#body + 1] = { k = "emit", e = e, pos = t.pos }
    elseif t.t == "block_begin" then
      local nt = self:look()
      if nt.t == "name" and stop and stop[nt.v] then
        self.i = self.i + 2
        return body, nt.v, nt
      end
      self:next()
      body[#body + 1] = self:statement()
    elseif t.t == "eof" then
      if stop then
        local want = {}
        for w in pairs(stop) do want[#want + 1] = "'" .. w .. "'" end
        table.sort(want)
        self:error(string.format("unexpected end of template: the '%s' tag opened at line %d needs %s",
          opener.v, (lexer.where(self.src, opener.pos)), table.concat(want, " or ")), opener.pos)
      end
      return body
    else
      self:error("unexpected " .. describe(t))
    end
  end
end

function P:end_tag() self:expect("block_end") end

function P:statement()
  local t = self:peek()
  if t.t ~= "name" then self:error("expected a tag name, got " .. describe(t)) end
  local f = self["st_" .. t.v]
  if not f then
    if t.v:match("^end") or t.v == "else" or t.v == "elif" then
      self:error("unexpected '" .. t.v .. "': no open tag it closes")
    end
    self:error("unknown tag '" .. t.v .. "'")
  end
  self:next()
  self.sdepth = self.sdepth + 1
  if self.sdepth > M.MAX_DEPTH then self:error("blocks nested more than " .. M.MAX_DEPTH .. " levels deep", t.pos) end
  local node = f(self, t)
  self.sdepth = self.sdepth - 1
  node.pos = node.pos or t.pos
  return node
end

P["st_if"] = function(self, t)
  local node = { k = "if", branches = {} }
  local test = self:expr()
  self:end_tag()
  while true do
    local body, word = self:body({ elif = true, ["else"] = true, endif = true }, t)
    node.branches[#node.branches + 1] = { test = test, body = body }
    if word == "elif" then
      test = self:expr()
      self:end_tag()
    elseif word == "else" then
      self:end_tag()
      node.else_ = self:body({ endif = true }, t)
      self:end_tag()
      return node
    else
      self:end_tag()
      return node
    end
  end
end

P["st_for"] = function(self, t)
  local target = self:target()
  self:expect_name("in")
  local iter = self:tuple(false, false)
  local cond
  if self:skip_name("if") then cond = self:expr() end
  local recursive = self:skip_name("recursive")
  self:end_tag()
  self.loops = self.loops + 1
  local body, word = self:body({ ["else"] = true, endfor = true }, t)
  self.loops = self.loops - 1
  local else_
  self:end_tag()
  if word == "else" then
    else_ = self:body({ endfor = true }, t)
    self:end_tag()
  end
  return { k = "for", target = target, iter = iter, cond = cond, recursive = recursive, body = body,
    else_ = else_ }
end

P["st_set"] = function(self, t)
  local target = self:target()
  if self:skip_op("=") then
    local e = self:tuple(false)
    self:end_tag()
    return { k = "set", target = target, e = e }
  end
  local filt
  if self:is_op("|") then filt = self:filter({ k = "blockvalue" }) end
  self:end_tag()
  local body = self:body({ endset = true }, t)
  self:end_tag()
  return { k = "setblock", target = target, body = body, filter = filt }
end

function P:macro_signature()
  local params = {}
  self:expect_op("(")
  while not self:is_op(")") do
    if #params > 0 then self:expect_op(",") end
    local n = self:expect_name()
    local p = { name = n.v }
    if self:skip_op("=") then p.default = self:expr() end
    params[#params + 1] = p
  end
  self:expect_op(")")
  return params
end

P["st_macro"] = function(self, t)
  local name = self:expect_name().v
  local params = self:macro_signature()
  self:end_tag()
  local loops = self.loops
  self.loops = 0
  local body = self:body({ endmacro = true }, t)
  self.loops = loops
  if self:is_name(name) then self:next() end
  self:end_tag()
  return { k = "macro", name = name, params = params, body = body }
end

P["st_call"] = function(self, t)
  local params = {}
  if self:is_op("(") then params = self:macro_signature() end
  local call = self:expr()
  if call.k ~= "call" then self:error("expected a macro call after 'call'", call.pos) end
  self:end_tag()
  local body = self:body({ endcall = true }, t)
  self:end_tag()
  return { k = "callblock", call = call, params = params, body = body }
end

P["st_filter"] = function(self, t)
  local filt = self:filter({ k = "blockvalue" }, true)
  self:end_tag()
  local body = self:body({ endfilter = true }, t)
  self:end_tag()
  return { k = "filterblock", filter = filt, body = body }
end

function P:context_modifier(default)
  if (self:is_name("with") or self:is_name("without")) and self:look().t == "name" and self:look().v == "context" then
    local w = self:next().v
    self:next()
    return w == "with"
  end
  return default
end

P["st_include"] = function(self)
  local tmpl = self:expr()
  local ignore = false
  if self:is_name("ignore") and self:look().t == "name" and self:look().v == "missing" then
    self.i = self.i + 2
    ignore = true
  end
  local ctx = self:context_modifier(true)
  self:end_tag()
  return { k = "include", template = tmpl, ignore_missing = ignore, with_context = ctx }
end

P["st_import"] = function(self)
  local tmpl = self:expr()
  self:expect_name("as")
  local target = self:expect_name().v
  local ctx = self:context_modifier(false)
  self:end_tag()
  return { k = "import", template = tmpl, target = target, with_context = ctx }
end

P["st_from"] = function(self)
  local tmpl = self:expr()
  self:expect_name("import")
  local names = {}
  while true do
    if #names > 0 and not self:skip_op(",") then break end
    if self:is_name("with") or self:is_name("without") then break end
    local n = self:expect_name().v
    local alias = n
    if self:skip_name("as") then alias = self:expect_name().v end
    names[#names + 1] = { name = n, alias = alias }
    if self:peek().t == "block_end" then break end
  end
  local ctx = self:context_modifier(false)
  self:end_tag()
  return { k = "fromimport", template = tmpl, names = names, with_context = ctx }
end

P["st_with"] = function(self, t)
  local targets, vals = {}, {}
  while self:peek().t ~= "block_end" do
    if #targets > 0 then self:expect_op(",") end
    targets[#targets + 1] = self:target_name()
    self:expect_op("=")
    vals[#vals + 1] = self:expr()
  end
  self:end_tag()
  local body = self:body({ endwith = true }, t)
  self:end_tag()
  return { k = "with", targets = targets, vals = vals, body = body }
end

P["st_do"] = function(self, t)
  if not self.ext["do"] then self:error("unknown tag 'do' (the jinja2.ext.do extension is not enabled)", t.pos) end
  local e = self:tuple(false)
  self:end_tag()
  return { k = "do", e = e }
end

P["st_break"] = function(self, t)
  if not self.ext.loopcontrols then
    self:error("unknown tag 'break' (the jinja2.ext.loopcontrols extension is not enabled)", t.pos)
  end
  if self.loops == 0 then self:error("'break' outside of a loop", t.pos) end
  self:end_tag()
  return { k = "break" }
end

P["st_continue"] = function(self, t)
  if not self.ext.loopcontrols then
    self:error("unknown tag 'continue' (the jinja2.ext.loopcontrols extension is not enabled)", t.pos)
  end
  if self.loops == 0 then self:error("'continue' outside of a loop", t.pos) end
  self:end_tag()
  return { k = "continue" }
end

-- {% block name %}...{% endblock %} without inheritance: its body in place.
P["st_block"] = function(self, t)
  self:expect_name()
  self:skip_name("scoped")
  self:end_tag()
  local body = self:body({ endblock = true }, t)
  if self:peek().t == "name" then self:next() end
  self:end_tag()
  return { k = "with", targets = {}, vals = {}, body = body }
end

local function new(toks, src, name, ext)
  return setmetatable({ toks = toks, i = 1, src = src, name = name or "template", depth = 0, sdepth = 0, loops = 0,
    ext = ext or {} }, P)
end

--- The tree of a template's tokens. ext: enabled extensions ({ ["do"] =
--- true, loopcontrols = true }: jinja2.ext.do, jinja2.ext.loopcontrols).
function M.template(toks, src, name, ext)
  local p = new(toks, src, name, ext)
  local body = p:body(nil)
  return { k = "template", body = body }
end

--- The tree of an expression's tokens (all of them must be used).
function M.expression(toks, src, name)
  local p = new(toks, src, name)
  local e = p:tuple(false)
  if p:peek().t ~= "eof" then p:error("unexpected " .. describe(p:peek()) .. " after the expression") end
  return e
end

M.END_OF = END_OF

return M
