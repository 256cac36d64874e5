--- luasible.template.filters.pyyaml: YAML written as Ansible's to_yaml and
-- to_nice_yaml write it (PyYAML's dump with AnsibleDumper: libYAML's
-- emitter rules): keys sorted, a collection of scalars in flow style
-- unless default_flow_style=False, block sequences not indented inside a
-- mapping, strings quoted only when they must be (they would read back as
-- another type, or hold indicators, leading or trailing spaces, line
-- breaks or unprintable characters), long scalars folded past 80 columns.
-- lyaml's emitter makes other choices (no folding, other quoting), so the
-- emitter's choices are made here, following PyYAML's emitter.
--
--   pyyaml.dump(v, { indent = 2, width = 80, flow = nil|true|false,
--     sort_keys = true, explicit_start = false, anchors = false }) -> text
-- anchors: a table met twice is written once with an &idNNN anchor and
-- then as *idNNN aliases, as PyYAML does for a Python object met twice
-- (ansible-inventory --yaml; the filters leave it off: Ansible's templating
-- copies values where Lua shares them).
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

-- the emitter: PyYAML's writer state, and its write_* functions
local E = {}
E.__index = E

function E:write(s, n)
  self.out[#self.out + 1] = s
  self.column = self.column + (n or utf8.len(s) or #s)
end
function E:line_break(data)
  self.out[#self.out + 1] = data or "\n"
  self.whitespace, self.indention, self.column = true, true, 0
end
function E:write_indent()
  local indent = self.indent or 0
  if not self.indention or self.column > indent or (self.column == indent and not self.whitespace) then
    self:line_break()
  end
  if self.column < indent then self:write(string.rep(" ", indent - self.column)) end
  self.whitespace, self.indention = true, true
end
function E:indicator(ind, need_ws, whitespace, indention)
  local data = (self.whitespace or not need_ws) and ind or (" " .. ind)
  self.whitespace = whitespace or false
  self.indention = self.indention and (indention or false)
  self:write(data)
end
function E:push_indent(flow, indentless)
  self.indents[#self.indents + 1] = self.indent or false
  if self.indent == nil then
    self.indent = flow and self.best_indent or 0
  elseif not indentless then
    self.indent = self.indent + self.best_indent
  end
end
function E:pop_indent()
  local i = table.remove(self.indents)
  if i == false then i = nil end
  self.indent = i
end

function E:write_plain(cs, split)
  if #cs == 0 then return end
  if not self.whitespace then self:write(" ") end
  self.whitespace, self.indention = false, false
  local spaces, breaks = false, false
  local start, n = 1, #cs
  for e = 1, n + 1 do
    local ch = cs[e]
    if spaces then
      if ch ~= " " then
        if start + 1 == e and self.column > self.best_width and split then
          self:write_indent()
          self.whitespace, self.indention = false, false
        else
          self:write(concat(cs, "", start, e - 1), e - start)
        end
        start = e
      end
    elseif breaks then
      if not BREAK[ch] then
        if cs[start] == "\n" then self:line_break() end
        for b = start, e - 1 do self:line_break(cs[b] ~= "\n" and cs[b] or nil) end
        self:write_indent()
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

function E:write_single(cs, split)
  self:indicator("'", true)
  local spaces, breaks = false, false
  local start, n = 1, #cs
  for e = 1, n + 1 do
    local ch = cs[e]
    if spaces then
      if ch == nil or ch ~= " " then
        if start + 1 == e and self.column > self.best_width and split and start ~= 1 and e ~= n + 1 then
          self:write_indent()
        else
          self:write(concat(cs, "", start, e - 1), e - start)
        end
        start = e
      end
    elseif breaks then
      if ch == nil or not BREAK[ch] then
        if cs[start] == "\n" then self:line_break() end
        for b = start, e - 1 do self:line_break(cs[b] ~= "\n" and cs[b] or nil) end
        self:write_indent()
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
function E:write_double(cs, split)
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

function E:scalar(v, simple_key)
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

-- a mapping's keys, sorted when asked (Python's sort: an error for mixed types leaves the order)
function E:keys_of(m)
  local keys = C.copy_list(C.keys(m))
  if self.sort_keys then
    local ok = pcall(table.sort, keys, function(a, b) return C.lt(a, b) end)
    if not ok then keys = C.copy_list(C.keys(m)) end
  end
  return keys
end

-- does the collection take flow style (representer's best_style)?
function E:flow_style(v, keys)
  if self.flow ~= nil then return self.flow end
  if keys then
    for _, k in ipairs(keys) do if not is_scalar(k) or not is_scalar(v[k]) then return false end end
    return true
  end
  for _, x in ipairs(v) do if not is_scalar(x) then return false end end
  return true
end

local function simple_key_ok(k)
  if type(k) == "table" and not C.is_none(k) then return false end
  local text = scalar_text(k) or k
  if type(text) ~= "string" then return false end
  local n = utf8.len(text) or #text
  return n < 128 and not text:find("[\n\r\u{85}]")
end

function E:node(v, ctx)
  if is_scalar(v) or C.is_undefined(v) then return self:scalar(v, ctx == "key") end
  local anchor = self.anchors and self.anchors[v]
  if anchor then -- PyYAML's anchors and aliases for a collection met twice
    if self.emitted[v] then return self:indicator("*" .. anchor, true) end
    self.emitted[v] = true
    self:indicator("&" .. anchor, true)
  end
  local list = C.is_list(v)
  local keys = not list and self:keys_of(v) or nil
  local empty = (list and #v == 0) or (keys and #keys == 0)
  local mapping_ctx = ctx == "mapping" or ctx == "key"
  if self.flow_level > 0 or empty or self:flow_style(v, keys) then
    if list then self:flow_sequence(v) else self:flow_mapping(v, keys) end
  elseif list then
    self:block_sequence(v, mapping_ctx)
  else
    self:block_mapping(v, keys)
  end
end

function E:flow_sequence(v)
  self:indicator("[", true, true)
  self.flow_level = self.flow_level + 1
  self:push_indent(true)
  for i, x in ipairs(v) do
    if i > 1 then self:indicator(",", false) end
    if self.column > self.best_width then self:write_indent() end
    self:node(x, "sequence")
  end
  self:pop_indent()
  self.flow_level = self.flow_level - 1
  self:indicator("]", false)
end

function E:flow_mapping(m, keys)
  self:indicator("{", true, true)
  self.flow_level = self.flow_level + 1
  self:push_indent(true)
  for i, k in ipairs(keys) do
    if i > 1 then self:indicator(",", false) end
    if self.column > self.best_width then self:write_indent() end
    if simple_key_ok(k) then
      self:node(k, "key")
      self:indicator(":", false)
    else
      self:indicator("?", true)
      self:node(k, "mapping")
      if self.column > self.best_width then self:write_indent() end
      self:indicator(":", true)
    end
    self:node(m[k], "mapping")
  end
  self:pop_indent()
  self.flow_level = self.flow_level - 1
  self:indicator("}", false)
end

function E:block_sequence(v, mapping_ctx)
  self:push_indent(false, mapping_ctx and not self.indention)
  for _, x in ipairs(v) do
    self:write_indent()
    self:indicator("-", true, false, true)
    self:node(x, "sequence")
  end
  self:pop_indent()
end

function E:block_mapping(m, keys)
  self:push_indent(false)
  for _, k in ipairs(keys) do
    self:write_indent()
    if simple_key_ok(k) then
      self:node(k, "key")
      self:indicator(":", false)
    else
      self:indicator("?", true, false, true)
      self:node(k, "mapping")
      self:write_indent()
      self:indicator(":", true, false, true)
    end
    self:node(m[k], "mapping")
  end
  self:pop_indent()
end

function M.dump(v, opts)
  opts = opts or {}
  local indent = opts.indent or 2
  local width = opts.width or 80
  local e = setmetatable({
    out = {}, column = 0, whitespace = true, indention = true, indents = {}, indent = nil, flow_level = 0,
    best_indent = (indent > 1 and indent < 10) and indent or 2,
    sort_keys = opts.sort_keys ~= false, flow = opts.flow,
  }, E)
  e.best_width = (width > e.best_indent * 2) and width or 80
  if opts.anchors then
    -- PyYAML's serializer: a collection met a second time (walking in the
    -- order it is written) gets the next &idNNN, written there first, and
    -- *idNNN everywhere after
    local seen, n = {}, 0
    e.anchors, e.emitted = {}, {}
    local function walk(x)
      if is_scalar(x) or C.is_undefined(x) then return end
      if seen[x] then
        if not e.anchors[x] then
          n = n + 1
          e.anchors[x] = ("id%03d"):format(n)
        end
        return
      end
      seen[x] = true
      if C.is_list(x) then
        for _, y in ipairs(x) do walk(y) end
      else
        for _, k in ipairs(e:keys_of(x)) do walk(k); walk(x[k]) end
      end
    end
    walk(v)
  end
  if opts.explicit_start then e:indicator("---", true) end
  e:node(v, "root")
  e:write_indent()
  if opts.explicit_end then e:indicator("...", true); e:write_indent() end
  return concat(e.out)
end

return M
