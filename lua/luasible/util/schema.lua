--- luasible.util.schema: the one checker of the shapes of what a user writes
-- (play, task and handler fields, inventory entries). A schema is
-- declarative: a table of field -> type, so a new keyword is one entry.
-- `check` answers with a message for a person, one line that names the
-- field (as a path), what it must be and what it got:
--   "tags must be a string, an integer or a list of them, got a number (nan)"
--   "vars.x.y contains itself"      "loop[2] must be data ..., got a function"
--
-- A type is { desc = "a string", plural = "strings", test = fn(v, label) },
-- test returning nil when v fits, false for "LABEL must be DESC, got V",
-- or a whole message of its own. Types compose: list(of), mapping(of),
-- either(a, b, ...).
local M = {}

--- Text on one line for a message: control characters escaped (\n, \t,
--- \ddd), and every byte from 128 up when it is not valid UTF-8; at most
--- n bytes (then "...").
function M.escape(s, n)
  local bad = not utf8.len(s)
  s = s:gsub(bad and "[%c\128-\255]" or "%c", function(c)
    if c == "\n" then return "\\n" elseif c == "\t" then return "\\t" end
    return string.format("\\%03d", c:byte())
  end)
  if n and #s > n then s = s:sub(1, n) .. "..." end
  return s
end
local escape = M.escape

--- A text quoted for a message, escaped and shortened, one line: 'abc', or
--- "it's" when it holds a ' and no ".
function M.quote(s, n)
  s = escape(tostring(s), n or 60)
  if s:find("'", 1, true) and not s:find('"', 1, true) then return '"' .. s .. '"' end
  return "'" .. s .. "'"
end

--- Is t a list: its keys exactly 1..n, no hole (an empty table is one)?
--- ({ a, nil, c } is not: ipairs would stop before c.)
local function is_list(t)
  local n, count = #t, 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
    count = count + 1
  end
  return count == n
end
M.is_list = is_list

--- A value as a message shows it: "a string ('abc')", "a number (nan)",
--- "a list", "a mapping", "an empty table", "a function", ...
function M.show(v)
  local t = type(v)
  if v == nil then return "nothing (nil)" end
  if t == "string" then return "a string (" .. M.quote(v, 40) .. ")" end
  if t == "number" then
    local s = tostring(v)
    if v ~= v then s = "nan" end
    return "a number (" .. s .. ")"
  end
  if t == "boolean" then return "a boolean (" .. tostring(v) .. ")" end
  if t == "table" then
    if next(v) == nil then return "an empty table" end
    if is_list(v) then return "a list" end
    for k in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 then return "a mapping" end
    end
    return "a list with a hole (a nil in it)"
  end
  if t == "thread" then return "a coroutine" end
  if t == "userdata" then return "a userdata value" end
  return "a " .. t
end

--- The label of a part of `label`: label.key, label[2], label['a b'].
function M.sub(label, k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then
    return label == "" and k or (label .. "." .. k)
  end
  if math.type(k) == "integer" then return label .. "[" .. k .. "]" end
  return label .. "[" .. (type(k) == "string" and M.quote(k) or tostring(k)) .. "]"
end

-- kind: the Lua type a type takes (either() uses it to say more).
local function new(desc, plural, test, kind) return { desc = desc, plural = plural, test = test, kind = kind } end

--- nil when v fits type ty, else the message about `label`.
local function why(ty, v, label)
  local r = ty.test(v, label)
  if r == false then return label .. " must be " .. ty.desc .. ", got " .. M.show(v) end
  return r
end
M.why = why

M.any = new("anything", "values", function() return nil end)

--- A string; opts: nonempty, pattern, desc (what it then is called), plural.
function M.string(opts)
  opts = opts or {}
  return new(opts.desc or (opts.nonempty and "a non-empty string" or "a string"),
    opts.plural or (opts.nonempty and "non-empty strings" or "strings"), function(v)
      if type(v) ~= "string" or (opts.nonempty and v == "") or (opts.pattern and not v:find(opts.pattern)) then
        return false
      end
    end, "string")
end

--- A name a variable can have (what `register` and `loop_var` take).
M.identifier = M.string({ pattern = "^[%a_][%w_]*$", desc = "a variable name (letters, digits and _)",
  plural = "variable names" })

M.boolean = new("true or false", "booleans", function(v) if type(v) ~= "boolean" then return false end end, "boolean")
M.func = new("a function", "functions", function(v) if type(v) ~= "function" then return false end end, "function")
M.table = new("a table", "tables", function(v) if type(v) ~= "table" then return false end end, "table")

--- An integer (1 and 1.0 alike; never NaN or inf); opts: min, max.
function M.integer(opts)
  opts = opts or {}
  local desc = opts.desc or (opts.min == 1 and "a positive integer")
    or (opts.min == 0 and "a non-negative integer") or "an integer"
  return new(desc, "integers", function(v)
    if math.type(v) == "float" then v = math.tointeger(v) end
    if math.type(v) ~= "integer" or (opts.min and v < opts.min) or (opts.max and v > opts.max) then
      return false
    end
  end, "number")
end

--- A finite number; opts: min.
function M.number(opts)
  opts = opts or {}
  return new(opts.min == 0 and "a non-negative number" or "a number", "numbers", function(v)
    if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge or (opts.min and v < opts.min) then
      return false
    end
  end, "number")
end

--- A list (keys 1..n, no holes) of `of`; opts: nonempty.
function M.list(of, opts)
  opts = opts or {}
  local desc = (opts.nonempty and "a non-empty list" or "a list") .. (of ~= M.any and (" of " .. of.plural) or "")
  return new(desc, "lists", function(v, label)
    if type(v) ~= "table" or not is_list(v) or (opts.nonempty and #v == 0) then return false end
    for i, x in ipairs(v) do
      -- (the label of an entry made only when it is wrong: tests are pure)
      if of.test(x, label) ~= nil then
        local w = why(of, x, M.sub(label, i))
        if w then return w end
      end
    end
  end, "table")
end

--- One of several types: either(a, b, c) is "A, B or C"; a last argument
--- { desc =, plural = } names the union itself. When only one of them takes
--- tables, its message about a table is the one (it says more: "when[2]
--- must be ...").
function M.either(...)
  local types = { ... }
  local names = {}
  if types[#types].test == nil then names = table.remove(types) end
  local descs = {}
  for i, t in ipairs(types) do descs[i] = t.desc end
  local desc = names.desc or (#descs > 1 and (table.concat(descs, ", ", 1, #descs - 1) .. " or " .. descs[#descs]))
    or descs[1]
  return new(desc, names.plural or "values", function(v, label)
    local same, n = nil, 0
    for _, t in ipairs(types) do
      if t.test(v, label) == nil then return nil end
      if t.kind == type(v) then same, n = t, n + 1 end
    end
    if n == 1 and type(v) == "table" then return why(same, v, label) end
    return false
  end)
end

--- Data: strings, numbers, booleans and tables of them, with string or
--- number keys, no table inside itself, at most MAX_DEPTH deep (templates,
--- JSON and messages walk every value). opts.functions: functions too
--- (arguments of Lua modules, which may take a callback).
M.MAX_DEPTH = 64
-- The first problem in v: nil, or what (data, self, deep, key), the value
-- concerned and the depth of the table it is in; path[1 .. depth]: the keys
-- down to it (labels are made only for a message).
local function walk(v, depth, seen, functions, path)
  local t = type(v)
  if t == "string" or t == "number" or t == "boolean" or (t == "function" and functions) then return nil end
  if t ~= "table" then return "data", v, depth end
  if seen[v] then return "self", v, depth end
  if depth > M.MAX_DEPTH then return "deep", v, depth end
  seen[v] = true
  for k, x in pairs(v) do
    local tk = type(k)
    if tk ~= "string" and tk ~= "number" then return "key", k, depth end
    local tx = type(x)
    if not (tx == "string" or tx == "number" or tx == "boolean") then
      path[depth + 1] = k
      local w, a, d = walk(x, depth + 1, seen, functions, path)
      if w then return w, a, d end
    end
  end
  seen[v] = nil
  return nil
end

local function walk_message(v, label, functions)
  local path = {}
  local w, a, d = walk(v, 0, {}, functions, path)
  if not w then return nil end
  for i = 1, d do label = M.sub(label, path[i]) end
  if w == "data" then
    return label .. " must be data (strings, numbers, booleans and tables of them), got " .. M.show(a)
  elseif w == "self" then
    return label .. " contains itself"
  elseif w == "deep" then
    return label .. " is nested more than " .. M.MAX_DEPTH .. " levels deep"
  end
  return label .. " has a key that is " .. M.show(a) .. " (keys are strings or numbers)"
end

function M.data(opts)
  local functions = opts and opts.functions or false
  return new(functions and "data or functions" or "data", "values", function(v, label)
    return walk_message(v, label, functions)
  end, "table") -- (and scalars: for a table its message is the one)
end

--- A mapping of names (strings) to values of type `of` (default: data).
function M.mapping(of)
  of = of or M.data()
  return new("a mapping of names to values", "mappings", function(v, label)
    if type(v) ~= "table" then return false end
    -- the common case, all fine, without sorting or labels (tests are pure)
    local fine = true
    for k, x in pairs(v) do
      if type(k) ~= "string" or of.test(x, label) ~= nil then fine = false break end
    end
    if fine then return nil end
    local keys = {}
    for k in pairs(v) do
      if type(k) ~= "string" then
        return label .. " must be a mapping of names to values, got a key that is " .. M.show(k)
      end
      keys[#keys + 1] = k
    end
    table.sort(keys) -- the same message every run
    for _, k in ipairs(keys) do
      local w = why(of, v[k], M.sub(label, k))
      if w then return w end
    end
  end, "table")
end

--- The first key of t that `fields` does not know, or nil; keys sorted, so
--- the message is the same from run to run.
function M.unknown(fields, t)
  local keys = {}
  for k in pairs(t) do
    if fields[k] == nil then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b)
    if type(a) ~= type(b) then return type(a) < type(b) end
    if type(a) == "string" or type(a) == "number" then return a < b end
    return false
  end)
  return keys[1]
end

--- Check the fields of table t against `fields` (field -> type), in the
--- order of the list `order` (sorted names when nil). Returns nil, or the
--- message about the first wrong field and that field's name. Fields that
--- `fields` does not know are not looked at (see M.unknown).
function M.check(fields, t, order)
  if not order then
    order = {}
    for k in pairs(fields) do order[#order + 1] = k end
    table.sort(order)
  end
  for _, k in ipairs(order) do
    local v = t[k]
    if v ~= nil then
      local w = why(fields[k], v, k)
      if w then return w, k end
    end
  end
  return nil
end

return M
