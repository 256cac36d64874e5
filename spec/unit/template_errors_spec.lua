-- Bad input to every filter, test and operator of the template engine: each
-- answers with a message naming the filter (or operator) and what it got,
-- never a Lua error from inside the engine (fuzz/oracle.lua says what
-- counts as one). A filter or a test added without a case here fails the
-- first spec.
local T = require "luasible.template"
local oracle = require "fuzz.oracle"

local vars = { n = 5, s = "text", l = { 1, 2 }, m = { a = 1 }, nan = 0 / 0, big = 1e300,
  maxint = math.maxinteger, e = {}, t = true }

-- expression, the message it must give (a part of it): Python's words, as
-- Jinja2 says them (filters' own cases: template_filters_spec.lua)
local OPERATOR_CASES = {
  { "1 // 0", "integer division or modulo by zero" },
  { "1 / 0", "division by zero" },
  { "n % 0", "integer division or modulo by zero" },
  { "1.5 // (n - 5)", "float floor division by zero" },
  { "'a' + 1", 'can only concatenate str (not "int") to str' },
  { "l - 1", "unsupported operand type(s) for -: 'list' and 'int'" },
  { "m * 2", "unsupported operand type(s) for *: 'dict' and 'int'" },
  { "none / 2", "unsupported operand type(s) for /: 'NoneType' and 'int'" },
  { "-s", "bad operand type for unary -: 'str'" },
  { "-l", "bad operand type for unary -: 'list'" },
  { "m > 1", "'>' not supported between instances of 'int' and 'dict'" },
  { "none <= 1", "'<=' not supported between instances of 'NoneType' and 'int'" },
  { "s < 1", "'<' not supported between instances of 'str' and 'int'" },
  { "1 in n", "argument of type 'int' is not iterable" },
  { "1 not in t", "argument of type 'bool' is not iterable" },
  { "1 in s", "'in <string>' requires string as left operand, not int" },
  { "n.a | string", "'int object' has no attribute 'a'" },
  { "nope + 1", "'nope' is undefined" },
  { "m.x + 1", "'dict object' has no attribute 'x'" },
  { "l[5] + 1", "'list object' has no element 5" },
  { "x is nosuchtest", "no test named 'nosuchtest'" },
  { "x | nosuchfilter", "no filter named 'nosuchfilter'" },
  { "(1 + 2", "expected ')'" },
  { "f(1)", "'f' is undefined" },
  { "s.nomethod()", "'str object' has no attribute 'nomethod'" },
  { "range(1, 2, 0)", "range() arg 3 must not be zero" },
  { "n[1:2]", "'int' object is not subscriptable" },
  { "l[::0]", "slice step cannot be zero" },
  { "{l: 1}", "unhashable type: 'list'" },
  { string.rep("(", 250) .. "1" .. string.rep(")", 250), "expression nested more than 200 levels deep" },
  { string.rep("[", 250) .. "1" .. string.rep("]", 250), "expression nested more than 200 levels deep" },
  { string.rep("-", 250) .. "1", "expression nested more than 200 levels deep" },
  { "x\n| nofilter", "expression:2:3: no filter named 'nofilter'" },
}

describe("template: bad input", function()
  -- each expression fails with a message for a person that says c[2]
  local function refused(cases)
    for _, c in ipairs(cases) do
      local v, err = T.eval(c[1], vars)
      assert.is_nil(v, c[1])
      assert.is_nil(oracle.internal(err), c[1] .. ": " .. tostring(err))
      assert.truthy(err:find(c[2], 1, true), c[1] .. ": " .. err)
    end
  end

  it("every operator says what it got, and where in the expression", function() refused(OPERATOR_CASES) end)

  it("every test takes any value, none too (`x is none` parses)", function()
    local exprs = { "n", "s", "l", "m", "nan", "t", "none", "nope", "e", "[n, [s]]" }
    for name in pairs(require("luasible.template.registry").tests) do
      for _, e in ipairs(exprs) do
        for _, neg in ipairs({ "", "not " }) do
          local src = e .. " is " .. neg .. name
          local v, err = T.eval(src, vars)
          if v == nil then
            -- only an undefined value used as a real one may fail here
            assert.is_nil(oracle.internal(err), src .. ": " .. tostring(err))
          else
            assert.is_not_nil(v, src)
          end
        end
      end
    end
    assert.is_true(T.eval("none is none", vars))
    assert.is_false(T.eval("n is none", vars))
    assert.is_true(T.eval("n is not none", vars))
    assert.equal("expression:1:10: no test named 'None'", select(2, T.eval("n is not None", vars))) -- as Jinja2
  end)

  it("never fails on operators that take any value", function()
    for _, e in ipairs({ "n == m", "l != s", "t ~ l", "m ~ n", "l and m", "none or t", "not m", "l if m else n",
      "nan == nan", "[nan] == [nan]", "s[100] is undefined", "l[0] is defined", "l[-3] is undefined",
      "m['x'] is defined",
      "m[nan] is defined", "l[1.5] is defined", "m.x.y.z is defined", "m[l] is defined" }) do
      local _, err = T.eval(e, vars)
      assert.is_nil(err, e)
    end
  end)

  it("integers that would wrap around give a float", function()
    assert.equal(2.0 ^ 63, T.eval("maxint + 1", vars))
    assert.equal("float", math.type(T.eval("-maxint - 3", vars)))
    assert.equal(2.0 ^ 63, T.eval("(-maxint - 1) // -1", vars))
    assert.equal(2.0 ^ 64, T.eval("maxint * 2 + 2", vars))
    assert.equal(math.mininteger, T.eval("-maxint - 1", vars)) -- no wrap: still an integer
    assert.equal("integer", math.type(T.eval("-maxint - 1", vars)))
  end)

  it("keeps template messages on one line, and knows an empty or too deep template", function()
    local _, err = T.render("a {{ }} b", {}, "t.conf")
    assert.equal("t.conf:1:6: expected an expression, got end of print statement", err)
    _, err = T.render(string.rep("{% if true %}", 250) .. "x" .. string.rep("{% endif %}", 250), {}, "t.conf")
    assert.truthy(err:find("blocks nested more than 200 levels deep", 1, true), err)
    _, err = T.render("{% for a\nb %}{% endfor %}", {}, "t.conf")
    assert.is_nil(oracle.internal(err), err)
    assert.equal("t.conf:2:1: expected 'in', got 'b'", err)
    _, err = T.render("{% frob\nx %}", {}, "t.conf")
    assert.is_nil(oracle.internal(err), err)
  end)
end)
