--- luasible.config.ini: INI text read as Python's configparser reads
-- Ansible's configuration (ConfigParser(inline_comment_prefixes=(";",)),
-- values taken raw):
--
--   [defaults]                  a section (names are case-sensitive)
--   # a comment  ; a comment    whole-line comments start with # or ;
--   forks = 50 ; fifty          key = value or key: value; an inline comment is
--                               ; after whitespace (a # inside a value stays)
--   Remote_User = deploy        keys are lower-cased, spaces around key and value dropped
--   ssh_args = -o A=1           a line indented deeper than its key continues
--       -o B=2                  the value ("\n" between the lines; blank lines
--                               inside kept, trailing ones dropped)
--
-- No interpolation: `%(name)s` stays as written, as Ansible reads values
-- (configparser's get(..., raw=True)). Errors (as configparser's strict
-- mode): a key before any section, a line that is neither a section, a
-- comment nor key = value, a section or a key given twice in one section.
-- A [DEFAULT] section's keys are kept as a section of their own.
local quote = require("luasible.util.schema").quote

local M = {}

-- the lines of a text (\n or \r\n)
local function lines(text)
  local out = {}
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do out[#out + 1] = line end
  if out[#out] == "" and text:sub(-1) == "\n" then out[#out] = nil end
  return out
end

-- a value without its inline comment (; after whitespace), stripped
local function value_of(s)
  local a = s:find("%s;")
  if a then s = s:sub(1, a - 1) end
  return (s:match("^%s*(.-)%s*$"))
end

--- Parse INI text from `source`: { sections = { name = { key = { value =,
--- line = } } }, order = { section names in order }, keys = { name = { keys
--- in order } } }, or nil, "source:line: what is wrong".
function M.parse(text, source)
  source = source or "<config>"
  if text:sub(1, 3) == "\239\187\191" then text = text:sub(4) end
  local out = { sections = {}, order = {}, keys = {} }
  local sect, cur, cur_indent, blanks = nil, nil, 0, 0
  for n, line in ipairs(lines(text)) do
    local indent = #line:match("^[ \t]*")
    local body = line:sub(indent + 1)
    local function bad(msg) return nil, string.format("%s:%d: %s", source, n, msg) end
    if body == "" or body:match("^[#;]") then
      -- a comment or a blank line: a blank line may be inside a value
      if body == "" and cur then blanks = blanks + 1 end
      if body ~= "" and not cur then blanks = 0 end
    elseif cur and indent > cur_indent then
      local v = value_of(body)
      if v ~= "" or blanks > 0 then
        cur.value = cur.value .. string.rep("\n", blanks) .. "\n" .. v
      end
      blanks = 0
    else
      cur, blanks = nil, 0
      local name = body:match("^%[(.-)%]")
      if name then
        if out.sections[name] then return bad("section " .. quote("[" .. name .. "]") .. " given twice") end
        out.sections[name] = {}
        out.keys[name] = {}
        out.order[#out.order + 1] = name
        sect = name
      else
        local k, rest = body:match("^([^=:]-)%s*[=:](.*)$")
        if not k or k:match("^%s*$") then
          if not sect then return bad("a line before any [section]: " .. quote(body)) end
          return bad("expected key = value, got " .. quote(body))
        end
        if not sect then return bad("key " .. quote(k) .. " before any [section]") end
        k = k:lower():match("^%s*(.-)%s*$")
        if out.sections[sect][k] then
          return bad("key " .. quote(k) .. " given twice in section " .. quote("[" .. sect .. "]"))
        end
        cur = { value = value_of(rest), line = n }
        cur_indent = indent
        out.sections[sect][k] = cur
        table.insert(out.keys[sect], k)
      end
    end
  end
  -- values: trailing blank lines are not kept (configparser strips them)
  for _, s in pairs(out.sections) do
    for _, e in pairs(s) do e.value = e.value:gsub("%s+$", "") end
  end
  return out
end

return M
