--- luasible.util.errors: errors as (name, message) pairs, from where they
-- arise to whoever shows them; nothing re-parses a message to find its name.
--
-- At run time a failure is luv's fail tuple `nil, "NAME: message", "NAME"`
-- (`M.fail`). An error that must travel through `error()` (an interrupt, a
-- module's failure) is an Error object: a table with `name`, `message` and
-- whatever else the raiser knows, printed as "NAME: message".
local M = {}

local Error = { __name = "luasible.error" }
Error.__index = Error
function Error.__tostring(e) return e.name .. ": " .. e.message end
function Error.__concat(a, b) return tostring(a) .. tostring(b) end
M.Error = Error

--- A new Error object; `fields` (optional) are copied into it.
function M.new(name, message, fields)
  local e = { name = name, message = tostring(message) }
  for k, v in pairs(fields or {}) do e[k] = v end
  return setmetatable(e, Error)
end

--- True when `e` is an Error object (of `name`, when given).
function M.is(e, name)
  return getmetatable(e) == Error and (name == nil or e.name == name)
end

--- The fail tuple: nil, "NAME: message", "NAME".
function M.fail(name, message)
  return nil, name .. ": " .. tostring(message), name
end

--- The interrupt raised when a caught signal ("INT", "TERM", "HUP") stops
--- whatever waits: "EINTR: interrupted by SIGINT", with `signal = "INT"`.
function M.interrupt(sig)
  return M.new("EINTR", sig and ("interrupted by SIG" .. sig) or "interrupted", { signal = sig })
end

--- True when `e` is an interrupt (see M.interrupt).
function M.is_interrupt(e)
  return M.is(e, "EINTR")
end

--- Text of any error value, for a person to read.
function M.text(e)
  if type(e) == "table" and getmetatable(e) ~= Error and e.msg ~= nil then return tostring(e.msg) end
  return tostring(e)
end

return M
