--- luasible.template.compiler: a template's (or an expression's) tree
-- (template/parser.lua) as Lua source, load()ed once: compile once,
-- evaluate many, as Jinja2 compiles templates to Python.
--
--   compiler.template(tree, name, src [, flags]) -> render(vars, rc, env) -> text, exports
--   compiler.expression(tree, name, src [, flags]) -> eval(vars, rc, env) -> value
--   flags.jinja: None prints as "None" (plain Jinja2), not "" (Ansible's finalize)
--
-- The generated code calls template/runtime.lua (R) and holds its
-- constants (filter bindings, ...) in K. Template variables (for targets,
-- set, macro parameters) are Lua locals; other names are read from `vars`
-- at run time (R.getvar). Filters and tests are bound to their signatures
-- here (template/registry.lua, contract C): an unknown one, or a call that
-- does not fit, is a compile error with name:line:column.
--
-- Errors at run time: the Lua line of the failing code maps back to the
-- template's line (M.where), so no line bookkeeping costs anything when
-- nothing fails.
--
-- The compiler's class is made of template/compiler_emit.lua (the source
-- buffer, constants, temporaries, scopes), template/compiler_expr.lua
-- (expressions, filter and test bindings) and template/compiler_stmt.lua
-- (statements, loops, macros, includes); this file turns its source into
-- functions.
local values = require "luasible.template.values"
local R = require "luasible.template.runtime"
local emit = require "luasible.template.compiler_emit"
local expr = require "luasible.template.compiler_expr"
local stmt = require "luasible.template.compiler_stmt"

local fail = values.fail
local format, concat = string.format, table.concat

local M = {}

-- chunk name -> { name = template name, lines = { lua line -> template line } }
local CHUNKS = setmetatable({}, { __mode = "v" })
local chunk_no = 0

--- The template name and line of a run-time error, from the Lua stack
--- (call inside an error handler): name, line, or nil.
function M.where(level)
  level = (level or 1) + 1
  for l = level, level + 60 do
    local info = debug.getinfo(l, "Sl")
    if not info then break end
    local c = CHUNKS[info.source]
    if c then return c.name, c.lines[info.currentline] or 0 end
  end
  return nil
end

local C = {}
C.__index = C
for _, part in ipairs({ emit, expr, stmt }) do
  for k, f in pairs(part.methods) do C[k] = f end
end

--- A filter or test node bound as the compiler binds it: true, entry,
--- binding; or false, why not (template/compiler_expr.lua).
M.bind = expr.bind

local HEADER = [[
local R, K, F = ...
local getvar, getattr, getitem, truthy, iter = R.getvar, R.getattr, R.getitem, R.truthy, R.iter
local out = F.jinja and R.out_jinja or R.out
local loop_at, concat, none, setmetatable = R.loop_at, table.concat, R.none, setmetatable
local function LV(v, vars, name, rc) if v ~= nil then return v end return getvar(vars, name, rc) end
local U = R.check
]]
local HEADER_LINES = select(2, HEADER:gsub("\n", ""))

local function new(name, src, flags)
  return setmetatable({ code = {}, lines = {}, K = {}, nk = 0, kmap = {}, ntmp = 0, name = name or "template",
    src = src, line_cache = {}, cur_line = 1, flags = flags or {} }, C)
end

local function finish(self, what)
  chunk_no = chunk_no + 1
  local chunkname = "=luasible-template-" .. chunk_no
  local lines = {}
  for i, l in pairs(self.lines) do lines[i + HEADER_LINES] = l end
  local text = HEADER .. concat(self.code, "\n")
  local fn, err = load(text, chunkname, "t")
  if not fn then
    fail(format("%s: internal error compiling the %s: %s", self.name, what, tostring(err)))
  end
  local info = { name = self.name, lines = lines, source = text }
  CHUNKS[chunkname] = info
  local f = fn(R, self.K, self.flags)
  -- keep the line map alive as long as the function
  R.keep[f] = info
  return f
end

--- The render function of a template tree.
function M.template(tree, name, src, flags)
  local self = new(name, src, flags)
  self:emit("return function(vars, rc, env)")
  self:emit("local buf, n = {}, 0")
  self:push(true)
  self:hoist(tree.body)
  local top = {}
  for k, b in pairs(self.scope.names) do top[#top + 1] = format("[%q] = %s", k, b.lua) end
  table.sort(top)
  self:body(tree.body)
  self:emit(format("return concat(buf, '', 1, n), {%s}", concat(top, ", ")))
  self:pop()
  self:emit("end")
  return finish(self, "template")
end

--- The eval function of an expression tree.
function M.expression(tree, name, src, flags)
  local self = new(name, src, flags)
  self:emit("return function(vars, rc, env)")
  self:push(true)
  local e = self:expr(tree)
  self:emit("return " .. e)
  self:pop()
  self:emit("end")
  return finish(self, "expression")
end

return M
