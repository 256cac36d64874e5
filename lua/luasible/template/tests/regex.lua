--- luasible.template.tests.regex: match, search, regex (Ansible's): Python's
-- re.match / re.search over util/regex.lua (PCRE2).
local C = require "luasible.template.filters.common"
local regex = require "luasible.util.regex"

local function run(name, v, pattern, ignorecase, multiline, match_type)
  if type(v) ~= "string" then
    if type(v) == "number" or type(v) == "boolean" then v = C.str(v)
    else C.fail(string.format("test '%s' expects a string, got %s", name, C.describe(v))) end
  end
  if type(pattern) ~= "string" then
    C.fail(string.format("test '%s': the pattern must be a string, got %s", name, C.describe(pattern)))
  end
  local flags = (C.truthy(ignorecase) and "i" or "") .. (C.truthy(multiline) and "m" or "")
  local r, err = regex.compile(pattern, flags)
  if not r then C.fail(string.format("test '%s': %s", name, err)) end
  if match_type == "match" then return r:test(v) end
  if match_type == "fullmatch" then return r:fullmatch(v) ~= nil end
  return r:search(v) ~= nil
end

return function(reg)
  reg.test("match", "value, pattern='', ignorecase=False, multiline=False", function(v, p, i, m)
    return run("match", v, p, i, m, "match")
  end)
  reg.test("search", "value, pattern='', ignorecase=False, multiline=False", function(v, p, i, m)
    return run("search", v, p, i, m, "search")
  end)
  reg.test("regex", "value, pattern='', ignorecase=False, multiline=False, match_type='search'",
    function(v, p, i, m, t)
      if t ~= "match" and t ~= "search" and t ~= "fullmatch" then
        C.fail(string.format("test 'regex': match_type must be match, search or fullmatch, got %s", C.describe(t)))
      end
      return run("regex", v, p, i, m, t)
    end)
end
