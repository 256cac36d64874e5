-- Bad input to every filter, test and operator of the template engine: each
-- answers with a message naming the filter (or operator) and what it got,
-- never a Lua error from inside the engine (fuzz/oracle.lua says what
-- counts as one). A filter or a test added without a case here fails the
-- first spec.
local T = require "luasible.template"
local oracle = require "fuzz.oracle"

local vars = { n = 5, s = "text", l = { 1, 2 }, m = { a = 1 }, nan = 0 / 0, big = 1e300,
  maxint = math.maxinteger, e = {}, t = true }

-- expression, the message it must give (a part of it)
local FILTER_CASES = {
  default = { { "x | default(1, 2, 3)", "filter 'default' takes 0 to 2 arguments, got 3" } },
  d = { { "x | d(1, 2, 3)", "filter 'd' takes 0 to 2 arguments, got 3" } },
  upper = { { "l | upper", "filter 'upper' expects a string, got a list" },
    { "s | upper(1)", "filter 'upper' takes 0 arguments, got 1" } },
  lower = { { "m | lower", "filter 'lower' expects a string, got a mapping" } },
  trim = { { "[[1]] | trim", "filter 'trim' expects a string, got a list" } },
  length = { { "n | length", "filter 'length' expects a string, a list or a mapping, got a number (5)" } },
  count = { { "t | count", "filter 'count' expects a string, a list or a mapping, got a boolean (true)" } },
  int = { { "l | int", "filter 'int' expects a number or a string of one, got a list" },
    { "nan | int", "filter 'int' cannot make an integer of a number (nan)" },
    { "big | int", "filter 'int': a number (1e+300) is out of the range of integers" },
    { "s | int('y')", "filter 'int': the default must be an integer, got a string ('y')" } },
  float = { { "e | float", "filter 'float' expects a number or a string of one, got an empty table" },
    { "s | float('x')", "filter 'float': the default must be a number, got a string ('x')" } },
  string = { { "n | string(2)", "filter 'string' takes 0 arguments, got 1" } },
  bool = { { "n | bool(2)", "filter 'bool' takes 0 arguments, got 1" } },
  join = { { "n | join", "filter 'join' expects a list, got a number (5)" },
    { "l | join([])", "filter 'join': the separator must be a string, got an empty table" },
    { "l | join(nope)", "undefined variable 'nope'" } },
  first = { { "n | first", "filter 'first' expects a list or a string, got a number (5)" },
    { "m | first", "filter 'first' expects a list or a string, got a mapping" } },
  last = { { "[1, 2] | last | last", "filter 'last' expects a list or a string, got a number (2)" } },
  replace = { { "s | replace", "filter 'replace' takes 2 to 3 arguments, got 0" },
    { "s | replace([], 'b')", "filter 'replace': the text to replace must be a string, got an empty table" },
    { "s | replace('a', m)", "filter 'replace': the replacement must be a string, got a mapping" },
    { "s | replace('t', 'b', -1)", "filter 'replace': the count must be an integer from 0 to" },
    { "l | replace('a', 'b')", "filter 'replace' expects a string, got a list" } },
  quote = { { "l | quote", "filter 'quote' expects a string, got a list" } },
  to_json = { { "n | to_json(1)", "filter 'to_json' takes 0 arguments, got 1" } },
  keys = { { "l | keys", "filter 'keys' expects a mapping, got a list" },
    { "s | keys", "filter 'keys' expects a mapping, got a string ('text')" } },
  lines = { { "m | lines", "filter 'lines' expects a string, got a mapping" } },
  round = { { "s | round", "filter 'round' expects a number or a string of one, got a string ('text')" },
    { "n | round('x')", "filter 'round': the precision must be an integer from -300 to 300, got a string ('x')" },
    { "n | round(1.5)", "filter 'round': the precision must be an integer from -300 to 300, got a number (1.5)" } },
  basename = { { "l | basename", "filter 'basename' expects a string, got a list" } },
  dirname = { { "m | dirname", "filter 'dirname' expects a string, got a mapping" } },
}

local OPERATOR_CASES = {
  { "1 // 0", "division by zero in '1 // 0'" },
  { "1 / 0", "division by zero in '1 / 0'" },
  { "n % 0", "division by zero in 'n % 0'" },
  { "1.5 // (n - 5)", "division by zero in '1.5 // (n - 5)'" },
  { "'a' + 1", [['+' needs numbers, got a string ('a') and a number (1) in "'a' + 1"]] },
  { "l - 1", "'-' needs numbers, got a list and a number (1) in 'l - 1'" },
  { "m * 2", "'*' needs numbers, got a mapping and a number (2) in 'm * 2'" },
  { "t + 1", "'+' needs numbers, got a boolean (true) and a number (1) in 't + 1'" },
  { "none / 2", "'/' needs numbers, got nothing (nil) and a number (2) in 'none / 2'" },
  { "-s", "'-' needs a number, got a string ('text') in '-s'" },
  { "-l", "'-' needs a number, got a list in '-l'" },
  { "l < [2]", "cannot compare a list with a list in 'l < [2]'" },
  { "m > 1", "cannot compare a mapping with a number (1) in 'm > 1'" },
  { "none <= 1", "cannot compare nothing (nil) with a number (1) in 'none <= 1'" },
  { "t >= false", "cannot compare a boolean (true) with a boolean (false) in 't >= false'" },
  { "1 in n", "'in' needs a string, a list or a mapping on its right, got a number (5) in '1 in n'" },
  { "1 not in t", "'in' needs a string, a list or a mapping on its right, got a boolean (true) in '1 not in t'" },
  { "n.a", "cannot index a number (5) 'n' with a string ('a')" },
  { "t[1]", "cannot index a boolean (true) 't' with a number (1)" },
  { "nope + 1", "undefined variable 'nope'" },
  { "x is nosuchtest", "unknown test 'nosuchtest'" },
  { "x | nosuchfilter", "unknown filter 'nosuchfilter'" },
  { "x | ARITY", "unknown filter 'ARITY'" },
  { "(1 + 2", "expected ')'" },
  { string.rep("(", 150) .. "1" .. string.rep(")", 150), "expression nested more than 100 levels deep" },
  { string.rep("[", 150) .. "1" .. string.rep("]", 150), "expression nested more than 100 levels deep" },
  { string.rep("-", 150) .. "1", "expression nested more than 100 levels deep" },
  { "x\n| nofilter", "unknown filter 'nofilter' in expression: x\\n| nofilter" },
}

describe("template: bad input", function()
  it("has a case for every filter", function()
    for name, f in pairs(T.filters) do
      if type(f) == "function" then
        assert.truthy(FILTER_CASES[name], "no bad-input case for filter '" .. name .. "'")
      end
    end
  end)

  -- each expression fails with a message for a person that says c[2]
  local function refused(cases)
    for _, c in ipairs(cases) do
      local v, err = T.eval(c[1], vars)
      assert.is_nil(v, c[1])
      assert.is_nil(oracle.internal(err), c[1] .. ": " .. tostring(err))
      assert.truthy(err:find(c[2], 1, true), c[1] .. ": " .. err)
    end
  end

  for name, cases in pairs(FILTER_CASES) do
    it("filter '" .. name .. "' says what it got", function() refused(cases) end)
  end

  it("every operator says what it got, and where in the expression", function() refused(OPERATOR_CASES) end)

  it("every test takes any value, none too (`x is none` parses)", function()
    local exprs = { "n", "s", "l", "m", "nan", "t", "none", "nope", "e", "[n, [s]]" }
    for name in pairs(T.tests) do
      for _, e in ipairs(exprs) do
        for _, neg in ipairs({ "", "not " }) do
          local src = e .. " is " .. neg .. name
          local v, err = T.eval(src, vars)
          if v == nil then
            -- only an undefined value used as a real one may fail here
            assert.is_nil(oracle.internal(err), src .. ": " .. tostring(err))
          else
            assert.is_boolean(v, src)
          end
        end
      end
    end
    assert.is_true(T.eval("none is none", vars))
    assert.is_false(T.eval("n is none", vars))
    assert.is_true(T.eval("n is not None", vars))
  end)

  it("never fails on operators that take any value", function()
    for _, e in ipairs({ "n == m", "l != s", "t ~ l", "m .. n", "l and m", "none or t", "not m", "l if m else n",
      "nan == nan", "[nan] == [nan]", "s[100]", "l[0] is defined", "l[-1] is undefined", "m['x'] is defined",
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
    assert.equal("t.conf:1: empty expression", err)
    _, err = T.render(string.rep("{% if true %}", 150) .. "x" .. string.rep("{% endif %}", 150), {}, "t.conf")
    assert.truthy(err:find("blocks nested more than 100 levels deep", 1, true), err)
    _, err = T.render("{% for a\nb %}{% endfor %}", {}, "t.conf")
    assert.is_nil(oracle.internal(err), err)
    assert.truthy(err:find("bad for loop: 'for a\\nb'", 1, true), err)
    _, err = T.render("{% frob\nx %}", {}, "t.conf")
    assert.is_nil(oracle.internal(err), err)
  end)
end)
