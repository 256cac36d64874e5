-- luasible.module.params: checking and coercing a task's arguments against
-- a module's `params` (types, defaults, choices, aliases, groups), and the
-- shell-like splitting of free-form and ad-hoc arguments.
local template = require "luasible.template"
local wordsplit = require "luasible.util.shell"

local M = {}

---------------------------------------------------------------------------
-- Argument validation
---------------------------------------------------------------------------
local function has_template(v)
  if type(v) == "string" then return v:find("{[{%%]") ~= nil end
  if type(v) == "table" then
    for _, x in pairs(v) do if has_template(x) then return true end end
  end
  return false
end
M.has_template = has_template

local TRUE = { ["true"] = true, yes = true, on = true, ["1"] = true }
local FALSE = { ["false"] = true, no = true, off = true, ["0"] = true }

local coerce = {}
function coerce.string(v)
  if type(v) == "string" then return v end
  if type(v) == "number" or type(v) == "boolean" then return template.tostring(v) end
end
coerce.path = coerce.string
function coerce.number(v) return tonumber(v) end
function coerce.integer(v)
  local n = tonumber(v)
  return n and math.tointeger(n)
end
function coerce.boolean(v)
  if type(v) == "boolean" then return v end
  if type(v) == "number" then return v ~= 0 end
  if type(v) == "string" then
    if TRUE[v:lower()] then return true end
    if FALSE[v:lower()] then return false end
  end
end
function coerce.list(v)
  if type(v) == "table" then return v end
  if type(v) == "string" then
    local out = {}
    for x in v:gmatch("[^,]+") do out[#out + 1] = x:match("^%s*(.-)%s*$") end
    return out
  end
  if v ~= nil then return { v } end
end
function coerce.dict(v) if type(v) == "table" then return v end end
coerce.table = coerce.dict
function coerce.mode(v)
  if type(v) == "number" then v = string.format("%d", v) end
  if type(v) ~= "string" then return nil end
  if v:match("^0?[0-7][0-7][0-7][0-7]?$") or v:match("^[ugoa]*[-+=][rwxXst]*[,ugoa%-+=rwxXst]*$") then
    return v
  end
end
function coerce.raw(v) return v end
coerce.any = coerce.raw

--- Check args against a module's params. With `partial`, values that still
--- hold {{ }} are not type-checked (they are checked per host once rendered).
--- Returns the normalised args (defaults filled, aliases resolved), or nil, err.
function M.validate(mod, args, partial)
  local name = mod.name or "module"
  local params = mod.params or {}
  if args == nil then args = {} end
  if type(args) == "string" then
    if not mod.free_form then return nil, name .. ": args must be a table" end
    args = { [mod.free_form] = args }
  end
  if type(args) ~= "table" then return nil, name .. ": args must be a table" end
  local alias = {}
  for p, spec in pairs(params) do
    for _, a in ipairs(spec.aliases or {}) do alias[a] = p end
  end
  local out = {}
  for k, v in pairs(args) do
    if k == 1 and mod.free_form and args[mod.free_form] == nil then k = mod.free_form end
    local key = params[k] and k or alias[k]
    if not key then
      local known = {}
      for p in pairs(params) do known[#known + 1] = p end
      table.sort(known)
      return nil, string.format("%s: unknown argument '%s' (known: %s)", name, tostring(k),
        #known > 0 and table.concat(known, ", ") or "none")
    end
    out[key] = v
  end
  for p, spec in pairs(params) do
    local v = out[p]
    if v == nil then
      if spec.required then return nil, string.format("%s: missing required argument '%s'", name, p) end
      if spec.default ~= nil then out[p] = spec.default end
    elseif not (partial and has_template(v)) then
      local ty = spec.type or "raw"
      local conv = coerce[ty]
      if not conv then return nil, string.format("%s: param '%s' has unknown type '%s'", name, p, ty) end
      local c = conv(v)
      if c == nil then
        return nil, string.format("%s: argument '%s' must be a %s, got %s%s", name, p, ty, type(v),
          type(v) ~= "table" and (" '" .. tostring(v) .. "'") or "")
      end
      if spec.choices then
        local okc = false
        for _, ch in ipairs(spec.choices) do if ch == c then okc = true break end end
        if not okc then
          local list = {}
          for i, ch in ipairs(spec.choices) do list[i] = tostring(ch) end
          return nil, string.format("%s: argument '%s' must be one of %s, got '%s'", name, p,
            table.concat(list, ", "), tostring(c))
        end
      end
      out[p] = c
    end
  end
  for _, group in ipairs(mod.mutually_exclusive or {}) do
    local set = {}
    for _, p in ipairs(group) do if args[p] ~= nil then set[#set + 1] = p end end
    if #set > 1 then
      return nil, string.format("%s: arguments are mutually exclusive: %s", name, table.concat(set, ", "))
    end
  end
  for _, group in ipairs(mod.required_one_of or {}) do
    local any = false
    for _, p in ipairs(group) do if out[p] ~= nil then any = true end end
    if not any then
      return nil, string.format("%s: one of these arguments is required: %s", name, table.concat(group, ", "))
    end
  end
  if mod.check_args then
    -- the module's own checks, on values known now (templated ones wait for their host)
    local known = {}
    for k, v in pairs(out) do if not (partial and has_template(v)) then known[k] = v end end
    local ok, cerr = mod.check_args(known, out) -- out: every argument, templated ones unrendered
    if not ok then return nil, name .. ": " .. tostring(cerr) end
  end
  return out
end

--- Are the captures of a Lua pattern balanced? nil when they are, else what is wrong
--- (string.find on an empty subject stops before it meets them). %x escapes,
--- %bxy and [...] sets are skipped.
function M.pattern_captures_error(pat)
  local depth, i, n = 0, 1, #pat
  while i <= n do
    local c = pat:sub(i, i)
    if c == "%" then
      i = i + (pat:sub(i + 1, i + 1) == "b" and 4 or 2)
    elseif c == "[" then
      i = i + 1
      if pat:sub(i, i) == "^" then i = i + 1 end
      local first = true
      while i <= n and (first or pat:sub(i, i) ~= "]") do
        i = i + (pat:sub(i, i) == "%" and 2 or 1)
        first = false
      end
      if i > n then return "malformed pattern (missing ']')" end
      i = i + 1
    else
      if c == "(" then
        depth = depth + 1
      elseif c == ")" then
        if depth == 0 then return "invalid pattern capture (a ')' without its '(')" end
        depth = depth - 1
      end
      i = i + 1
    end
  end
  if depth > 0 then return "unfinished capture (a '(' without its ')')" end
end

--- Check that `pat` is a usable Lua pattern (and not a regular expression
--- written for Ansible). Returns true, or nil, err naming the argument.
function M.check_lua_pattern(pat, argname)
  if type(pat) ~= "string" then return true end
  local bare = pat:gsub("%%.", "") -- what is left once %-escapes are set aside
  local rx = bare:match("\\.") or bare:match("|") or bare:match("%(%?") or bare:match("[%w%)%]]{%d+,?%d*}")
  if rx then
    return nil, string.format("argument '%s' is a Lua pattern, not a regular expression: '%s' in '%s'"
      .. " (write %%s for \\s, %%d for \\d, %%. for \\., one pattern per task instead of |)", argname, rx, pat)
  end
  local ok, err = pcall(string.find, "", pat)
  if ok then err = M.pattern_captures_error(pat) ok = not err end
  if not ok then
    return nil, string.format("argument '%s' is not a valid Lua pattern: %s", argname,
      tostring(err):gsub("^.-:%d+: ", ""))
  end
  return true
end

--- Check package names (apt, package): a name starting with '-' would be
--- taken for an option of apt-get, dpkg-query, dnf... Returns true, or nil, err.
function M.check_package_names(names)
  for _, n in ipairs(type(names) == "table" and names or { names }) do
    if type(n) == "string" and n:sub(1, 1) == "-" then
      return nil, string.format("package name '%s' starts with '-': it would be taken for an option", n)
    end
  end
  return true
end

--- Split a string into shell-like words (quotes and backslashes honoured).
--- Returns a list of {text=, quoted=}, or nil, err. `quoted` is false or the
--- index of the word's first quoted piece (1: the word starts with a quote).
function M.words(s, opts)
  local out, err = wordsplit.split(s, opts)
  if not out then return nil, err .. " in: " .. s end
  return out
end

--- Split a command string into an argv table.
function M.argv(s)
  local w, err = M.words(s)
  if not w then return nil, err end
  local out = {}
  for i, x in ipairs(w) do out[i] = x.text end
  return out
end

--- Parse ad-hoc args: `k=v k2="v 2" free words`. Free words (no k=) are
--- joined into `_raw` (the module's free_form argument). A `{{ }}` in a
--- value is kept whole: `msg={{ a | join(' ') }}` is one pair. Quotes and
--- backslashes as Python's shlex.split. Returns table or nil, err.
function M.parse_kv(s)
  local w, err = M.words(s, { templates = true })
  if not w then return nil, err end
  local out, free = {}, {}
  for _, x in ipairs(w) do
    local k, v = x.text:match("^([%a_][%w_]*)=(.*)$")
    if k and x.quoted ~= 1 then out[k] = v else free[#free + 1] = x.text end
  end
  if #free > 0 then out._raw = table.concat(free, " ") end
  return out
end


return M
