--- luasible.template: Jinja2 as Ansible uses it; this face is what the
-- rest of luasible calls.
--
--   template/lexer.lua     text -> tokens (delimiters, whitespace control,
--                          trim_blocks / lstrip_blocks, raw)
--   template/parser.lua    tokens -> tree (Jinja2's grammar)
--   template/compiler.lua  tree -> Lua source, load()ed once and cached
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

-- ------------------------------------------------------------ options

--- Ansible's defaults (its template module and Templar): trim_blocks on,
--- lstrip_blocks off, the trailing newlines of the text kept.
M.DEFAULTS = { trim_blocks = true, lstrip_blocks = false, keep_trailing_newline = false, ansible = true }

local OPTION_NAMES = { trim_blocks = "boolean", lstrip_blocks = "boolean", keep_trailing_newline = "boolean",
  block_start_string = "string", block_end_string = "string", variable_start_string = "string",
  variable_end_string = "string", comment_start_string = "string", comment_end_string = "string",
  newline_sequence = "string" }

-- A `#jinja2: trim_blocks: False, lstrip_blocks: True` first line: the
-- options it sets and the text after it.
local function header(src, name, opts)
  if src:sub(1, 8) ~= "#jinja2:" then return opts, src end
  local eol = src:find("\n", 1, true) or (#src + 1)
  local line = src:sub(9, eol - 1)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  for pair in line:gmatch("[^,]+") do
    local key, val = pair:match("^%s*([%w_]+)%s*:%s*(.-)%s*$")
    if not key then values.fail(string.format("%s:1: bad #jinja2: override '%s' (use key: value, ...)", name, pair)) end
    local kind = OPTION_NAMES[key]
    if not kind then values.fail(string.format("%s:1: unknown #jinja2: option '%s'", name, key)) end
    local v
    if val == "True" or val == "true" then v = true
    elseif val == "False" or val == "false" then v = false
    else
      local q = val:match("^'(.*)'$") or val:match('^"(.*)"$')
      if q then v = lexer.unescape(q) end
    end
    if v == nil or type(v) ~= kind then
      values.fail(string.format("%s:1: #jinja2: option '%s' must be %s, got '%s'", name, key,
        kind == "boolean" and "True or False" or "a quoted string", val))
    end
    o[key] = v
  end
  return o, src:sub(eol + 1)
end

local function lex_opts(o, name)
  return { name = name, trim_blocks = o.trim_blocks, lstrip_blocks = o.lstrip_blocks,
    block_start = o.block_start_string, block_end = o.block_end_string, variable_start = o.variable_start_string,
    variable_end = o.variable_end_string, comment_start = o.comment_start_string, comment_end = o.comment_end_string }
end

local function opts_key(o)
  return table.concat({ tostring(o.trim_blocks), tostring(o.lstrip_blocks), tostring(o.keep_trailing_newline),
    o.block_start_string or "", o.block_end_string or "", o.variable_start_string or "",
    o.variable_end_string or "", o.comment_start_string or "", o.comment_end_string or "" }, "\1")
end

-- ------------------------------------------------------------ compile caches

-- Compiled templates and expressions by their text (and options): compile
-- once, evaluate many. The functions hold no state of a render. Emptied
-- when one grows past CACHE_MAX entries.
local CACHE_MAX = 8192
local tcache, tcount = {}, 0
local ecache, ecount = {}, 0

-- A compiled template: { render = fn, native = fn|nil (a lone {{ expr }}),
-- text = bool (no tags at all), trailing = n (trailing newlines of the text) }.
local function compile_template(src, name, opts)
  opts = opts or M.DEFAULTS
  local key = name .. "\0" .. opts_key(opts) .. "\0" .. src
  local c = tcache[key]
  if c then return c end
  local o, body = header(src, name, opts)
  local trailing = #(body:match("\n*$"))
  local text = body
  if not o.keep_trailing_newline and text:sub(-1) == "\n" then text = text:sub(1, -2) end
  local toks = lexer.tokenize(text, lex_opts(o, name))
  local tree = parser.template(toks, text, name)
  c = { trailing = trailing, ansible = o.ansible ~= false, newline = o.newline_sequence }
  -- a lone {{ expr }} (white space around it allowed): its value as it is
  local b = tree.body
  local lone
  if #b == 1 and b[1].k == "emit" then lone = b[1].e
  elseif #b >= 2 and #b <= 3 then
    local ws = true
    local emits = 0
    for _, st in ipairs(b) do
      if st.k == "emit" then emits = emits + 1; lone = st.e
      elseif not (st.k == "data" and st.v:match("^%s*$")) then ws = false end
    end
    if not ws or emits ~= 1 then lone = nil end
  end
  if lone then c.native = compiler.expression(lone, name, text) end
  c.render = compiler.template(tree, name, text)
  if tcount >= CACHE_MAX then tcache, tcount = {}, 0 end
  tcache[key], tcount = c, tcount + 1
  return c
end

local function compile_expression(src, name)
  local f = ecache[src]
  if f then return f end
  if not src:find("%S") then values.fail("empty expression") end
  local toks = lexer.expression(src, name)
  local tree = parser.expression(toks, src, name)
  f = compiler.expression(tree, name, src)
  if ecount >= CACHE_MAX then ecache, ecount = {}, 0 end
  ecache[src], ecount = f, ecount + 1
  return f
end

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

-- The environment of a render: a loader of other templates (include,
-- import) and the options; env.load(name) -> render, env.
local function make_env(opts, name)
  local env = { opts = opts, name = name }
  if opts and opts.loader then
    env.load = function(tname)
      local src, path_or_err = opts.loader(tname)
      if not src then return nil, nil, path_or_err or ("template not found: " .. tname) end
      local c = compile_template(src, path_or_err or tname, opts)
      return c.render, make_env(opts, path_or_err or tname)
    end
  end
  return env
end

local function lookup_env(vars, opts)
  return function()
    return { vars = vars, base_dir = opts and opts.base_dir, search_dirs = opts and opts.search_dirs,
      render = function(text, v) return M.render(text, v or vars, "lookup", nil, opts) end,
      secrets = opts and opts.secrets }
  end
end

-- Ansible keeps the text's trailing newlines (preserve_trailing_newlines).
local function finish_text(c, out)
  if c.ansible and c.trailing > 0 then
    local have = #(out:match("\n*$"))
    if have < c.trailing then out = out .. string.rep("\n", c.trailing - have) end
  end
  if c.newline and c.newline ~= "\n" then out = out:gsub("\n", c.newline) end
  return out
end

local function render_text(src, vars, name, rc, opts)
  local c = compile_template(src, name, opts)
  rc.lookup_env = rc.lookup_env or lookup_env(vars, opts)
  local out = c.render(vars, rc, make_env(opts, name))
  return finish_text(c, out)
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

local function eval(src, vars, rc)
  local f = compile_expression(src, "expression")
  rc.lookup_env = rc.lookup_env or lookup_env(vars)
  local v = f(vars, rc, make_env(nil, "expression"))
  if values.is_undefined(v) then values.undefined_error(v) end
  return v
end

--- Evaluate an expression: returns value, or nil, err. An undefined result is an error.
function M.eval(src, vars, rc)
  return protect(eval, src, vars or {}, ctx(rc))
end

--- Evaluate a condition (for `when`): returns true/false, or nil, err.
function M.test(src, vars, rc)
  return protect(function() return values.truthy(eval(src, vars or {}, ctx(rc))) end)
end

--- Render a template string. Returns the text, or nil, "name:line: message".
--- opts (default M.DEFAULTS): trim_blocks, lstrip_blocks,
--- keep_trailing_newline, loader = function(name) -> text, path | nil, err
--- (for include / import), base_dir, search_dirs (for lookups).
function M.render(src, vars, name, rc, opts)
  if opts then
    local o = {}
    for k, v in pairs(M.DEFAULTS) do o[k] = v end
    for k, v in pairs(opts) do o[k] = v end
    opts = o
  end
  return protect(render_text, src, vars or {}, name or "template", ctx(rc), opts)
end

--- Check the syntax of a string that will be templated, without rendering
--- it: unclosed tags, bad expressions, unknown filters and tests. Undefined
--- variables are not an error here (they are only known per host). Strings
--- without {{ or {% are not templates. Returns true, or nil, err (with
--- "line N: " for a problem past the first line, "column C: " else).
function M.check(v)
  if type(v) ~= "string" or not v:find("{[{%%#]") then return true end
  local ok, err = pcall(compile_template, v, "value", M.DEFAULTS)
  if ok then return true end
  err = type(err) == "table" and err.template_error or tostring(err)
  local line, col, rest = err:match("^value:(%d+):(%d+): (.*)$")
  if line then err = (line == "1" and ("column " .. col .. ": ") or ("line " .. line .. ": ")) .. rest end
  return nil, err
end

local OMIT = M.OMIT

-- One value of task args, rendered (raises { template_error }).
local function render_one(v, vars, rc)
  if type(v) == "string" then
    if not v:find("{[{%%#]") then return v end
    local c = compile_template(v, "value", M.DEFAULTS)
    rc.lookup_env = rc.lookup_env or lookup_env(vars)
    local ok, r = pcall(run, function()
      if c.native then
        local x = c.native(vars, rc, make_env(nil, "value"))
        if values.is_undefined(x) then values.undefined_error(x) end
        return x
      end
      return finish_text(c, (c.render(vars, rc, make_env(nil, "value"))))
    end)
    if not ok then
      if type(r) == "table" and r.template_error then
        values.fail((r.template_error:gsub("^value:%d+: ", "")))
      end
      error(r, 0)
    end
    return r
  elseif type(v) == "table" and not values.is_undefined(v) and v ~= values.none then
    local list = values.is_list(v)
    local t = list and {} or (require("luasible.json").is_object(v) and require("luasible.json").object() or {})
    if list then
      for _, x in ipairs(v) do
        local r = render_one(x, vars, rc)
        if r ~= OMIT then t[#t + 1] = r end
      end
    else
      for k, x in pairs(v) do
        local r = render_one(x, vars, rc)
        if r ~= OMIT then t[k] = r end
      end
    end
    return t
  end
  return v
end

--- Render one value from task args: strings with {{ }} are templated, tables
--- recursively. A string that is exactly "{{ expr }}" yields the raw value
--- (a list stays a list). Items equal to {{ omit }} are dropped. Returns
--- value, or nil, err.
function M.render_value(value, vars, rc)
  return protect(render_one, value, vars or {}, ctx(rc))
end

--- A variable whose value is itself a template ("{{ root }}/x"), rendered
--- when it is used, as in Ansible (raises { template_error }).
function M.nested(v, vars, name, rc)
  rc = ctx(rc)
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
  local rc = new_context()
  local r = table.pack(fn(a, vars, rc))
  return rc.unsafe_reads > 0, table.unpack(r, 1, r.n)
end

return M
