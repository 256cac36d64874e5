--- luasible.template.tests.types: Jinja's tests of what a value is:
-- defined, undefined, none, boolean, true, false, integer, float, number,
-- string, mapping, sequence, iterable, callable, lower, upper, escaped,
-- truthy, falsy (Ansible's, with convert_bool), filter, test. They take
-- an undefined value (and say false) where Jinja's do.
local C = require "luasible.template.filters.common"
local unicase = require "luasible.util.unicase"

local is_undef, is_none = C.is_undefined, C.is_none

-- Ansible's boolean(): the strings and numbers that mean true or false
local TRUE = { y = true, yes = true, on = true, ["1"] = true, ["true"] = true, t = true, ["1.0"] = true }
local FALSE = { n = true, no = true, off = true, ["0"] = true, ["false"] = true, f = true, ["0.0"] = true }

local function lenient(reg, name, spec, fn) reg.test(name, spec, fn, { undefined = true }) end

return function(reg)
  lenient(reg, "defined", "value", function(v) return not is_undef(v) end)
  lenient(reg, "undefined", "value", function(v) return is_undef(v) end)
  lenient(reg, "none", "value", function(v) return not is_undef(v) and is_none(v) end)
  lenient(reg, "boolean", "value", function(v) return type(v) == "boolean" end)
  lenient(reg, "true", "value", function(v) return v == true end)
  lenient(reg, "false", "value", function(v) return v == false end)
  lenient(reg, "integer", "value", function(v) return math.type(v) == "integer" end)
  lenient(reg, "float", "value", function(v) return math.type(v) == "float" end)
  lenient(reg, "number", "value", function(v) return type(v) == "number" or type(v) == "boolean" end)
  lenient(reg, "string", "value", function(v) return type(v) == "string" end)
  lenient(reg, "mapping", "value", function(v) return C.is_mapping(v) end)
  -- Python's sequence: len() and [] (strings and mappings too)
  lenient(reg, "sequence", "value", function(v) return type(v) == "string" or C.is_list(v) or C.is_mapping(v) end)
  lenient(reg, "iterable", "value", function(v) return type(v) == "string" or C.is_list(v) or C.is_mapping(v) end)
  lenient(reg, "callable", "value", function(v) return type(v) == "function" end)
  lenient(reg, "escaped", "value", function() return false end)
  reg.test("lower", "value", function(v) return unicase.is_lower(C.str(v)) end)
  reg.test("upper", "value", function(v) return unicase.is_upper(C.str(v)) end)

  local function truthy(v, convert)
    if C.truthy(convert) then
      if type(v) == "boolean" then return v end
      local s = type(v) == "string" and v:lower() or (type(v) == "number" and C.str(v)) or nil
      if s and TRUE[s] then return true end
      if s and FALSE[s] then return false end
    end
    return C.truthy(v)
  end
  reg.test("truthy", "value, convert_bool=False", truthy)
  reg.test("falsy", "value, convert_bool=False", function(v, c) return not truthy(v, c) end)

  -- an inline !vault value left encrypted (luasible.vault's { __ansible_vault = text })
  lenient(reg, "vault_encrypted", "value", function(v)
    return C.is_mapping(v) and type(v.__ansible_vault) == "string" and v.__ansible_vault:sub(1, 14) == "$ANSIBLE_VAULT"
  end)

  reg.test("filter", "value", function(v) return type(v) == "string" and reg.filters[v] ~= nil end)
  reg.test("test", "value", function(v) return type(v) == "string" and reg.tests[v] ~= nil end)
end
