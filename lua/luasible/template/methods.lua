--- luasible.template.methods: the Python methods templates call on
-- strings, lists and dicts (`s.split(',')`, `l.append(x)`, `d.items()`),
-- as name -> fn(self, pos, kw). Positions count code points; lower/upper
-- and the is*() tests know ASCII letters only (docs/TASKS.md).
local values = require "luasible.template.values"

local fail, is_undef, none, is_none = values.fail, values.is_undefined, values.none, values.is_none
local is_list, is_mapping, type_name = values.is_list, values.is_mapping, values.type_name
local mtype = math.type

return function(R)
  local check, eq, iter = R.check, R.eq, R.iter

  -- argument i (or keyword `name`), checked defined; `dflt` when absent
  local function arg(pos, kw, i, name, dflt)
    local v = pos[i]
    if v == nil and kw and name then v = kw[name] end
    if v == nil then return dflt end
    return check(v)
  end
  local function str_arg(pos, kw, i, name, dflt, what)
    local v = arg(pos, kw, i, name, dflt)
    if v ~= nil and v ~= none and type(v) ~= "string" then
      fail(string.format("%s arg must be None or str, not %s", what or "the", type_name(v)))
    end
    if v == none then return nil end
    return v
  end
  local function int_arg(pos, kw, i, name, dflt)
    local v = arg(pos, kw, i, name, dflt)
    if v == none then return dflt end
    if type(v) == "boolean" then v = v and 1 or 0 end
    if v ~= nil and mtype(v) ~= "integer" then
      fail("'" .. type_name(v) .. "' object cannot be interpreted as an integer")
    end
    return v
  end

  -- the str methods (template/methods_str.lua), over the same argument readers
  local str = require("luasible.template.methods_str")(R, { arg = arg, str_arg = str_arg, int_arg = int_arg })


  local list = {}
  function list.append(l, pos) l[#l + 1] = check(pos[1]); return none end
  function list.extend(l, pos)
    for _, x in ipairs(iter(check(pos[1]))) do l[#l + 1] = x end
    return none
  end
  function list.insert(l, pos)
    local i, x = int_arg(pos, nil, 1), check(pos[2])
    local n = #l
    if i < 0 then i = math.max(n + i, 0) end
    if i > n then i = n end
    table.insert(l, i + 1, x)
    return none
  end
  function list.pop(l, pos)
    local n = #l
    if n == 0 then fail("pop from empty list") end
    local i = int_arg(pos, nil, 1, nil, -1)
    if i < 0 then i = n + i end
    if i < 0 or i >= n then fail("pop index out of range") end
    return table.remove(l, i + 1)
  end
  function list.remove(l, pos)
    local x = check(pos[1])
    for i = 1, #l do if eq(l[i], x) then table.remove(l, i) return none end end
    fail("list.remove(x): x not in list")
  end
  function list.index(l, pos)
    local x = check(pos[1])
    for i = 1, #l do if eq(l[i], x) then return i - 1 end end
    fail(values.repr(x) .. " is not in list")
  end
  function list.count(l, pos)
    local x, n = check(pos[1]), 0
    for i = 1, #l do if eq(l[i], x) then n = n + 1 end end
    return n
  end
  function list.reverse(l)
    local n = #l
    for i = 1, n // 2 do l[i], l[n - i + 1] = l[n - i + 1], l[i] end
    return none
  end
  function list.copy(l)
    local out = {}
    for i = 1, #l do out[i] = l[i] end
    return out
  end
  function list.clear(l) for i = #l, 1, -1 do l[i] = nil end return none end
  function list.sort(l, _, kw)
    local rev = kw and values.truthy(kw.reverse)
    table.sort(l, function(a, b) if rev then return R.lt(b, a) end return R.lt(a, b) end)
    return none
  end

  local dict = {}
  function dict.items(d)
    local out = {}
    for i, k in ipairs(values.keys(d)) do out[i] = values.tuple({ k, d[k] }) end
    return out
  end
  function dict.keys(d) return values.keys(d) end
  function dict.values(d)
    local out = {}
    for i, k in ipairs(values.keys(d)) do out[i] = d[k] end
    return out
  end
  function dict.get(d, pos, kw)
    local k = check(pos[1])
    local v = d[k]
    if v == nil and mtype(k) == "float" then v = d[math.tointeger(k) or k] end
    if v == nil then
      local dflt = pos[2]
      if dflt == nil and kw then dflt = kw.default end
      if dflt == nil then return none end
      return dflt
    end
    return v
  end
  function dict.update(d, pos, kw)
    if pos[1] ~= nil then
      local src = check(pos[1])
      if is_mapping(src) then
        for _, k in ipairs(values.keys(src)) do values.set(d, k, src[k]) end
      else
        for _, pair in ipairs(iter(src)) do
          local k, v = R.unpack(pair, 2)
          values.set(d, k, v)
        end
      end
    end
    if kw then for _, k in ipairs(values.keys(kw)) do values.set(d, k, kw[k]) end end
    return none
  end
  function dict.pop(d, pos)
    local k = check(pos[1])
    local v = d[k]
    if v == nil then
      if pos[2] ~= nil then return pos[2] end
      fail("KeyError: " .. values.repr(k))
    end
    d[k] = nil
    return v
  end
  function dict.setdefault(d, pos)
    local k = check(pos[1])
    if d[k] == nil then values.set(d, k, pos[2] == nil and none or pos[2]) end
    return d[k]
  end
  function dict.copy(d) return values.copy_mapping(d) end
  function dict.clear(d) for k in pairs(d) do d[k] = nil end return none end

  return { str = str, list = list, dict = dict, is_undef = is_undef, is_list = is_list, is_none = is_none }
end
