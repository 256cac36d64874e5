--- luasible.template.blocks: template text as a tree of nodes, and the
-- rendering of that tree.
--
-- Templates: {{ expr }}, {% if %}/{% elif %}/{% else %}/{% endif %},
-- {% for x in list %} / {% for k, v in map %} ... {% endfor %}, {# comment #}.
-- A line holding only a {% %} or {# #} tag is removed entirely;
-- {{- / -}} (and {%- / -%}) trim the white space before / after the tag.
-- Errors are raised as { template_error = "name:line: message" }.
local values = require "luasible.template.values"
local unsafe = require "luasible.template.unsafe"
local compile = require("luasible.template.expr").compile
local shown = require("luasible.template.lexer").shown

local fail, truthy, tostr, is_undef = values.fail, values.truthy, values.tostring, values.is_undefined
local is_list, sorted_keys = values.is_list, values.sorted_keys

local M = {}

local CLOSE = { ["{"] = "}}", ["%"] = "%}", ["#"] = "#}" }

--- How deep {% if %} and {% for %} may nest.
M.MAX_DEPTH = 100

-- Split into text / {{ }} / {% %} pieces ({# #} dropped), removing lines
-- that only hold a block tag. A piece: { t = "text"|"{"|"%", v =, line = }.
local function pieces_of(src, name)
  local pieces, i, line = {}, 1, 1
  while true do
    local s, _, kind = src:find("{([{%%#])", i)
    if not s then
      pieces[#pieces + 1] = { t = "text", v = src:sub(i) }
      break
    end
    local cs, ce = src:find(CLOSE[kind], s + 2, true)
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
  return pieces
end

--- Parse a template: a list of nodes { t = "text", v } | { t = "expr", f,
--- line } | { t = "if", branches = { { cond = f|nil, body } }, line } |
--- { t = "for", k, v, f, body, line }. `name` names it in errors.
function M.parse(src, name)
  local pieces = pieces_of(src, name)
  local pos, depth = 1, 0
  local function block(terminators, opened)
    local nodes = {}
    depth = depth + 1
    if depth > M.MAX_DEPTH then
      fail(string.format("%s:%d: blocks nested more than %d levels deep", name, opened.line or 0, M.MAX_DEPTH))
    end
    while pos <= #pieces do
      local p = pieces[pos]
      pos = pos + 1
      local where = function(msg) return string.format("%s:%d: %s", name, p.line or 0, msg) end
      local function expr(e)
        local ok, f = pcall(compile, e)
        if not ok then fail(where(type(f) == "table" and f.template_error or tostring(f))) end
        return f
      end
      if p.t == "text" then
        if p.v ~= "" then nodes[#nodes + 1] = { t = "text", v = p.v } end
      elseif p.t == "{" then
        nodes[#nodes + 1] = { t = "expr", f = expr(p.v), line = p.line }
      else
        local kw, rest = p.v:match("^(%a+)%s*(.-)$")
        if terminators and terminators[kw] then depth = depth - 1 return nodes, kw, rest, p end
        if kw == "if" then
          local node = { t = "if", branches = {}, line = p.line }
          local cond = rest
          while true do
            local body, term, trest = block({ elif = true, ["else"] = true, endif = true }, p)
            if not term then fail(where("'if' without 'endif'")) end
            node.branches[#node.branches + 1] = { cond = cond and expr(cond), body = body }
            if term == "endif" then break end
            if term == "else" then cond = nil else cond = trest end
          end
          nodes[#nodes + 1] = node
        elseif kw == "for" then
          local a, b, e = rest:match("^([%a_][%w_]*)%s*,%s*([%a_][%w_]*)%s+in%s+(.+)$")
          if not a then a, e = rest:match("^([%a_][%w_]*)%s+in%s+(.+)$") end
          if not a then fail(where("bad for loop: '" .. shown(p.v) .. "' (use: for x in list)")) end
          local body, term = block({ endfor = true }, p)
          if not term then fail(where("'for' without 'endfor'")) end
          nodes[#nodes + 1] = { t = "for", k = a, v = b, f = expr(e), body = body, line = p.line }
        else
          fail(where("unknown tag '" .. shown(kw or p.v) .. "'"))
        end
      end
    end
    depth = depth - 1
    return nodes
  end
  local nodes, stray, _, p = block({ endif = true, endfor = true, elif = true, ["else"] = true }, { line = 1 })
  if stray then fail(string.format("%s:%d: unexpected '%s'", name, p.line, stray)) end
  return nodes
end

local render

-- {% for %}: the body once per item, in a scope of its own. Items of a
-- collection computed from an unsafe variable are unsafe too.
local function render_for(n, vars, out, name, rc)
  local before = rc.unsafe_reads
  local coll = n.f(vars, rc)
  local tainted = rc.unsafe_reads ~= before
  if is_undef(coll) then fail(string.format("%s:%d: undefined variable '%s'", name, n.line, coll.name)) end
  if type(coll) ~= "table" then coll = coll == nil and {} or { coll } end
  local scope = tainted and unsafe.child(vars, { n.k, n.v }) or setmetatable({}, { __index = vars })
  local keys
  if n.v or not is_list(coll) then keys = is_list(coll) and nil or sorted_keys(coll) end
  local count = keys and #keys or #coll
  for i = 1, count do
    local k = keys and keys[i] or i
    if n.v then scope[n.k], scope[n.v] = k, coll[k]
    else scope[n.k] = keys and k or coll[k] end
    scope.loop = { index = i, index0 = i - 1, first = i == 1, last = i == count, length = count }
    render(n.body, scope, out, name, rc)
  end
end

--- Render parsed nodes in `vars` into the list `out`, with render context rc.
function render(nodes, vars, out, name, rc)
  for _, n in ipairs(nodes) do
    if n.t == "text" then
      out[#out + 1] = n.v
    elseif n.t == "expr" then
      local ok, v = pcall(function() return tostr(n.f(vars, rc)) end)
      if not ok then
        fail(string.format("%s:%d: %s", name, n.line, type(v) == "table" and v.template_error or tostring(v)))
      end
      out[#out + 1] = v
    elseif n.t == "if" then
      for _, br in ipairs(n.branches) do
        if not br.cond or truthy(br.cond(vars, rc)) then
          render(br.body, vars, out, name, rc)
          break
        end
      end
    elseif n.t == "for" then
      render_for(n, vars, out, name, rc)
    end
  end
end
M.render = render

return M
