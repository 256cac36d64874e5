-- The filters and tests of template/registry.lua, called as the compiler
-- calls them (reg.call: signature binding, then the function). Their
-- answers are Ansible's: the #oracle spec (spec/integration/
-- template_filters_oracle_spec.lua) compares 500-odd calls with
-- ansible-core itself; this one pins what users rely on and the errors,
-- and runs in the normal suite.
local reg = require "luasible.template.registry"
local values = require "luasible.template.values"
local json = require "luasible.json"
local C = require "luasible.template.filters.common"

local function map(pairs_)
  local m = C.mapping()
  for i = 1, #pairs_, 2 do C.put(m, pairs_[i], pairs_[i + 1]) end
  return m
end

local function f(name, ...) return reg.call("filter", name, {}, { ... }) end
local function fk(name, pos, kw) return reg.call("filter", name, {}, pos, kw) end
local function t(name, ...) return reg.call("test", name, {}, { ... }) end

local function err_of(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  assert.is_table(e, "a template error (a table), not a Lua error: " .. tostring(e))
  return e.template_error
end

describe("filters", function()
  it("has the filters the issue lists and Jinja's builtins", function()
    for name in ([[default d bool combine join regex_replace regex_search regex_findall regex_escape unique
      string int float list from_yaml from_yaml_all to_yaml to_nice_yaml from_json to_json to_nice_json comment
      map length count indent format flatten selectattr rejectattr select reject sort ternary dict2items
      items2dict zip zip_longest first last min max sum difference union intersect symmetric_difference replace
      lower upper capitalize title trim split basename dirname expanduser realpath splitext quote b64encode
      b64decode hash checksum password_hash to_uuid subelements product permutations combinations groupby batch
      slice wordcount truncate center abs round random shuffle extract type_debug urlsplit human_readable
      human_to_bytes mandatory items reverse tojson urlencode wordwrap dictsort attr pprint log pow root strftime
      filesizeformat urldecode path_join fileglob relpath expandvars win_basename win_dirname]]):gmatch("%S+") do
      assert.is_table(reg.filters[name], name)
    end
  end)

  it("default: an undefined value (not None) is replaced; boolean=True also false ones", function()
    assert.equal("x", f("default", values.undefined("v"), "x"))
    assert.equal(values.none, f("default", values.none, "x"))
    assert.equal("x", fk("default", { "", "x" }, { { "boolean", true } }))
    assert.equal("", f("d", values.undefined("v")))
  end)

  it("mandatory: an undefined value is an error naming it, or the message given", function()
    assert.equal("Mandatory variable 'v' not defined.", err_of(f, "mandatory", values.undefined("v")))
    assert.equal("set it", err_of(f, "mandatory", values.undefined("v"), "set it"))
    assert.equal(1, f("mandatory", 1))
  end)

  it("an undefined value given to another filter is the undefined error", function()
    assert.equal("'nope' is undefined", err_of(f, "upper", values.undefined("nope")))
    assert.equal("'nope' is undefined", err_of(f, "join", { "a" }, values.undefined("nope")))
  end)

  it("bool, int, float, string as Ansible converts", function()
    assert.is_true(f("bool", "Yes"))
    assert.is_false(f("bool", "nope"))
    assert.equal(42, f("int", "42.7"))
    assert.equal(26, fk("int", { "0x1A" }, { { "base", 16 } }))
    assert.equal(7, f("int", "abc", 7))
    assert.equal("float", math.type(f("float", "abc")))
    assert.equal("1.0", f("string", 1.0))
    assert.equal("[1, 'a', None, True]", f("string", { 1, "a", values.none, true }))
    assert.equal("{'b': 1, 'a': 2}", f("string", map { "b", 1, "a", 2 }))
  end)

  it("combine: recursive, and every list_merge", function()
    local a = map { "l", { 1, 2 }, "d", map { "x", 1 } }
    local b = map { "l", { 2, 3 }, "d", map { "y", 2 } }
    local function lm(how) return fk("combine", { a, b }, { { "list_merge", how } }).l end
    assert.same({ 2, 3 }, lm("replace"))
    assert.same({ 1, 2 }, lm("keep"))
    assert.same({ 1, 2, 2, 3 }, lm("append"))
    assert.same({ 2, 3, 1, 2 }, lm("prepend"))
    assert.same({ 1, 2, 3 }, lm("append_rp"))
    assert.same({ 2, 3, 1 }, lm("prepend_rp"))
    assert.same({ y = 2 }, f("combine", a, b).d)
    assert.same({ x = 1, y = 2 }, fk("combine", { a, b }, { { "recursive", true } }).d)
    assert.same({ 1, 2 }, a.l, "the inputs are not changed")
    assert.matches("list_merge must be one of", err_of(fk, "combine", { a, b }, { { "list_merge", "x" } }))
    assert.equal("filter 'combine' expects mappings, got an integer (1)", err_of(f, "combine", a, 1))
  end)

  it("regex filters are Python's re (PCRE2), groups and backreferences", function()
    assert.equal("world hello", f("regex_replace", "hello world", "(\\w+) (\\w+)", "\\2 \\1"))
    assert.equal("a[b]c", f("regex_replace", "abc", "(?P<x>b)", "[\\g<x>]"))
    assert.equal("-a-b--d-", f("regex_replace", "abxd", "x*", "-"))
    assert.equal("port 80", f("regex_search", "server1 port 80", "port (\\d+)"))
    assert.same({ "80", "server1" }, f("regex_search", "server1 port 80", "(\\w+) port (\\d+)", "\\2", "\\1"))
    assert.equal(values.none, f("regex_search", "abc", "x"))
    assert.same({ { "k", "1" }, { "k", "2" } }, f("regex_findall", "k1=v1 k2=v2", "(\\w)(\\d)="))
    assert.equal("a\\.b\\*", f("regex_escape", "a.b*"))
    assert.matches("^filter 'regex_replace': bad regex '%(': ", err_of(f, "regex_replace", "abc", "(", "x"))
  end)

  it("sort is stable, by attribute(s), reverse, case-insensitive by default", function()
    local l = { map { "n", 2, "m", "b" }, map { "n", 1, "m", "z" }, map { "n", 2, "m", "a" } }
    local by_n = fk("sort", { l }, { { "attribute", "n" } })
    assert.same({ "z", "b", "a" }, { by_n[1].m, by_n[2].m, by_n[3].m })
    local by_nm = fk("sort", { l }, { { "attribute", "n,m" } })
    assert.same({ "z", "a", "b" }, { by_nm[1].m, by_nm[2].m, by_nm[3].m })
    assert.same({ "A", "b", "c" }, f("sort", { "b", "A", "c" }))
    assert.same({ "c", "b", "A" }, f("sort", { "b", "A", "c" }, true))
    assert.matches("'<' not supported between", err_of(f, "sort", { 1, "a" }))
  end)

  it("map, select, reject call other filters and tests by name", function()
    assert.same({ "A", "B" }, f("map", { "a", "b" }, "upper"))
    assert.same({ { "a", "b" }, { "c" } }, f("map", { "a,b", "c" }, "split", ","))
    assert.same({ 1, 0 }, fk("map", { { map { "n", 1 }, map {} } }, { { "attribute", "n" }, { "default", 0 } }))
    assert.same({ 1, 3 }, f("select", { 1, 2, 3, 4 }, "odd"))
    assert.same({ 2, 4 }, f("reject", { 1, 2, 3, 4 }, "odd"))
    assert.same({ 10 }, f("select", { 1, 5, 10 }, "gt", 5))
    local rs = { map { "r", map { "failed", true } }, map { "r", map { "failed", false } } }
    assert.equal(1, #f("selectattr", rs, "r", "failed"))
    assert.equal("no filter named 'nosuch'", err_of(f, "map", { 1 }, "nosuch"))
    assert.equal("no test named 'nosuch'", err_of(f, "select", { 1 }, "nosuch"))
  end)

  it("first, last, min of nothing: undefined, with Jinja's message", function()
    assert.equal("No first item, sequence was empty.", values.undefined_message(f("first", {})))
    assert.equal("No last item, sequence was empty.", values.undefined_message(f("last", "")))
    assert.equal("No aggregated item, sequence was empty.", values.undefined_message(f("max", {})))
  end)

  it("a missing attribute is Jinja's undefined error", function()
    local l = { map { "a", 1 }, map {} }
    assert.equal("'dict object' has no attribute 'a'", err_of(fk, "sort", { l }, { { "attribute", "a" } }))
    assert.equal("'dict object' has no attribute 'a'", err_of(fk, "sum", { l }, { { "attribute", "a" } }))
    assert.equal("'dict object' has no attribute 'a'", err_of(f, "selectattr", l, "a"))
    local m = fk("map", { l }, { { "attribute", "a" } })
    assert.equal("'dict object' has no attribute 'a'", values.undefined_message(m[2]))
  end)

  it("groupby gives (grouper, list) tuples whose fields are named too", function()
    local g = f("groupby", { map { "k", "b", "v", 1 }, map { "k", "a", "v", 2 }, map { "k", "b", "v", 3 } }, "k")
    assert.equal(2, #g)
    assert.equal("a", g[1][1])
    assert.equal("a", g[1].grouper)
    assert.equal(g[2][2], g[2].list)
    assert.equal(2, #g[2].list)
    assert.is_true(values.is_list(g[1]))
    assert.equal("('a', [{'k': 'a', 'v': 2}])", values.repr(g[1]))
  end)

  it("random and shuffle with seed= pick what CPython's random.Random picks", function()
    -- random.Random("web01").randrange(0, 60) etc., as Ansible computes them
    assert.equal(f("random", 60, values.none, values.none, "web01"), f("random", 60, values.none, values.none, "web01"))
    assert.same({ 5, 1, 4, 2, 7, 3, 6, 8 }, fk("shuffle", { { 1, 2, 3, 4, 5, 6, 7, 8 } }, { { "seed", "abc" } }))
    assert.equal(81, fk("random", { 100 }, { { "seed", 42 } }))
    local r = f("random", 10)
    assert.is_true(r >= 0 and r < 10)
    assert.equal("filter 'random': Cannot choose from an empty sequence", err_of(f, "random", {}))
  end)

  it("hash, password_hash and to_uuid as Ansible's", function()
    assert.equal("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", f("hash", "hello"))
    assert.equal("5d41402abc4b2a76b9719d911017c592", f("hash", "hello", "md5"))
    -- Python's crypt.crypt("secret", "$6$saltsalt"), what Ansible gives without passlib
    assert.equal("$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
      f("password_hash", "secret", "sha512", "saltsalt"))
    assert.matches("^%$6%$[./0-9A-Za-z]+%$", f("password_hash", "secret"))
    assert.are_not.equal(f("password_hash", "secret"), f("password_hash", "secret"))
    assert.equal("filter 'password_hash': invalid characters in salt",
      err_of(f, "password_hash", "secret", "sha512", "bad salt"))
    assert.matches("^%x+%-%x+%-5%x+%-[89ab]%x+%-%x+$", f("to_uuid", "example.com"))
    assert.equal("aGVsbG8=", f("b64encode", "hello"))
    assert.equal("hello", f("b64decode", "aGVsbG8="))
  end)

  it("vault and unvault: Ansible Vault text (1.2, label filter_default) and back", function()
    local text = f("vault", "s3cret", "pw")
    assert.matches("^%$ANSIBLE_VAULT;1%.2;AES256;filter_default\n", text)
    assert.equal("s3cret", f("unvault", text, "pw"))
    assert.matches("^filter 'unvault': Unable to decrypt", err_of(f, "unvault", text, "wrong"))
    assert.equal("plain", f("unvault", "plain", "pw"))
  end)

  it("Ansible's filters and tests answer to ansible.builtin. and ansible.legacy. too", function()
    assert.equal(reg.filters.to_json, reg.filters["ansible.builtin.to_json"])
    assert.equal(reg.tests.version, reg.tests["ansible.legacy.version"])
    assert.is_nil(reg.filters["ansible.builtin.sort"], "Jinja's own are not Ansible's")
  end)

  it("to_json keeps the order of keys, to_nice_json sorts them; to_yaml is PyYAML's", function()
    local m = map { "b", { 1, 2.5, values.none }, "a", "é" }
    assert.equal('{"b": [1, 2.5, null], "a": "\\u00e9"}', f("to_json", m))
    assert.equal('{\n    "a": "\\u00e9",\n    "b": [\n        1,\n        2.5,\n        null\n    ]\n}',
      f("to_nice_json", m))
    assert.equal("a: \195\169\nb: [1, 2.5, null]\n", f("to_yaml", m))
    assert.equal("a: \195\169\nb:\n- 1\n- 2.5\n- null\n", f("to_nice_yaml", m))
    assert.equal("- 'yes'\n- '1.0'\n- ''\n", f("to_nice_yaml", { "yes", "1.0", "" }))
    local back = f("from_json", '{"z": 1, "a": [true, null]}')
    assert.same({ "z", "a" }, C.keys(back))
    assert.equal(values.none, back.a[2])
    assert.matches("^from_json: Expecting value", err_of(f, "from_json", "[1, "))
    assert.same({ a = 1 }, f("from_yaml", "a: 1\n"))
    assert.same({ { a = 1 }, { b = 2 } }, f("from_yaml_all", "a: 1\n---\nb: 2\n"))
  end)

  it("text filters count characters, not bytes", function()
    assert.equal(5, f("length", "héllo"))
    assert.equal("STRASSE", f("upper", "straße"))
    assert.equal("àéî", f("lower", "ÀÉÎ"))
    assert.equal("   ab  ", f("center", "ab", 7)) -- Python's str.center
    assert.equal("foo bar...", fk("truncate", { "foo bar baz qux" }, { { "length", 11 }, { "leeway", 0 } }))
    assert.equal("a\n  b\n\n  c", f("indent", "a\nb\n\nc", 2))
    assert.equal("a-5|03.14", f("format", "%s-%d|%05.2f", "a", 5, 3.14159))
    assert.equal("'it'\"'\"'s'", f("quote", "it's"))
    assert.same({ "a", "b", "", "c" }, f("lines", "a\r\nb\n\nc\n"))
  end)

  it("set theory keeps the order of the first list", function()
    assert.same({ 1, 3 }, f("difference", { 1, 2, 3, 4 }, { 2, 4 }))
    assert.same({ 2, 3 }, f("intersect", { 1, 2, 3, 2 }, { 2, 3, 5 }))
    assert.same({ 1, 2, 3 }, f("union", { 1, 2, 1 }, { 2, 3 }))
    assert.same({ 1, 2, 4 }, f("symmetric_difference", { 1, 2, 3 }, { 3, 4 }))
    assert.same({ 1, "a" }, f("unique", { 1, "a", "A", 1.0, true }))
  end)

  it("wrong types: an error naming the filter and what it got", function()
    assert.equal("filter 'dict2items' expects a mapping, got a list ([1])", err_of(f, "dict2items", { 1 }))
    assert.equal("filter 'join' expects a list, a mapping or a string, got an integer (5)", err_of(f, "join", 5))
    assert.equal("filter 'abs' expects a number, got a string ('x')", err_of(f, "abs", "x"))
    assert.equal("filter 'flatten' expects a list, got an integer (1)", err_of(f, "flatten", 1))
    assert.equal("filter 'upper' got an unexpected keyword argument 'x'", err_of(fk, "upper", { "a" }, { { "x", 1 } }))
    assert.equal("filter 'replace' missing required argument 'new'", err_of(f, "replace", "a", "b"))
  end)

  it("no input reaches a Lua error: every filter and test, odd values and arguments", function()
    local odd = { 0, -1, 2.5, 0 / 0, math.huge, math.mininteger, "", "x", "a,b", "1", "[", "\255\254", true, false,
      values.none, {}, { 1, "a" }, json.object({ a = 1 }), { json.object({ a = 1 }), json.object({ b = 2 }) },
      values.undefined("u") }
    local calls = 0
    -- (the slow ones, a key derivation a call, with one argument only; the
    -- ansible.builtin. names are the same entries)
    local SLOW = { vault = true, password_hash = true }
    for _, kind in ipairs({ "filter", "test" }) do
      for name in pairs(kind == "filter" and reg.filters or reg.tests) do
        for _, v in ipairs(name:find("^ansible%.") and {} or odd) do
          local argsets = { {} }
          for i, a in ipairs(odd) do
            argsets[#argsets + 1] = { a }
            if not SLOW[name] then argsets[#argsets + 1] = { a, odd[i % #odd + 1] } end
          end
          for _, args in ipairs(argsets) do
            local ok, e = pcall(reg.call, kind, name, {}, { v, table.unpack(args) })
            calls = calls + 1
            if not ok and not (type(e) == "table" and e.template_error) then
              error(string.format("%s %s(%s, %d args): a Lua error: %s", kind, name, C.describe(v), #args,
                tostring(e)))
            end
          end
        end
      end
    end
    assert.is_true(calls > 100000)
    -- and every parameter given by keyword, an odd value each
    for _, kind in ipairs({ "filter", "test" }) do
      for name, e in pairs(kind == "filter" and reg.filters or reg.tests) do
        if not name:find("^ansible%.") and not SLOW[name] then
          for _, p in ipairs(e.sig.params) do
            if (p.kind == "pos" or p.kind == "kwonly") and p.name ~= "value" then
              for _, v in ipairs({ "abc", { 1, 2 }, json.object({ a = 1 }), 5 }) do
                for _, x in ipairs(odd) do
                  local ok, err = pcall(reg.call, kind, name, {}, { v }, { { p.name, x } })
                  if not ok and not (type(err) == "table" and err.template_error) then
                    error(string.format("%s %s(%s, %s=%s): a Lua error: %s", kind, name, C.describe(v), p.name,
                      C.describe(x), tostring(err)))
                  end
                end
              end
            end
          end
        end
      end
    end
  end)
end)

describe("tests", function()
  it("types, as Jinja's: an undefined value is none of them", function()
    local u = values.undefined("u")
    assert.is_false(t("defined", u))
    assert.is_true(t("undefined", u))
    assert.is_false(t("string", u))
    assert.is_false(t("none", u))
    assert.is_true(t("none", values.none))
    assert.is_true(t("number", true))
    assert.is_false(t("integer", true))
    assert.is_true(t("sequence", "abc"))
    assert.is_true(t("mapping", json.object()))
    assert.is_false(t("mapping", {}))
  end)

  it("task results: a mapping, else an error naming the test", function()
    assert.is_true(t("succeeded", map { "rc", 0 }))
    assert.is_true(t("changed", map { "results", { map { "changed", false }, map { "changed", true } } }))
    assert.is_false(t("skipped", map {}))
    assert.matches("^The 'failed' test expects a dictionary", err_of(t, "failed", "x"))
  end)

  it("version: loose, strict, semver, pep440 and the operators", function()
    assert.is_true(t("version", "1.2.3", "1.2.10", "lt"))
    assert.is_true(t("version", "1.10", "1.9", ">"))
    assert.is_true(reg.call("test", "version", {}, { "1.0a1", "1.0", "<" }, { { "strict", true } }))
    assert.is_true(reg.call("test", "version", {}, { "1.0.0-2", "1.0.0-10", "<" }, { { "version_type", "semver" } }))
    assert.is_true(reg.call("test", "version", {}, { "1.0.dev1", "1.0a1", "<" }, { { "version_type", "pep440" } }))
    assert.matches("^Invalid operator type", err_of(t, "version", "1", "2", "bogus"))
    assert.matches("^Version comparison failed: '<' not supported", err_of(t, "version", "a", "1", "lt"))
  end)

  it("match / search / regex, in / contains, subset / superset, numbers", function()
    assert.is_false(t("match", "abc", "b"))
    assert.is_true(t("search", "abc", "b"))
    assert.is_true(t("in", 2, { 1, 2 }))
    assert.is_true(t("contains", "abc", "c"))
    assert.is_true(t("subset", { 1, 2 }, { 1, 2, 3 }))
    assert.is_true(t("superset", { 1, 2, 3 }, { 3 }))
    assert.is_true(t("eq", 1, 1.0))
    assert.is_true(t("divisibleby", 9, 3))
    assert.is_true(t("odd", -3))
    assert.matches("division or modulo by zero", err_of(t, "divisibleby", 9, 0))
  end)

  it("file tests look at the controller", function()
    assert.is_true(t("directory", "/"))
    assert.is_false(t("file", "/"))
    assert.is_true(t("exists", "/"))
    assert.is_false(t("exists", "/nonexistent/luasible"))
    assert.is_true(t("abs", "/x"))
    assert.equal("test 'file' expects a path (a string), got an integer (1)", err_of(t, "file", 1))
  end)
end)
