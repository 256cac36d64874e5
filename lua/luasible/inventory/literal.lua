--- luasible.inventory.literal: the values of Ansible's INI inventories, as
-- Python's ast.literal_eval reads them (Ansible's InventoryModule._parse_value):
--
--   42  -7  0x1f  0o17  0b101  1_000      integers (not 042: stays the string)
--   1.5  .5  5.  1e3  09.5  1E-3           floats
--   'a'  "b"  '''c'''  r'\d'  b'x'  'a' 'b' strings (escapes as Python's)
--   True  False  None                      booleans, null (not true/false)
--   [1, 'a']  (1, 2)  1, 2                 lists (a tuple is a list)
--   {'a': 1}                               a mapping
--   # comment                              after a value, left out
--
-- Anything else stays the text it is. Kept as text too, where Ansible
-- would hold a value no inventory can print: complex numbers, `...`, sets
-- (`{1, 2}`, `set()`), tuples as keys, integers beyond 64 bits (Lua has no
-- bignums) and \N{name} escapes. A list, set or mapping as a mapping key
-- (or in a set) is an error, as in Python (TypeError).
--
--   literal.eval(text) -> value, true | text, false | nil, err
--   literal.int(v)     -> Python's int(v) for ints, floats, bools, text; or nil
local json = require "luasible.json"
local yaml = require "luasible.yaml"

local M = {}

local NOT = {}    -- raised: not a literal (SyntaxError or ValueError)
local MAXDEPTH = 200
local function notlit() error(NOT, 0) end

-- A parser over s: a table of position and the functions over it.
local function parser(s)
  local pos, depth = 1, 0
  local P = {}

  local function ws()
    while true do
      local _, e = s:find("^[ \t\f]+", pos)
      if e then pos = e + 1 end
      if s:sub(pos, pos) == "#" then pos = #s + 1 end
      if not e then return end
    end
  end
  local function peek() ws() return s:sub(pos, pos) end
  local function accept(c) if peek() == c then pos = pos + 1 return true end return false end

  -- digits with single underscores between them, from pos: the text or ""
  local function digitpart(class)
    local start = pos
    if not s:sub(pos, pos):match(class) then return "" end
    pos = pos + 1
    while true do
      local c = s:sub(pos, pos)
      if c:match(class) then pos = pos + 1
      elseif c == "_" and s:sub(pos + 1, pos + 1):match(class) then pos = pos + 2
      else break end
    end
    return (s:sub(start, pos - 1):gsub("_", ""))
  end

  -- an integer from digits in a base, or nil beyond 64 bits
  local function to_int(digits, base)
    local n = 0
    for i = 1, #digits do
      local d = tonumber(digits:sub(i, i), 16)
      if n > (math.maxinteger - d) // base then return nil end
      n = n * base + d
    end
    return n
  end

  local function number()
    local c2 = s:sub(pos, pos + 1):lower()
    local base = ({ ["0x"] = 16, ["0o"] = 8, ["0b"] = 2 })[c2]
    local node
    if base then
      pos = pos + 2
      if s:sub(pos, pos) == "_" then pos = pos + 1 end
      local class = ({ [16] = "%x", [8] = "[0-7]", [2] = "[01]" })[base]
      local digits = digitpart(class)
      if digits == "" then notlit() end
      node = { t = "int", v = to_int(digits, base) }
    else
      local int = digitpart("%d")
      local text, float = int, false
      if s:sub(pos, pos) == "." then
        pos = pos + 1
        local frac = digitpart("%d")
        if int == "" and frac == "" then notlit() end
        text, float = text .. "." .. frac, true
      end
      if s:sub(pos, pos):match("[eE]") then
        local sign = s:sub(pos + 1, pos + 1):match("[+-]") or ""
        pos = pos + 1 + #sign
        local e = digitpart("%d")
        if e == "" then notlit() end
        text, float = text .. "e" .. sign .. e, true
      end
      if s:sub(pos, pos):match("[jJ]") then
        pos = pos + 1
        node = { t = "complex" }
      elseif float then
        node = { t = "float", v = tonumber((text:gsub("^%.", "0."):gsub("%.e", ".0e"):gsub("%.$", ".0"))) }
      else
        if int:match("^0") and int:match("[1-9]") then notlit() end -- 042: a SyntaxError
        node = { t = "int", v = to_int(int, 10) }
      end
    end
    if s:sub(pos, pos):match("[%w_.\128-\255]") then notlit() end -- 1abc, 1.2.3
    return node
  end

  local SIMPLE = { a = "\a", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", v = "\v",
    ["\\"] = "\\", ["'"] = "'", ['"'] = '"' }

  -- one string literal at pos (its prefix read): the text
  local function string_body(raw, bytes)
    local q = s:sub(pos, pos)
    local quote = s:sub(pos, pos + 2) == q:rep(3) and q:rep(3) or q
    pos = pos + #quote
    local out = {}
    while true do
      if s:sub(pos, pos + #quote - 1) == quote then pos = pos + #quote break end
      local c = s:sub(pos, pos)
      if c == "" then notlit() end
      if bytes and c:byte() > 127 then notlit() end
      if c == "\\" then
        local n = s:sub(pos + 1, pos + 1)
        if n == "" then notlit() end
        if raw then
          out[#out + 1] = c .. n
          pos = pos + 2
        elseif SIMPLE[n] then
          out[#out + 1] = SIMPLE[n]
          pos = pos + 2
        elseif n:match("[0-7]") then
          local o = s:match("^[0-7][0-7]?[0-7]?", pos + 1)
          local v = tonumber(o, 8)
          out[#out + 1] = (bytes or v < 128) and string.char(v % 256) or utf8.char(v)
          pos = pos + 1 + #o
        elseif n == "x" then
          local h = s:match("^%x%x", pos + 2)
          if not h then notlit() end
          local v = tonumber(h, 16)
          out[#out + 1] = (bytes or v < 128) and string.char(v) or utf8.char(v)
          pos = pos + 4
        elseif (n == "u" or n == "U") and not bytes then
          local w = n == "u" and 4 or 8
          local h = s:sub(pos + 2, pos + 1 + w)
          if #h ~= w or not h:match("^%x+$") or tonumber(h, 16) > 0x10FFFF then notlit() end
          out[#out + 1] = utf8.char(tonumber(h, 16))
          pos = pos + 2 + w
        elseif n == "N" and not bytes then
          notlit() -- \N{name}: kept as text (no Unicode name table here)
        else
          out[#out + 1] = c .. n
          pos = pos + 2
        end
      else
        out[#out + 1] = c
        pos = pos + 1
      end
    end
    return table.concat(out)
  end

  local function strings()
    local parts, kind = {}, nil
    while true do
      local prefix = s:match("^[rRbBuUfF]?[rRbB]?", pos)
      local q = s:sub(pos + #prefix, pos + #prefix)
      if q ~= "'" and q ~= '"' then
        if #parts == 0 then notlit() end
        break
      end
      local p = prefix:lower()
      if #p == 2 and not (p == "rb" or p == "br") then notlit() end
      if p:find("f") then notlit() end -- an f-string is no constant
      local bytes = p:find("b") ~= nil
      if kind ~= nil and kind ~= bytes then notlit() end -- bytes and str cannot be joined
      kind = bytes
      pos = pos + #prefix
      parts[#parts + 1] = string_body(p:find("r") ~= nil, bytes)
      ws()
    end
    return { t = "str", v = table.concat(parts) }
  end

  local expr

  local function sequence(close)
    local items, comma = {}, false
    while peek() ~= close do
      items[#items + 1] = expr()
      if not accept(",") then break end
      comma = true
    end
    if not accept(close) then notlit() end
    return items, comma
  end

  local function atom()
    depth = depth + 1
    if depth > MAXDEPTH then notlit() end
    local c = peek()
    local node
    if c:match("%d") or (c == "." and s:sub(pos + 1, pos + 1):match("%d")) then
      node = number()
    elseif c == "'" or c == '"' or (c:match("[rRbBuUfF]") and s:match("^[rRbBuUfF][rRbB]?['\"]", pos)) then
      node = strings()
    elseif c == "(" then
      pos = pos + 1
      local items, comma = sequence(")")
      node = (comma or #items == 0) and { t = "tuple", items = items } or items[1]
    elseif c == "[" then
      pos = pos + 1
      node = { t = "list", items = (sequence("]")) }
    elseif c == "{" then
      pos = pos + 1
      if accept("}") then
        node = { t = "dict", keys = {}, vals = {} }
      else
        local first = expr()
        if accept(":") then
          node = { t = "dict", keys = { first }, vals = { expr() } }
          while accept(",") and peek() ~= "}" do
            node.keys[#node.keys + 1] = expr()
            if not accept(":") then notlit() end
            node.vals[#node.vals + 1] = expr()
          end
        else
          local items = { first }
          while accept(",") and peek() ~= "}" do items[#items + 1] = expr() end
          node = { t = "set", items = items }
        end
        if not accept("}") then notlit() end
      end
    else
      local name = s:match("^[%a_\128-\255][%w_\128-\255]*", pos)
      if not name then notlit() end
      pos = pos + #name
      if name == "True" then node = { t = "bool", v = true }
      elseif name == "False" then node = { t = "bool", v = false }
      elseif name == "None" then node = { t = "none" }
      elseif name == "set" and accept("(") and accept(")") then node = { t = "set", items = {} }
      else notlit() end
    end
    local n = peek()
    if n == "(" or n == "[" or n == "." then notlit() end -- a call, a subscript, an attribute
    depth = depth - 1
    return node
  end

  local function unary()
    local c = peek()
    if c ~= "-" and c ~= "+" then return atom() end
    pos = pos + 1
    return { t = "unary", neg = c == "-", operand = unary() }
  end

  function expr()
    local left = unary()
    while true do
      local c = peek()
      if c ~= "+" and c ~= "-" then break end
      pos = pos + 1
      left = { t = "binop", left = left, right = unary() }
    end
    local c = peek()
    if c ~= "" and not c:match("[,:%]%)}]") then notlit() end -- another operator: no literal
    return left
  end

  function P.top()
    local first = expr()
    local node = first
    if accept(",") then
      node = { t = "tuple", items = { first } }
      while peek() ~= "" do
        node.items[#node.items + 1] = expr()
        if not accept(",") then break end
      end
    end
    if peek() ~= "" then notlit() end
    return node
  end
  return P
end

local KEPT = {}        -- raised: a value kept as text (see the manual)
local TYPE_ERROR = {}  -- raised: what is a TypeError in Python

local NUM = { int = true, float = true, complex = true }

local function hashable(node)
  local t = node.t
  if t == "list" or t == "dict" or t == "set" then return false end
  for _, x in ipairs(t == "tuple" and node.items or {}) do if not hashable(x) then return false end end
  return true
end

-- Raise NOT or TYPE_ERROR where literal_eval raises ValueError or
-- TypeError, in the order Python meets them.
local function check(node)
  local t = node.t
  if t == "list" or t == "tuple" then
    for _, x in ipairs(node.items) do check(x) end
  elseif t == "set" then
    for _, x in ipairs(node.items) do
      check(x)
      if not hashable(x) then error(TYPE_ERROR, 0) end
    end
  elseif t == "dict" then
    for i, k in ipairs(node.keys) do
      check(k)
      check(node.vals[i])
      if not hashable(k) then error(TYPE_ERROR, 0) end
    end
  elseif t == "unary" then
    if not NUM[node.operand.t] then error(NOT, 0) end
  elseif t == "binop" then
    -- only a real number plus or minus an imaginary one (kept as text)
    local l = node.left
    local real = l.t == "int" or l.t == "float" or (l.t == "unary" and (l.operand.t == "int" or l.operand.t == "float"))
    if not (real and node.right.t == "complex") then error(NOT, 0) end
  end
end

-- A checked node as a Lua value; raises KEPT for what is kept as text.
local function convert(node)
  local t = node.t
  if t == "int" then
    if node.v == nil then error(KEPT, 0) end
    return node.v
  elseif t == "float" or t == "str" or t == "bool" then return node.v
  elseif t == "none" then return yaml.null
  elseif t == "list" or t == "tuple" then
    local out = {}
    for i, x in ipairs(node.items) do out[i] = convert(x) end
    return out
  elseif t == "dict" then
    local out = json.object()
    for i, k in ipairs(node.keys) do
      if k.t == "tuple" then error(KEPT, 0) end
      local key = convert(k)
      -- True == 1 and False == 0 as Python keys: the first one stays
      if type(key) == "boolean" and out[key and 1 or 0] ~= nil then key = key and 1 or 0
      elseif (key == 1 or key == 0) and out[key == 1] ~= nil then key = key == 1 end
      out[key] = convert(node.vals[i])
    end
    return out
  elseif t == "unary" then
    local v = convert(node.operand)
    return node.neg and -v or v
  end
  error(KEPT, 0) -- complex, set, a complex sum
end

--- The value of INI text `s` as literal_eval gives it: value, true; or s,
--- false when it is no literal (or a kept one); or nil, err for what is an
--- error in Python (an unhashable key or set member).
function M.eval(s)
  -- the frequent cases, without the parser: a decimal integer; a text that
  -- begins like a name, with nothing that could make it a literal (a
  -- quote, a bracket, a comma); digits with two dots or more (1.2.3)
  local n = s:match("^[+-]?[1-9]%d*$") and math.tointeger(tonumber(s))
  if n then return n, true end
  if s:match("^[%a_/]") and not s:find("[%s#,'\"%[%]%(%){}]") and s ~= "True" and s ~= "False" and s ~= "None" then
    return s, false
  end
  if s:match("^%d[%d.]*$") and s:find("%.%d*%.") then return s, false end
  local ok, v = pcall(function()
    local node = parser(s).top()
    check(node)
    return convert(node)
  end)
  if ok then return v, true end
  if v == NOT or v == KEPT then return s, false end
  if v == TYPE_ERROR then return nil, "unhashable type (a list, set or mapping) as a key or in a set: " .. s end
  error(v, 0)
end

--- Python's int(v): an integer from an integer, a float (toward zero), a
--- boolean or a decimal text (spaces around, a sign, _ between digits);
--- nil for anything else.
function M.int(v)
  local t = type(v)
  if math.type(v) == "integer" then return v end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return nil end
    return math.tointeger(v >= 0 and math.floor(v) or math.ceil(v))
  end
  if t == "boolean" then return v and 1 or 0 end
  if t ~= "string" then return nil end
  local sign, digits = v:match("^%s*([+-]?)(%d[%d_]*)%s*$")
  if not digits or digits:find("__", 1, true) or digits:sub(-1) == "_" then return nil end
  local n = math.tointeger(tonumber((digits:gsub("_", ""))))
  if not n then return nil end
  return sign == "-" and -n or n
end

return M
