--- luasible.template: Jinja2 as Ansible uses it; this face is what the
-- rest of luasible calls.
--
--   template/lexer.lua     text -> tokens (delimiters, whitespace control,
--                          trim_blocks / lstrip_blocks, raw)
--   template/parser.lua    tokens -> tree (Jinja2's grammar): parser_tokens.lua
--                          (reading tokens), parser_expr.lua (expressions),
--                          parser_stmt.lua (statements, tags)
--   template/compiler.lua  tree -> Lua source, load()ed once: compiler_emit.lua
--                          (source buffer, constants, scopes), compiler_expr.lua
--                          (expressions, filter/test bindings), compiler_stmt.lua
--                          (statements, loops, macros, includes)
--   template/compile.lua   options, the #jinja2: header, the compile caches
--   template/runtime.lua   what compiled code calls (Python semantics)
--   template/methods.lua   str/list/dict methods ('a,b'.split(','))
--   template/values.lua    undefined, None, truth, text of values (contract B)
--   template/registry.lua, signature.lua, filters/, tests/   (contract C)
--   template/unsafe.lua    unsafe variables, the render context
--
-- Every call here makes its own render context (or takes one as its last
-- argument) and passes it along: no state of a render outlives the call or
-- is seen by another one. Errors come back as nil, message.
local values = require "luasible.template.values"
local unsafe = require "luasible.template.unsafe"
local lexer = require "luasible.template.lexer"
local parser = require "luasible.template.parser"
local compiler = require "luasible.template.compiler"
local runtime = require "luasible.template.runtime"

local M = {}

M.is_undefined = values.is_undefined
M.truthy = values.truthy
M.tostring = values.tostring
M.none = values.none

--- The text Ansible puts in place of an omitted argument ({{ omit }}):
--- a module argument equal to it is dropped (render_value).
M.OMIT = "__omit_place_holder__" .. string.format("%08x%08x", math.random(0, 0x7fffffff),
  math.random(0, 0x7fffffff))
runtime.globals.omit = M.OMIT

-- Compatibility for module helpers: `lines` as the old filter did it.
M.filters = {}
function M.filters.lines(v)
  local out = {}
  for l in (values.tostring(v) .. "\n"):gmatch("(.-)\r?\n") do out[#out + 1] = l end
  if out[#out] == "" then out[#out] = nil end
  return out
end

--- A render context (template/unsafe.lua), for a caller that renders
--- several values as one: pass it as the last argument of each call.
function M.context()
  local rc = unsafe.context()
  rc.macro_depth, rc.include_depth = 0, 0
  return rc
end
local new_context = M.context

local function ctx(rc)
  if not rc then return new_context() end
  if not rc.macro_depth then rc.macro_depth, rc.include_depth = 0, 0 end
  return rc
end

--- Mark names of the scope table `vars` as unsafe ({ name = true, ... } or a list); returns vars.
M.mark_unsafe = unsafe.mark

--- Is `name`, as seen from the scope `vars`, an unsafe variable?
M.is_unsafe = unsafe.is_unsafe

-- Options, the #jinja2: header and the compile caches (template/compile.lua)
local compile = require "luasible.template.compile"
M.DEFAULTS, M.options, M.clear_caches = compile.DEFAULTS, compile.options, compile.clear_caches
M.STRING_TYPE_FILTERS = compile.STRING_TYPE_FILTERS
local options, compile_template, compile_expression = compile.options, compile.template, compile.expression

-- ------------------------------------------------------------ running

-- Run fn(...) turning errors into { template_error = "name:line: msg" }
-- (the template line of the failing code, when there is one).
local function handler(e)
  if type(e) == "table" and e.template_error then
    if not e.located then
      local name, line = compiler.where(2)
      if name and name ~= "expression" then
        e = { template_error = string.format("%s:%d: %s", name, line, e.template_error), located = true }
      end
    end
    return e
  end
  if type(e) == "table" then return e end -- an interrupt or another structured error
  local name, line = compiler.where(2)
  local msg = tostring(e)
  if msg:find("stack overflow", 1, true) then msg = "too deeply nested (stack overflow)" end
  return { template_error = (name and string.format("%s:%d: ", name, line) or "") .. "internal error: " .. msg
    .. "\n" .. debug.traceback("", 2), located = true }
end

local function run(fn, ...)
  local r = table.pack(xpcall(fn, handler, ...))
  if r[1] then return table.unpack(r, 2, r.n) end
  error(r[2], 0)
end

-- fn(...) with errors of templates as nil, message; other errors re-raised.
local function protect(fn, ...)
  local ok, res = pcall(run, fn, ...)
  if ok then return res end
  if type(res) == "table" and res.template_error then return nil, res.template_error end
  error(res, 0)
end

-- A loader over opts.search_path (folders): name -> text, path.
local function path_loader(dirs)
  return function(name)
    for _, d in ipairs(dirs) do
      local path = name:sub(1, 1) == "/" and name or (d .. "/" .. name)
      local f = io.open(path, "rb")
      if f then
        local text = f:read("a")
        f:close()
        if text then return text, path end
      end
    end
    return nil, "template not found: '" .. name .. "' (searched " .. table.concat(dirs, ", ") .. ")"
  end
end

-- The environment of a render: a loader of other templates (include,
-- import) and the options; env.load(name) -> render, env.
local function make_env(opts, name)
  local env = { opts = opts, name = name }
  local loader = opts and (opts.loader or (opts.search_path and path_loader(opts.search_path)))
  if loader then
    env.load = function(tname)
      local src, path_or_err = loader(tname)
      if not src then return nil, nil, path_or_err or ("template not found: " .. tname) end
      local c = compile_template(src, tname, opts)
      return c.render, make_env(opts, tname)
    end
  end
  return env
end

local function lookup_env(vars, opts)
  return function()
    return { vars = vars, base_dir = opts and opts.base_dir, search_dirs = opts and opts.search_dirs,
      render = function(text, v, o)
        local r, err = M.render(text, v or vars, "lookup", nil, o or opts)
        if not r then values.fail(err) end
        return r
      end,
      secrets = opts and opts.secrets }
  end
end

-- Ansible keeps the text's trailing newlines (preserve_trailing_newlines).
local function finish_text(c, out)
  if c.ansible and c.trailing > 0 then
    local have = #(out:match("\n*$"))
    if have < c.trailing then out = out .. string.rep(c.newline or "\n", c.trailing - have) end
  end
  return out
end

local function render_text(src, vars, name, rc, opts)
  opts = options(opts)
  local c = compile_template(src, name, opts)
  rc.lookup_env = rc.lookup_env or lookup_env(vars, opts)
  local out = c.render(vars, rc, make_env(opts, name))
  return finish_text(c, out)
end

--- Check an expression string as compile_expr would, without compiling it
--- yet (conditions at load time): true, or raises {template_error}.
function M.check_expr(src)
  compile.check_expression(src, "expression")
  return true
end

--- Compile an expression string; returns f(vars [, rc]) -> value or raises {template_error}.
function M.compile_expr(src)
  local f = compile_expression(src, "expression")
  return function(vars, rc)
    vars = vars or {}
    rc = ctx(rc)
    rc.lookup_env = rc.lookup_env or lookup_env(vars)
    return run(f, vars, rc, make_env(nil, "expression"))
  end
end

local function eval(src, vars, rc, opts)
  local f = compile_expression(src, "expression")
  rc.lookup_env = rc.lookup_env or lookup_env(vars, opts)
  local v = f(vars, rc, make_env(opts, "expression"))
  if values.is_undefined(v) then values.undefined_error(v) end
  return v
end

--- Evaluate an expression: returns value, or nil, err. An undefined result is an error.
function M.eval(src, vars, rc, opts)
  return protect(eval, src, vars or {}, ctx(rc), opts and options(opts))
end

--- Evaluate a condition (for `when`): returns true/false, or nil, err.
--- As Ansible's Conditional: an empty condition holds; one holding {{ }}
--- or {% %} is rendered first and its text evaluated.
function M.test(src, vars, rc, opts)
  if type(src) == "string" and not src:find("%S") then return true end
  return protect(function()
    vars = vars or {}
    rc = ctx(rc)
    opts = opts and options(opts)
    if src:find("{[{%%]") then
      local text = render_text(src, vars, "condition", rc, opts)
      if not text:find("%S") then return false end
      src = text
    end
    return values.truthy(eval(src, vars, rc, opts))
  end)
end

--- Render a template string. Returns the text, or nil, "name:line: message".
--- opts (default M.DEFAULTS): trim_blocks, lstrip_blocks,
--- keep_trailing_newline, loader = function(name) -> text, path | nil, err
--- (for include / import), base_dir, search_dirs (for lookups).
function M.render(src, vars, name, rc, opts)
  return protect(render_text, src, vars or {}, name or "template", ctx(rc), opts)
end

--- Check the syntax of a string that will be templated, without rendering
--- it: unclosed tags, bad expressions, unknown filters and tests. Undefined
--- variables are not an error here (they are only known per host). Strings
--- without {{ or {% are not templates. Nothing is compiled to Lua here
--- (compile.check): that waits for the first render. Returns true, or nil, err (with
--- "line N: " for a problem past the first line, "column C: " else).
function M.check(v)
  if type(v) ~= "string" or not v:find("{[{%%#]") then return true end
  local ok, err = pcall(compile.check, v, "value", M.DEFAULTS)
  if ok then return true end
  err = type(err) == "table" and err.template_error or tostring(err)
  local line, col, rest = err:match("^value:(%d+):(%d+): (.*)$")
  if line then err = (line == "1" and ("column " .. col .. ": ") or ("line " .. line .. ": ")) .. rest end
  return nil, err
end

local OMIT = M.OMIT


-- Python's ast.literal_eval of a rendered string, as Ansible's native
-- concat does it: the value when the whole text is a Python literal (a
-- number, True/False/None, a list, tuple or dict of literals), else nil.
local LITERAL = { const = true, list = true, tuple = true, dict = true }
local function literal_node(n)
  if n.k == "neg" or n.k == "pos" then return n.e.k == "const" and type(n.e.v) == "number" end
  if not LITERAL[n.k] then return false end
  for _, key in ipairs({ "items", "keys", "vals" }) do
    for _, x in ipairs(n[key] or {}) do if not literal_node(x) then return false end end
  end
  return true
end
local PY_NAMES = { True = true, False = true, None = true }
local function literal_eval(s)
  if not s:find("^[%d%-%+%[{%('\"TFN%.]") then return nil end
  if s:find("%f[%w_.]0%d") and not s:find("^0+$") then return nil end -- 0755: not a Python literal
  local ok, toks = pcall(lexer.expression, s, "literal")
  if not ok then return nil end
  for _, t in ipairs(toks) do
    if t.t == "name" and not PY_NAMES[t.v] then return nil end
  end
  local tree
  ok, tree = pcall(parser.expression, toks, s, "literal")
  if not ok or not literal_node(tree) then return nil end
  local f
  ok, f = pcall(compiler.expression, tree, "literal", s)
  if not ok then return nil end
  local v
  ok, v = pcall(f, {}, new_context(), {})
  if not ok or type(v) == "string" then return nil end
  return v
end
M.literal_eval = literal_eval

-- One value of task args, rendered (raises { template_error }).
local function render_one(v, vars, rc, opts)
  if type(v) == "string" then
    if not v:find("{[{%%#]") then return v end
    -- play strings: backslashes in string literals are kept as written
    -- (Ansible's escape_backslashes), so '\n' in {{ }} is a backslash and n
    local c = compile_template(v, "value", opts.value_opts)
    if c.empty then return values.none end -- only comments: Ansible's native None
    rc.lookup_env = rc.lookup_env or lookup_env(vars, opts)
    local ok, r = pcall(run, function()
      local env = make_env(opts, "value")
      if c.native then
        local x = c.native(vars, rc, env)
        if values.is_undefined(x) then values.undefined_error(x) end
        if x == nil or x == values.none then
          -- Ansible's finalize; a bare {{ var }} is the variable's value
          if c.bare_name then return values.none end
          return ""
        end
        -- a string ending in newlines ("{{ version }}\n") is text, as ansible-playbook
        -- (jinja2_native off) makes it: a text or number result gets its newlines
        local as_text = c.trailing > 0 and (type(x) == "string" or math.type(x) ~= nil)
        if not as_text then
          if type(x) ~= "string" or c.text_filter then return x end
          local lit = literal_eval(x)
          if lit ~= nil then return lit end
          return x
        end
      end
      local text = finish_text(c, (c.render(vars, rc, env)))
      local lit = literal_eval(text)
      if lit ~= nil and not (c.trailing > 0 and math.type(lit)) then return lit end
      return text
    end)
    if not ok then
      if type(r) == "table" and r.template_error then
        error({ template_error = (r.template_error:gsub("^value:%d+: ", "")), undefined = r.undefined }, 0)
      end
      error(r, 0)
    end
    return r
  elseif type(v) == "table" and not values.is_undefined(v) and v ~= values.none then
    if values.is_list(v) then
      local t = {}
      for _, x in ipairs(v) do
        local r = render_one(x, vars, rc, opts)
        if r ~= OMIT then t[#t + 1] = r end
      end
      return t
    end
    -- a mapping keeps its order (of the text, or of insertion)
    local t = values.mapping()
    for _, k in ipairs(values.keys(v)) do
      local r = render_one(v[k], vars, rc, opts)
      if r ~= OMIT then values.set(t, k, r) end
    end
    return t
  end
  return v
end

--- Render one value from task args: strings with {{ }} are templated, tables
--- recursively. A string that is exactly "{{ expr }}" yields the raw value
--- (a list stays a list). Items equal to {{ omit }} are dropped. Returns
--- value, or nil, err.
-- The options of play strings: raw_strings over the caller's (cached per
-- options table, weakly).
local VALUE_OPTS = setmetatable({}, { __mode = "k" })
local function value_options(opts)
  local vo = VALUE_OPTS[opts]
  if not vo then
    vo = { raw_strings = true }
    for k, x in pairs(opts) do if vo[k] == nil then vo[k] = x end end
    VALUE_OPTS[opts] = vo
  end
  return vo
end

function M.render_value(value, vars, rc, opts)
  opts = options(opts)
  local vo = value_options(opts)
  return protect(render_one, value, vars or {}, ctx(rc), { value_opts = vo, __merged = true,
    search_path = opts.search_path, loader = opts.loader, base_dir = opts.base_dir, search_dirs = opts.search_dirs,
    secrets = opts.secrets })
end

local NESTED_OPTS = { value_opts = value_options(M.DEFAULTS), __merged = true }

--- A variable whose value is itself a template ("{{ root }}/x"), rendered
--- when it is used, as in Ansible (raises { template_error }).
function M.nested(v, vars, name, rc)
  rc = ctx(rc)
  if rc.depth > 20 then values.fail("variable '" .. name .. "' refers to itself") end
  rc.depth = rc.depth + 1
  local ok, r = pcall(render_one, v, vars, rc, NESTED_OPTS)
  rc.depth = rc.depth - 1
  if not ok then error(r, 0) end
  return r
end

--- fn(a, vars, rc, opts) (render_value, eval or test) with a fresh render
--- context; returns whether it read an unsafe variable, then fn's results.
function M.tainted(fn, a, vars, opts)
  local rc = new_context()
  local r = table.pack(fn(a, vars, rc, opts))
  return rc.unsafe_reads > 0, table.unpack(r, 1, r.n)
end

return M
