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
-- nil once it exceeds `max`; and the cells it worked out.
local function distance(a, b, max)
  if math.abs(#a - #b) > max then return nil, 0 end
  -- what both begin and end with takes no edit: web01.example vs web02.example is 0 vs 1
  local p, la, lb = 0, #a, #b
  while p < la and p < lb and a:byte(p + 1) == b:byte(p + 1) do p = p + 1 end
  while la > p and lb > p and a:byte(la) == b:byte(lb) do la, lb = la - 1, lb - 1 end
  local A, B = { a:byte(p + 1, la) }, { b:byte(p + 1, lb) }
  la, lb = la - p, lb - p
  -- only the cells within `max` of the diagonal (one outside is more than
  -- max edits: BIG); three rows, reused
  local BIG = max + 1
  local before, prev, cur = {}, {}, {}
  for j = 0, lb + 1 do before[j], prev[j], cur[j] = BIG, BIG, BIG end
  for j = 0, math.min(lb, max) do prev[j] = j end
  local cells = 0
  for i = 1, la do
    local lo, hi = i - max, i + max
    if lo < 1 then lo = 1 end
    if hi > lb then hi = lb end
    cur[lo - 1] = i <= max and lo == 1 and i or BIG
    cur[hi + 1] = BIG
    local low = cur[lo - 1]
    local ca, ca1 = A[i], A[i - 1]
    for j = lo, hi do
      local d = prev[j - 1] + (ca == B[j] and 0 or 1)
      local x = prev[j] + 1
      if x < d then d = x end
      x = cur[j - 1] + 1
      if x < d then d = x end
      if ca1 and j > 1 and ca == B[j - 1] and ca1 == B[j] then -- two letters swapped
        x = before[j - 2] + 1
        if x < d then d = x end
      end
      cur[j] = d
      if d < low then low = d end
    end
    cells = cells + hi - lo + 1
    if low > max then return nil, cells end
    before, prev, cur = prev, cur, before
  end
  local d = prev[lb]
  return d <= max and d or nil, cells
end

-- how much work a "did you mean" may take (cells of the distances): a
-- message of a huge inventory comes at once, with the names found so far
local BUDGET = 500000

--- The names of `names` (a list) close to `word`, for a "did you mean"
--- in a message: within a few edits of it, or holding it (or held in it)
--- ignoring case; closest first, at most `n` (default 5).
function M.close_names(word, names, n)
  -- (at most 6 edits: a long name is not "close" to one 30 edits away)
  local max = math.min(6, math.max(1, #word // 3))
  local lw, found, spent = word:lower(), {}, 0
  for _, name in ipairs(names) do
    if name ~= word then
      local d, cells = distance(word, name, max)
      spent = spent + cells
      local ln = name:lower()
      if not d and #lw >= 3 and (ln:find(lw, 1, true) or (#ln >= 3 and lw:find(ln, 1, true))) then d = max + 1 end
      if d then found[#found + 1] = { name = name, d = d } end
      if spent > BUDGET then break end
    end
  end
  table.sort(found, function(x, y) if x.d ~= y.d then return x.d < y.d end return x.name < y.name end)
  local out = {}
  for i = 1, math.min(n or 5, #found) do out[i] = found[i].name end
  return out
end

return M
