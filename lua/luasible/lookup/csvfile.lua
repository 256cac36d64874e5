--- lookup('csvfile', KEY..., file=, col=, delimiter=, default=, encoding=):
-- column `col` (0-based, default 1) of the first row whose first field is
-- KEY, in a CSV file read as Python's csv module reads it (quotes "..."
-- with "" inside); delimiter TAB by default ("TAB" or "\t"). No such row:
-- `default` (None: nothing). The inline form `KEY file=f col=2` as Ansible.
local lookup = require "luasible.lookup"
local values = require "luasible.template.values"
local kv = require "luasible.module.kv"
local fs = require "luasible.util.fs"

local DEFAULTS = { file = "ansible.csv", col = "1", delimiter = "TAB", default = values.none, encoding = "utf-8" }

-- the rows of CSV text (Python's csv.reader, excel dialect, given delimiter)
local function rows(text, delim)
  local out, row, field = {}, {}, {}
  local i, n = 1, #text
  local quoted, was_quoted = false, false
  local function end_field()
    row[#row + 1] = table.concat(field)
    field, was_quoted = {}, false
  end
  while i <= n do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' then
        if text:sub(i + 1, i + 1) == '"' then field[#field + 1] = '"'; i = i + 1
        else quoted = false end
      else
        field[#field + 1] = c
      end
    elseif c == '"' and #field == 0 and not was_quoted then
      quoted, was_quoted = true, true
    elseif c == delim then
      end_field()
    elseif c == "\n" or c == "\r" then
      if c == "\r" and text:sub(i + 1, i + 1) == "\n" then i = i + 1 end
      if #row > 0 or #field > 0 or was_quoted then end_field() end
      out[#out + 1] = row
      row = {}
    else
      field[#field + 1] = c
    end
    i = i + 1
  end
  if #row > 0 or #field > 0 or was_quoted then end_field(); out[#out + 1] = row end
  return out
end

return {
  run = function(terms, kw, env)
    local out = {}
    for _, term in ipairs(terms) do
      local o = lookup.options(kw, DEFAULTS, "csvfile", env)
      local args, err = kv.parse_kv(tostring(term))
      if not args then lookup.fail(err) end
      local key = args._raw
      if key == nil then lookup.fail("Search key is required but was not found") end
      for k, v in pairs(args) do
        if k ~= "_raw" then
          if DEFAULTS[k] == nil then lookup.fail(k .. " is not a valid option") end
          o[k] = v
        end
      end
      local delim = o.delimiter == "TAB" and "\t" or tostring(o.delimiter)
      local p = lookup.find_file(env, "files", o.file)
      local text = p and fs.read(p)
      if not text then
        lookup.fail("csvfile: [Errno 2] No such file or directory: " .. values.repr(tostring(p or o.file)))
      end
      local col = math.tointeger(tonumber(o.col))
      if not col then
        lookup.fail("csvfile: invalid literal for int() with base 10: " .. values.repr(tostring(o.col)))
      end
      local v = o.default
      for _, row in ipairs(rows(text, delim)) do
        if #row > 0 and row[1] == key then
          v = row[col + 1]
          if v == nil then lookup.fail("csvfile: list index out of range") end
          break
        end
      end
      if not values.is_none(v) then out[#out + 1] = v end
    end
    return out
  end,
}
