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
--
-- The grammar is in three files: template/parser_tokens.lua (reading the
-- lexer's tokens), template/parser_expr.lua (expressions),
-- template/parser_stmt.lua (statements and tags); this one makes a parser
-- of them.
local tokens = require "luasible.template.parser_tokens"
local expr = require "luasible.template.parser_expr"
local stmt = require "luasible.template.parser_stmt"

local M = {}

local P = {}
P.__index = P
for _, part in ipairs({ tokens, expr, stmt }) do
  for k, f in pairs(part.methods) do P[k] = f end
end

local describe = tokens.describe

M.MAX_DEPTH = 200

local function new(toks, src, name, ext)
  return setmetatable({ toks = toks, i = 1, src = src, name = name or "template", depth = 0, sdepth = 0, loops = 0,
    ext = ext or {}, max_depth = M.MAX_DEPTH }, P)
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

M.END_OF = stmt.END_OF

return M
