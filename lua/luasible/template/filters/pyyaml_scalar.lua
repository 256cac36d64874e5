--- luasible.template.filters.pyyaml_scalar: the scalars of
-- filters/pyyaml.lua's emitter, as PyYAML writes them: which styles a
-- string may take (analyze_scalar: indicators, spaces, breaks, what is
-- printable), whether it would read back as another type (YAML 1.1's
-- implicit resolvers), the plain, single- and double-quoted writers
-- (folding past the width, libYAML's escapes), and the text of the
-- scalars that are no strings. M.install(E) puts the writers and
-- E:scalar on the emitter's methods.
local C = require "luasible.template.filters.common"
local yaml11 = require "luasible.yaml11"
local pyrepr = require "luasible.util.pyrepr"

local M = {}

local concat = table.concat

-- a character's code point; a byte of text that is not UTF-8 is Python's
-- surrogate escape of it (U+DC80..U+DCFF: unprintable, written escaped)
local function cp_of(ch)
  if #ch == 1 then
    local b = ch:byte()
    return b < 0x80 and b or 0xDC00 + b
  end
  return utf8.codepoint(ch)
end

-- libYAML's IS_PRINTABLE: what may stand as it is (a line feed, the printable
-- ASCII, U+00A0..U+D7FF, U+E000..U+FFFD but the BOM; nothing past U+FFFF)
local function printable(ch)
  local cp = cp_of(ch)
  if cp == 0x0A or (cp >= 0x20 and cp <= 0x7E) then return true end
  return (cp >= 0xA0 and cp <= 0xD7FF) or (cp >= 0xE000 and cp <= 0xFFFD and cp ~= 0xFEFF)
end
local PRINTABLE = printable

local BREAK = { ["\n"] = true, ["\u{85}"] = true, ["\u{2028}"] = true, ["\u{2029}"] = true }
local WS = { ["\0"] = true, [" "] = true, ["\t"] = true, ["\r"] = true, ["\n"] = true, ["\u{85}"] = true,
  ["\u{2028}"] = true, ["\u{2029}"] = true }

-- YAML 1.1 timestamps (PyYAML's implicit resolver): a plain one reads back as a date
local function is_timestamp(s)
  return s:match("^%d%d%d%d%-%d%d%-%d%d$") ~= nil
    or s:match("^%d%d%d%d%-%d%d?%-%d%d?[Tt ]%s*%d%d?:%d%d:%d%d") ~= nil
end

-- would this text, written plain, read back as a string?
local function implicit_str(s)
  local _, kind = yaml11.plain(s)
  if kind ~= "str" then return false end
  if is_timestamp(s) then return false end
  return true
end

-- what styles a string may take (PyYAML's analyze_scalar)
local function analyze(cs)
  local n = #cs
  if n == 0 then
    return { empty = true, multiline = false, flow_plain = false, block_plain = true, single = true }
  end
  local text = concat(cs)
  local block_ind, flow_ind, line_breaks, special = false, false, false, false
  local lead_space, lead_break, trail_space, trail_break, break_space, space_break = false, false, false, false,
    false, false
  if text:sub(1, 3) == "---" or text:sub(1, 3) == "..." then block_ind, flow_ind = true, true end
  local preceded = true
  local followed = n == 1 or WS[cs[2]] == true
  local prev_space, prev_break = false, false
  for i = 1, n do
    local ch = cs[i]
    if i == 1 then
      if ("#,[]{}&*!|>'\"%@`"):find(ch, 1, true) then flow_ind, block_ind = true, true end
      if ch == "?" or ch == ":" then
        flow_ind = true
        if followed then block_ind = true end
      end
      if ch == "-" and followed then flow_ind, block_ind = true, true end
    else
      if (",?[]{}"):find(ch, 1, true) then flow_ind = true end
      if ch == ":" then
        flow_ind = true
        if followed then block_ind = true end
      end
      if ch == "#" and preceded then flow_ind, block_ind = true, true end
    end
    if BREAK[ch] then line_breaks = true end
    if not PRINTABLE(ch) then special = true end
    if ch == " " then
      if i == 1 then lead_space = true end
      if i == n then trail_space = true end
      if prev_break then break_space = true end
      prev_space, prev_break = true, false
    elseif BREAK[ch] then
      if i == 1 then lead_break = true end
      if i == n then trail_break = true end
      if prev_space then space_break = true end
      prev_space, prev_break = false, true
    else
      prev_space, prev_break = false, false
    end
    preceded = WS[ch] == true
    followed = i + 1 >= n or WS[cs[i + 2]] == true
  end
  local a = { multiline = line_breaks, flow_plain = true, block_plain = true, single = true }
  if lead_space or lead_break or trail_space or trail_break then a.flow_plain, a.block_plain = false, false end
  if break_space then a.flow_plain, a.block_plain, a.single = false, false, false end
  if space_break or special then a.flow_plain, a.block_plain, a.single = false, false, false end
  if line_breaks then a.flow_plain, a.block_plain = false, false end
  if flow_ind then a.flow_plain = false end
  if block_ind then a.block_plain = false end
  return a
end

local ESCAPES = { ["\0"] = "0", ["\a"] = "a", ["\b"] = "b", ["\t"] = "t", ["\n"] = "n", ["\v"] = "v", ["\f"] = "f",
  ["\r"] = "r", ["\27"] = "e", ['"'] = '"', ["\\"] = "\\", ["\u{85}"] = "N", ["\u{A0}"] = "_",
  ["\u{2028}"] = "L", ["\u{2029}"] = "P" }

-- the emitter's methods for scalars (M.install)
local W = {}

-- the spaces cs[start .. e - 1] of a plain or single-quoted scalar: a lone
-- one past the width folds the line when `fold` (true returned), else
-- they are written
function W:write_spaces(cs, start, e, fold)
  if fold and start + 1 == e and self.column > self.best_width then
    self:write_indent()
    return true
  end
  self:write(concat(cs, "", start, e - 1), e - start)
end

-- the line breaks cs[start .. e - 1] of a plain or single-quoted scalar
-- (a \n first: an empty line more, as PyYAML), then the indent
function W:write_breaks(cs, start, e)
  if cs[start] == "\n" then self:line_break() end
  for b = start, e - 1 do self:line_break(cs[b] ~= "\n" and cs[b] or nil) end
  self:write_indent()
end

function W:write_plain(cs, split)
  if #cs == 0 then return end
  if not self.whitespace then self:write(" ") end
  self.whitespace, self.indention = false, false
  local spaces, breaks = false, false
  local start, n = 1, #cs
  for e = 1, n + 1 do
    local ch = cs[e]
    if spaces then
      if ch ~= " " then
        if self:write_spaces(cs, start, e, split) then self.whitespace, self.indention = false, false end
        start = e
      end
    elseif breaks then
      if not BREAK[ch] then
        self:write_breaks(cs, start, e)
        self.whitespace, self.indention = false, false
        start = e
      end
    elseif ch == nil or ch == " " or BREAK[ch] then
      self:write(concat(cs, "", start, e - 1), e - start)
      start = e
    end
    if ch ~= nil then spaces, breaks = ch == " ", BREAK[ch] == true end
  end
end

function W:write_single(cs, split)
  self:indicator("'", true)
  local spaces, breaks = false, false
  local start, n = 1, #cs
  for e = 1, n + 1 do
    local ch = cs[e]
    if spaces then
      if ch == nil or ch ~= " " then
        self:write_spaces(cs, start, e, split and start ~= 1 and e ~= n + 1)
        start = e
      end
    elseif breaks then
      if ch == nil or not BREAK[ch] then
        self:write_breaks(cs, start, e)
        start = e
      end
    elseif ch == nil or ch == " " or BREAK[ch] or ch == "'" then
      if start < e then
        self:write(concat(cs, "", start, e - 1), e - start)
        start = e
      end
    end
    if ch == "'" then
      self:write("''")
      start = e + 1
    end
    if ch ~= nil then spaces, breaks = ch == " ", BREAK[ch] == true end
  end
  self:indicator("'", false)
end


-- libYAML's yaml_emitter_write_double_quoted: escapes as it, and a long
-- line broken at a space (the space becomes the line break)
function W:write_double(cs, split)
  self:indicator('"', true)
  local spaces = false
  local n = #cs
  for e = 1, n do
    local ch = cs[e]
    if ch == '"' or ch == "\\" or BREAK[ch] or ch == "\r" or not printable(ch) then
      local cp = cp_of(ch)
      local data
      if ESCAPES[ch] then data = "\\" .. ESCAPES[ch]
      elseif cp <= 0xFF then data = string.format("\\x%02X", cp)
      elseif cp <= 0xFFFF then data = string.format("\\u%04X", cp)
      else data = string.format("\\U%08X", cp) end
      self:write(data)
      spaces = false
    elseif ch == " " then
      if split and not spaces and self.column > self.best_width and e ~= 1 and e ~= n then
        self:write_indent()
        if cs[e + 1] == " " then self:write("\\") end
      else
        self:write(" ")
      end
      spaces = true
    else
      self:write(ch, 1)
      spaces = false
    end
  end
  self:indicator('"', false)
end

-- the text of a scalar that is not a string, as PyYAML's representer
local function scalar_text(v)
  if C.is_none(v) then return "null" end
  if type(v) == "boolean" then return v and "true" or "false" end
  if math.type(v) == "integer" then return tostring(v) end
  if type(v) == "number" then
    if v ~= v then return ".nan" end
    if v == math.huge then return ".inf" end
    if v == -math.huge then return "-.inf" end
    local r = pyrepr.float(v):lower()
    if not r:find(".", 1, true) and r:find("e", 1, true) then r = r:gsub("e", ".0e", 1) end
    return r
  end
end

local function is_scalar(v)
  return type(v) ~= "table" or C.is_none(v)
end

function W:scalar(v, simple_key)
  self:push_indent(true)
  local text = scalar_text(v)
  if text then
    self:write_plain(C.chars(text), not simple_key)
  else
    if type(v) ~= "string" then
      if C.is_undefined(v) then require("luasible.template.values").undefined_error(v) end
      C.fail("filter 'to_yaml': cannot represent " .. C.describe(v))
    end
    local cs = C.chars(v)
    local a = analyze(cs)
    local style = '"'
    if implicit_str(v) and not (simple_key and (a.empty or a.multiline))
        and ((self.flow_level > 0 and a.flow_plain) or (self.flow_level == 0 and a.block_plain)) then
      style = ""
    elseif a.single and not (simple_key and a.multiline) then
      style = "'"
    end
    if style == "" then self:write_plain(cs, not simple_key)
    elseif style == "'" then self:write_single(cs, not simple_key)
    else self:write_double(cs, not simple_key) end
  end
  self:pop_indent()
end

M.scalar_text, M.is_scalar = scalar_text, is_scalar

--- Put the scalar writers and E:scalar on the emitter's methods E.
function M.install(E)
  for k, f in pairs(W) do E[k] = f end
end

return M
