--- luasible.template.compile: a template's options (Ansible's defaults,
-- the `#jinja2:` header line), and compiling: text -> tokens -> tree ->
-- Lua functions, cached by text and options (template/init.lua is the
-- face that runs them).
local values = require "luasible.template.values"
local lexer = require "luasible.template.lexer"
local parser = require "luasible.template.parser"
local compiler = require "luasible.template.compiler"

local M = {}

--- Filters whose text a lone {{ x | f }} keeps as text (Ansible's C.STRING_TYPE_FILTERS).
M.STRING_TYPE_FILTERS = { string = true, to_json = true, to_nice_json = true, to_yaml = true, to_nice_yaml = true,
  ppretty = true, json = true }

-- ------------------------------------------------------------ options

--- Ansible's defaults (its template module and Templar): trim_blocks on,
--- lstrip_blocks off, the trailing newlines of the text kept.
M.DEFAULTS = { trim_blocks = true, lstrip_blocks = false, keep_trailing_newline = false }

-- The options of a call: M.DEFAULTS under opts. opts.jinja: plain Jinja2
-- (keep_trailing_newline on, None printed "None", no Ansible newline rule).
local function options(opts)
  if opts == nil then return M.DEFAULTS end
  if opts.__merged then return opts end
  local o = { __merged = true }
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  if opts.jinja then o.keep_trailing_newline = true end
  for k, v in pairs(opts) do o[k] = v end
  local ext = {}
  for _, e in ipairs(o.extensions or {}) do
    if e == "jinja2.ext.do" then ext["do"] = true
    elseif e == "jinja2.ext.loopcontrols" then ext.loopcontrols = true end
  end
  o.ext = ext
  return o
end
M.options = options

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
    newline_sequence = o.newline_sequence,
    block_start = o.block_start_string, block_end = o.block_end_string, variable_start = o.variable_start_string,
    variable_end = o.variable_end_string, comment_start = o.comment_start_string, comment_end = o.comment_end_string }
end

local defaults_key -- opts_key(M.DEFAULTS), made once (the options of every check and most renders)
local function opts_key(o)
  if o == M.DEFAULTS and defaults_key then return defaults_key end
  local key = table.concat({ tostring(o.trim_blocks), tostring(o.lstrip_blocks), tostring(o.keep_trailing_newline),
    tostring(o.jinja), tostring(o.ext and o.ext["do"]), tostring(o.ext and o.ext.loopcontrols),
    tostring(o.raw_strings),
    o.newline_sequence or "",
    o.block_start_string or "", o.block_end_string or "", o.variable_start_string or "",
    o.variable_end_string or "", o.comment_start_string or "", o.comment_end_string or "" }, "\1")
  if o == M.DEFAULTS then defaults_key = key end
  return key
end

-- ------------------------------------------------------------ compile caches

-- Compiled templates and expressions by their text (and options): compile
-- once, evaluate many. The functions hold no state of a render. Emptied
-- when one grows past CACHE_MAX entries.
local CACHE_MAX = 8192
local tcache, tcount = {}, 0
local ecache, ecount = {}, 0

-- The front of compiling: the text's options (#jinja2: header) and its
-- tree. Returns tree, text, options, trailing newlines.
local function front(src, name, opts)
  -- newlines as Jinja2 reads them: \r\n and \r are \n
  if src:find("\r", 1, true) then src = src:gsub("\r\n?", "\n") end
  local trailing = #(src:match("\n*$"))
  local o, text = header(src, name, opts)
  if not o.keep_trailing_newline and text:sub(-1) == "\n" then text = text:sub(1, -2) end
  local lo = lex_opts(o, name)
  lo.raw_strings = o.raw_strings
  local toks = lexer.tokenize(text, lo)
  return parser.template(toks, text, name, o.ext), text, o, trailing
end

-- A compiled template: { render = fn, native = fn|nil (a lone {{ expr }}),
-- text = bool (no tags at all), trailing = n (trailing newlines of the text) }.
local function compile_template(src, name, opts)
  opts = opts or M.DEFAULTS
  local key = name .. "\0" .. opts_key(opts) .. "\0" .. src
  local c = tcache[key]
  if c then return c end
  local tree, text, o, trailing = front(src, name, opts)
  local flags = { jinja = o.jinja }
  c = { trailing = trailing, ansible = not o.jinja, newline = o.newline_sequence }
  -- a lone {{ expr }}: its value as it is (native)
  local b = tree.body
  if #b == 1 and b[1].k == "emit" then
    local e = b[1].e
    c.native = compiler.expression(e, name, text, flags)
    c.bare_name = e.k == "name"
    -- Ansible's STRING_TYPE_FILTERS: their text is never literal_eval'd
    c.text_filter = e.k == "filter" and M.STRING_TYPE_FILTERS[e.name:gsub("^ansible%.builtin%.", "")] or false
  end
  c.empty = #b == 0
  c.render = compiler.template(tree, name, text, flags)
  if tcount >= CACHE_MAX then tcache, tcount = {}, 0 end
  tcache[key], tcount = c, tcount + 1
  return c
end

-- Texts (with name and options) already checked (M.check), expressions
-- (M.check_expression): as tcache and ecache.
local checked, ccount = {}, 0
local echecked, eccount = {}, 0

-- Every filter and test of a tree bound to its signature as the compiler
-- binds them (template/registry.lua): an unknown one, or a call that does
-- not fit, raises the compiler's error (name:line:column); of several, the
-- first in the text.
local function bind_all(tree, text, name)
  local bad, bad_msg
  local function walk(n)
    for k, v in pairs(n) do
      if type(v) == "table" and k ~= "v" then walk(v) end
    end
    local kind = n.k
    if (kind == "filter" or kind == "test") and not (n.star or n.dstar) and not (bad and bad <= n.pos) then
      local ok, err = compiler.bind(kind, n)
      if not ok then bad, bad_msg = n.pos, err end
    end
  end
  walk(tree)
  if bad then lexer.error(text, name, bad, bad_msg) end
end

-- Is every tag of src a lone variable, `{{ name }}` (the most common
-- template of a play by far)? Such a text lexes to data and name tokens and
-- parses to names whatever the name (but `not`, which takes an operand):
-- nothing a check would find wrong. Only for the default delimiters.
local function only_names(src)
  if src:sub(1, 8) == "#jinja2:" then return false end
  local i = 1
  while true do
    local s = src:find("{", i, true)
    if not s then return true end
    local _, e, name = src:find("^{{[ \t\r\n]*([%a_][%w_]*)[ \t\r\n]*}}", s)
    if not e or name == "not" then return false end
    i = e + 1
  end
end
M.only_names = only_names

--- Check a template as compiling it would, without making its Lua
--- functions (the play's strings at load time: they are compiled when first
--- rendered): the header, the lexer, the parser, and the filters and tests
--- bound (bind_all). Raises the error compiling would raise.
function M.check(src, name, opts)
  opts = opts or M.DEFAULTS
  local key = name .. "\0" .. opts_key(opts) .. "\0" .. src
  if checked[key] or tcache[key] then return end
  if opts == M.DEFAULTS and only_names(src) then return end
  local tree, text = front(src, name, opts)
  bind_all(tree, text, name)
  if ccount >= CACHE_MAX then checked, ccount = {}, 0 end
  checked[key], ccount = true, ccount + 1
end

--- Check an expression as compiling it (M.expression) would, without
--- making its Lua function (conditions at load time).
function M.check_expression(src, name)
  if ecache[src] or echecked[src] then return end
  if not src:find("%S") then values.fail("empty expression") end
  local toks = lexer.expression(src, name)
  bind_all(parser.expression(toks, src, name), src, name)
  if eccount >= CACHE_MAX then echecked, eccount = {}, 0 end
  echecked[src], eccount = true, eccount + 1
end

--- Forget every compiled template and expression (benchmarks: compile again).
function M.clear_caches()
  tcache, tcount, ecache, ecount, checked, ccount, echecked, eccount = {}, 0, {}, 0, {}, 0, {}, 0
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

M.template, M.expression = compile_template, compile_expression

return M
