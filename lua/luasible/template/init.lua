--- luasible.template: a small, safe expression language and template
-- engine; this face is what the rest of luasible calls.
--
--   template/lexer.lua   expression text -> tokens
--   template/expr.lua    tokens -> closures f(vars, rc) (the parser)
--   template/ops.lua     what the operators do
--   template/filters.lua, template/tests.lua   `x | filter`, `x is test`
--   template/blocks.lua  {{ }} {% if %} {% for %} text -> nodes -> output
--   template/values.lua  undefined, truth, text of values (shared)
--   template/unsafe.lua  unsafe variables, the render context
--
-- Every call here makes its own render context (or takes one as its last
-- argument) and passes it along: no state of a render outlives the call or
-- is seen by another one. Errors come back as nil, message.
local values = require "luasible.template.values"
local unsafe = require "luasible.template.unsafe"
local expr = require "luasible.template.expr"
local blocks = require "luasible.template.blocks"

local M = {}

M.filters = require "luasible.template.filters"
M.tests = require "luasible.template.tests"
M.is_undefined = values.is_undefined
M.truthy = values.truthy
M.tostring = values.tostring

--- A render context (template/unsafe.lua), for a caller that renders
--- several values as one: pass it as the last argument of each call.
M.context = unsafe.context

--- Mark names of the scope table `vars` as unsafe ({ name = true, ... } or a list); returns vars.
M.mark_unsafe = unsafe.mark

--- Is `name`, as seen from the scope `vars`, an unsafe variable?
M.is_unsafe = unsafe.is_unsafe

-- fn(...) with errors of templates as nil, message; other errors re-raised.
local function protect(fn, ...)
  local ok, res = pcall(fn, ...)
  if ok then return res end
  if type(res) == "table" and res.template_error then return nil, res.template_error end
  error(res, 0)
end

--- Compile an expression string; returns f(vars [, rc]) -> value or raises {template_error}.
function M.compile_expr(src)
  local f = expr.compile(src)
  return function(vars, rc) return f(vars or {}, rc or unsafe.context()) end
end

--- Evaluate an expression: returns value, or nil, err. An undefined result is an error.
function M.eval(src, vars, rc)
  return protect(expr.value, src, vars or {}, rc or unsafe.context())
end

--- Evaluate a condition (for `when`): returns true/false, or nil, err.
function M.test(src, vars, rc)
  return protect(function() return values.truthy(expr.value(src, vars or {}, rc or unsafe.context())) end)
end

--- Render a template string. Returns the text, or nil, "name:line: message".
function M.render(src, vars, name, rc)
  name = name or "template"
  return protect(function()
    local out = {}
    blocks.render(blocks.parse(src, name), vars or {}, out, name, rc or unsafe.context())
    return table.concat(out)
  end)
end

--- Check the syntax of a string that will be templated, without rendering
--- it: unclosed tags, bad expressions, unknown filters and tests. Undefined
--- variables are not an error here (they are only known per host). Strings
--- without {{ or {% are not templates. Returns true, or nil, err (with
--- "line N: " for a problem past the first line).
function M.check(v)
  if type(v) ~= "string" or not v:find("{[{%%]") then return true end
  local ok, err = pcall(blocks.parse, v, "value")
  if ok then return true end
  err = type(err) == "table" and err.template_error or tostring(err)
  local line, rest = err:match("^value:(%d+): (.*)$")
  if line then err = (line == "1" and "" or ("line " .. line .. ": ")) .. rest end
  return nil, err
end

-- One value of task args, rendered (raises { template_error }).
local function render_one(v, vars, rc)
  if type(v) == "string" then
    if not v:find("{[{%%]") then return v end
    local whole = v:match("^%s*{{(.-)}}%s*$")
    if whole and not whole:find("}}", 1, true) then
      return expr.value(whole:match("^%s*(.-)%s*$"), vars, rc)
    end
    local out = {}
    local ok, err = pcall(blocks.render, blocks.parse(v, "value"), vars, out, "value", rc)
    if not ok then
      if type(err) == "table" and err.template_error then
        values.fail((err.template_error:gsub("^value:%d+: ", "")))
      end
      error(err, 0)
    end
    return table.concat(out)
  elseif type(v) == "table" then
    local t = {}
    for k, x in pairs(v) do t[k] = render_one(x, vars, rc) end
    return t
  end
  return v
end

--- Render one value from task args: strings with {{ }} are templated, tables
--- recursively. A string that is exactly "{{ expr }}" yields the raw value
--- (a list stays a list). Returns value, or nil, err.
function M.render_value(value, vars, rc)
  return protect(render_one, value, vars or {}, rc or unsafe.context())
end

--- A variable whose value is itself a template ("{{ root }}/x"), rendered
--- when it is used, as in Ansible (raises { template_error }).
function M.nested(v, vars, name, rc)
  rc = rc or unsafe.context()
  if rc.depth > 20 then values.fail("variable '" .. name .. "' refers to itself") end
  rc.depth = rc.depth + 1
  local ok, r, err = pcall(M.render_value, v, vars, rc)
  rc.depth = rc.depth - 1
  if not ok then error(r, 0) end
  if err then values.fail(err) end
  return r
end

--- fn(a, vars, rc) (render_value, eval or test) with a fresh render
--- context; returns whether it read an unsafe variable, then fn's results.
function M.tainted(fn, a, vars)
  local rc = unsafe.context()
  local r = table.pack(fn(a, vars, rc))
  return rc.unsafe_reads > 0, table.unpack(r, 1, r.n)
end

return M
