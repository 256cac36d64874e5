--- The differences of the template oracle corpus, as Markdown: per corpus
-- file the cases that pass and fail, then every failing case with what
-- differs (deliberate ones marked). From the worktree root:
--
--   lua5.4 spec/helpers/jinja_oracle_report.lua [DIR] > DIFFS.md
--
-- LUASIBLE_LUA_FIRST=/other/worktree/lua tries that tree's modules first (to
-- measure another branch's work in progress against this corpus).
local first = os.getenv("LUASIBLE_LUA_FIRST")
package.path = (first and (first .. "/?.lua;" .. first .. "/?/init.lua;") or "")
  .. "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = (os.getenv("LUASIBLE_CPATH") or "./?.so") .. ";" .. package.cpath
local o = require "spec.helpers.jinja_oracle"

-- who most likely owns a difference (a plain substring of the case's name -> note)
local HINTS = {
  { "0o17", "jinja-engine: lexer (0o/0b integer literals)" },
  { "0b101", "jinja-engine: lexer (0o/0b integer literals)" },
  { "expr neg", "luasible.yaml: '-0.0' read as 0.0 (the sign lost)" },
  { "{{ neg }}", "luasible.yaml: '-0.0' read as 0.0 (the sign lost)" },
  { "dictsort", "jinja-engine/filters: a tuple prints as a list (('a', 1) is ['a', 1])" },
  { "product(", "jinja-engine/filters: a tuple prints as a list" },
  { "{{ m }}", "jinja-engine: str() of a macro is <Macro 'm'> (and never an address)" },
  { "m.name", "jinja-engine: a macro's name/arguments attributes" },
  { "self is defined", "jinja-engine: the `self` of a template" },
  { "'a\\nb'", "jinja-engine: play strings escape backslashes inside {{ }} (Templar escape_backslashes)" },
  { "just a comment", "jinja-engine: a value with no output is None in native mode" },
  { "raw_list", "luasible.yaml/engine: !unsafe on a sequence" },
  { "undefined_ref", "jinja-engine: an undefined inside a variable's template is an undefined value"
    .. " (default/defined see it)" },
  { "when {{", "jinja-engine: {{ }} inside a condition is rendered first (Ansible warns and does it)" },
  { "'{{ base }}'", "jinja-engine: {{ }} inside a condition is rendered first" },
  { "who': raw", "jinja-engine: unsafe is a mark on names; a value passed on loses it" },
  { "when.yml#when ", "jinja-engine: an empty condition is true" },
  { "g.grouper", "jinja-filters: groupby's items are (grouper, list) pairs with those attribute names" },
  { "if not loop.last }}", "jinja-engine: `{{ x if c }}` with c false prints '' in a template (an error as a value)" },
}

local function hint(id)
  for _, h in ipairs(HINTS) do
    if id:find(h[1], 1, true) then return "\n  (likely: " .. h[2] .. ")" end
  end
  return ""
end

local dir = arg[1] or "spec/fixtures/jinja"
local corpus = o.corpus(dir)
local deliberate = o.deliberate(dir .. "/deliberate.yml")
local paths = {}
for i, f in ipairs(corpus) do paths[i] = f.path end
local answers = assert(o.oracle(paths))
local rows, lines = {}, {}
local tp, tf = 0, 0
for _, file in ipairs(corpus) do
  local name = file.path:match("[^/]+$")
  local pass, fail, delib = 0, 0, 0
  for n, case in ipairs(file.cases) do
    local id = name .. "#" .. o.case_id(case)
    local diff = o.compare(case, o.luasible(case, file), answers[file.path][n])
    if not diff then pass = pass + 1
    elseif deliberate[id] then delib = delib + 1
    else
      fail = fail + 1
      lines[#lines + 1] = "- `" .. id:gsub("`", "'") .. "`\n  " .. diff:gsub("\n%s*", "\n  ") .. hint(id)
    end
  end
  tp, tf = tp + pass, tf + fail
  rows[#rows + 1] = string.format("| %s | %d | %d | %d |", name, pass, fail, delib)
end
print("# Template oracle: current differences\n")
print("`lua5.4 spec/helpers/jinja_oracle_report.lua > DIFFS.md` (" .. os.date("!%Y-%m-%d %H:%M UTC") .. ")\n")
print([[
How the oracle calls luasible (spec/helpers/jinja_oracle.lua, `M.luasible`), for
jinja-engine: `opts` = { base_dir, search_dirs = { base }, loader = fn(name) ->
text, path (BASE/templates, BASE), trim_blocks (false for jinja: cases),
lstrip_blocks = false, ansible (false for jinja: cases), name }, and `rc` =
template.context() with `rc.lookup_env` set (a function giving the lookup env
of contract D) for the calls that take no opts:

| mode | call | compared |
| --- | --- | --- |
| expr | `template.eval(src, vars, rc, opts)` | canonical value |
| value | `template.render_value(src, vars, rc, opts)` | canonical value (jinja2_native) |
| when | `template.test(src, vars, rc, opts)` | true/false |
| template, jinja | `template.render(src, vars, name, rc, opts)` | text, byte for byte |

Errors: `nil, msg` or a raised `{ template_error = msg }`; a case with
`error: "words"` needs those words in luasible's message too.
Lookups: luasible.lookup.call(name, terms, kw, env, wantlist) (this branch).
]])
print("| corpus file | pass | fail | deliberate |\n| --- | --- | --- | --- |")
print(table.concat(rows, "\n"))
print(string.format("| **all** | %d | %d | |\n", tp, tf))
print("## Failing cases\n")
print(table.concat(lines, "\n"))
