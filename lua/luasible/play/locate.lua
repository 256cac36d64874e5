--- luasible.play.locate: where the parts of a play are in its file's text,
-- for messages (file:line). A Lua table carries no line numbers, so the
-- text is read as Lua tokens and the table constructor the file returns
-- (its last `return { ... }` outside any table) is mapped: the line of
-- every field and every list entry, by path ({ "tasks", 3, "loop" }; a
-- list of plays starts with the play's index). Parts the file builds by
-- code (a local, a function call) are not in the map; for those the tasks
-- are found by their `name = "..."`, in order.
--
--   local locate = M.new(text)
--   locate.at(path)   -> line of the deepest part of `path` in the map, and
--                        whether it is the part itself; or nil
--   locate(name)      -> line of the next task named `name`, or nil
local M = {}

local SYMBOLS = { "...", "..", "==", "~=", "<=", ">=", "//", "::", "<<", ">>" }
local OPEN_BLOCK = { ["function"] = true, ["do"] = true, ["if"] = true, ["repeat"] = true }
local CLOSE_BLOCK = { ["end"] = true, ["until"] = true }

-- The tokens of Lua text: { t = "name"|"string"|"number"|"sym", v, line }.
-- Nothing is ever run: a string's value is read by this code.
local function tokens(text)
  local toks, i, line, n = {}, 1, 1, #text
  local function add(t, v) toks[#toks + 1] = { t = t, v = v, line = line } end
  local function lines_in(a, b) line = line + select(2, text:sub(a, b):gsub("\n", "")) end
  while i <= n do
    local c = text:sub(i, i)
    if c == "\n" then line, i = line + 1, i + 1
    elseif c:find("%s") then i = i + 1
    elseif text:find("^%-%-", i) then
      local eq = text:match("^%-%-%[(=*)%[", i)
      local e
      if eq then e = select(2, text:find("]" .. eq .. "]", i, true))
      else e = (text:find("\n", i, true) or n + 1) - 1 end
      e = e or n
      lines_in(i, e)
      i = e + 1
    elseif text:find("^%[=*%[", i) then
      local eq = text:match("^%[(=*)%[", i)
      local e = select(2, text:find("]" .. eq .. "]", i, true)) or n
      local l = line
      lines_in(i, e)
      toks[#toks + 1] = { t = "string", v = text:sub(i + #eq + 2, e - #eq - 2):gsub("^\n", ""), line = l }
      i = e + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = text:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      local raw = text:sub(i, j)
      local chunk = load("return " .. raw, "=string", "t", {})
      local ok, v = pcall(chunk or error)
      add("string", ok and v or raw)
      lines_in(i, j)
      i = j + 1
    elseif text:find("^%.?%d", i) then
      local num = text:match("^%.?%d[%w%.]*", i)
      while num:find("[eEpP]$") and text:find("^[%+%-]", i + #num) do
        num = num .. text:match("^[%+%-][%w%.]*", i + #num)
      end
      add("number", tonumber(num))
      i = i + #num
    elseif c:find("[%a_]") then
      local w = text:match("^[%a_][%w_]*", i)
      add("name", w)
      i = i + #w
    else
      local sym = c
      for _, s in ipairs(SYMBOLS) do
        if text:sub(i, i + #s - 1) == s then sym = s break end
      end
      add("sym", sym)
      i = i + #sym
    end
  end
  return toks
end

local function is_sym(tok, s) return tok and tok.t == "sym" and tok.v == s end

-- The index after the expression starting at toks[i]: at the first , ; or
-- closing bracket of the table it is in (brackets and blocks skipped).
local function skip_expr(toks, i)
  local depth = 0
  while toks[i] do
    local tok = toks[i]
    if tok.t == "sym" then
      if tok.v == "(" or tok.v == "[" or tok.v == "{" then depth = depth + 1
      elseif tok.v == ")" or tok.v == "]" or tok.v == "}" then
        if depth == 0 then return i end
        depth = depth - 1
      elseif (tok.v == "," or tok.v == ";") and depth == 0 then return i end
    elseif tok.t == "name" then
      if OPEN_BLOCK[tok.v] then depth = depth + 1 elseif CLOSE_BLOCK[tok.v] then depth = depth - 1 end
    end
    i = i + 1
  end
  return i
end

-- The table constructor at toks[i] ("{"): { line, fields = { key -> node } }
-- (positional entries under 1, 2, ...), and the index after its "}".
local function parse_table(toks, i, depth)
  local node = { line = toks[i].line, fields = {} }
  local pos = 0
  i = i + 1
  while toks[i] and not is_sym(toks[i], "}") do
    local key, vi
    local tok = toks[i]
    if tok.t == "name" and is_sym(toks[i + 1], "=") then
      key, vi = tok.v, i + 2
    elseif is_sym(tok, "[") then
      local k = toks[i + 1]
      if k and (k.t == "string" or k.t == "number") and is_sym(toks[i + 2], "]") and is_sym(toks[i + 3], "=") then
        key, vi = k.v, i + 4
      else
        vi = skip_expr(toks, i + 1) + 1 -- past the "]"; then "="
        if is_sym(toks[vi], "=") then vi = vi + 1 end
      end
    else
      pos = pos + 1
      key, vi = pos, i
    end
    local child
    if toks[vi] and is_sym(toks[vi], "{") and depth < 200 then
      local after
      child, after = parse_table(toks, vi, depth + 1)
      if is_sym(toks[after], ",") or is_sym(toks[after], ";") or is_sym(toks[after], "}") then
        i = after
      else
        child, i = { line = toks[vi].line }, skip_expr(toks, vi) -- `{...} .. x`: not a table
      end
    else
      child = { line = toks[vi] and toks[vi].line or tok.line }
      i = skip_expr(toks, vi)
    end
    child.key_line = tok.line
    if key ~= nil then node.fields[key] = child end
    if is_sym(toks[i], ",") or is_sym(toks[i], ";") then i = i + 1 end
  end
  return node, i + 1
end

-- The map of the table the file returns, or nil.
local function source_map(toks)
  local depth, found = 0, nil
  for i, tok in ipairs(toks) do
    if tok.t == "sym" and (tok.v == "{" or tok.v == "(") then depth = depth + 1
    elseif tok.t == "sym" and (tok.v == "}" or tok.v == ")") then depth = depth - 1
    elseif depth == 0 and tok.t == "name" and tok.v == "return" and is_sym(toks[i + 1], "{") then found = i + 1 end
  end
  if not found then return nil end
  return (parse_table(toks, found, 0))
end

--- The locator of a play file's text (see the top of this file).
function M.new(text)
  local ok, toks = pcall(tokens, text)
  local map = ok and select(2, pcall(source_map, toks)) or nil
  if type(map) ~= "table" then map = nil end
  -- tasks by name, in order: each `name = "..."` string field, a cursor
  -- moving forward so that tasks of the same name get their own lines
  local names = {}
  for i, tok in ipairs(ok and toks or {}) do
    if tok.t == "name" and tok.v == "name" and is_sym(toks[i + 1], "=") and toks[i + 2]
      and toks[i + 2].t == "string" and not is_sym(toks[i - 1], ".") then
      names[#names + 1] = { name = toks[i + 2].v, line = tok.line }
    end
  end
  local cursor = 1
  local function by_name(name)
    if type(name) ~= "string" or name == "" then return nil end
    for pass = 1, 2 do
      for j = pass == 1 and cursor or 1, #names do
        if names[j].name == name then
          cursor = j + 1
          return names[j].line
        end
      end
    end
    return nil
  end
  local function at(path)
    local node, line = map, nil
    for i, k in ipairs(path) do
      local child = node and node.fields and node.fields[k]
      if not child then return line, false end
      line = i == #path and child.key_line or child.line
      node = child
    end
    return line, true
  end
  return setmetatable({ at = at }, { __call = function(_, name) return by_name(name) end })
end

return M
