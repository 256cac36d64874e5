--- luasible.lookup: lookup()/query() and every lookup of contract D, on
-- the fixtures of spec/fixtures/jinja/files. The expected values are
-- ansible-core 2.14's answers for the same calls (the lookups.yml cases of
-- the #oracle corpus, which compares them through templates).
local lookup = require "luasible.lookup"
local values = require "luasible.template.values"
local json = require "luasible.json"
local files = require "spec.helpers.files"

local BASE = (os.getenv("PWD") or files.sh("pwd")) .. "/spec/fixtures/jinja"

local function env(vars, extra)
  local e = { base_dir = BASE, search_dirs = { BASE }, vars = vars or {} }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function L(name, terms, kw, e) return lookup.call(name, terms, kw or {}, e or env(), false) end
local function Q(name, terms, kw, e) return lookup.call(name, terms, kw or {}, e or env(), true) end

local function err_of(fn, ...)
  local ok, e = pcall(fn, ...)
  assert(not ok, "expected an error")
  return type(e) == "table" and e.template_error or tostring(e)
end

describe("lookup.call", function()
  it("joins a lookup's strings with ',' and gives query's list as it is", function()
    assert.equal("hi,line one\nline two\n\nline four", L("file", { "hello.txt", "lines.txt" }))
    assert.same({ "hi", "line one\nline two\n\nline four" }, Q("file", { "hello.txt", "lines.txt" }))
    assert.same({ "hi" }, L("file", { "hello.txt" }, { wantlist = true }))
  end)

  it("gives the one item, or the list, when the items are not all strings; [] as it is", function()
    assert.same({ 1, 2 }, L("list", { { 1, 2 } }))
    assert.same({ 1, 2, { 3 } }, L("items", { { 1, 2, { 3 } } }))
    assert.same({}, L("items", { {} }))
    assert.same({}, Q("items", { {} }))
    -- allow_unsafe=True: Ansible skips its shaping, lookup() gives the list
    assert.same({ "hi" }, L("file", { "hello.txt" }, { allow_unsafe = true }))
  end)

  it("errors=ignore and warn give None (lookup) or [] (query); strict and anything else raise", function()
    local warned = {}
    local e = env(nil, { warn = function(m) warned[#warned + 1] = m end })
    assert.equal(values.none, L("file", { "nope.txt" }, { errors = "ignore" }, e))
    assert.same({}, Q("file", { "nope.txt" }, { errors = "ignore" }, e))
    assert.equal(0, #warned)
    assert.equal(values.none, L("file", { "nope.txt" }, { errors = "warn" }, e))
    assert.equal(1, #warned)
    assert.matches("could not locate file in lookup: nope.txt", warned[1], 1, true)
    assert.matches("lookup plugin 'file': could not locate file in lookup: nope.txt",
      err_of(L, "file", { "nope.txt" }), 1, true)
    assert.matches("nope.txt", err_of(L, "file", { "nope.txt" }, { errors = "bogus" }), 1, true)
  end)

  it("names an unknown lookup and where it looked", function()
    local msg = err_of(L, "nosuchlookup", { "x" })
    assert.matches("lookup plugin (nosuchlookup) not found", msg, 1, true)
    assert.matches("luasible/lookup/nosuchlookup.lua", msg, 1, true)
    assert.matches("not found", err_of(L, "../init", { "x" }), 1, true)
  end)

  it("ignores an option the lookup does not have, as Ansible does, and warns naming it", function()
    local warned = {}
    local e = env(nil, { warn = function(m) warned[#warned + 1] = m end })
    assert.equal("hi", L("file", { "hello.txt" }, { bogus = 1 }, e))
    assert.equal(1, #warned)
    assert.matches("lookup plugin 'file': unknown option 'bogus' (ignored)", warned[1], 1, true)
  end)

  it("takes collection names of ansible.builtin", function()
    assert.equal("hi", L("ansible.builtin.file", { "hello.txt" }))
  end)
end)

describe("lookup.loop (with_NAME:)", function()
  it("gives the value to the lookup as its terms, as Ansible's with_ loops do", function()
    assert.same({ 1, 2, 3 }, lookup.loop("items", { { 1, 2 }, 3 }, env()))
    assert.same({ "one" }, lookup.loop("items", "one", env()))
    assert.same({ { 1, "a" }, { 1, "b" }, { 2, "a" }, { 2, "b" } },
      lookup.loop("nested", { { 1, 2 }, { "a", "b" } }, env()))
    assert.same({ { 1, "a" }, { 2, values.none } }, lookup.loop("together", { { 1, 2 }, { "a" } }, env()))
    assert.same({ "1", "2", "3" }, lookup.loop("sequence", "start=1 end=3", env()))
    assert.same({ { 0, "a" }, { 1, "b" } }, lookup.loop("indexed_items", { "a", "b" }, env()))
    local m = values.mapping()
    values.set(m, "k", "v")
    local d = lookup.loop("dict", m, env())
    assert.equal("k", d[1].key)
    assert.equal("v", d[1].value)
    assert.same({ "hi" }, lookup.loop("file", { "hello.txt" }, env()))
    assert.matches("could not locate file", err_of(lookup.loop, "file", { "nope.txt" }, env()), 1, true)
    assert.matches("lookup plugin (nope) not found", err_of(lookup.loop, "nope", {}, env()), 1, true)
  end)
end)

describe("lookups", function()
  it("file: files/ of the search path, rstrip on by default, lstrip off", function()
    assert.equal("hi", L("file", { "files/hello.txt" }))
    assert.equal("hi\n", L("file", { "hello.txt" }, { rstrip = false }))
    assert.equal("hi", L("file", { BASE .. "/files/hello.txt" }))
  end)

  it("env: the variable, '' or default when unset", function()
    assert.equal(os.getenv("HOME"), L("env", { "HOME" }))
    assert.equal("", L("env", { "LUASIBLE_NO_SUCH_VARIABLE" }))
    assert.equal("dflt", L("env", { "LUASIBLE_NO_SUCH_VARIABLE" }, { default = "dflt" }))
    assert.same({ "", "" }, Q("env", { "LUASIBLE_NO_SUCH_VARIABLE", "LUASIBLE_NO_SUCH_2" }))
  end)

  it("pipe: stdout without trailing white space, in the base folder; exit status != 0 is an error", function()
    assert.equal("hello", L("pipe", { "echo hello" }))
    assert.equal("a\nb", L("pipe", { 'printf "a\\nb\\n"' }))
    assert.equal("one,two", L("pipe", { "echo one", "echo two" }))
    assert.equal(BASE, L("pipe", { "pwd" }))
    assert.matches("lookup_plugin.pipe(exit 3) returned 3", err_of(L, "pipe", { "exit 3" }), 1, true)
    -- the command is one argument of sh -c: a quote in it is the command's, not ours
    assert.equal("it's", L("pipe", { [[echo "it's"]] }))
  end)

  it("lines: every line of each command", function()
    assert.same({ "line one", "line two", "", "line four" }, Q("lines", { "cat files/lines.txt" }))
    assert.same({ "a", "b", "c" }, Q("lines", { 'printf "a\\nb"', "echo c" }))
    assert.matches("returned 1", err_of(Q, "lines", { "false" }), 1, true)
  end)

  it("template: renders with env.render, template_vars over the vars", function()
    local seen
    local e = env({ who = "lookup-var" }, { render = function(text, vars, opts)
      seen = opts
      return (text:gsub("{{ who }}", vars.who))
    end })
    assert.equal("included lookup-var\n", L("template", { "inc.j2" }, nil, e))
    assert.equal("included tv\n", L("template", { "inc.j2" }, { template_vars = { who = "tv" } }, e))
    assert.equal(BASE .. "/templates", seen.search_dir)
    assert.matches("the template file nope.j2 could not be found",
      err_of(L, "template", { "nope.j2" }, nil, e), 1, true)
  end)

  it("vars: values by name, default, an error (not ignorable) naming a missing one", function()
    local e = env({ who = "lookup-var", other = 3 })
    assert.equal("lookup-var", L("vars", { "who" }, nil, e))
    assert.same({ "lookup-var", 3 }, L("vars", { "who", "other" }, nil, e))
    assert.equal("d", L("vars", { "nope" }, { default = "d" }, e))
    assert.matches("No variable found with this name: nope",
      err_of(L, "vars", { "nope" }, { errors = "ignore" }, e), 1, true)
  end)

  it("items, list, indexed_items, dict, nested, together", function()
    assert.same({ 1, 2, { 3 } }, Q("items", { { 1, 2, { 3 } } }))
    assert.same({ "a", "b", "c" }, Q("items", { "a", { "b", "c" } }))
    assert.same({ { 1, 2, { 3 } } }, Q("list", { { 1, 2, { 3 } } }))
    assert.same({ { 0, "a" }, { 1, "b" } }, Q("indexed_items", { { "a", "b" } }))
    local m = values.mapping()
    values.set(m, "b", 2)
    values.set(m, "a", 1)
    local d = Q("dict", { m })
    assert.equal("b", d[1].key)
    assert.equal(2, d[1].value)
    assert.equal("a", d[2].key)
    assert.matches("with_dict expects a dict", err_of(Q, "dict", { "notadict" }), 1, true)
    assert.same({ { 1, "a" }, { 1, "b" }, { 2, "a" }, { 2, "b" } }, Q("nested", { { 1, 2 }, { "a", "b" } }))
    assert.same({ { 1, "a" }, { 2, "b" }, { 3, values.none } }, Q("together", { { 1, 2, 3 }, { "a", "b" } }))
  end)

  it("sequence: key=value and shortcut forms, count, stride, format; kwargs ignored", function()
    assert.same({ "1", "2", "3", "4", "5" }, Q("sequence", { "start=1 end=5" }))
    assert.same({ "0", "3", "6", "9" }, Q("sequence", { "start=0 end=10 stride=3" }))
    assert.same({ "1", "2", "3" }, Q("sequence", { "count=3" }))
    assert.same({ "5", "7", "9" }, Q("sequence", { "start=5 count=3 stride=2" }))
    assert.same({ "host01", "host02", "host03" }, Q("sequence", { "start=1 end=3 format=host%02d" }))
    assert.same({ "1", "2", "3", "4" }, Q("sequence", { "4" }))
    assert.same({ "2", "3", "4", "5", "6" }, Q("sequence", { "2-6" }))
    assert.same({ "2", "6", "10" }, Q("sequence", { "2-10/4" }))
    assert.same({ "10", "11", "12", "13", "14", "15" }, Q("sequence", { "0x0a-0x0f" }))
    assert.same({ "web1", "web2", "web3" }, Q("sequence", { "1-3:web%d" }))
    assert.same({ "5", "3", "1" }, Q("sequence", { "start=5 end=1 stride=-2" }))
    assert.equal("1,2,3", L("sequence", { "start=1 end=3" }))
    assert.same({}, Q("sequence", {}, { start = 1, ["end"] = 3 }))
    assert.matches("can't specify both count and end", err_of(Q, "sequence", { "start=1 end=3 count=3" }), 1, true)
    assert.matches("unrecognized arguments to with_sequence: ['_raw_params']",
      err_of(Q, "sequence", { "bogus" }), 1, true)
    assert.matches("to count backwards make stride negative", err_of(Q, "sequence", { "start=5 end=1" }), 1, true)
  end)

  it("subelements: [item without the list, element]; skip_missing only as the flags mapping", function()
    local users = {
      json.object { name = "alice", keys = { "k1", "k2" } },
      json.object { name = "bob", keys = { "k3" } },
    }
    local r = Q("subelements", { users, "keys" })
    assert.equal(3, #r)
    assert.equal("alice", r[1][1].name)
    assert.is_nil(r[1][1].keys)
    assert.equal("k2", r[2][2])
    assert.equal("k3", r[3][2])
    assert.same({ "k1", "k2" }, users[1].keys)   -- the variable itself is untouched
    assert.matches("could not find 'nope' key in iterated item", err_of(Q, "subelements", { users, "nope" }), 1, true)
    assert.same({}, Q("subelements", { users, "nope", json.object { skip_missing = true } }))
  end)

  it("first_found: names, lists, mappings with paths, skip", function()
    assert.equal(BASE .. "/files/hello.txt", L("first_found", { { "nope.txt", "hello.txt" } }))
    assert.equal(BASE .. "/files/glob/c.conf",
      L("first_found", { json.object { files = { "x.txt", "c.conf" }, paths = { "glob" } } }))
    assert.matches("No file was found when using first_found.",
      err_of(L, "first_found", { { "nope1", "nope2" } }), 1, true)
    assert.same({}, L("first_found", { { "nope1" } }, { skip = true }))
    -- Ansible's own rule: paths= without files= and a list of names finds nothing
    assert.matches("No file was found", err_of(L, "first_found", { { "a.txt" } }, { paths = { "glob" } }), 1, true)
  end)

  it("fileglob: files only, in files/ of the search path", function()
    local r = Q("fileglob", { "glob/*.txt" })
    table.sort(r)
    assert.same({ BASE .. "/files/glob/a.txt", BASE .. "/files/glob/b.txt" }, r)
    assert.same({}, Q("fileglob", { "glob/*.none" }))
    assert.same({}, Q("fileglob", { "*" }, nil, env(nil, { search_dirs = { BASE .. "/templates/none" } })))
  end)

  it("ini: sections, properties, default, re, the inline form, errors", function()
    local f = "files/data.ini"
    assert.equal("alice", L("ini", { "user" }, { section = "global", file = f }))
    assert.equal("8080", L("ini", { "port section=global file=files/data.ini" }))
    assert.equal("Ünïcode value", L("ini", { "name" }, { section = "global", file = f }))
    assert.equal("dotted", L("ini", { "key.with.dots" }, { section = "section two", file = f }))
    assert.equal("", L("ini", { "empty" }, { section = "section two", file = f }))
    assert.equal("", L("ini", { "nope" }, { section = "global", file = f }))
    assert.equal("dv", L("ini", { "nope" }, { section = "global", file = f, default = "dv" }))
    assert.equal("alice,8080,Ünïcode value", L("ini", { ".*" }, { section = "global", file = f, re = true }))
    assert.same({ "alice" }, Q("ini", { "u.*" }, { section = "global", file = f, re = true }))
    assert.equal("bob", L("ini", { "user.name" }, { type = "properties", file = "files/data.properties" }))
    assert.equal("/home/bob", L("ini", { "user.home" }, { type = "properties", file = "files/data.properties" }))
    assert.matches("No section 'nosection' in files/data.ini",
      err_of(L, "ini", { "user" }, { section = "nosection", file = f }), 1, true)
    assert.matches("Invalid filename", err_of(L, "ini", { "user" }, { file = "files/nope.ini" }), 1, true)
  end)

  it("ini: configparser's interpolation, DEFAULT, continuation lines, case", function()
    local dir = files.tmpdir()
    files.write(dir .. "/c.ini", "[DEFAULT]\nroot = /srv\n[app]\nDir = %(root)s/app\npct = 100%%\n"
      .. "multi = one\n  two\norder = first\nvals = v\n")
    local e = env(nil, { base_dir = dir, search_dirs = { dir } })
    assert.equal("/srv/app", L("ini", { "dir" }, { section = "app", file = "c.ini" }, e))
    assert.equal("100%", L("ini", { "pct" }, { section = "app", file = "c.ini" }, e))
    assert.equal("one\ntwo", L("ini", { "multi" }, { section = "app", file = "c.ini" }, e))
    assert.equal("/srv", L("ini", { "root" }, { section = "app", file = "c.ini" }, e))
    assert.equal("first", L("ini", { "order" }, { section = "app", file = "c.ini" }, e))
    assert.equal("v", L("ini", { "vals" }, { section = "app", file = "c.ini" }, e))
    assert.equal("/srv/app", L("ini", { "Dir" }, { section = "app", file = "c.ini", case_sensitive = true }, e))
    assert.equal("", L("ini", { "dir" }, { section = "app", file = "c.ini", case_sensitive = true }, e))
  end)

  it("csvfile: col, delimiter (TAB by default), quotes, default, errors", function()
    assert.equal("1001", L("csvfile", { "bob" }, { file = "files/data.csv", delimiter = "," }))
    assert.equal("user", L("csvfile", { "bob file=files/data.csv delimiter=, col=2" }))
    assert.equal("user, ops", L("csvfile", { "carol" }, { file = "files/data.csv", delimiter = ",", col = 2 }))
    assert.same({}, L("csvfile", { "nobody" }, { file = "files/data.csv", delimiter = "," }))
    assert.equal("nd", L("csvfile", { "nobody" }, { file = "files/data.csv", delimiter = ",", default = "nd" }))
    assert.equal("admin", L("csvfile", { "alice" }, { file = "files/data.ssv", delimiter = ";", col = 2 }))
    assert.equal("1001", L("csvfile", { "bob" }, { file = "files/data.tsv" }))
    assert.equal("user", L("csvfile", { "bob" }, { file = "files/data.tsv", delimiter = "TAB", col = 2 }))
    assert.matches("csvfile: list index out of range",
      err_of(L, "csvfile", { "bob" }, { file = "files/data.csv", delimiter = ",", col = 9 }), 1, true)
  end)

  it("varnames: Python regexes searched in the names of the vars", function()
    local e = env({ host_alpha = 1, host_beta = 2, other = 3 })
    local r = Q("varnames", { "^host_" }, nil, e)
    table.sort(r)
    assert.same({ "host_alpha", "host_beta" }, r)
    assert.equal("host_alpha", L("varnames", { "^host_a" }, nil, e))
    assert.same({}, Q("varnames", { "^nomatch_" }, nil, e))
    assert.same({ "other" }, Q("varnames", { "(?<=^oth)er" }, nil, e))
    assert.matches('Unable to use "[" as a search parameter', err_of(Q, "varnames", { "[" }, nil, e), 1, true)
  end)
end)

describe("lookup('password')", function()
  local dir = files.tmpdir()
  local function pe() return env(nil, { base_dir = dir, search_dirs = { dir } }) end

  it("reads an existing file: the password, its salt, the crypt hash Ansible gives", function()
    assert.equal("s3cr3tPassw0rd", L("password", { "files/pw_plain" }))
    assert.equal("Tr0ub4dor", L("password", { "files/pw_salted" }))
    assert.equal("$6$abcdefgh$xGhuRp1fErn8VRlP2zQxNOuySw1s0c1MO3bw1gPyCuRBnoZZ1vb31ox7vzRFGd8EHQoQ8opS2MANgY9hKwe27.",
      L("password", { "files/pw_salted encrypt=sha512_crypt" }))
    assert.equal("$5$abcdefgh$p2olcRVx7ofW9UQLlWfU9Q7gANHVjtZY7kPX91tEg1C",
      L("password", { "files/pw_salted" }, { encrypt = "sha256_crypt" }))
  end)

  it("creates the file on first use (folder 0700, file 0600) and gives the same password after", function()
    local p1 = L("password", { "creds/db length=12 chars=digits" }, nil, pe())
    assert.matches("^%d+$", p1)
    assert.equal(12, #p1)
    assert.equal(p1 .. "\n", files.read(dir .. "/creds/db"))
    assert.equal("700", files.sh("stat -c %a " .. dir .. "/creds"))
    assert.equal("600", files.sh("stat -c %a " .. dir .. "/creds/db"))
    assert.equal(p1, L("password", { "creds/db length=30" }, nil, pe()))
    local p2 = L("password", { "creds/other" }, nil, pe())
    assert.equal(20, #p2)
    assert.matches("^[%w.,:_-]+$", p2)
    assert.not_equal(p2, L("password", { "/dev/null" }, nil, pe()))
  end)

  it("encrypt= stores a salt of the algorithm's size once and hashes with it", function()
    local h1 = L("password", { "creds/hashed encrypt=sha512_crypt" }, nil, pe())
    local text = files.read(dir .. "/creds/hashed")
    local pw, salt = text:match("^(%S+) salt=([%w./]+)\n$")
    assert.is_truthy(pw)
    assert.equal(16, #salt)
    assert.equal("$6$" .. salt .. "$", h1:sub(1, 20))
    assert.equal(h1, L("password", { "creds/hashed encrypt=sha512_crypt" }, nil, pe()))
    assert.equal(pw, L("password", { "creds/hashed" }, nil, pe()))
    assert.equal(require("luasible.core").crypto.crypt(pw, "$6$" .. salt), h1)
  end)

  it("registers the password as a secret of the run (events scrub it)", function()
    local pw = L("password", { "creds/scrubbed" }, nil, pe())
    local found = false
    for _, v in ipairs(require("luasible.vault").revealed()) do found = found or v == pw end
    assert.is_true(found)
  end)

  it("seed= picks as Python's random.Random(seed) does", function()
    if not files.sh("command -v /usr/bin/python3"):find("python3") then pending("no /usr/bin/python3") return end
    -- python3 -c "import random,string; r=random.Random('s1');
    --   print(''.join(r.choice(string.ascii_letters+string.digits+'.,:-_') for _ in range(20)))"
    local want = files.sh([[/usr/bin/python3 -c "import random,string; r=random.Random('s1'); ]]
      .. [[print(''.join(r.choice(string.ascii_letters+string.digits+'.,:-_') for _ in range(20)))"]])
    assert.equal(want, L("password", { "/dev/null seed=s1" }, nil, pe()))
  end)

  it("refuses unknown parameters and algorithms", function()
    assert.matches("Unrecognized parameter(s) given to password lookup: bogus",
      err_of(L, "password", { "creds/x bogus=1" }, nil, pe()), 1, true)
    assert.matches("does not support 'rot13'", err_of(L, "password", { "creds/x encrypt=rot13" }, nil, pe()), 1, true)
  end)
end)
