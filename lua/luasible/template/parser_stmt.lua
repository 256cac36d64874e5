--- luasible.template.parser_stmt: Jinja2's statements (tags) as its
-- parser reads them: a body of text, {{ }} and {% %} up to a closing tag,
-- and each tag (if, for, set, macro, call, filter, include, import, from,
-- with, do, break, continue, block). The parser's class
-- (template/parser.lua) has them; expressions are template/parser_expr.lua's.
local lexer = require "luasible.template.lexer"
local describe = require("luasible.template.parser_tokens").describe

local M = {}

local P = {}

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
  if self.sdepth > self.max_depth then
    self:error("blocks nested more than " .. self.max_depth .. " levels deep", t.pos)
  end
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

-- break / continue (jinja2.ext.loopcontrols): only inside a loop
local function loop_control(word)
  return function(self, t)
    if not self.ext.loopcontrols then
      self:error("unknown tag '" .. word .. "' (the jinja2.ext.loopcontrols extension is not enabled)", t.pos)
    end
    if self.loops == 0 then self:error("'" .. word .. "' outside of a loop", t.pos) end
    self:end_tag()
    return { k = word }
  end
end
P["st_break"] = loop_control("break")
P["st_continue"] = loop_control("continue")

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

M.END_OF = END_OF

M.methods = P -- the statement methods of the parser's class (template/parser.lua)

return M
