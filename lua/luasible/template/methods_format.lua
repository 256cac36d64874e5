--- luasible.template.methods_format: Python's str.format (and format_map)
-- for template/methods_str.lua: replacement fields ({}, {0}, {name},
-- attributes and items, !r/!s conversions) and the format-spec
-- mini-language (fill, align, sign, #, 0, width, grouping, precision,
-- type). Built with the runtime and methods_str's code point length:
-- require("luasible.template.methods_format")(R, cplen) -> str_format(s, pos, kw).
local values = require "luasible.template.values"

local fail, tostr, type_name = values.fail, values.tostring, values.type_name
local sub, concat, mtype = string.sub, table.concat, math.type

return function(R, cplen)
  local check = R.check

  -- Python's format-spec mini-language for one value.
  local function format_spec(v, spec)
    local fill, align, sign, alt, zero, width, comma, prec, conv =
      spec:match("^(.?)([<>=^]?)([-+ ]?)(#?)(0?)(%d*)([,_]?)%.?(%d*)([bcdeEfFgGnosxX%%]?)$")
    if not align then fail("invalid format specifier '" .. spec .. "'") end
    if align == "" and fill ~= "" then
      if fill:match("[<>=^]") then align, fill = fill, "" else
        -- no fill: the first char was something else; re-parse without it
        sign, alt, zero, width, comma, prec, conv =
          spec:match("^([-+ ]?)(#?)(0?)(%d*)([,_]?)%.?(%d*)([bcdeEfFgGnosxX%%]?)$")
        fill = ""
        if not sign then fail("invalid format specifier '" .. spec .. "'") end
      end
    end
    local text
    local numeric = type(v) == "number" or type(v) == "boolean"
    if conv == "" and type(v) == "string" then conv = "s" end
    if conv == "s" then
      if type(v) ~= "string" then v = tostr(v) end
      text = prec ~= "" and sub(v, 1, tonumber(prec)) or v
      numeric = false
    elseif conv == "" then
      if mtype(v) == "float" and prec ~= "" then text = string.format("%." .. prec .. "g", v)
      else text = tostr(v) end
    else
      local x = R.num(v)
      if x == nil then fail("Unknown format code '" .. conv .. "' for object of type '" .. type_name(v) .. "'") end
      if conv == "d" or conv == "n" then
        if mtype(x) ~= "integer" then fail("Unknown format code 'd' for object of type 'float'") end
        text = string.format("%d", math.abs(x))
        if comma ~= "" then text = text:reverse():gsub("(%d%d%d)", "%1" .. comma):reverse():gsub("^" .. comma, "") end
      elseif conv == "x" or conv == "X" or conv == "o" then
        text = string.format("%" .. conv, math.abs(math.tointeger(x) or 0))
        if alt ~= "" then text = "0" .. (conv == "o" and "o" or conv) .. text end
      elseif conv == "b" then
        local n, bits = math.abs(math.tointeger(x) or 0), {}
        repeat bits[#bits + 1] = tostring(n % 2); n = n // 2 until n == 0
        text = string.reverse(concat(bits))
      elseif conv == "c" then
        text = utf8.char(math.tointeger(x))
      elseif conv == "%" then
        text = string.format("%." .. (prec ~= "" and prec or "6") .. "f%%", math.abs(x) * 100)
      else
        text = string.format("%." .. (prec ~= "" and prec or "6") .. conv, math.abs(x))
        if comma ~= "" and conv:match("[fF]") then
          local ip, rest = text:match("^(%d+)(.*)$")
          ip = ip:reverse():gsub("(%d%d%d)", "%1" .. comma):reverse():gsub("^" .. comma, "")
          text = ip .. rest
        end
      end
      local neg = x < 0 or (x == 0 and 1 / x < 0 and conv ~= "d")
      local s = neg and "-" or (sign == "+" and "+" or (sign == " " and " " or ""))
      if zero ~= "" and align == "" then
        local w = tonumber(width) or 0
        text = s .. string.rep("0", math.max(w - #text - #s, 0)) .. text
        return text
      end
      text = s .. text
    end
    local w = tonumber(width) or 0
    local len = cplen(text)
    if len >= w then return text end
    if fill == "" then fill = " " end
    if align == "" then align = numeric and ">" or "<" end
    local pad = w - len
    if align == "<" then return text .. string.rep(fill, pad) end
    if align == ">" or align == "=" then return string.rep(fill, pad) .. text end
    local left = pad // 2
    return string.rep(fill, left) .. text .. string.rep(fill, pad - left)
  end
  R.format_spec = format_spec

  local function str_format(s, pos, kw)
    local auto = 0
    local out = s:gsub("(%b{})", function(field)
      local body = field:sub(2, -2)
      if body:sub(1, 1) == "{" then return nil end
      local ref, convs, spec = body:match("^([^!:]*)!?([rsa]?):?(.*)$")
      local head, rest = ref:match("^([%w_]*)(.*)$")
      local v
      if head == "" then
        v = pos[auto + 1]
        auto = auto + 1
        if v == nil then fail("Replacement index " .. (auto - 1) .. " out of range for positional args tuple") end
      elseif head:match("^%d+$") then
        v = pos[tonumber(head) + 1]
        if v == nil then fail("Replacement index " .. head .. " out of range for positional args tuple") end
      else
        v = kw and kw[head]
        if v == nil then fail("KeyError: '" .. head .. "'") end
      end
      for kind, name in rest:gmatch("([%.%[])([^%.%[%]]+)%]?") do
        if kind == "." then v = R.getattr(v, name) else v = R.getitem(v, tonumber(name) or name) end
        check(v)
      end
      check(v)
      if convs == "r" then v = values.repr(v) elseif convs == "s" then v = tostr(v) end
      if spec == "" then return tostr(v) end
      return format_spec(v, spec)
    end)
    out = out:gsub("{{", "{"):gsub("}}", "}")
    return out
  end

  return str_format
end
