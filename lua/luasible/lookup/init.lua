--- luasible.lookup: `lookup()`, `query()` and `q()` of templates (contract
-- D of issue 11), and what the lookups share.
--
--   lookup.call(name, terms, kw, env, wantlist) -> value
--     name: "file", "ansible.builtin.file" (the collection is dropped);
--     terms: the positional arguments (a list); kw: the keyword arguments
--     (a mapping: `wantlist`, `errors` and `allow_unsafe` are taken out here,
--     the rest goes to the lookup); env = { vars, base_dir, search_dirs,
--     render(text, vars), secrets, warn(msg) }; wantlist: true for query/q.
--     The lookup's list comes back as Ansible's Templar gives it: query, or
--     wantlist=True: the list; lookup: an empty list as it is, strings joined
--     with ",", else the one item, else the list (allow_unsafe=True: the list,
--     as Ansible's Templar skips its shaping then). The terms are values:
--     strings among them are not rendered again (Ansible renders string
--     terms that hold {{ }} unless they are unsafe; a luasible string value
--     carries no such mark, so none is: data never becomes a template).
--     errors= (Ansible's): "strict" (the default, and any other word) raises,
--     "warn" warns (env.warn) and "ignore" does not; both then give None
--     (lookup) or [] (query). A bad option of a lookup (M.option_error) is
--     raised whatever errors= says, as Ansible's AnsibleOptionsError is.
--   lookup.loop(name, value, env) -> list: the items of a `with_NAME: value`
--     loop (with_items, with_nested, with_together, with_dict, ...), the
--     value given to the lookup as its terms, as Ansible's TaskExecutor does
--   lookup.find_file(env, subdir, name) -> absolute path, or nil, searched
--     Ansible's search (DataLoader.path_dwim_relative_stack): an absolute or
--     ~ path as it is; else each of env.search_dirs (or env.base_dir), then
--     env.base_dir, as DIR/SUBDIR/NAME then DIR/NAME (SUBDIR left out when
--     NAME already starts with it).
--   lookup.fail(msg), lookup.option_error(msg): a lookup's error.
--   lookup.options(kw, defaults, name, env): kw over the lookup's defaults
--     (an unknown option is ignored, as Ansible does, with a warning).
--
-- One file per lookup: luasible/lookup/<name>.lua returns { run =
-- function(terms, kw, env) -> list }. Every value a lookup returns is data
-- (Ansible marks it unsafe: it is never templated again).
local values = require "luasible.template.values"
local fs = require "luasible.util.fs"
local path = require "luasible.util.path"

local M = {}

--- A lookup's error (errors=warn/ignore apply).
function M.fail(msg) error({ template_error = msg, lookup_error = true }, 0) end

--- An undefined variable (raised even with errors=ignore, as Ansible's
--- AnsibleUndefinedVariable).
function M.undefined(msg) error({ template_error = msg, undefined = true }, 0) end

--- A bad option (raised even with errors=ignore).
function M.option_error(msg) error({ template_error = msg, lookup_options = true }, 0) end

local loaded = {}

-- the folders package.path would look for luasible/lookup/NAME.lua in
local function search_path(name)
  local dirs = {}
  for tmpl in package.path:gmatch("[^;]+") do
    local f = tmpl:gsub("%?", "luasible/lookup/" .. name)
    dirs[#dirs + 1] = f
  end
  return table.concat(dirs, ", ")
end

--- The lookup module called `name`, or nil, "lookup plugin (name) not found ...".
function M.get(name)
  if type(name) ~= "string" then
    return nil, "lookup plugin name must be a string, got " .. values.type_name(name)
  end
  local short = name:match("^ansible%.builtin%.([%w_]+)$") or name:match("^ansible%.legacy%.([%w_]+)$") or name
  if loaded[short] then return loaded[short] end
  if short:match("^[%a_][%w_]*$") and short ~= "init" then
    local ok, mod = pcall(require, "luasible.lookup." .. short)
    if ok and type(mod) == "table" and mod.run then
      loaded[short] = mod
      return mod
    end
    if not ok and not tostring(mod):find("module 'luasible.lookup." .. short .. "' not found", 1, true) then
      error(mod, 0)
    end
  end
  return nil, "lookup plugin (" .. name .. ") not found (searched " .. search_path(short) .. ")"
end

local function warn(env, msg)
  if env and env.warn then env.warn(msg) else io.stderr:write("[WARNING]: ", msg, "\n") end
end

local function all_strings(list)
  for i = 1, #list do
    if type(list[i]) ~= "string" then return false end
  end
  return true
end

--- Call lookup `name` (see the top of this file).
function M.call(name, terms, kw, env, wantlist)
  local mod, err = M.get(name)
  if not mod then values.fail(err) end
  local rest = {}
  local errors, allow_unsafe = "strict", false
  for k, v in pairs(kw or {}) do
    if k == "wantlist" then wantlist = wantlist or values.truthy(v)
    elseif k == "errors" then errors = v
    elseif k == "allow_unsafe" then allow_unsafe = values.truthy(v)
    else rest[k] = v end
  end
  if type(terms) ~= "table" or not values.is_list(terms) then terms = { terms } end
  local ok, ran = pcall(mod.run, terms, rest, env or {})
  if not ok then
    local e = ran
    if type(e) ~= "table" or not e.template_error or e.lookup_options or e.undefined then error(e, 0) end
    local msg = "lookup plugin '" .. name .. "': " .. e.template_error
    if errors == "warn" then warn(env, "Lookup failed but the error is being ignored: " .. msg)
    elseif errors ~= "ignore" then values.fail(msg) end
    if wantlist then return {} end
    return values.none
  end
  -- Ansible shapes (joins) only what it marks unsafe: allow_unsafe=True
  -- gives the list as it is, even to lookup()
  if wantlist or allow_unsafe or #ran == 0 then return ran end
  if all_strings(ran) then return table.concat(ran, ",") end
  if #ran == 1 then return ran[1] end
  return ran
end

--- The items of a `with_NAME: value` loop, as Ansible's TaskExecutor gets
--- them: the lookup run with the value itself as its terms (a list as it is,
--- a string or another value as a list of one; a mapping as a list of its
--- keys, but for `dict`, which takes the mapping), always a list; errors
--- raised whatever errors= would say (a loop has no such option).
function M.loop(name, value, env)
  local mod, err = M.get(name)
  if not mod then values.fail(err) end
  local terms
  if values.is_mapping(value) then
    terms = name:match("dict$") and { value } or values.keys(value)
  elseif values.is_list(value) then
    terms = value
  else
    terms = { value }
  end
  return mod.run(terms, {}, env or {})
end

local function exists(p) return fs.stat(p) ~= nil end

--- Where Ansible's lookups find a file (see the top of this file).
function M.find_file(env, subdir, name)
  if type(name) ~= "string" then M.fail("a file name must be a string, got " .. values.type_name(name)) end
  if name:sub(1, 1) == "~" or name:sub(1, 1) == "/" then
    local p = path.expand_user(name)
    if exists(p) then return p end
    return nil, { p }
  end
  local search = {}
  local first = name:match("^[^/]*")
  local function add(dir)
    if first ~= subdir then search[#search + 1] = path.join(dir, subdir, name) end
    search[#search + 1] = path.join(dir, name)
  end
  local base = env.base_dir or "."
  for _, d in ipairs(env.search_dirs or { base }) do add(d) end
  add(base)
  for _, p in ipairs(search) do
    if exists(p) then return p end
  end
  return nil, search
end

--- The options of a lookup: kw over `defaults` (name -> default value;
--- values.none for "no default"). An option the lookup does not have is
--- ignored, as Ansible's set_options ignores it, with a warning (env.warn)
--- naming it: a typo renders as in Ansible, and is still seen.
function M.options(kw, defaults, name, env)
  local out = {}
  for k, v in pairs(defaults) do out[k] = v end
  for k, v in pairs(kw or {}) do
    if defaults[k] == nil then
      warn(env, "lookup plugin '" .. name .. "': unknown option '" .. tostring(k) .. "' (ignored)")
    else
      out[k] = v
    end
  end
  return out
end

--- Ansible's boolean() of an option value (strict=False: anything else is false).
function M.bool(v)
  if v == true or v == false then return v end
  if type(v) == "number" then return v == 1 end
  if type(v) == "string" then
    local s = v:lower()
    return s == "yes" or s == "on" or s == "1" or s == "true" or s == "y" or s == "t"
  end
  return false
end

--- Run a shell command on the controller (/bin/sh -c CMD, the text as one
--- argument: never spliced into another command line) in folder `cwd`:
--- { rc, stdout, ... } (the core's result), or nil, err. Waits in the
--- running luasible task, or drives the loop when called outside one.
function M.shell(cmd, cwd)
  local core = require "luasible.core"
  local scheduler = require "luasible.scheduler"
  local function go()
    local s, err = core.spawn({ "/bin/sh", "-c", cmd }, { cwd = cwd, capture = true, lines = false, progress = false })
    if not s then return nil, err end
    scheduler.wait(s)
    local res
    repeat
      local ev = s:pop()
      if ev and ev.result then res = ev.result end
    until not ev or res
    res = res or s:result()
    s:close()
    return res
  end
  if scheduler.task() then return go() end
  return scheduler.run(go)
end

--- The stdout of `cmd` run by M.shell in `cwd` for lookup `name`; a
--- command that cannot run or exits non-zero fails the lookup as Ansible's
--- pipe and lines do (`lookup_plugin.NAME(CMD) returned RC`).
function M.command_output(name, cmd, cwd)
  local res, err = M.shell(cmd, cwd)
  if not res then M.fail("cannot run " .. cmd .. ": " .. tostring(err)) end
  if res.rc ~= 0 then
    M.fail("lookup_plugin." .. name .. "(" .. cmd .. ") returned " .. tostring(res.rc or res.signal))
  end
  return res.stdout or ""
end

--- Ansible's LookupBase._flatten: the items of `list`, the lists among
--- them spliced in (one level).
function M.flatten(list)
  local out = {}
  for _, v in ipairs(list) do
    if values.is_list(v) then
      for _, x in ipairs(v) do out[#out + 1] = x end
    else
      out[#out + 1] = v
    end
  end
  return out
end

--- Python's str.splitlines() of text.
function M.splitlines(s)
  local out = {}
  for line in (s .. "\n"):gmatch("(.-)\r?\n") do out[#out + 1] = line end
  if s == "" or s:sub(-1) == "\n" then out[#out] = nil end
  return out
end

return M
