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

--- The exit status of a command a caught signal stopped: 99 for Ctrl-C
--- (SIGINT: ansible-playbook's and ansible-inventory's "User interrupted
--- execution"), else 128 + the signal's number, as a shell reports it.
function M.interrupt_status(sig)
  if sig == nil or sig == "INT" then return 99 end
  return 128 + (require("luasible.core").signals[sig] or 2)
end

--- Text of any error value, for a person to read.
function M.text(e)
  if type(e) == "table" and getmetatable(e) ~= Error and e.msg ~= nil then return tostring(e.msg) end
  return tostring(e)
end

-- Edit distance of a and b (bytes; a swap of two letters is one edit), or
-- nil once it exceeds `max`.
local function distance(a, b, max)
  if math.abs(#a - #b) > max then return nil end
  local before, prev = nil, {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur, low = { [0] = i }, i
    local ca = a:byte(i)
    for j = 1, #b do
      local cost = ca == b:byte(j) and 0 or 1
      local d = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      if before and i > 1 and j > 1 and ca == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        d = math.min(d, before[j - 2] + 1) -- two letters swapped
      end
      cur[j] = d
      if d < low then low = d end
    end
    if low > max then return nil end
    before, prev = prev, cur
  end
  return prev[#b] <= max and prev[#b] or nil
end

--- The names of `names` (a list) close to `word`, for a "did you mean"
--- in a message: within a few edits of it, or holding it (or held in it)
--- ignoring case; closest first, at most `n` (default 5).
function M.close_names(word, names, n)
  local max = math.max(1, #word // 3)
  local lw, found = word:lower(), {}
  for _, name in ipairs(names) do
    if name ~= word then
      local d = distance(word, name, max)
      local ln = name:lower()
      if not d and #lw >= 3 and (ln:find(lw, 1, true) or (#ln >= 3 and lw:find(ln, 1, true))) then d = max + 1 end
      if d then found[#found + 1] = { name = name, d = d } end
    end
  end
  table.sort(found, function(x, y) if x.d ~= y.d then return x.d < y.d end return x.name < y.name end)
  local out = {}
  for i = 1, math.min(n or 5, #found) do out[i] = found[i].name end
  return out
end

return M
