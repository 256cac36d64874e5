--- luasible.template.registry: every filter and test of the template
-- language (contract C), each declared with a Python-style signature
-- (template/signature.lua) and a function.
--
--   reg.filter(name, spec, fn [, opts])   declare filter `name`
--   reg.test(name, spec, fn [, opts])     declare test `name`
--     opts.undefined = true: fn may be given an undefined value (default,
--     mandatory, defined, ...); otherwise an undefined argument is the
--     undefined error before fn runs.
--   reg.filters[name], reg.tests[name] -> { name, kind, sig, fn }
--   reg.get(kind, name) -> entry, or values.fail("no filter named 'x'")
--   reg.bind(kind, name, npos, kwnames) -> entry, binding (signature.bind):
--     what the compiler calls once per `x | name(...)` / `x is name(...)`;
--     then binding.call(entry.fn, ctx, argv) per evaluation.
--   reg.call(kind, name, ctx, pos, kw) -> result: a call made at run time
--     (the `map('upper')` and `select('odd')` filters): pos a list (the
--     value first), kw a list of { name, value } or nil.
--
-- The filters are in template/filters/<concern>.lua and the tests in
-- template/tests/<concern>.lua; each returns function(reg) that declares
-- its own. They are all loaded when this module is first required.
local signature = require "luasible.template.signature"
local values = require "luasible.template.values"

local M = { filters = {}, tests = {} }

local FILTER_MODULES = { "types", "text", "lists", "sets", "data", "regex", "hash", "paths", "math", "urls",
  "dates", "html", "vault" }
local TEST_MODULES = { "types", "results", "compare", "regex", "version", "paths", "uri" }

-- Ansible's own filters and tests (not Jinja's builtins) are also known by
-- their full names: ansible.builtin.NAME and ansible.legacy.NAME
local ANSIBLE_FILTERS = [[b64decode b64encode to_uuid to_json to_nice_json from_json to_yaml to_nice_yaml from_yaml
  from_yaml_all basename dirname expanduser expandvars path_join realpath relpath splitext win_basename win_dirname
  win_splitdrive fileglob bool strftime quote md5 sha1 checksum password_hash hash regex_replace regex_escape
  regex_search regex_findall ternary random shuffle mandatory comment type_debug combine extract flatten dict2items
  items2dict subelements split log pow root unique intersect difference symmetric_difference union product
  permutations combinations human_readable human_to_bytes rekey_on_member zip zip_longest urlsplit urldecode vault
  unvault]]
local ANSIBLE_TESTS = [[failed failure succeeded success successful reachable unreachable changed change skipped skip
  finished started match search regex version_compare version any all truthy falsy directory is_dir file is_file link
  is_link exists link_exists abs is_abs same_file is_same_file mount is_mount issubset subset issuperset superset
  contains isnan nan uri url urn vault_encrypted]]

-- signatures by their text: parsed once, shared by aliases
local parsed = {}

local function declare(kind, tbl, name, spec, fn, opts)
  assert(type(fn) == "function", kind .. " " .. name .. ": no function")
  local key = spec .. (opts and opts.undefined and "\0u" or "")
  local sig = parsed[key]
  if not sig then
    sig = signature.parse(spec)
    sig.lenient = opts and opts.undefined or nil
    parsed[key] = sig
  end
  tbl[name] = { name = name, kind = kind, sig = sig, fn = fn }
end

function M.filter(name, spec, fn, opts) declare("filter", M.filters, name, spec, fn, opts) end
function M.test(name, spec, fn, opts) declare("test", M.tests, name, spec, fn, opts) end

--- The entry of filter or test `name` (kind "filter" or "test").
function M.get(kind, name)
  local e = (kind == "test" and M.tests or M.filters)[name]
  if not e then values.fail(string.format("no %s named '%s'", kind, tostring(name))) end
  return e
end

--- Bind a call at compile time: entry, binding.
function M.bind(kind, name, npos, kwnames)
  local e = M.get(kind, name)
  return e, signature.bind(e.sig, kind, name, npos, kwnames)
end

-- bindings of run-time calls by their shape
local shapes = setmetatable({}, { __mode = "k" })

--- Call filter or test `name` at run time (see above).
function M.call(kind, name, ctx, pos, kw)
  local e = M.get(kind, name)
  local npos = #pos
  if not kw or #kw == 0 then
    -- the common shape (positional arguments only): bound once per count
    local by = shapes[e]
    if not by then by = {}; shapes[e] = by end
    local b = by[npos]
    if not b then
      b = signature.bind(e.sig, kind, name, npos, {})
      by[npos] = b
    end
    return b.call(e.fn, ctx, pos)
  end
  local names, argv = {}, {}
  for i = 1, npos do argv[i] = pos[i] end
  if kw then
    for j, p in ipairs(kw) do names[j] = p[1]; argv[npos + j] = p[2] end
  end
  local key = npos .. "\0" .. table.concat(names, "\0")
  local by = shapes[e]
  if not by then by = {}; shapes[e] = by end
  local b = by[key]
  if not b then
    b = signature.bind(e.sig, kind, name, npos, names)
    by[key] = b
  end
  return b.call(e.fn, ctx, argv)
end

for _, m in ipairs(FILTER_MODULES) do require("luasible.template.filters." .. m)(M) end
for _, m in ipairs(TEST_MODULES) do require("luasible.template.tests." .. m)(M) end
for _, pair in ipairs({ { M.filters, ANSIBLE_FILTERS }, { M.tests, ANSIBLE_TESTS } }) do
  local tbl, names = pair[1], pair[2]
  for name in names:gmatch("%S+") do
    local e = assert(tbl[name], name)
    tbl["ansible.builtin." .. name], tbl["ansible.legacy." .. name] = e, e
  end
end

return M
