--- luasible.template.parser_tokens: the parser's reading of the lexer's
-- tokens (template/lexer.lua): peek, look ahead, take, expect one kind,
-- and a token as a syntax error names it. The parser's class
-- (template/parser.lua) has them.
local lexer = require "luasible.template.lexer"

local M = {}

local P = {}

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
M.describe = describe

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

M.methods = P -- the token methods of the parser's class (template/parser.lua)

return M
