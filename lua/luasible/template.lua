-- luasible.template: a small, safe expression language and template engine.
--
-- Expressions (used in `when`, `changed_when`, `{{ ... }}` and `{% ... %}`)
-- are parsed by a tiny Pratt parser and evaluated over a variables table.
-- Nothing is ever handed to load(): an expression can read variables, compare,
-- do arithmetic and apply a fixed set of filters, and nothing else.
--
--   expr  := or-expr [ "if" expr "else" expr ]
--   ops   := or, and, not, == != ~= < <= > >= in, not in, is [not] TEST,
--            .. ~ (concat), + -, * / // %, unary -, | filter(args), .name [index]
--   atoms := numbers, 'str', "str", true false nil none, [list], (expr), names
--
-- Templates: {{ expr }}, {% if %}/{% elif %}/{% else %}/{% endif %},
-- {% for x in list %} / {% for k, v in map %} ... {% endfor %}, {# comment #}.
-- A line holding only a {% %} or {# #} tag is removed entirely.

local M = {}

local concat = table.concat

-- Undefined: the value of a missing variable. It propagates through attribute
-- access so that `a.b.c is defined` and `x | default(1)` work, and raises a
-- clear error when it is used as a real value.
local Undefined = setmetatable({}, { __name = "luasible.undefined" })
Undefined.__index = Undefined
local function undefined(name) return setmetatable({ name = name }, Undefined) end
local function is_undef(v) return getmetatable(v) == Undefined end
M.is_undefined = is_undef

local function undef_error(v)
  error({ template_error = "undefined variable '" .. v.name .. "'" }, 0)
end

local function fail(msg) error({ template_error = msg }, 0) end

-- Unsafe values (as in Ansible): what comes from a host (facts, registered
-- results, their output, loop items taken from them) is data, never a
-- template. A variable normally holding "{{ root }}/app" is rendered when
-- used; one that came from a host is used as it is. Values cannot carry a
-- mark (a Lua string is a string), so the mark is on the variable: a scope
-- table lists which of its names are unsafe (M.mark_unsafe), and a lookup of
-- an unsafe name counts in `touched`, so that a collection computed from one
-- (`out.stdout | lines`) makes its loop variables unsafe too.
local unsafe_names = setmetatable({}, { __mode = "k" })
local touched = 0

--- Mark names of the scope table `vars` as unsafe ({ name = true, ... } or a list).
function M.mark_unsafe(vars, names)
  local set = unsafe_names[vars] or {}
  for k, v in pairs(names) do
    if type(k) == "number" and type(v) == "string" then set[v] = true
    elseif v then set[k] = true end
  end
  unsafe_names[vars] = next(set) and set or nil
  return vars
end

--- Is `name`, as seen from `vars` (a scope, maybe chained by __index
--- tables), an unsafe variable? The scope that holds the name decides.
local function is_unsafe(vars, name)
  local t = vars
  for _ = 1, 64 do
    if type(t) ~= "table" then return false end
    if rawget(t, name) ~= nil then
      local set = unsafe_names[t]
      return set ~= nil and set[name] == true
    end
    local mt = getmetatable(t)
    t = mt and mt.__index
  end
  return false
end
M.is_unsafe = is_unsafe

--- Evaluate fn(...) and also tell whether it read an unsafe variable.
function M.tainted(fn, ...)
  local before = touched
  local r = table.pack(fn(...))
  return touched ~= before, table.unpack(r, 1, r.n)
end

local function truthy(v)
  if v == nil or v == false or v == 0 or v == "" or is_undef(v) then return false end
  if type(v) == "table" and next(v) == nil then return false end
  return true
end
M.truthy = truthy

local quote = require("luasible.util.shell").quote
M.quote = quote

local function is_list(t)
  if type(t) ~= "table" then return false end
  local n = #t
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

-- JSON with keys in sorted order (stable output); a sequence, an empty one
-- included, is a list (`[]`); an empty table marked by render.object is {}.
local function to_json(v)
  return require("luasible.json").encode(v)
end

local function tostr(v)
  if is_undef(v) then undef_error(v) end
  if v == nil then return "" end
  if type(v) == "table" then return to_json(v) end
  if math.type(v) == "float" and v == math.floor(v) and v > -2^53 and v < 2^53 then
    return string.format("%d", v)
  end
  return tostring(v)
end
M.tostring = tostr

local function length(v)
  if type(v) == "string" then return #v end
  if type(v) == "table" then
    local n = 0
    for _ in pairs(v) do n = n + 1 end
    return n
  end
  fail("length of a " .. type(v))
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    return a < b
  end)
  return keys
end

-- Filters: name -> function(value, args...). Only these exist.
M.filters = {
  default = function(v, d, also_false)
    if is_undef(v) or v == nil or (also_false and not truthy(v)) then return d end
    return v
  end,
  upper = function(v) return tostr(v):upper() end,
  lower = function(v) return tostr(v):lower() end,
  trim = function(v) return (tostr(v):gsub("^%s+", ""):gsub("%s+$", "")) end,
  length = length,
  int = function(v) return math.tointeger(math.floor(tonumber(v) or 0)) end,
  float = function(v) return (tonumber(v) or 0) + 0.0 end,
  string = function(v) return tostr(v) end,
  bool = function(v)
    if type(v) == "string" then
      return ({ yes = true, ["true"] = true, on = true, ["1"] = true })[v:lower()] or false
    end
    return truthy(v)
  end,
  join = function(v, sep)
    local out = {}
    for i, x in ipairs(v) do out[i] = tostr(x) end
    return concat(out, sep or "")
  end,
  first = function(v) return v[1] end,
  last = function(v) return v[#v] end,
  replace = function(v, a, b)
    local s = tostr(v)
    local out, i = {}, 1
    while true do
      local j, k = s:find(a, i, true)
      if not j or a == "" then break end
      out[#out + 1] = s:sub(i, j - 1) .. b
      i = k + 1
    end
    out[#out + 1] = s:sub(i)
    return concat(out)
  end,
  quote = function(v) return quote(tostr(v)) end,
  to_json = function(v) return to_json(v) end,
  keys = function(v) return sorted_keys(v) end,
  lines = function(v)
    local out = {}
    for l in (tostr(v) .. "\n"):gmatch("(.-)\r?\n") do out[#out + 1] = l end
    if out[#out] == "" then out[#out] = nil end
    return out
  end,
  round = function(v, precision)
    local n = tonumber(v)
    if not n then fail("round of a " .. type(v)) end
    local p = math.tointeger(tonumber(precision) or 0) or 0
    local m = 10 ^ p
    local r = math.floor(n * m + 0.5) / m
    if p <= 0 then return math.tointeger(r) or r end
    return r
  end,
  basename = function(v) return (tostr(v):match("([^/]*)/*$")) end,
  dirname = function(v) return (tostr(v):match("^(.*)/[^/]*$") or "") end,
}
M.filters.d = M.filters.default
M.filters.count = M.filters.length

-- Tests: `x is NAME`.
local function rstate(v, key) return type(v) == "table" and v[key] end
M.tests = {
  defined = function(v) return not is_undef(v) end,
  undefined = function(v) return is_undef(v) end,
  none = function(v) return v == nil end,
  string = function(v) return type(v) == "string" end,
  number = function(v) return type(v) == "number" end,
  mapping = function(v) return type(v) == "table" and not is_list(v) end,
  sequence = function(v) return type(v) == "table" and is_list(v) end,
  changed = function(v) return rstate(v, "changed") == true end,
  failed = function(v) return rstate(v, "failed") == true end,
  skipped = function(v) return rstate(v, "skipped") == true end,
  succeeded = function(v) return type(v) == "table" and not v.failed end,
}
M.tests.success = M.tests.succeeded
M.tests.failure = M.tests.failed

---------------------------------------------------------------------------
-- Tokenizer
---------------------------------------------------------------------------
local KEYWORDS = { ["and"] = true, ["or"] = true, ["not"] = true, ["in"] = true,
  ["is"] = true, ["if"] = true, ["else"] = true }
local CONSTS = { ["true"] = true, ["True"] = true, ["false"] = false, ["False"] = false }
local NILS = { ["nil"] = true, ["none"] = true, ["None"] = true }
local SYMBOLS = { "//", "==", "!=", "~=", "<=", ">=", "..", "<", ">", "+", "-", "*",
  "/", "%", "(", ")", "[", "]", ",", ".", "|", "~", ":" }

local function tokenize(src)
  local toks, i, n = {}, 1, #src
  while i <= n do
    local c = src:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif c:match("%d") then
      local s, e = src:find("^%d+%.?%d*", i)
      local num = src:sub(s, e)
      if num:sub(-1) == "." then num = num:sub(1, -2); e = e - 1 end
      toks[#toks + 1] = { t = "val", v = tonumber(num), pos = i }
      i = e + 1
    elseif c:match("[%a_]") then
      local s, e = src:find("^[%w_]+", i)
      local w = src:sub(s, e)
      if KEYWORDS[w] then toks[#toks + 1] = { t = w, pos = i }
      elseif CONSTS[w] ~= nil then toks[#toks + 1] = { t = "val", v = CONSTS[w], pos = i }
      elseif NILS[w] then toks[#toks + 1] = { t = "val", v = nil, isnil = true, pos = i }
      else toks[#toks + 1] = { t = "name", v = w, pos = i } end
      i = e + 1
    elseif c == "'" or c == '"' then
      local buf, j = {}, i + 1
      while true do
        local d = src:sub(j, j)
        if d == "" then fail("unterminated string in expression: " .. src) end
        if d == c then break end
        if d == "\\" then
          local esc = src:sub(j + 1, j + 1)
          buf[#buf + 1] = ({ n = "\n", t = "\t", r = "\r" })[esc] or esc
          j = j + 2
        else
          buf[#buf + 1] = d
          j = j + 1
        end
      end
      toks[#toks + 1] = { t = "val", v = concat(buf), pos = i }
      i = j + 1
    else
      local sym
      for _, s in ipairs(SYMBOLS) do
        if src:sub(i, i + #s - 1) == s then sym = s; break end
      end
      if not sym then fail(string.format("unexpected character '%s' in expression: %s", c, src)) end
      toks[#toks + 1] = { t = sym, pos = i }
      i = i + #sym
    end
  end
  toks[#toks + 1] = { t = "eof", pos = n + 1 }
  return toks
end

---------------------------------------------------------------------------
-- Parser: produces closures f(vars) -> value
---------------------------------------------------------------------------
local function arith(op)
  return function(a, b)
    if is_undef(a) then undef_error(a) end
    if is_undef(b) then undef_error(b) end
    local x, y = tonumber(a), tonumber(b)
    if x == nil or y == nil then
      fail(string.format("arithmetic '%s' on %s and %s", op, type(a), type(b)))
    end
    if op == "+" then return x + y elseif op == "-" then return x - y
    elseif op == "*" then return x * y elseif op == "/" then return x / y
    elseif op == "//" then return x // y else return x % y end
  end
end

local function eq(a, b)
  if is_undef(a) then undef_error(a) end
  if is_undef(b) then undef_error(b) end
  if type(a) == "number" and type(b) == "string" then return tostring(a) == b or tonumber(b) == a end
  if type(b) == "number" and type(a) == "string" then return tostring(b) == a or tonumber(a) == b end
  return a == b
end

local function compare(op)
  return function(a, b)
    if is_undef(a) then undef_error(a) end
    if is_undef(b) then undef_error(b) end
    if type(a) ~= type(b) then
      local x, y = tonumber(a), tonumber(b)
      if x and y then a, b = x, y
      else fail(string.format("cannot compare %s with %s", type(a), type(b))) end
    end
    if op == "<" then return a < b elseif op == "<=" then return a <= b
    elseif op == ">" then return a > b else return a >= b end
  end
end

local function contains(hay, needle)
  if is_undef(hay) then undef_error(hay) end
  if type(hay) == "string" then return hay:find(tostr(needle), 1, true) ~= nil end
  if type(hay) == "table" then
    if is_list(hay) then
      for _, v in ipairs(hay) do if eq(v, needle) then return true end end
      return false
    end
    return hay[needle] ~= nil
  end
  return false
end

local BINARY = {
  ["or"] = 1, ["and"] = 2,
  ["=="] = 4, ["!="] = 4, ["~="] = 4, ["<"] = 4, ["<="] = 4, [">"] = 4, [">="] = 4,
  ["in"] = 4, ["not"] = 4, ["is"] = 4,
  [".."] = 5, ["~"] = 5, ["+"] = 6, ["-"] = 6, ["*"] = 7, ["/"] = 7, ["//"] = 7, ["%"] = 7,
}

local Parser = {}
Parser.__index = Parser

function Parser:peek() return self.toks[self.i] end
function Parser:next() local t = self.toks[self.i]; self.i = self.i + 1; return t end
function Parser:expect(t)
  local tok = self:next()
  if tok.t ~= t then
    fail(string.format("expected '%s' at position %d in expression: %s", t, tok.pos, self.src))
  end
  return tok
end

function Parser:expr(minprec)
  minprec = minprec or 0
  local left = self:unary()
  while true do
    local tok = self:peek()
    local prec = BINARY[tok.t]
    if tok.t == "not" and self.toks[self.i + 1].t ~= "in" then prec = nil end
    if not prec or prec <= minprec then break end
    self:next()
    left = self:binary(tok.t, left, prec)
  end
  if minprec == 0 and self:peek().t == "if" then
    self:next()
    local cond = self:expr(0)
    local other = function() return nil end
    if self:peek().t == "else" then self:next(); other = self:expr(0) end
    local yes = left
    left = function(v) if truthy(cond(v)) then return yes(v) end return other(v) end
  end
  return left
end

function Parser:binary(op, left, prec)
  if op == "is" then
    local negate = false
    if self:peek().t == "not" then self:next(); negate = true end
    local name = self:expect("name").v
    local test = M.tests[name]
    if not test then fail("unknown test '" .. name .. "' in expression: " .. self.src) end
    return function(v) local r = test(left(v)); if negate then return not r end return r end
  end
  if op == "not" then self:expect("in") end
  local right = self:expr(prec)
  if op == "and" then return function(v) local a = left(v); if not truthy(a) then return a end return right(v) end end
  if op == "or" then return function(v) local a = left(v); if truthy(a) then return a end return right(v) end end
  if op == "==" then return function(v) return eq(left(v), right(v)) end end
  if op == "!=" or op == "~=" then return function(v) return not eq(left(v), right(v)) end end
  if op == "in" then return function(v) return contains(right(v), left(v)) end end
  if op == "not" then return function(v) return not contains(right(v), left(v)) end end
  if op == ".." or op == "~" then return function(v) return tostr(left(v)) .. tostr(right(v)) end end
  local f = (BINARY[op] == 4) and compare(op) or arith(op)
  return function(v) return f(left(v), right(v)) end
end

function Parser:unary()
  local tok = self:peek()
  if tok.t == "not" then
    self:next()
    local e = self:expr(3)
    return function(v) return not truthy(e(v)) end
  elseif tok.t == "-" then
    self:next()
    local e = self:unary()
    local neg = arith("-")
    return function(v) return neg(0, e(v)) end
  end
  return self:postfix(self:atom())
end

function Parser:args()
  local args = {}
  if self:peek().t == "(" then
    self:next()
    if self:peek().t ~= ")" then
      repeat args[#args + 1] = self:expr(0) until self:peek().t ~= "," or not self:next()
    end
    self:expect(")")
  end
  return args
end

local function index(obj, key, label)
  if is_undef(obj) then return obj end
  if type(obj) == "string" and math.type(key) == "integer" then return obj:sub(key, key) end
  if type(obj) ~= "table" then
    if obj == nil then return undefined(label .. "." .. tostring(key)) end
    fail(string.format("cannot index %s '%s' with '%s'", type(obj), label, tostring(key)))
  end
  local val = obj[key]
  if val == nil and math.type(key) == "float" then val = obj[math.tointeger(key)] end
  if val == nil and type(key) == "string" and tonumber(key) then val = obj[tonumber(key)] end
  if val == nil then return undefined(label .. "." .. tostring(key)) end
  return val
end

function Parser:postfix(e)
  local label = self.label or "value"
  while true do
    local tok = self:peek()
    if tok.t == "." then
      self:next()
      local nt = self:next()
      local key
      if nt.t == "name" then key = nt.v
      elseif nt.t == "val" and math.type(nt.v) == "integer" then key = nt.v
      else fail("expected a name after '.' in expression: " .. self.src) end
      local obj, l = e, label
      e = function(v) return index(obj(v), key, l) end
      label = label .. "." .. tostring(key)
    elseif tok.t == "[" then
      self:next()
      local k = self:expr(0)
      self:expect("]")
      local obj, l = e, label
      e = function(v) return index(obj(v), k(v), l) end
      label = label .. "[]"
    elseif tok.t == "|" then
      self:next()
      local name = self:expect("name").v
      local filter = M.filters[name]
      if not filter then fail("unknown filter '" .. name .. "' in expression: " .. self.src) end
      local args = self:args()
      local obj = e
      local lenient = (name == "default" or name == "d")
      e = function(v)
        local x = obj(v)
        if is_undef(x) and not lenient then undef_error(x) end
        local a = {}
        for i, f in ipairs(args) do a[i] = f(v) end
        return filter(x, table.unpack(a, 1, #args))
      end
    else
      return e
    end
  end
end

function Parser:atom()
  local tok = self:next()
  self.label = nil
  if tok.t == "val" then
    local v = tok.v
    return function() return v end
  elseif tok.t == "name" then
    local name = tok.v
    self.label = name
    return function(vars)
      local v = vars[name]
      if v == nil then return undefined(name) end
      if (type(v) == "string" or type(v) == "table") and is_unsafe(vars, name) then
        touched = touched + 1
        return v
      end
      if type(v) == "string" and v:find("{[{%%]") then return M.nested(v, vars, name) end
      return v
    end
  elseif tok.t == "(" then
    local e = self:expr(0)
    self:expect(")")
    return e
  elseif tok.t == "[" then
    local items = {}
    if self:peek().t ~= "]" then
      repeat items[#items + 1] = self:expr(0) until self:peek().t ~= "," or not self:next()
    end
    self:expect("]")
    return function(v)
      local out = {}
      for i, f in ipairs(items) do out[i] = f(v) end
      return out
    end
  end
  fail(string.format("unexpected '%s' at position %d in expression: %s",
    tok.t == "eof" and "end" or tok.t, tok.pos, self.src))
end

local cache = {}

--- Compile an expression string; returns f(vars) -> value or raises {template_error}.
function M.compile_expr(src)
  local f = cache[src]
  if f then return f end
  local p = setmetatable({ toks = tokenize(src), i = 1, src = src }, Parser)
  f = p:expr(0)
  if p:peek().t ~= "eof" then
    fail(string.format("unexpected '%s' at position %d in expression: %s", p:peek().t, p:peek().pos, src))
  end
  cache[src] = f
  return f
end

local function protect(fn, ...)
  local ok, res = pcall(fn, ...)
  if ok then return res end
  if type(res) == "table" and res.template_error then return nil, res.template_error end
  error(res, 0)
end

--- Evaluate an expression: returns value, or nil, err. An undefined result is an error.
function M.eval(src, vars)
  return protect(function()
    local v = M.compile_expr(src)(vars or {})
    if is_undef(v) then undef_error(v) end
    return v
  end)
end

--- Evaluate a condition (for `when`): returns true/false, or nil, err.
function M.test(src, vars)
  return protect(function()
    local v = M.compile_expr(src)(vars or {})
    if is_undef(v) then undef_error(v) end
    return truthy(v)
  end)
end

---------------------------------------------------------------------------
-- Templates
---------------------------------------------------------------------------
local function parse_template(src, name)
  -- Split into text / {{ }} / {% %} / {# #} pieces, removing lines that only hold a tag.
  local pieces, i, line = {}, 1, 1
  while true do
    local s, _, kind = src:find("{([{%%#])", i)
    if not s then
      pieces[#pieces + 1] = { t = "text", v = src:sub(i) }
      break
    end
    local close = ({ ["{"] = "}}", ["%"] = "%}", ["#"] = "#}" })[kind]
    local cs, ce = src:find(close, s + 2, true)
    local tline = line + select(2, src:sub(i, s):gsub("\n", ""))
    if not cs then fail(string.format("%s:%d: unclosed '{%s'", name, tline, kind)) end
    local text = src:sub(i, s - 1)
    local body = src:sub(s + 2, cs - 1)
    local after = ce + 1
    if kind ~= "{" then
      -- a block tag alone on its line swallows the line
      local before = text:match("\n([ \t]*)$")
        or ((i == 1 or src:sub(i - 1, i - 1) == "\n") and text:match("^([ \t]*)$"))
      local rest_s, rest_e = src:find("^[ \t]*\n", after)
      if before and rest_s then
        text = text:sub(1, #text - #before)
        after = rest_e + 1
      end
    end
    local ltrim, rtrim = body:sub(1, 1) == "-", body:sub(-1) == "-"
    if ltrim then text = text:gsub("%s+$", ""); body = body:sub(2) end
    if rtrim then
      body = body:sub(1, -2)
      local ws_s, ws_e = src:find("^%s+", after)
      if ws_s then after = ws_e + 1 end
    end
    pieces[#pieces + 1] = { t = "text", v = text }
    if kind ~= "#" then pieces[#pieces + 1] = { t = kind, v = body:match("^%s*(.-)%s*$"), line = tline } end
    line = line + select(2, src:sub(i, after - 1):gsub("\n", ""))
    i = after
  end

  -- Build a tree of nodes from the pieces.
  local pos = 1
  local function block(terminators)
    local nodes = {}
    while pos <= #pieces do
      local p = pieces[pos]
      pos = pos + 1
      local where = function(msg) return string.format("%s:%d: %s", name, p.line or 0, msg) end
      local function compile(e)
        local ok, f = pcall(M.compile_expr, e)
        if not ok then fail(where(type(f) == "table" and f.template_error or tostring(f))) end
        return f
      end
      if p.t == "text" then
        if p.v ~= "" then nodes[#nodes + 1] = { t = "text", v = p.v } end
      elseif p.t == "{" then
        nodes[#nodes + 1] = { t = "expr", f = compile(p.v), line = p.line }
      else
        local kw, rest = p.v:match("^(%a+)%s*(.-)$")
        if terminators and terminators[kw] then return nodes, kw, rest, p end
        if kw == "if" then
          local node = { t = "if", branches = {}, line = p.line }
          local cond = rest
          while true do
            local body, term, trest = block({ elif = true, ["else"] = true, endif = true })
            if not term then fail(where("'if' without 'endif'")) end
            node.branches[#node.branches + 1] = { cond = cond and compile(cond), body = body }
            if term == "endif" then break end
            if term == "else" then cond = nil else cond = trest end
          end
          nodes[#nodes + 1] = node
        elseif kw == "for" then
          local a, b, e = rest:match("^([%a_][%w_]*)%s*,%s*([%a_][%w_]*)%s+in%s+(.+)$")
          if not a then a, e = rest:match("^([%a_][%w_]*)%s+in%s+(.+)$") end
          if not a then fail(where("bad for loop: '" .. p.v .. "' (use: for x in list)")) end
          local body, term = block({ endfor = true })
          if not term then fail(where("'for' without 'endfor'")) end
          nodes[#nodes + 1] = { t = "for", k = a, v = b, f = compile(e), body = body, line = p.line }
        else
          fail(where("unknown tag '" .. (kw or p.v) .. "'"))
        end
      end
    end
    return nodes
  end
  local nodes, stray, _, p = block({ endif = true, endfor = true, elif = true, ["else"] = true })
  if stray then fail(string.format("%s:%d: unexpected '%s'", name, p.line, stray)) end
  return nodes
end

local function render_nodes(nodes, vars, out, name)
  for _, n in ipairs(nodes) do
    if n.t == "text" then
      out[#out + 1] = n.v
    elseif n.t == "expr" then
      local ok, v = pcall(function() return tostr(n.f(vars)) end)
      if not ok then
        fail(string.format("%s:%d: %s", name, n.line, type(v) == "table" and v.template_error or tostring(v)))
      end
      out[#out + 1] = v
    elseif n.t == "if" then
      for _, br in ipairs(n.branches) do
        if not br.cond or truthy(br.cond(vars)) then
          render_nodes(br.body, vars, out, name)
          break
        end
      end
    elseif n.t == "for" then
      local tainted, coll = M.tainted(n.f, vars)
      if is_undef(coll) then fail(string.format("%s:%d: undefined variable '%s'", name, n.line, coll.name)) end
      if type(coll) ~= "table" then coll = coll == nil and {} or { coll } end
      local scope = setmetatable({}, { __index = vars })
      if tainted then M.mark_unsafe(scope, { n.k, n.v }) end
      local keys
      if n.v or not is_list(coll) then keys = is_list(coll) and nil or sorted_keys(coll) end
      local count = keys and #keys or #coll
      for i = 1, count do
        local k = keys and keys[i] or i
        if n.v then scope[n.k], scope[n.v] = k, coll[k]
        else scope[n.k] = keys and k or coll[k] end
        scope.loop = { index = i, index0 = i - 1, first = i == 1, last = i == count, length = count }
        render_nodes(n.body, scope, out, name)
      end
    end
  end
end

--- Render a template string. Returns the text, or nil, "name:line: message".
function M.render(src, vars, name)
  name = name or "template"
  return protect(function()
    local nodes = parse_template(src, name)
    local out = {}
    render_nodes(nodes, vars or {}, out, name)
    return concat(out)
  end)
end

--- Check the syntax of a string that will be templated, without rendering
--- it: unclosed tags, bad expressions, unknown filters and tests. Undefined
--- variables are not an error here (they are only known per host). Strings
--- without {{ or {% are not templates. Returns true, or nil, err (with
--- "line N: " for a problem past the first line).
function M.check(v)
  if type(v) ~= "string" or not v:find("{[{%%]") then return true end
  local ok, err = pcall(parse_template, v, "value")
  if ok then return true end
  err = type(err) == "table" and err.template_error or tostring(err)
  local line, rest = err:match("^value:(%d+): (.*)$")
  if line then err = (line == "1" and "" or ("line " .. line .. ": ")) .. rest end
  return nil, err
end

-- A variable whose value is itself a template ("{{ root }}/x") is rendered
-- when it is used, as in Ansible.
local depth = 0
function M.nested(v, vars, name)
  if depth > 20 then fail("variable '" .. name .. "' refers to itself") end
  depth = depth + 1
  local ok, r, err = pcall(M.render_value, v, vars)
  depth = depth - 1
  if not ok then error(r, 0) end
  if err then fail(err) end
  return r
end

--- Render one value from task args: strings with {{ }} are templated, tables
--- recursively. A string that is exactly "{{ expr }}" yields the raw value
--- (a list stays a list). Returns value, or nil, err.
function M.render_value(value, vars)
  return protect(function()
    local function walk(v)
      if type(v) == "string" then
        if not v:find("{[{%%]") then return v end
        local whole = v:match("^%s*{{(.-)}}%s*$")
        if whole and not whole:find("}}", 1, true) then
          local r = M.compile_expr(whole:match("^%s*(.-)%s*$"))(vars)
          if is_undef(r) then undef_error(r) end
          return r
        end
        local nodes = parse_template(v, "value")
        local out = {}
        local ok, err = pcall(render_nodes, nodes, vars, out, "value")
        if not ok then
          if type(err) == "table" and err.template_error then
            fail((err.template_error:gsub("^value:%d+: ", "")))
          end
          error(err, 0)
        end
        return concat(out)
      elseif type(v) == "table" then
        local t = {}
        for k, x in pairs(v) do t[k] = walk(x) end
        return t
      end
      return v
    end
    return walk(value)
  end)
end

return M
