-- Host patterns (inventory/pattern.lua) and their regex engine
-- (util/regex.lua). The expected lists are what ansible-core 2.14 gives
-- (`ansible PATTERN -i spec/fixtures/patterns.ini --list-hosts`);
-- spec/integration/inventory_cli_spec.lua asks Ansible itself.
local inventory = require "luasible.inventory"
local pattern = require "luasible.inventory.pattern"
local address = require "luasible.inventory.address"
local regex = require "luasible.util.regex"
local fnmatch = require "luasible.util.fnmatch"

local WEB = { "web1", "web2", "web3", "web4" }

describe("host patterns", function()
  local inv
  before_each(function() inv = assert(inventory.load("spec/fixtures/patterns.ini")) end)
  local function sel(p) return assert(pattern.select(inv, p)) end
  local function err(p) return select(2, pattern.select(inv, p)) end

  it("all and * in Ansible's order: a group's own hosts, then its children's, breadth first", function()
    local all = { "lonely", "10.0.0.9", "db-b", "bk1", "east-gw", "web4", "canary1", "web1", "web2", "web3",
      "db-a", "db.example.com" }
    assert.same(all, sel("all"))
    assert.same(all, sel("*"))
    assert.same({ "east-gw", "web1", "web2", "web3", "web4", "db-a", "db-b", "db.example.com" }, sel("dc_east"))
  end)

  it("groups, hosts, and a host named like a pattern", function()
    assert.same(WEB, sel("web"))
    assert.same({ "lonely", "10.0.0.9" }, sel("ungrouped"))
    assert.same({ "10.0.0.9" }, sel("10.0.0.9"))
    assert.same({ "db.example.com" }, sel("db.example.com"))
    assert.same({ "web4", "canary1" }, sel("stage"))
  end)

  it("subscripts: one host, from the end, inclusive ranges, open ends", function()
    assert.same({ "web1" }, sel("web[0]"))
    assert.same({ "web4" }, sel("web[-1]"))
    assert.same({ "web1" }, sel("web[-4]"))
    assert.same({ "web2", "web3" }, sel("web[1:2]"))
    assert.same({ "web3", "web4" }, sel("web[2:]"))
    assert.same({ "web1" }, sel("web[0:0]"))
    assert.same({ "web4" }, sel("web[3:9]"))
    assert.same({}, sel("web[9:]"))
    assert.same({ "web2" }, sel("prod[1:0]")) -- Ansible: an end of 0 is no end
    assert.same({ "web2", "web3" }, sel("web[1-2]")) -- the old x-y form
    assert.same({ "east-gw" }, sel("dc_east[0]"))
    assert.same({ "db.example.com" }, sel("dc_east[-1]"))
    assert.same({ "web1", "db-a" }, sel("web[0],db[0]"))
    assert.same({ "web1", "db.example.com" }, sel("web[0]:db[-1]"))
    assert.same({ "web2" }, sel("web*[1]")) -- a subscript of a glob's hosts
    assert.same({}, sel("empty[0]"))
  end)

  it("a subscript with no start is a glob, as in Ansible", function()
    assert.same({ "web2" }, sel("web[:2]")) -- [:2] is the set of ':' and '2'
  end)

  it("a single subscript out of range is an error", function()
    assert.equal("no hosts matched the subscripted pattern 'web[4]' (4 hosts match 'web')", err("web[4]"))
    assert.equal("no hosts matched the subscripted pattern 'web[-5]' (4 hosts match 'web')", err("web[-5]"))
    assert.equal("no hosts matched the subscripted pattern 'web[99999999999999999999]' (4 hosts match 'web')",
      err("web[99999999999999999999]"))
    assert.same({}, sel("web[99999999999999999999:]"))
  end)

  it("union, intersection, exclusion, in Ansible's order of operations", function()
    assert.same({ "db-a", "db-b", "db.example.com", "web1", "web2", "web3", "web4" }, sel("db:web"))
    assert.same(sel("db:web"), sel("db,web"))
    assert.same({ "db-b" }, sel("prod:&backup"))
    assert.same({ "db-a", "db-b", "db.example.com" }, sel("prod:!web"))
    assert.same({ "lonely", "10.0.0.9", "db-b", "bk1", "east-gw", "canary1", "db-a", "db.example.com" }, sel("!web"))
    assert.same({ "db-b", "db-a", "db.example.com" }, sel("&db"))
    -- unions first, then &, then !, wherever they are written
    assert.same(WEB, sel("backup:web:&prod:!db-b"))
    assert.same({ "web4", "web1", "web2", "web3" }, sel("web4:web"))
    assert.same(WEB, sel("web:web4"))
    assert.same(WEB, sel("empty:web"))
    assert.same({}, sel("empty"))
    -- a list of patterns: each one split
    assert.same({ "db-a", "db-b", "db.example.com", "web1" }, sel({ "db", "web[0]" }))
    assert.same(sel("db:web"), sel({ "db:web" }))
  end)

  it("~regex: Python's re.match, anchored at the start and not at the end", function()
    assert.same({ "web1", "web2" }, sel("~web[12]"))
    assert.same({ "web1", "web2", "web3", "web4", "canary1", "db-a", "db-b", "db.example.com" }, sel("~(web|db)"))
    assert.same({ "db.example.com" }, sel("~.*\\.example\\.com"))
    assert.same({ "db-a", "db-b" }, sel("~^db-"))
    assert.same({ "web1", "web2", "web3", "web4", "canary1" }, sel("~(?i)Web"))
    assert.equal("host pattern '~eb' matches no host or group in spec/fixtures/patterns.ini; close names: db, web",
      err("~eb"))
    assert.equal("invalid host pattern '~(a': bad regex '(a': missing closing parenthesis (pattern offset: 3)",
      err("~(a"))
  end)

  it("globs as Python's fnmatch, over groups then hosts", function()
    assert.same(WEB, sel("web?"))
    assert.same({ "web1", "web2", "web3", "web4", "canary1" }, sel("web*"))
    assert.same({ "db-a", "db-b" }, sel("*-[ab]"))
    assert.same({ "db-b" }, sel("db-[!a]"))
    assert.same({ "db.example.com" }, sel("*.example.com"))
    assert.same({ "10.0.0.9" }, sel("10.0.0.*"))
  end)

  it("the implicit localhost: only by name, never in all or in a group", function()
    assert.same({ "localhost" }, sel("localhost"))
    assert.same({ "web1", "web2", "web3", "web4", "localhost" }, sel("web:localhost"))
    assert.equal("local", inv:host_vars("localhost").ansible_connection)
    assert.equal(12, #sel("all"))
    assert.same({ "lonely", "10.0.0.9" }, sel("ungrouped"))
    assert.equal("host pattern 'loc*' matches no host or group in spec/fixtures/patterns.ini",
      err("loc*")) -- a glob does not find it
  end)

  it("a term that matches no group and no host is an error naming it, with close names", function()
    assert.equal("host pattern 'nosuch' matches no host or group in spec/fixtures/patterns.ini", err("nosuch"))
    assert.equal("host pattern 'nosuch' matches no host or group in spec/fixtures/patterns.ini"
      .. " (a term of 'web:!nosuch')", err("web:!nosuch"))
    assert.equal("host pattern 'wbe' matches no host or group in spec/fixtures/patterns.ini"
      .. " (a term of 'all:!wbe'); close names: web", err("all:!wbe"))
    assert.equal("host pattern 'dc-east' matches no host or group in spec/fixtures/patterns.ini; close names: dc_east",
      err("dc-east"))
    -- Ansible splits 'web[0' into 'web' and '0'
    assert.equal("host pattern '0' matches no host or group in spec/fixtures/patterns.ini (a term of 'web[0')",
      err("web[0"))
    assert.equal("empty host pattern", err(""))
    assert.equal("empty host pattern", err(" , "))
  end)

  it("the message is one line whatever the names hold, and comes at once on a big inventory", function()
    local model = require "luasible.inventory.model"
    local big = model.new("big.ini")
    big:add_host("odd\nname", {}, "g\ngroup")
    for i = 1, 5000 do big:add_host(string.format("web%04d.dc%d.example.com", i, i % 7), {}, "web") end
    local _, e = pattern.select(big, "odd\nnam")
    -- (a newline separates terms, as any space does in Ansible)
    assert.equal("host pattern 'odd' matches no host or group in big.ini (a term of 'odd\\nnam');"
      .. " close names: odd\\nname", e)
    _, e = pattern.select(big, "g\ngroup:&nosuch")
    assert.falsy(e:find("\n", 1, true), e)
    -- a typo among 5,000 names: the closest ones (edit distance; a swap is one edit), in well under a second
    local t0 = os.clock()
    _, e = pattern.select(big, "all:!web0012.dc5.exmaple.com")
    assert.is_true(os.clock() - t0 < 0.5, os.clock() - t0)
    assert.truthy(e:find("; close names: web0012.dc5.example.com, ", 1, true), e)
  end)

  it("--limit, and @file of host names", function()
    assert.same({ "web2" }, assert(pattern.select_limited(inv, "prod", "web2")))
    assert.same({ "web1", "db-a" }, assert(pattern.select_limited(inv, "prod", "web[0]:db[0]")))
    local _, lerr = pattern.select_limited(inv, "prod", "zzz")
    assert.equal("--limit: host pattern 'zzz' matches no host or group in spec/fixtures/patterns.ini", lerr)
    local f = os.tmpname()
    local fh = assert(io.open(f, "w"))
    fh:write("web3\n\n  db-b \n")
    fh:close()
    assert.same({ "web3", "db-b" }, assert(pattern.select_limited(inv, "prod", "@" .. f)))
    os.remove(f)
    _, lerr = pattern.select_limited(inv, "prod", "@" .. f)
    assert.truthy(lerr:find("^%-%-limit: cannot read limit file " .. f:gsub("%p", "%%%0")))
  end)

  it("Inventory:select and a fixture with a bad glob of old", function()
    local yml = assert(inventory.load("spec/fixtures/inventory.yml"))
    assert.same({ "web1", "web2" }, assert(yml:select("web[0:1]")))
    assert.same({ "db2" }, assert(yml:select("app[-1]")))
  end)
end)

describe("host pattern pieces", function()
  it("split as split_host_pattern: commas, else colons outside brackets, an address left whole", function()
    assert.same({ "a", "b" }, pattern.split("a:b"))
    assert.same({ "a", "b:c" }, pattern.split("a, b:c"))
    assert.same({ "web:22" }, pattern.split("web:22"))
    assert.same({ "fe80::1" }, pattern.split("fe80::1"))
    assert.same({ "web[1:3]" }, pattern.split("web[1:3]"))
    assert.same({ "web[0]", "db[-1]" }, pattern.split("web[0]:db[-1]"))
    assert.same({ "web", "&db", "!x" }, pattern.split("web:&db:!x"))
    assert.same({ "web", "db" }, pattern.split({ "web:db" }))
  end)

  it("order: plain, then &, then !; all when there is no plain term", function()
    assert.same({ "a", "c", "&b", "!d" }, pattern.order({ "!d", "a", "&b", "c" }))
    assert.same({ "all", "!x" }, pattern.order({ "!x" }))
  end)

  it("globs as fnmatch.translate", function()
    local m = fnmatch.match
    assert.is_true(m("a*b", "axxb"))
    assert.is_false(m("a*b", "axxbc"))
    assert.is_true(m("[]]", "]"))
    assert.is_true(m("[!]]", "a"))
    assert.is_false(m("[z-a]", "m")) -- an empty range never matches
    assert.is_true(m("[", "["))
    assert.is_true(m("a.b", "a.b"))
    assert.is_false(m("a.b", "axb"))
    assert.is_true(m("x?", "x\n")) -- (?s)
    assert.equal("(?s:a.*)\\z", fnmatch.translate("a**"))
    assert.equal("(?s:(?>.*?a).*b)\\z", fnmatch.translate("*a*b"))
  end)

  it("parse_address as Ansible's", function()
    assert.same({ "web", 22 }, { address.parse("web:22") })
    assert.same({ "2001:db8::2", 2222 }, { address.parse("[2001:db8::2]:2222") })
    assert.same({ "web[1:3]", 22 }, { address.parse("web[1:3]:22", true) })
    assert.is_nil((address.parse("web:db")))
    assert.is_nil((address.parse("web_")))
    assert.equal("fe80::1", (address.parse("fe80::1")))
  end)
end)

describe("util.regex", function()
  it("match is anchored at the start only; search anywhere; fullmatch the whole", function()
    assert.equal(1, (regex.match("db\\d", "db1x")))
    assert.is_nil(regex.match("b", "ab"))
    assert.equal(2, (regex.search("b", "ab")))
    assert.is_nil(regex.fullmatch("a", "ab"))
    local s, e = regex.fullmatch("a|ab", "ab")
    assert.same({ 1, 2 }, { s, e })
  end)

  it("captures, named groups, flags", function()
    local _, _, caps = regex.match("(?P<name>\\w+)-(\\d)?", "db-")
    assert.equal("db", caps[1])
    assert.equal(false, caps[2])
    assert.equal("db", caps.name)
    assert.is_truthy(regex.match("WEB", "web", "i"))
    assert.is_truthy(regex.search("^b", "a\nb", "m"))
    assert.is_nil(regex.search("^b", "a\nb"))
    assert.is_truthy(regex.match("a.b", "a\nb", "s"))
    assert.is_truthy(regex.match("a b # comment", "ab", "x"))
  end)

  it("Unicode text as Python's str patterns; other bytes byte by byte", function()
    local function stop(s, e) return s and e end
    assert.equal(6, stop(regex.match("\\w+$", "héllo")))
    assert.equal(3, stop(regex.match("é.", "éa")))
    assert.equal(2, stop(regex.match("a.", "a\xff")))
  end)

  it("a bad regex or flag: an error naming it; compiled once", function()
    local r, err = regex.compile("a(b")
    assert.is_nil(r)
    assert.equal("bad regex 'a(b': missing closing parenthesis (pattern offset: 4)", err)
    assert.equal("bad regex flag 'q' for 'x'", select(2, regex.compile("x", "q")))
    assert.has_error(function() regex.match("(", "x") end,
      "bad regex '(': missing closing parenthesis (pattern offset: 2)")
    assert.equal(regex.compile("x+"), regex.compile("x+"))
    assert.are_not.equal(regex.compile("x+"), regex.compile("x+", "i"))
  end)
end)
