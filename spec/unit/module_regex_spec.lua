-- ctx.regex (module/context.lua): Python's re for modules, on PCRE2
-- (util/regex.lua) and the re.sub template of template/filters/regex.lua.
local context = require "luasible.module.context"
local checks = require "luasible.module.checks"

describe("ctx.regex", function()
  local rx = context.new({}).regex

  it("subn replaces every match (or count of them) with \\1, \\g<name>, and says how many", function()
    local r = assert(rx.compile([[^(?P<k>\w+)=(\d+)$]], "m"))
    assert.are.same({ "a: 1\nb: 22\nc=x\n", 2 }, { rx.subn(r, "a=1\nb=22\nc=x\n", [[\g<k>: \2]]) })
    assert.are.same({ "a: 1\nb=22\n", 1 }, { rx.subn(r, "a=1\nb=22\n", [[\1: \2]], 1) })
    assert.are.same({ "none", 0 }, { rx.subn(r, "none", "x") })
  end)

  it("expand gives a match's template (Match.expand), errors as a string", function()
    local r = assert(rx.compile([[Port (\d+)]]))
    local s = "  Port 22\n"
    local st, en, caps = r:search(s)
    assert.are.equal("Port 220 (was 22)", rx.expand([[Port \g<1>0 (was \1)]], s, st, en, caps))
    local out, err = rx.expand([[\g<nope>]], s, st, en, caps)
    assert.is_nil(out)
    assert.truthy(err:find("nope", 1, true), err)
  end)

  it("compile refuses a bad pattern; checks.regex names the argument", function()
    local r, err = rx.compile("(a")
    assert.is_nil(r)
    assert.truthy(err:find("bad regex '(a'", 1, true), err)
    local ok, cerr = checks.regex("[x", "insertafter")
    assert.is_nil(ok)
    assert.truthy(cerr:find("argument 'insertafter' is not a valid regular expression", 1, true), cerr)
    assert.is_true(checks.regex([[^\s*PermitRootLogin\b]], "regexp"))
  end)
end)
