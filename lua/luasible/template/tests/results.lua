--- luasible.template.tests.results: Ansible's tests of a registered task
-- result: failed/failure, succeeded/success/successful, changed/change,
-- skipped/skip, unreachable, reachable, finished, started. Each wants a
-- mapping (a result), as Ansible's.
local C = require "luasible.template.filters.common"

local function result(name, v)
  if not C.is_mapping(v) then
    C.fail(string.format("The '%s' test expects a dictionary, got %s", name, C.describe(v)))
  end
  return v
end

local function flag(v, key)
  local x = v[key]
  if x == nil then return false end
  return x
end

return function(reg)
  -- failed, changed, skipped, unreachable: the result's own value (as
  -- Ansible's, result.get('failed', False)); the others a boolean
  local function failed(name) return function(v) return flag(result(name, v), "failed") end end
  for _, n in ipairs({ "failed", "failure" }) do reg.test(n, "value", failed(n)) end
  for _, n in ipairs({ "succeeded", "success", "successful" }) do
    local f = failed(n)
    reg.test(n, "value", function(v) return not C.truthy(f(v)) end)
  end
  reg.test("unreachable", "value", function(v) return flag(result("unreachable", v), "unreachable") end)
  reg.test("reachable", "value", function(v) return not C.truthy(flag(result("reachable", v), "unreachable")) end)

  local function changed(name)
    return function(v)
      result(name, v)
      if v.changed == nil then
        local rs = v.results
        if C.is_list(rs) and C.is_mapping(rs[1]) then
          for _, r in ipairs(rs) do if C.truthy(r.changed) then return true end end
        end
        return false
      end
      return v.changed
    end
  end
  reg.test("changed", "value", changed("changed"))
  reg.test("change", "value", changed("change"))
  reg.test("skipped", "value", function(v) return flag(result("skipped", v), "skipped") end)
  reg.test("skip", "value", function(v) return flag(result("skip", v), "skipped") end)
  -- async: 0/1; a result that is not async's counts as finished and started
  reg.test("finished", "value", function(v)
    result("finished", v)
    if v.finished == nil then return true end
    return C.eq(v.finished, 1)
  end)
  reg.test("started", "value", function(v)
    result("started", v)
    if v.started == nil then return true end
    return C.eq(v.started, 1)
  end)
end
