--- The module docs stay true to modules/: every modules/NAME.lua has its
-- page docs/modules/NAME.md (saying what --check does and its round trips)
-- and one row in docs/TASKS.md's Modules table linking to that page; the
-- table names no module that is not there.
local files = require "spec.helpers.files"

local function list(cmd)
  local p = assert(io.popen(cmd))
  local out = {}
  for l in p:read("a"):gmatch("[^\n]+") do out[#out + 1] = l end
  p:close()
  return out
end

local MODULES = {}
for _, f in ipairs(list("ls modules/*.lua")) do MODULES[#MODULES + 1] = f:match("([^/]+)%.lua$") end
table.sort(MODULES)

-- the rows of the first table after "## Modules": name -> the row's text
local function rows()
  local text = assert(files.read("docs/TASKS.md"))
  local section = assert(text:match("\n## Modules\n(.-)\n## "), "docs/TASKS.md has a ## Modules section")
  local tbl = assert(section:match("(|[^\n]*\n|[-| ]+|\n.-)\n[^|]"), "the Modules section starts with a table")
  local out, order = {}, {}
  for line in tbl:gmatch("[^\n]+") do
    local name = line:match("^| `([%w_]+)` |")
    if name then
      assert.is_nil(out[name], "docs/TASKS.md: two rows for " .. name)
      out[name] = line
      order[#order + 1] = name
    end
  end
  return out, order, tbl
end

describe("module docs", function()
  it("finds the modules", function()
    assert.is_true(#MODULES >= 40, "modules/*.lua: " .. #MODULES)
  end)

  it("has a page for every module, saying what --check does and its round trips", function()
    local missing = {}
    for _, m in ipairs(MODULES) do
      local page = files.read("docs/modules/" .. m .. ".md")
      if not page then
        missing[#missing + 1] = m .. " (no docs/modules/" .. m .. ".md)"
      else
        if not page:find("^# ") then missing[#missing + 1] = m .. ".md has no title" end
        if not (page:find("%-%-check") or page:find("[Cc]heck mode")) then
          missing[#missing + 1] = m .. ".md says nothing of --check"
        end
        if not page:find("[Rr]ound trips?") then missing[#missing + 1] = m .. ".md gives no round trips" end
      end
    end
    assert.are.same({}, missing)
  end)

  it("has one row in docs/TASKS.md's Modules table for every module, linking its page", function()
    local r = rows()
    local missing = {}
    for _, m in ipairs(MODULES) do
      local row = r[m]
      if not row then
        missing[#missing + 1] = m .. ": no row"
      elseif not row:find("(modules/" .. m .. ".md)", 1, true) then
        missing[#missing + 1] = m .. ": the row does not link modules/" .. m .. ".md"
      end
    end
    assert.are.same({}, missing)
  end)

  it("names no module that modules/ does not have, and each row has every column", function()
    local r, order, tbl = rows()
    local have = {}
    for _, m in ipairs(MODULES) do have[m] = true end
    local header = tbl:match("^([^\n]+)")
    local _, cols = header:gsub("|", "")
    local bad = {}
    for _, m in ipairs(order) do
      if not have[m] then bad[#bad + 1] = m .. ": no modules/" .. m .. ".lua" end
      local _, n = r[m]:gsub("|", "")
      if n ~= cols then bad[#bad + 1] = m .. ": " .. (n - 1) .. " columns, the header has " .. (cols - 1) end
    end
    assert.are.same({}, bad)
  end)
end)
