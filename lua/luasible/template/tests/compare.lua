--- luasible.template.tests.compare: comparisons and membership: eq/==/
-- equalto, ne/!=, lt/</lessthan, le/<=, gt/>/greaterthan, ge/>=, in,
-- contains, subset, superset, sameas, odd, even, divisibleby, any, all,
-- nan/isnan. Python's == and < (template/filters/common.lua).
local C = require "luasible.template.filters.common"

local eq, lt = C.eq, C.lt

-- Python's `x in container`
local function contains(container, x, name)
  if type(container) == "string" then
    if type(x) ~= "string" then
      C.fail(string.format("test '%s': 'in <string>' requires a string as the left operand, not %s", name,
        C.type_name(x)))
    end
    return container:find(x, 1, true) ~= nil
  end
  if C.is_list(container) then return C.contains(container, x) end
  if C.is_mapping(container) then
    if C.is_mapping(x) or C.is_list(x) then return false end
    if container[x] ~= nil then return true end
    for k in pairs(container) do if eq(k, x) then return true end end
    return false
  end
  C.fail(string.format("test '%s': argument of type '%s' is not iterable", name, C.type_name(container)))
end

local function number(name, v)
  if type(v) == "boolean" then return v and 1 or 0 end
  if type(v) ~= "number" then C.fail(string.format("test '%s' expects a number, got %s", name, C.describe(v))) end
  return v
end

return function(reg)
  local function both(names, spec, fn) for _, n in ipairs(names) do reg.test(n, spec, fn) end end
  both({ "eq", "==", "equalto" }, "value, other", function(a, b) return eq(a, b) end)
  both({ "ne", "!=" }, "value, other", function(a, b) return not eq(a, b) end)
  both({ "lt", "<", "lessthan" }, "value, other", function(a, b) return lt(a, b) end)
  both({ "le", "<=" }, "value, other", function(a, b) return lt(a, b) or eq(a, b) end)
  both({ "gt", ">", "greaterthan" }, "value, other", function(a, b) return lt(b, a) end)
  both({ "ge", ">=" }, "value, other", function(a, b) return lt(b, a) or eq(a, b) end)

  reg.test("in", "value, seq", function(v, seq) return contains(seq, v, "in") end)
  reg.test("contains", "value, item", function(seq, v) return contains(seq, v, "contains") end)

  local function list_of(name, v)
    if C.is_list(v) then return v end
    if C.is_mapping(v) or type(v) == "string" then return C.iter(name, v, "test") end
    C.fail(string.format("test '%s' expects a list, got %s", name, C.describe(v)))
  end
  local function subset(name)
    return function(a, b)
      a, b = list_of(name, a), list_of(name, b)
      for _, x in ipairs(a) do if not C.contains(b, x) then return false end end
      return true
    end
  end
  reg.test("subset", "value, other", subset("subset"))
  reg.test("issubset", "value, other", subset("issubset"))
  local function superset(name)
    local s = subset(name)
    return function(a, b) return s(b, a) end
  end
  reg.test("superset", "value, other", superset("superset"))
  reg.test("issuperset", "value, other", superset("issuperset"))

  reg.test("sameas", "value, other", function(a, b)
    if C.is_none(a) and C.is_none(b) then return true end
    if type(a) == "table" or type(b) == "table" then return rawequal(a, b) end
    return a == b and math.type(a) == math.type(b)
  end)

  reg.test("odd", "value", function(v)
    local n = number("odd", v)
    return n % 2 == 1
  end)
  reg.test("even", "value", function(v)
    local n = number("even", v)
    return n % 2 == 0
  end)
  reg.test("divisibleby", "value, num", function(v, num)
    local n, d = number("divisibleby", v), number("divisibleby", num)
    if d == 0 then C.fail("test 'divisibleby': integer division or modulo by zero") end
    return n % d == 0
  end)

  reg.test("any", "value", function(v)
    for _, x in ipairs(C.iter("any", v, "test")) do if C.truthy(x) then return true end end
    return false
  end)
  reg.test("all", "value", function(v)
    for _, x in ipairs(C.iter("all", v, "test")) do if not C.truthy(x) then return false end end
    return true
  end)
  -- Ansible's isnan: false for what is not a number
  local function nan(v)
    if type(v) ~= "number" then return false end
    return v ~= v
  end
  reg.test("nan", "value", nan)
  reg.test("isnan", "value", nan)
end
