local address = require "luasible.inventory.address"
local ranges = require "luasible.inventory.ranges"

-- host patterns of inventories as Ansible's parse_address and
-- expand_hostname_range read them (each case checked against ansible-core 2.14)
describe("inventory host patterns", function()
  it("splits a port off names and addresses, brackets off IPv6", function()
    local cases = {
      { "web1", { "web1" } }, { "web1:2222", { "web1" }, 2222 },
      { "web[1:2]:2201", { "web1", "web2" }, 2201 }, { "[2001:db8::2]:2222", { "2001:db8::2" }, 2222 },
      { "2001:db8::2", { "2001:db8::2" } }, { "10.0.0.[1:3]", { "10.0.0.1", "10.0.0.2", "10.0.0.3" } },
      { "10.0.0.1:22", { "10.0.0.1" }, 22 }, { "[host1]:22", { "host1" }, 22 },
      { "[web[1:2]]:22", { "web1", "web2" }, 22 }, { "[a:1]:2", { "a" }, 1 },
      { "my_host_:22", { "my_host_:22" } }, { "foo.bar-:22", { "foo.bar-:22" } }, { "foo:bar", { "foo:bar" } },
      { "host_x:22", { "host_x" }, 22 }, { "::1", { "::1" } }, { "příbor:22", { "příbor" }, 22 },
      { "db-[a:c]:22", { "db-a", "db-b", "db-c" }, 22 },
      { "[2001:db8::[a:c]]:22", { "2001:db8::a", "2001:db8::b", "2001:db8::c" }, 22 },
      { "host1.example.com:2222", { "host1.example.com" }, 2222 },
    }
    for _, c in ipairs(cases) do
      local names, port = address.expand(c[1])
      assert.same(c[2], names, c[1])
      assert.equal(c[3], port, c[1])
    end
  end)

  it("knows addresses and host names as Ansible's patterns (IPv6 looked at from its start)", function()
    local ok = { "10.0.0.255", "010.0.0.1", "fe80::1", "ab::%%%", "1:2:3:4:5:6:7:8zzz", "0:0:0:0:0:ffff:1.2.3.4",
      "web_1", "příbor" }
    local bad = { "12345::", "0:0:0:0:0:ffff:1.2.3.4x", "web-", "a..b", "host@x" }
    for _, a in ipairs(ok) do assert.truthy(address.parse(a, true), a) end
    for _, a in ipairs(bad) do assert.is_nil(address.parse(a, true), a) end
    assert.is_true(address.is_ip("10.1.2.3"))
    assert.is_true(address.is_ip("2001:db8::1"))
    assert.is_false(address.is_ip("web1.example.com"))
    assert.is_false(address.is_ip("10.1.2.300"))
  end)

  it("expands ranges as expand_hostname_range", function()
    assert.same({ "x0", "x5", "x10" }, ranges.expand("x[0:10:5]"))
    assert.same({ "capy", "capz", "capA", "capB" }, ranges.expand("cap[y:B]"))
    assert.same({ "08", "09", "10" }, ranges.expand("[08:10]"))
    assert.same({ "0", "1" }, ranges.expand("[:1]"))
    assert.same({ "a1b1", "a1b2", "a2b1", "a2b2" }, ranges.expand("a[1:2]b[1:2]"))
    assert.equal(4, ranges.range_count("a[1:2]b[1:2]"))
    local _, err = ranges.expand("x[1:]")
    assert.truthy(err:find("end value", 1, true), err)
    _, err = ranges.expand("x[01:100]")
    assert.truthy(err:find("equal-length", 1, true), err)
    _, err = ranges.expand("x[b:a]")
    assert.truthy(err:find("begin <= end", 1, true), err)
    _, err = ranges.expand("x[1:2:3:4]")
    assert.truthy(err:find("begin:end", 1, true), err)
    -- deliberately refused (Ansible gives no host): a typo should not go unnoticed
    _, err = ranges.expand("web[3:1]")
    assert.truthy(err:find("range start after end", 1, true), err)
  end)
end)
