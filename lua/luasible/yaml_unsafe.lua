--- luasible.yaml_unsafe: the !unsafe marks of decoded YAML (Ansible's
-- unsafe values: data, never a template). A Lua string carries no mark, so
-- the mark is on the key of the mapping that holds it: UNSAFE[map][key] =
-- "value" (the key's value is an !unsafe scalar) or "nested" (it holds one
-- deeper down); HOLDS[t]: collection t holds one. Weak keys: a table that
-- is dropped takes its marks along. luasible.yaml makes them and offers
-- these functions as its own (yaml.unsafe, yaml.set_unsafe, ...).
local M = {}

local UNSAFE = setmetatable({}, { __mode = "k" })
local HOLDS = setmetatable({}, { __mode = "k" })

--- Is the value of key k of mapping t !unsafe: "value" (an !unsafe string),
--- "nested" (it holds one), or nil.
function M.unsafe(t, k)
  local u = UNSAFE[t]
  return u and u[k]
end

--- The keys of mapping t marked !unsafe: { key = "value"|"nested" } or nil.
function M.unsafe_keys(t) return UNSAFE[t] end

--- Does table t hold an !unsafe value (in it, or deeper)?
function M.holds_unsafe(t) return HOLDS[t] == true end

--- Mark (flag "value" or "nested") or unmark (nil) key k of mapping t.
function M.set_unsafe(t, k, flag)
  local u = UNSAFE[t]
  if flag then
    if not u then u = {}; UNSAFE[t] = u end
    u[k] = flag
    HOLDS[t] = true
  elseif u then
    u[k] = nil
  end
end

--- Copy the pairs of mapping src into dst with their !unsafe marks (a
--- key src does not mark loses dst's mark); returns dst.
function M.merge_marked(dst, src)
  for k, v in pairs(src) do
    dst[k] = v
    M.set_unsafe(dst, k, M.unsafe(src, k))
  end
  return dst
end

return M
