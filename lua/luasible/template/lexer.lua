--- luasible.template.lexer: a template's (or an expression's) text as a
-- list of tokens, as Jinja2's lexer cuts it.
--
--   lexer.tokenize(src, opts) -> tokens; raises { template_error }.
--   opts: name (for errors), trim_blocks, lstrip_blocks, newline_sequence, block_start,
--     block_end, variable_start, variable_end, comment_start, comment_end
--     (Jinja2's defaults: {% %} {{ }} {# #}), expression = true to lex a
--     bare expression (no template text around it).
--
-- A token: { t = kind, v = value, pos = byte offset }. Kinds: "data" (text
-- to output, v the text), "var_begin", "var_end", "block_begin",
-- "block_end", "name", "string", "int", "float", "op" (v the operator),
-- "eof". Whitespace control ({%- -%} {{- -}} {#- -#}, {%+ with
-- lstrip_blocks), trim_blocks, lstrip_blocks and {% raw %} are done here.
-- lexer.where(src, pos) -> line, column for messages.
local find, sub, byte, match, concat = string.find, string.sub, string.byte, string.match, table.concat

local M = {}

--- The line and column (1-based) of byte offset pos in src.
function M.where(src, pos)
  local line, last = 1, 0
  local i = 1
  while true do
    local nl = find(src, "\n", i, true)
    if not nl or nl >= pos then break end
    line, last, i = line + 1, nl, nl + 1
  end
  return line, pos - last
end

--- An expression's text as messages show it: one line, at most 200 bytes.
function M.shown(src)
  return require("luasible.util.schema").escape(src, 200)
end

local function err(src, name, pos, msg)
  local line, col = M.where(src, pos)
  error({ template_error = string.format("%s:%d:%d: %s", name or "template", line, col, msg), located = true }, 0)
end
M.error = err

local OPS2 = { ["**"] = true, ["//"] = true, ["=="] = true, ["!="] = true, ["<="] = true, [">="] = true }
local OPS1 = {}
for c in ("+-*/%~<>=()[]{},.:|;"):gmatch(".") do OPS1[c] = true end
local OPEN = { ["("] = ")", ["["] = "]", ["{"] = "}" }
local CLOSE = { [")"] = true, ["]"] = true, ["}"] = true }

local ESCAPES = { n = "\n", t = "\t", r = "\r", ["\\"] = "\\", ["'"] = "'", ['"'] = '"', a = "\a", b = "\b",
  f = "\f", v = "\v", ["\n"] = "" }

-- Python's unicode-escape of a string literal's body (one pass, left to right).
local HEXLEN = { x = 2, u = 4, U = 8 }
local function unescape(s)
  if not find(s, "\\", 1, true) then return s end
  local out, i, n = {}, 1, #s
  while i <= n do
    local j = find(s, "\\", i, true)
    if not j then out[#out + 1] = sub(s, i) break end
    out[#out + 1] = sub(s, i, j - 1)
    local c = sub(s, j + 1, j + 1)
    local hl = HEXLEN[c]
    local hex = hl and match(s, "^" .. string.rep("%x", hl), j + 2)
    if hex then
      local cp = tonumber(hex, 16)
      out[#out + 1] = cp <= 0x10FFFF and utf8.char(cp) or ("\\" .. c .. hex)
      i = j + 2 + hl
    elseif match(c, "[0-7]") then
      local oct = match(s, "^[0-7][0-7]?[0-7]?", j + 1)
      out[#out + 1] = utf8.char(tonumber(oct, 8))
      i = j + 1 + #oct
    elseif c == "" then
      out[#out + 1] = "\\"
      i = j + 1
    else
      out[#out + 1] = ESCAPES[c] or ("\\" .. c)
      i = j + 2
    end
  end
  return concat(out)
end
M.unescape = unescape

-- Lex the inside of a tag from offset i up to the end delimiter `close`
-- (not counted while brackets are open); appends tokens; returns the offset
-- of the end delimiter (or of "-" before it) and whether it trims (-).
-- close == nil: up to the end of src.
local function lex_inside(src, i, close, toks, name, raw_strings)
  local depth = 0
  local n = #toks
  local len = #src
  local dash_close = close and ("-" .. close)
  while true do
    i = find(src, "[^ \t\r\n]", i)
    if not i then
      if close then err(src, name, len + 1, "unexpected end of template, expected '" .. close .. "'") end
      toks[n + 1] = { t = "eof", pos = len + 1 }
      return len + 1
    end
    if close and depth == 0 then
      if sub(src, i, i + #close - 1) == close then
        return i, false
      elseif sub(src, i, i + #dash_close - 1) == dash_close then
        return i, true
      end
    end
    local c = byte(src, i)
    local tok
    if c == 39 or c == 34 then -- ' "
      local q = sub(src, i, i)
      local j = i + 1
      while true do
        local k = find(src, q == "'" and "['\\]" or '["\\]', j)
        if not k then err(src, name, i, "unterminated string") end
        if sub(src, k, k) == q then
          local body = sub(src, i + 1, k - 1)
          tok = { t = "string", v = raw_strings and body or unescape(body), pos = i }
          i = k + 1
          break
        end
        j = k + 2
      end
    elseif c >= 48 and c <= 57 then -- digits
      local s, e = find(src, "^0[xX][%x_]+", i)
      local base = 16
      if not s then s, e = find(src, "^0[oO][0-7_]+", i); base = 8 end
      if not s then s, e = find(src, "^0[bB][01_]+", i); base = 2 end
      if s then
        tok = { t = "int", v = math.tointeger(tonumber((sub(src, s + 2, e):gsub("_", "")), base)), pos = i }
        i = e + 1
      else
        local num = match(src, "^%d[%d_]*%.%d[%d_]*[eE][+-]?%d+", i) or match(src, "^%d[%d_]*%.%d[%d_]*", i)
          or match(src, "^%d[%d_]*[eE][+-]?%d+", i)
        if num then
          tok = { t = "float", v = tonumber((num:gsub("_", ""))) + 0.0, pos = i }
        else
          num = match(src, "^%d[%d_]*", i)
          local v = math.tointeger(tonumber((num:gsub("_", ""))))
          tok = { t = v and "int" or "float", v = v or tonumber((num:gsub("_", ""))), pos = i }
        end
        i = i + #num
      end
    elseif (c >= 65 and c <= 90) or (c >= 97 and c <= 122) or c == 95 then
      local w = match(src, "^[%a_][%w_]*", i)
      tok = { t = "name", v = w, pos = i }
      i = i + #w
    else
      local two = sub(src, i, i + 1)
      local one = sub(src, i, i)
      if OPS2[two] then
        tok = { t = "op", v = two, pos = i }
      elseif OPS1[one] then
        tok = { t = "op", v = one, pos = i }
        if OPEN[one] then depth = depth + 1
        elseif CLOSE[one] and depth > 0 then depth = depth - 1 end
      else
        err(src, name, i, "unexpected character '" .. M.shown(one) .. "'")
      end
      i = i + #tok.v
    end
    n = n + 1
    toks[n] = tok
  end
end

--- Tokens of a bare expression (no template text).
function M.expression(src, name)
  local toks = {}
  lex_inside(src, 1, nil, toks, name)
  return toks
end

-- The start delimiters: a Lua pattern finding the next one, and what each is.
local function delimiters(o)
  local bs, vs, cs = o.block_start or "{%", o.variable_start or "{{", o.comment_start or "{#"
  local be, ve, ce = o.block_end or "%}", o.variable_end or "}}", o.comment_end or "#}"
  return { { bs, "block", be }, { vs, "var", ve }, { cs, "comment", ce } }
end

-- The next start delimiter at or after i: s, kind, its start text, its end text.
local function next_start(src, i, delims, fast)
  if fast then
    local s, _, c = find(src, "{([{%%#])", i)
    if not s then return nil end
    if c == "%" then return s, "block", "{%", "%}" end
    if c == "{" then return s, "var", "{{", "}}" end
    return s, "comment", "{#", "#}"
  end
  local best, bk, bo, bc
  for _, d in ipairs(delims) do
    local s = find(src, d[1], i, true)
    if s and (not best or s < best or (s == best and #d[1] > #bo)) then best, bk, bo, bc = s, d[2], d[1], d[3] end
  end
  return best, bk, bo, bc
end

--- Tokens of a template (see above).
function M.tokenize(src, opts)
  opts = opts or {}
  local name = opts.name
  local trim, lstrip = opts.trim_blocks, opts.lstrip_blocks
  local delims = delimiters(opts)
  local fast = delims[1][1] == "{%" and delims[2][1] == "{{" and delims[3][1] == "{#"
  local toks, i, len = {}, 1, #src
  local pending_strip = false -- the last tag ended with -: strip leading white space
  local nl = opts.newline_sequence
  if nl == "\n" then nl = nil end
  local function data(text, pos)
    if pending_strip then text = text:gsub("^%s+", ""); pending_strip = false end
    if nl then text = text:gsub("\n", nl) end
    if text ~= "" then toks[#toks + 1] = { t = "data", v = text, pos = pos } end
  end
  while i <= len do
    local s, kind, open, close = next_start(src, i, delims, fast)
    if not s then data(sub(src, i), i); break end
    local after = s + #open
    local mark = sub(src, after, after)
    local text = sub(src, i, s - 1)
    if mark == "-" then
      text = text:gsub("%s+$", "")
      after = after + 1
    elseif mark == "+" and kind ~= "var" then
      after = after + 1
    elseif lstrip and kind ~= "var" then
      -- white space from the start of the line up to the tag
      local ws = match(text, "[ \t]*$")
      local before = s - #ws - 1
      if before < 1 or sub(src, before, before) == "\n" then text = sub(text, 1, #text - #ws) end
    end
    data(text, i)
    if kind == "comment" then
      local ce = find(src, close, after, true)
      if not ce then err(src, name, s, "unexpected end of template, comment opened here is not closed") end
      i = ce + #close
      if sub(src, ce - 1, ce - 1) == "-" and ce - 1 >= after then pending_strip = true
      elseif trim and sub(src, i, i) == "\n" then i = i + 1
      elseif trim and sub(src, i, i + 1) == "\r\n" then i = i + 2 end
    else
      local first = #toks + 1
      toks[first] = { t = kind == "var" and "var_begin" or "block_begin", pos = s }
      local e, dash = lex_inside(src, after, close, toks, name, opts.raw_strings)
      local t2 = toks[first + 1]
      if kind == "block" and t2 and t2.t == "name" and t2.v == "raw" and #toks == first + 1 then
        -- {% raw %}: the text up to {% endraw %} as it is
        toks[first] = nil
        toks[first + 1] = nil
        local body_start = e + (dash and 1 or 0) + #close
        local bs = delims[1][1]
        local pat = "(" .. bs:gsub("%p", "%%%0") .. "([-+]?)%s*endraw%s*(%-?)" .. close:gsub("%p", "%%%0") .. ")"
        local rs, re, _, rdash1, rdash2 = find(src, pat, body_start)
        if not rs then err(src, name, s, "unexpected end of template, missing '{% endraw %}'") end
        local body = sub(src, body_start, rs - 1)
        if dash then body = body:gsub("^%s+", "") end
        if rdash1 == "-" then body = body:gsub("%s+$", "") end
        if nl then body = body:gsub("\n", nl) end
        if body ~= "" then toks[#toks + 1] = { t = "data", v = body, pos = body_start } end
        i = re + 1
        if rdash2 == "-" then pending_strip = true
        elseif trim and sub(src, i, i) == "\n" then i = i + 1 end
      else
        toks[#toks + 1] = { t = kind == "var" and "var_end" or "block_end", pos = e }
        i = e + (dash and 1 or 0) + #close
        if dash then pending_strip = true
        elseif trim and kind == "block" then
          if sub(src, i, i) == "\n" then i = i + 1
          elseif sub(src, i, i + 1) == "\r\n" then i = i + 2 end
        end
      end
    end
  end
  toks[#toks + 1] = { t = "eof", pos = len + 1 }
  return toks
end

return M
