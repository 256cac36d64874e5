--- The template oracle: the cases of spec/fixtures/jinja/*.yml evaluated by
-- Ansible (spec/helpers/jinja_oracle.py: ansible-core's Templar, and plain
-- jinja2) and by luasible, and the two compared
-- (spec/integration/jinja_oracle_spec.lua, `make test-oracle`).
--
--   o.corpus(dir)            the corpus files of dir: { { path, vars, cases } }
--   o.oracle(paths)          Ansible's answers, one process for every file:
--                            { [path] = { [n] = { ok = RESULT } | { err = msg } } },
--                            or nil, why (Ansible is not installed, ...)
--   o.ask(cases, base)       Ansible's answers for cases given here (not cached:
--                            for cases that change files), BASE the folder:
--                            { [i] = { ok = RESULT } | { err = msg } }, or nil, why
--   o.luasible(case, file)   luasible's answer for a case, the same shape
--   o.compare(case, ours, theirs)  nil when they agree, else what differs
--   o.deliberate(path)       the deliberate differences: { ["file.yml#id"] = reason }
--   o.canon(v)               a value as a string that tells its type
--   o.case_id(case)          its id, else "mode source" (deliberate.yml names cases so)
--
-- A case's mode is the key that holds its source (the manual of the modes
-- is jinja_oracle.py's): expr, value, when, template, jinja. RESULT is the
-- value canonical (expr, value), "true"/"false" (when) or the text
-- (template, jinja).
--
-- What the comparison normalises, and only that (spec/helpers/README.md):
--   1. values are compared canonical: mappings with their keys sorted (key
--      order is compared where it shows: in rendered text), lazy sequences
--      (Jinja's generators, range, dict views) and tuples as lists;
--   2. an error is compared as "both refused": the messages differ in
--      wording, so a case that must fail names the words the message must
--      hold (`error: "'x' is undefined"`), checked in both answers;
--   3. nothing else: text is compared byte for byte, whitespace included.
local json = require "luasible.json"
local yaml = require "luasible.yaml"
local files = require "spec.helpers.files"

local M = {}

M.CACHE = os.getenv("LUASIBLE_ORACLE_CACHE") or "build/oracle-cache"
M.HELPER = "spec/helpers/jinja_oracle.py"
M.MODES = { "expr", "value", "when", "template", "jinja" }

local function values() return require "luasible.template.values" end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ["\b"] = "\\b", ["\f"] = "\\f" }
-- a string as Python's json.dumps(s, ensure_ascii=False) writes it
local function quote(s)
  return '"' .. s:gsub('[%z\1-\31"\\]', function(c) return ESC[c] or string.format("\\u%04x", c:byte()) end) .. '"'
end

local function is_none(v)
  return v == nil or yaml.is_null(v) or json.is_null(v)
end

local function is_mapping(t)
  local v = values()
  if v.is_mapping then return v.is_mapping(t) end
  return json.is_object(t) or not v.is_list(t)
end

--- A value as a string that tells its type, as jinja_oracle.py writes
--- Python's: null, true, false, int:5, float:1.5, "text", [..], {"k":..}.
--- Raises for an undefined value (luasible gave an undefined result).
function M.canon(v)
  local t = type(v)
  if is_none(v) then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if math.type(v) == "integer" then return string.format("int:%d", v) end
    if v ~= v then return "float:nan" end
    if v == math.huge then return "float:inf" end
    if v == -math.huge then return "float:-inf" end
    return "float:" .. string.format("%.17g", v)
  end
  if t == "string" then return quote(v) end
  if t == "table" then
    if values().is_undefined(v) then
      error("the result is undefined: " .. tostring(v.msg or v.name), 0)
    end
    local out = {}
    if not is_mapping(v) then
      for i = 1, #v do out[i] = M.canon(v[i]) end
      return "[" .. table.concat(out, ",") .. "]"
    end
    local keys, byname = {}, {}
    for k in pairs(v) do
      local ks = is_none(k) and "None" or tostring(k)
      if k == true then ks = "True" elseif k == false then ks = "False" end
      keys[#keys + 1] = ks
      byname[ks] = v[k]
    end
    table.sort(keys)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = quote(k) .. ":" .. M.canon(byname[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return "?" .. t .. ":" .. tostring(v)
end

--- The mode of a case and its source.
function M.mode(case)
  for _, m in ipairs(M.MODES) do
    if case[m] ~= nil then return m, case[m] end
  end
end

--- A case's name in messages and in deliberate.yml: its `id`, else its
--- mode and source (newlines as \n, a table as its canonical text, cut at
--- 80 bytes).
function M.case_id(case)
  if case.id then return tostring(case.id) end
  local mode, src = M.mode(case)
  local text = type(src) == "table" and M.canon(src) or tostring(src)
  local s = (mode or "?") .. " " .. text:gsub("\n", "\\n")
  return #s > 80 and s:sub(1, 80) or s
end

--- The corpus files of `dir` (every *.yml but deliberate.yml), sorted:
--- { { path =, base =, vars =, cases = } }.
function M.corpus(dir)
  local out = {}
  local abs = dir:sub(1, 1) == "/" and dir or (os.getenv("PWD") or files.sh("pwd")) .. "/" .. dir
  local names = files.sh("ls " .. dir .. "/*.yml 2>/dev/null")
  for path in names:gmatch("[^\n]+") do
    if not path:find("/deliberate%.yml$") then
      local data = assert(yaml.load(assert(files.read(path)), path))
      out[#out + 1] = { path = path, base = abs, vars = data.vars or {}, cases = data.cases or {} }
    end
  end
  return out
end

-- The Python that runs ansible (the one of its #! line), or nil, why.
local function python()
  local exe = files.sh("command -v ansible 2>/dev/null")
  if exe == "" then return nil, "ansible is not installed (Debian: apt-get install ansible-core)" end
  local first = (files.read(exe) or ""):match("^#!%s*(%S+)")
  if not first or not first:find("python") then return nil, exe .. " is not a Python script" end
  return first
end

local function sq(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Run the helper on the request file `req` (removed after): stdout, true;
-- or its stderr's last lines, false. Ansible's warnings (a lookup's
-- "Unable to find ...") go nowhere: the answers say what happened.
local function run_helper(py, req)
  local err = os.tmpname()
  local out, ok = files.run(py .. " " .. M.HELPER .. " --cache " .. sq(M.CACHE) .. " < " .. sq(req)
    .. " 2> " .. sq(err))
  local msg = files.read(err) or ""
  os.remove(req)
  os.remove(err)
  if not ok then return "jinja_oracle.py failed: " .. msg:sub(-2000), false end
  return out, true
end

--- Ansible's answers for the corpus files `paths`, from one process.
function M.oracle(paths)
  local py, why = python()
  if not py then return nil, why end
  local cjson = require "cjson"
  local req = os.tmpname()
  local lines = {}
  for i, p in ipairs(paths) do lines[i] = cjson.encode({ file = p }) end
  files.write(req, table.concat(lines, "\n") .. "\n")
  local out, ok = run_helper(py, req)
  if not ok then return nil, out end
  local res = {}
  for line in out:gmatch("[^\n]+") do
    local a = cjson.decode(line)
    if a.file and a.n then
      res[a.file] = res[a.file] or {}
      res[a.file][a.n] = { ok = a.ok ~= cjson.null and a.ok or nil, err = a.err ~= cjson.null and a.err or nil }
    end
  end
  return res
end

--- Ansible's answers for `cases` (inline, vars as JSON), folder `base`.
function M.ask(cases, base)
  local py, why = python()
  if not py then return nil, why end
  local cjson = require "cjson"
  local req = os.tmpname()
  local lines = {}
  for i, c in ipairs(cases) do lines[i] = cjson.encode({ case = c, base = base }) end
  files.write(req, table.concat(lines, "\n") .. "\n")
  local out, ok = run_helper(py, req)
  if not ok then return nil, out end
  local res = {}
  for line in out:gmatch("[^\n]+") do
    local a = cjson.decode(line)
    if a.n then
      res[#res + 1] = { ok = a.ok ~= cjson.null and a.ok or nil, err = a.err ~= cjson.null and a.err or nil }
    end
  end
  return res
end

-- the file's vars, then the case's, key by key; names whose value was
-- !unsafe in the YAML stay unsafe (as play/vars.lua marks them)
local function case_vars(case, file)
  local vars, unsafe = {}, {}
  for _, src in ipairs({ file.vars or {}, case.vars or {} }) do
    local marks = yaml.unsafe_keys(src) or {}
    for k, v in pairs(src) do
      vars[k] = v
      unsafe[k] = marks[k] and true or nil
    end
  end
  if next(unsafe) then require("luasible.template").mark_unsafe(vars, unsafe) end
  return vars
end

-- the text of template `name` from the search path: text, path | nil, err
local function loader(dirs)
  return function(name)
    for _, d in ipairs(dirs) do
      local p = d .. "/" .. name
      local text = files.read(p)
      if text then return text, p end
    end
    return nil, "template not found: " .. tostring(name)
  end
end

--- What luasible is given besides the vars: where lookups and includes
--- look (the same places as jinja_oracle.py's Ansible), and the options
--- of the mode (template module: trim_blocks on; plain Jinja: off).
function M.options(file, mode)
  local base = file.base
  local search = { base .. "/templates", base }
  return {
    base_dir = base,
    search_dirs = { base },
    search_path = search,
    loader = loader(search),
    trim_blocks = mode ~= "jinja",
    lstrip_blocks = false,
    keep_trailing_newline = mode == "jinja",
    ansible = mode ~= "jinja",
    name = file.path,
  }
end

-- A render context that carries the lookup environment (for the engine's
-- eval/test, which take no options), when the engine makes them.
local function context(template, vars, opts)
  if not template.context then return nil end
  local rc = template.context()
  if type(rc) == "table" then
    rc.lookup_env = function()
      return { vars = vars, base_dir = opts.base_dir, search_dirs = opts.search_dirs,
        render = function(text, v) return template.render(text, v or vars, "lookup", nil, opts) end }
    end
  end
  return rc
end

--- luasible's answer for `case` of corpus `file`: { ok = RESULT } or { err = msg }.
function M.luasible(case, file)
  local template = require "luasible.template"
  local mode, src = M.mode(case)
  if not mode then return { err = "case has no mode" } end
  local vars = case_vars(case, file)
  local opts = M.options(file, mode)
  local ok, r, err = pcall(function()
    local rc = context(template, vars, opts)
    if mode == "expr" then return template.eval(src, vars, rc, opts) end
    if mode == "value" then return template.render_value(src, vars, rc, opts) end
    if mode == "when" then return template.test(src, vars, rc, opts) end
    return template.render(src, vars, opts.name, rc, opts)
  end)
  if not ok then return { err = "raised: " .. tostring(type(r) == "table" and (r.template_error or r.msg) or r) } end
  if r == nil and err ~= nil then return { err = tostring(err) } end
  if mode == "expr" or mode == "value" then
    local cok, c = pcall(M.canon, r)
    if not cok then return { err = c } end
    return { ok = c }
  end
  if mode == "when" then return { ok = tostring(r == true) } end
  if type(r) ~= "string" then return { err = "render gave a " .. type(r) .. ", not text" } end
  return { ok = r }
end

local function show(s) return s == nil and "nil" or quote(s) end

--- nil when luasible's answer agrees with Ansible's, else a message.
function M.compare(case, ours, theirs)
  if not theirs then return "no answer from the oracle" end
  local want = case.error
  if want == true then want = nil end    -- must fail, whatever the words
  local must_fail = case.error ~= nil
  if theirs.err then
    if want and not theirs.err:find(want, 1, true) then
      return "the corpus is wrong: Ansible's error " .. show(theirs.err) .. " does not say " .. show(want)
    end
    if not ours.err then return "Ansible refuses (" .. theirs.err .. "), luasible gives " .. show(ours.ok) end
    if want and not ours.err:find(want, 1, true) then
      return "luasible's error " .. show(ours.err) .. " does not say " .. show(want)
        .. " (Ansible: " .. theirs.err .. ")"
    end
    return nil
  end
  if must_fail then return "the corpus is wrong: Ansible does not refuse it (" .. show(theirs.ok) .. ")" end
  if ours.err then return "luasible refuses (" .. ours.err .. "), Ansible gives " .. show(theirs.ok) end
  if ours.ok ~= theirs.ok then return "luasible: " .. show(ours.ok) .. "\n   Ansible: " .. show(theirs.ok) end
  return nil
end

--- The deliberate differences (deliberate.yml: a list of { case = "file.yml#id",
--- reason = "..." }): { [case] = reason }.
function M.deliberate(path)
  local text = files.read(path)
  if not text then return {} end
  local list = assert(yaml.load(text, path)) or {}
  local out = {}
  for _, d in ipairs(list) do
    assert(d.case and d.reason and d.reason ~= "", path .. ": every entry needs case and reason")
    out[d.case] = d.reason
  end
  return out
end

return M
