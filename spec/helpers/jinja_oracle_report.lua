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
      lines[#lines + 1] = "- `" .. id:gsub("`", "'") .. "`\n  " .. diff:gsub("\n%s*", "\n  ")
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
