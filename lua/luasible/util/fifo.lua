--- luasible.util.fifo: a first-in first-out queue with O(1) push and shift
-- (a plain list's table.remove(t, 1) moves every element).
local M = {}

--- A new empty queue.
function M.new() return { h = 1, t = 0 } end

--- Add v at the tail.
function M.push(q, v)
  q.t = q.t + 1
  q[q.t] = v
end

--- Remove and return the head (nil when empty).
function M.shift(q)
  local h = q.h
  if h > q.t then return nil end
  local v = q[h]
  q[h] = nil
  q.h = h + 1
  return v
end

--- How many are queued.
function M.size(q) return q.t - q.h + 1 end

--- Remove every occurrence of v, keeping the order of the others.
function M.drop(q, v)
  local j = q.h
  for i = q.h, q.t do
    local x = q[i]
    q[i] = nil
    if x ~= v then
      q[j] = x
      j = j + 1
    end
  end
  q.t = j - 1
end

return M
