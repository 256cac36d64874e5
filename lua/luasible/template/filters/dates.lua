--- luasible.template.filters.dates: strftime (Ansible's: C's strftime of
-- a time in seconds, local time or UTC; the format's directives are the C
-- library's, as Python's time.strftime hands them to it).
local C = require "luasible.template.filters.common"

return function(reg)
  reg.filter("strftime", "value, second=None, utc=False", function(fmt, second, utc)
    fmt = C.text("strftime", fmt, "a format (a string)")
    local t
    if second == nil or C.is_none(second) then
      t = os.time()
    else
      t = tonumber(second)
      if not t then C.error("strftime", "Invalid value for epoch value (%s)", C.str(second)) end
      t = math.floor(t)
    end
    local ok, r = pcall(os.date, (C.truthy(utc) and "!" or "") .. fmt, t)
    if not ok then C.error("strftime", "%s", tostring(r)) end
    return r
  end)
end
