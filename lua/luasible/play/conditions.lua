--- luasible.play.conditions: when, changed_when, failed_when and until.
-- A condition is a string expression (`{{ }}` optional), a Lua function of
-- the play, a boolean, or a list of them that must all hold.
local template = require "luasible.template"
local is_interrupt = require("luasible.util.errors").is_interrupt

local M = {}

--- Compile a condition at load time (its shape is checked already: the
--- schema of play/prepare.lua). Returns what eval takes (an expression
--- without its `{{ }}`, a function, a boolean, or a list of those), or
--- nil, "bad WHAT: what is wrong" (`what`: when, "when (condition 2)", ...).
function M.compile(v, what)
  if type(v) == "table" then
    local list = {}
    for i, c in ipairs(v) do
      local cc, err = M.compile(c, what .. " (condition " .. i .. ")")
      if err then return nil, err end
      list[i] = cc
    end
    return list
  end
  if type(v) ~= "string" then return v end
  local expr = v:gsub("^%s*{{(.-)}}%s*$", "%1")
  -- (checked now; compiled when first evaluated)
  local ok, err = pcall(template.check_expr, expr)
  if not ok then
    return nil, "bad " .. what .. ": " .. (type(err) == "table" and err.template_error or tostring(err))
  end
  return expr
end

--- A condition as text, for messages: the expression, or what it is.
function M.text(cond)
  if type(cond) == "string" then return cond end
  if type(cond) == "table" then
    local parts = {}
    for i, c in ipairs(cond) do parts[i] = type(c) == "string" and c or ("(" .. M.text(c) .. ")") end
    return table.concat(parts, " and ")
  end
  if type(cond) == "function" then return "a function of the play" end
  return tostring(cond)
end

--- Does a compiled condition hold for these vars (and the task's result
--- `res`, seen as `result`, for changed_when, failed_when and until)?
--- Returns true/false, or nil, err. A function gets (res or vars, vars).
function M.eval(cond, vars, res)
  if cond == nil then return true end
  if type(cond) == "boolean" then return cond end
  if type(cond) == "table" then
    for i, c in ipairs(cond) do
      local v, err = M.eval(c, vars, res)
      if err then return nil, #cond > 1 and ("condition " .. i .. ": " .. err) or err end
      if not v then return false end
    end
    return true
  end
  if type(cond) == "function" then
    local ok, v = pcall(cond, res ~= nil and res or vars, vars)
    if not ok then
      if is_interrupt(v) then error(v, 0) end
      return nil, tostring(v)
    end
    return v and true or false
  end
  if res ~= nil then vars = setmetatable({ result = res }, { __index = vars }) end
  return template.test(cond, vars)
end

return M
