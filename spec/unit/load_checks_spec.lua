-- A play's templates and conditions are checked when the play is loaded
-- (before any host is touched) and compiled when first used: what the
-- check refuses is what compiling refuses, with the same message, and
-- what it lets pass renders. Reading a playbook raises the collector's
-- pause only while it reads (util/gc.lua).
local template = require "luasible.template"
local compile = require "luasible.template.compile"
local conditions = require "luasible.play.conditions"
local playbook = require "luasible.play.playbook"
local prepare = require "luasible.play.prepare"
local files = require "spec.helpers.files"

-- what compiling the text says (nil when it compiles)
local function compile_error(src)
  local ok, err = pcall(compile.template, src, "value", template.DEFAULTS)
  if ok then return nil end
  return type(err) == "table" and err.template_error or tostring(err)
end

describe("load-time template checks", function()
  before_each(function() template.clear_caches() end)

  it("refuse what compiling refuses, with its message, and let the rest render", function()
    local cases = {
      "{{ x | nosuch }}", "{{ x | default(1, 2, 3, 4) }}", "a\n{{ x | bad1 | bad2 }}", "{{ x is nosuchtest }}",
      "{% filter nosuch %}x{% endfilter %}", "{{ x | int(y | bad2) | bad3 }}", "{{ not }}", "{{ x }",
      "{{ x | combine(foo=1) }}", "{{ x is divisibleby }}", "{% for a in b | q1 %}{{ a | q2 }}{% endfor %}",
      "{{ x }}", "a {{ b }} {{ c }}/d", "{{ x | default(*y) }}", "{{ true }}", "{{ if }}", "{{\tx\n}}{",
    }
    for _, src in ipairs(cases) do
      local want = compile_error(src)
      template.clear_caches()
      local ok, err = template.check(src)
      if want then
        assert.is_nil(ok, src)
        -- the check's message is compiling's, with the place said as "column C" / "line N"
        local line, col, rest = want:match("^value:(%d+):(%d+): (.*)$")
        assert.equals((line == "1" and ("column " .. col) or ("line " .. line)) .. ": " .. rest, err, src)
      else
        assert.is_true(ok, src)
      end
    end
    assert.equals("7/x", template.render("{{ n }}/x", { n = 7 }))
  end)

  it("check a condition as compiling it would, and evaluate it afterwards", function()
    local c, err = conditions.compile("x | nosuch", "when")
    assert.is_nil(c)
    assert.equals("bad when: expression:1:5: no filter named 'nosuch'", err)
    local _, err2 = conditions.compile({ "a", "b is nosuch" }, "when")
    assert.equals("bad when (condition 2): expression:1:6: no test named 'nosuch'", err2)
    c = assert(conditions.compile("n | int > 3", "when"))
    assert.is_true(conditions.eval(c, { n = "5" }))
    assert.is_false(conditions.eval(c, { n = "2" }))
  end)
end)

describe("the collector's pause while a playbook is read", function()
  it("is back as it was after a load, a refused load and a check", function()
    -- (Lua keeps a pause as a multiple of 4: 160 reads back as 160)
    local before = collectgarbage("setpause", 160)
    local dir = files.tmpdir()
    files.write(dir .. "/site.yml", "- hosts: all\n  tasks:\n    - debug: msg={{ m }}\n")
    files.write(dir .. "/bad.yml", "- hosts: all\n  tasks:\n    - debug: msg={{ m | nosuch }}\n")
    local plays, sources = assert(playbook.load(dir .. "/site.yml"))
    assert.equals(160, collectgarbage("setpause", 160))
    assert.is_nil((playbook.load(dir .. "/missing.yml")))
    assert.equals(160, collectgarbage("setpause", 160))
    local inv = require("luasible.inventory").load(nil)
    assert(prepare.prepare(plays[1], { play_file = dir .. "/site.yml", locate = sources[1].locate }, inv))
    assert.equals(160, collectgarbage("setpause", 160))
    local bad = assert(playbook.load(dir .. "/bad.yml"))
    local p, perr = prepare.prepare(bad[1], {}, inv)
    assert.is_nil(p)
    assert.matches("no filter named 'nosuch'", perr)
    assert.equals(160, collectgarbage("setpause", before))
  end)
end)
