--- luasible.template.signature: the Python-style signatures of filters and
-- tests (contract C), parsed once when a filter is registered, and the
-- binding of a call's arguments to them, made once when an expression is
-- compiled.
--
--   signature.parse(spec) -> sig, or raises (a Lua error: a bad spec is a bug)
--     spec: "value, *dicts, recursive=False, list_merge='replace'". Parameters
--     in order; `name=default` (a Python literal: None -> nil, True, False,
--     numbers, 'strings', "strings", lists [..], dicts {..}, tuples (..));
--     `*args` (extra positional arguments, as a list), `**kw` (extra keyword
--     arguments, as a mapping); after `*args` or a bare `*` parameters are
--     keyword-only, as in Python. A first parameter named `ctx` is the render
--     context: not a user argument, passed by the caller.
--   signature.bind(sig, kind, name, npos, kwnames) -> binding, or raises
--     values.fail("filter 'x' got an unexpected keyword argument 'y'") and the
--     like. kind: "filter" or "test" (for the messages); npos: how many
--     positional arguments the call has INCLUDING the value on the left
--     (`x | f(a, b)`: 3; `x is t`: 1); kwnames: the names of its keyword
--     arguments in the order of the call.
--   binding.call(fn, ctx, argv) -> fn's result
--     argv: the call's evaluated arguments, the positionals first (argv[1]
--     the value), then the keywords in kwnames' order. fn is called as
--     fn(p1, p2, ...) in declared order: defaults filled (a fresh table for a
--     list or dict default), `*args` a list, `**kw` a mapping (json.object),
--     ctx where the signature has it.
--   binding.args(ctx, argv) -> params (a table), n: what call() passes.
--
-- Undefined: unless the signature is marked `sig.lenient` (the registry's
-- `undefined = true`: default, mandatory, the type tests), call() raises
-- the undefined error for any argument that is undefined before fn runs,
-- as Ansible's strict undefined does when a filter uses its argument.
local values = require "luasible.template.values"
local json = require "luasible.json"

local M = {}

-- ---------------------------------------------------------------- literals

local function literal_error(spec, at, what)
  error(string.format("bad signature '%s' at %d: %s", spec, at, what), 2)
end

-- A Python literal of spec from offset i: value, next offset. `nil` for None.
local function literal(spec, i)
  i = spec:find("%S", i) or #spec + 1
  local c = spec:sub(i, i)
  if c == "'" or c == '"' then
    local out, j = {}, i + 1
    while true do
      local ch = spec:sub(j, j)
      if ch == "" then literal_error(spec, i, "unterminated string") end
      if ch == c then break end
      if ch == "\\" then
        local e = spec:sub(j + 1, j + 1)
        ch = ({ n = "\n", t = "\t", r = "\r", ["0"] = "\0" })[e] or e
        j = j + 1
      end
      out[#out + 1] = ch
      j = j + 1
    end
    return table.concat(out), j + 1
  elseif c == "[" or c == "(" then
    local close = c == "[" and "]" or ")"
    local list, j = {}, i + 1
    while true do
      j = spec:find("%S", j) or #spec + 1
      if spec:sub(j, j) == close then return list, j + 1 end
      local v
      v, j = literal(spec, j)
      list[#list + 1] = v
      j = spec:find("%S", j) or #spec + 1
      if spec:sub(j, j) == "," then j = j + 1
      elseif spec:sub(j, j) ~= close then literal_error(spec, j, "expected ',' or '" .. close .. "'") end
    end
  elseif c == "{" then
    local map, j = json.object(), i + 1
    while true do
      j = spec:find("%S", j) or #spec + 1
      if spec:sub(j, j) == "}" then return map, j + 1 end
      local k, v
      k, j = literal(spec, j)
      j = spec:find("%S", j) or #spec + 1
      if spec:sub(j, j) ~= ":" then literal_error(spec, j, "expected ':'") end
      v, j = literal(spec, j + 1)
      map[k] = v
      j = spec:find("%S", j) or #spec + 1
      if spec:sub(j, j) == "," then j = j + 1
      elseif spec:sub(j, j) ~= "}" then literal_error(spec, j, "expected ',' or '}'") end
    end
  end
  local word, j = spec:match("^([%w_%.%+%-]+)()", i)
  if not word then literal_error(spec, i, "expected a literal") end
  if word == "None" then return nil, j end
  if word == "True" then return true, j end
  if word == "False" then return false, j end
  local n = tonumber(word)
  if n and not word:find("[.eE]") then n = math.tointeger(n) or n end
  if n == nil then literal_error(spec, i, "unknown literal '" .. word .. "'") end
  return n, j
end

-- A fresh copy of a table default (each call gets its own).
local function copy(v)
  if type(v) ~= "table" then return v end
  local t = json.is_object(v) and json.object() or {}
  for k, x in pairs(v) do t[k] = copy(x) end
  return t
end

-- ---------------------------------------------------------------- parse

--- Parse a signature string (see above).
function M.parse(spec)
  local sig = { spec = spec, params = {}, index = {} }
  local i, kwonly = 1, false
  while true do
    i = spec:find("%S", i)
    if not i then break end
    local stars, name, j = spec:match("^(%**)([%a_][%w_]*)()", i)
    if spec:sub(i, i) == "*" and not name then
      -- a bare `*`: what follows is keyword-only
      stars, name, j = "*", nil, i + 1
    end
    if not stars then literal_error(spec, i, "expected a parameter name") end
    local p = { name = name }
    if stars == "*" and not name then
      kwonly, p = true, nil
    elseif stars == "*" then
      p.kind, kwonly = "varargs", true
      sig.varargs = #sig.params + 1
    elseif stars == "**" then
      p.kind = "varkw"
      sig.varkw = #sig.params + 1
    elseif #sig.params == 0 and name == "ctx" then
      p.kind = "ctx"
      sig.ctx = 1
    else
      p.kind = kwonly and "kwonly" or "pos"
      j = spec:find("%S", j) or #spec + 1
      if spec:sub(j, j) == "=" then
        p.has_default = true
        p.default, j = literal(spec, j + 1)
      end
    end
    if p then
      if p.name and sig.index[p.name] then literal_error(spec, i, "parameter '" .. p.name .. "' twice") end
      sig.params[#sig.params + 1] = p
      if p.name then sig.index[p.name] = #sig.params end
    end
    j = spec:find("%S", j) or #spec + 1
    if spec:sub(j, j) == "," then i = j + 1
    elseif j <= #spec then literal_error(spec, j, "expected ','")
    else break end
  end
  sig.n = #sig.params
  return sig
end

-- ---------------------------------------------------------------- bind

local CTX, DEFAULT, VARARGS, VARKW, SOURCE = 1, 2, 3, 4, 5

local function bind_error(kind, name, fmt, ...)
  values.fail(string.format("%s '%s' " .. fmt, kind, name, ...))
end

--- Bind a call to sig (see above): a binding, or values.fail(why).
function M.bind(sig, kind, name, npos, kwnames)
  kwnames = kwnames or {}
  local params, n = sig.params, sig.n
  local from = {} -- param index -> source index (argv), or a list for *args / **kw
  -- positionals, in order, to the positional parameters; the rest to *args
  local k = 1
  for i = 1, n do
    local p = params[i]
    if k > npos then break end
    if p.kind == "pos" then
      from[i], k = k, k + 1
    elseif p.kind ~= "ctx" then
      break
    end
  end
  if k <= npos then
    if not sig.varargs then
      local max = 0
      for _, p in ipairs(params) do if p.kind == "pos" then max = max + 1 end end
      -- the value counts as an argument for the user only in a test's or
      -- filter's Python signature; say how many go in the parentheses
      bind_error(kind, name, "got too many positional arguments (takes %d, got %d)", math.max(max - 1, 0),
        npos - 1)
    end
    local extra = {}
    for s = k, npos do extra[#extra + 1] = s end
    from[sig.varargs] = extra
  end
  -- keywords by name; unknown ones to **kw
  local extra_kw
  for j, kw in ipairs(kwnames) do
    local i = sig.index[kw]
    local p = i and params[i]
    if p and (p.kind == "pos" or p.kind == "kwonly") then
      if from[i] then bind_error(kind, name, "got multiple values for argument '%s'", kw) end
      from[i] = npos + j
    elseif sig.varkw then
      extra_kw = extra_kw or {}
      extra_kw[#extra_kw + 1] = { kw, npos + j }
    else
      bind_error(kind, name, "got an unexpected keyword argument '%s'", kw)
    end
  end
  -- the plan: per parameter, where its value comes from
  local how, what = {}, {}
  for i = 1, n do
    local p = params[i]
    if p.kind == "ctx" then
      how[i] = CTX
    elseif p.kind == "varargs" then
      how[i], what[i] = VARARGS, from[i] or {}
    elseif p.kind == "varkw" then
      how[i], what[i] = VARKW, extra_kw or {}
    elseif from[i] then
      how[i], what[i] = SOURCE, from[i]
    elseif p.has_default then
      how[i], what[i] = DEFAULT, p.default
    else
      bind_error(kind, name, "missing required argument '%s'", p.name)
    end
  end
  local nargs = npos + #kwnames
  local strict = not sig.lenient
  local is_undef = values.is_undefined
  local undefined_error = values.undefined_error
    or function(v) values.fail("'" .. tostring(v.name) .. "' is undefined") end

  local b = {}
  function b.args(ctx, argv)
    if strict then
      for s = 1, nargs do
        local v = argv[s]
        if is_undef(v) then undefined_error(v) end
      end
    end
    local out = {}
    for i = 1, n do
      local h = how[i]
      if h == SOURCE then out[i] = argv[what[i]]
      elseif h == CTX then out[i] = ctx
      elseif h == DEFAULT then out[i] = copy(what[i])
      elseif h == VARARGS then
        local l = {}
        for x, s in ipairs(what[i]) do l[x] = argv[s] end
        out[i] = l
      else
        local m = json.object()
        for _, e in ipairs(what[i]) do m[e[1]] = argv[e[2]] end
        out[i] = m
      end
    end
    return out, n
  end
  -- the common case: the parameters are the call's arguments in order (and
  -- nothing else): fn(table.unpack(argv)) without a copy
  local direct = n == nargs
  for i = 1, n do if how[i] ~= SOURCE or what[i] ~= i then direct = false end end
  if direct then
    function b.call(fn, _, argv)
      if strict then
        for s = 1, nargs do
          local v = argv[s]
          if is_undef(v) then undefined_error(v) end
        end
      end
      return fn(table.unpack(argv, 1, n))
    end
  else
    function b.call(fn, ctx, argv)
      local out = b.args(ctx, argv)
      return fn(table.unpack(out, 1, n))
    end
  end
  return b
end

return M
