--- luasible.template.tests: the tests of `value is [not] NAME`, as
-- name -> function(value) -> boolean. Only these exist.
local values = require "luasible.template.values"

local is_undef, is_list = values.is_undefined, values.is_list

local M = {}

-- a registered result's state
local function state(v, key) return type(v) == "table" and v[key] == true end

function M.defined(v) return not is_undef(v) end
function M.undefined(v) return is_undef(v) end
function M.none(v) return v == nil end
function M.string(v) return type(v) == "string" end
function M.number(v) return type(v) == "number" end
function M.mapping(v) return type(v) == "table" and not is_list(v) end
function M.sequence(v) return type(v) == "table" and is_list(v) end
function M.changed(v) return state(v, "changed") end
function M.failed(v) return state(v, "failed") end
function M.skipped(v) return state(v, "skipped") end
function M.succeeded(v) return type(v) == "table" and not v.failed end
M.success = M.succeeded
M.failure = M.failed

return M
