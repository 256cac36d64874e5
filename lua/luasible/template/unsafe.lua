--- luasible.template.unsafe: unsafe variables and the render context.
--
-- Unsafe values (as in Ansible): what comes from a host (facts, registered
-- results, their output, loop items taken from them) is data, never a
-- template. A variable normally holding "{{ root }}/app" is rendered when
-- used; one that came from a host is used as it is. A Lua string cannot
-- carry a mark, so the mark is on the variable: the scope table that holds
-- the name lists it as unsafe, in its metatable's `__unsafe` set (a scope
-- may be chained to its parent by `__index`; the scope holding the name
-- decides).
--
-- The render context is the state of ONE render call (eval, test,
-- render, render_value), created by the call and passed along to every
-- evaluation it makes; nothing of it lives in this module, so two renders
-- (two coroutines interleaving theirs) never see each other's state:
--   unsafe_reads  how many unsafe variables the evaluation read (a
--                 collection computed from one makes its loop variables
--                 unsafe too)
--   depth         how deep variables holding templates are being rendered
local M = {}

--- A fresh render context.
function M.context() return { unsafe_reads = 0, depth = 0 } end

-- The names given as a set: { name = true, ... } or a list of names.
local function add_names(set, names)
  for k, v in pairs(names) do
    if type(k) == "number" and type(v) == "string" then set[v] = true
    elseif v then set[k] = true end
  end
  return set
end

--- Mark names of the scope table `vars` unsafe ({ name = true, ... } or a
--- list); returns vars. Its metatable is replaced by a copy holding the
--- marks (a metatable shared with other tables is never changed).
function M.mark(vars, names)
  local mt = getmetatable(vars)
  if mt ~= nil and type(mt) ~= "table" then error("template: cannot mark a protected table", 2) end
  local set = add_names(add_names({}, mt and mt.__unsafe or {}), names)
  if next(set) == nil then return vars end
  local copy = {}
  for k, v in pairs(mt or {}) do copy[k] = v end
  copy.__unsafe = set
  return setmetatable(vars, copy)
end

--- A new scope over `parent` whose names `names` (a list) are unsafe.
function M.child(parent, names)
  return setmetatable({}, { __index = parent, __unsafe = add_names({}, names) })
end

--- Is `name`, as seen from `vars` (a scope, maybe chained by __index
--- tables), an unsafe variable? The scope that holds the name decides.
function M.is_unsafe(vars, name)
  local t = vars
  for _ = 1, 64 do
    if type(t) ~= "table" then return false end
    local mt = getmetatable(t)
    if rawget(t, name) ~= nil then
      local set = type(mt) == "table" and mt.__unsafe
      return (set and set[name]) == true
    end
    t = type(mt) == "table" and mt.__index or nil
  end
  return false
end

return M
