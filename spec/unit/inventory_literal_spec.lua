local literal = require "luasible.inventory.literal"
local yaml = require "luasible.yaml"
local json = require "luasible.json"

-- INI values as Python's ast.literal_eval reads them (Ansible's _parse_value);
-- each case checked against Python 3.11 when it was written
describe("inventory INI literals (ast.literal_eval)", function()
  local S = {} -- stays the text
  local cases = {
    { "42", 42 }, { "-7", -7 }, { "+5", 5 }, { "0", 0 }, { "00", 0 }, { "0_0", 0 }, { "042", S }, { "0_7", S },
    { "0x1f", 31 }, { "0X1F", 31 }, { "0x_1f", 31 }, { "0o17", 15 }, { "0b101", 5 }, { "0b", S },
    { "1_000", 1000 }, { "1__0", S }, { "1_", S }, { "1.5", 1.5 }, { ".5", 0.5 }, { "5.", 5.0 },
    { "1e3", 1000.0 }, { "1E-3", 0.001 }, { "1.e5", 100000.0 }, { "09.5", 9.5 }, { "09e1", 90.0 },
    { "09", S }, { "1.2.3", S }, { "007x", S }, { "1abc", S },
    { "True", true }, { "False", false }, { "None", yaml.null }, { "true", S }, { "false", S }, { "none", S },
    { "'a'", "a" }, { '"b"', "b" }, { "'''c'''", "c" }, { '"""d"""', "d" }, { "r'\\d'", "\\d" },
    { "b'x'", "x" }, { "'a' 'b'", "ab" }, { "'a' b'b'", S }, { "'a\\nb'", "a\nb" },
    { "'\\x41\\101\\u00e9'", "AAé" }, { "'\\N{BULLET}'", S }, { "u'x'", "x" }, { "ub'x'", S }, { "f'x'", S },
    { "[1, 'a']", { 1, "a" } }, { "[1, 'a',]", { 1, "a" } }, { "[]", {} }, { "()", {} }, { "(1)", 1 },
    { "(1,)", { 1 } }, { "(1, 2)", { 1, 2 } }, { "1, 2", { 1, 2 } }, { "1,", { 1 } },
    { "{'a': 1}", { a = 1 } }, { "{'a': 1,}", { a = 1 } }, { "{1, 2}", S }, { "set()", S },
    { "{{ foo }}", S }, { "-(1)", -1 }, { "--1", S }, { "-True", S }, { "1+2j", S }, { "1+2", S },
    { "1j", S }, { "...", S }, { "'bar' # comment", "bar" }, { "foo # comment", S }, { " 5", 5 },
    { "5 ", 5 }, { "[1, # x ]", S }, { "12345678901234567890", S }, { "9223372036854775807", math.maxinteger },
    { "0x8000000000000000", S }, { "1e400", math.huge }, { "{(1, 2): 3}", S }, { "[None, True]", { yaml.null, true } },
    { "'it''s'", "its" }, { '"a\\"b"', 'a"b' }, { "'\\q'", "\\q" }, { "hello world", S },
    { "{{ ansible_playbook_python }}", S }, { "/usr/bin/python3", S }, { "a.b", S }, { "x[0]", S },
    { "'a'.upper()", S }, { "None # x", yaml.null }, { "True ", true }, { "10.0.0.1", S }, { "2001-12-14", S },
    { "{1: 'a', True: 'b'}", { [1] = "b" } },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local v, ok = literal.eval(c[1])
      if c[2] == S then
        assert.is_false(ok)
        assert.equal(c[1], v)
      else
        assert.is_true(ok)
        assert.same(c[2], v)
        if type(c[2]) == "number" then assert.equal(math.type(c[2]), math.type(v)) end
      end
    end)
  end

  it("makes mappings json objects ({} stays a mapping) and lists plain tables", function()
    assert.is_true(json.is_object((literal.eval("{}"))))
    assert.equal("[]", json.encode((literal.eval("[]"))))
    assert.equal('{"a":null}', json.encode((literal.eval("{'a': None}"))))
  end)

  it("refuses what Python refuses with a TypeError: an unhashable key or set member", function()
    for _, s in ipairs({ "{[1]: 2}", "{{ 1 }}", "{{'a': 1}: 2}", "{[1]}" }) do
      local v, err = literal.eval(s)
      assert.is_nil(v, s)
      assert.truthy(err:find("unhashable", 1, true), err)
    end
  end)

  it("int() as Python's", function()
    assert.equal(7, literal.int(" 7 "))
    assert.equal(-10, literal.int("-1_0"))
    assert.equal(777, literal.int("0777"))
    assert.equal(3, literal.int(3.9))
    assert.equal(-3, literal.int(-3.9))
    assert.equal(1, literal.int(true))
    assert.is_nil(literal.int("1.5"))
    assert.is_nil(literal.int("high"))
    assert.is_nil(literal.int(yaml.null))
  end)
end)
