--- luasible.template.filters.html: Jinja's markup filters as Ansible's
-- environment has them (autoescape off): escape/e, forceescape, safe,
-- striptags, xmlattr.
local C = require "luasible.template.filters.common"

local M = {}

local ESCAPE = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ["'"] = "&#39;", ['"'] = "&#34;" }

--- markupsafe's escape.
function M.escape(s) return (s:gsub("[&<>'\"]", ESCAPE)) end

local ENTITIES = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'", nbsp = "\u{A0}" }

--- html.unescape of the common entities and character references.
function M.unescape(s)
  return (s:gsub("&(#?[%w]+);", function(e)
    local hex = e:match("^#[xX](%x+)$")
    local dec = e:match("^#(%d+)$")
    local cp = hex and tonumber(hex, 16) or dec and tonumber(dec)
    if cp then return (cp > 0 and cp <= 0x10FFFF) and utf8.char(cp) or "\u{FFFD}" end
    return ENTITIES[e]
  end))
end

return function(reg)
  local function escape(v)
    if C.is_none(v) then return "None" end
    return M.escape(C.str(v))
  end
  reg.filter("escape", "value", escape)
  reg.filter("e", "value", escape)
  reg.filter("forceescape", "value", escape)
  reg.filter("safe", "value", function(v) return C.str(v) end)
  reg.filter("striptags", "value", function(v)
    local s = C.str(v):gsub("<!%-%-.-%-%->", ""):gsub("<.->", "")
    local words = {}
    for w in s:gmatch("%S+") do words[#words + 1] = w end
    return M.unescape(table.concat(words, " "))
  end)
  reg.filter("xmlattr", "value, autospace=True", function(d, autospace)
    if not C.is_mapping(d) then C.expects("xmlattr", "a mapping", d) end
    local items = {}
    for _, k in ipairs(C.keys(d)) do
      local x = d[k]
      if not C.is_none(x) and not C.is_undefined(x) then
        local key = C.str(k)
        if key:find("[%s/>=]") then C.error("xmlattr", "invalid character in attribute name: %s", C.repr(key)) end
        items[#items + 1] = M.escape(key) .. '="' .. M.escape(C.str(x)) .. '"'
      end
    end
    local rv = table.concat(items, " ")
    if C.truthy(autospace) and rv ~= "" then rv = " " .. rv end
    return rv
  end)
end
