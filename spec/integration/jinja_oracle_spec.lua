--- #oracle: templates and expressions evaluate as Ansible evaluates them.
-- Every case of spec/fixtures/jinja/*.yml (an expression, a play string, a
-- condition or a template, with vars) is evaluated by Debian's ansible-core
-- (spec/helpers/jinja_oracle.py, its answers cached in build/oracle-cache)
-- and by luasible, and the answers compared (spec/helpers/jinja_oracle.lua
-- says what is normalised). A difference fails unless it is listed in
-- spec/fixtures/jinja/deliberate.yml with its reason; an entry there that no
-- longer differs fails too (the list stays true). `make test-oracle` runs it.
local o = require "spec.helpers.jinja_oracle"

local DIR = "spec/fixtures/jinja"

describe("#oracle templates and expressions evaluate as in Ansible", function()
  local corpus = o.corpus(DIR)
  local deliberate = o.deliberate(DIR .. "/deliberate.yml")
  local paths = {}
  for i, f in ipairs(corpus) do paths[i] = f.path end
  local answers, why = o.oracle(paths)
  if not answers then
    it("needs the oracle", function() pending("no oracle: " .. why) end)
    return
  end

  local seen, listed_same = {}, {}
  for _, file in ipairs(corpus) do
    local name = file.path:match("[^/]+$")
    describe(name, function()
      for n, case in ipairs(file.cases) do
        local id = name .. "#" .. o.case_id(case)
        it(o.case_id(case), function()
          assert(not seen[id], id .. ": two cases of that name (give one an id:)")
          seen[id] = true
          local theirs = (answers[file.path] or {})[n]
          local diff = o.compare(case, o.luasible(case, file), theirs)
          if deliberate[id] then
            if not diff then listed_same[#listed_same + 1] = id end
            return
          end
          assert(diff == nil, id .. ": " .. tostring(diff))
        end)
      end
    end)
  end

  it("lists only cases that still differ, and only cases that exist, in deliberate.yml", function()
    local stale = {}
    for id in pairs(deliberate) do
      if not seen[id] then stale[#stale + 1] = id .. " (no such case)" end
    end
    for _, id in ipairs(listed_same) do stale[#stale + 1] = id .. " (no longer differs)" end
    table.sort(stale)
    assert(#stale == 0, "deliberate.yml: " .. table.concat(stale, "; "))
  end)
end)
