local inventory = require "luasible.inventory"
local pattern = require "luasible.inventory.pattern"

describe("host patterns", function()
  local inv
  before_each(function() inv = assert(inventory.load("spec/fixtures/inventory.yml")) end)
  local function sel(p) return assert(pattern.select(inv, p)) end

  it("all and *", function()
    assert.same({ "bastion", "web1", "web2", "web3", "db1", "db2" }, sel("all"))
    assert.same(sel("all"), sel("*"))
  end)

  it("groups and host names", function()
    assert.same({ "web1", "web2", "web3" }, sel("web"))
    assert.same({ "db2" }, sel("db2"))
  end)

  it("globs over hosts and groups", function()
    assert.same({ "web1", "web2" }, sel("web[12]"))
    assert.same({ "db1", "db2" }, sel("d*"))
    assert.same({ "web1", "web3" }, sel("web?:!web2"))
  end)

  it("union, intersection, exclusion", function()
    assert.same({ "web1", "web2", "web3", "db1", "db2" }, sel("web:db"))
    assert.same({ "web1", "web2", "web3", "db1", "db2" }, sel("web,db"))
    assert.same({ "web1", "web2", "web3" }, sel("app:&web"))
    assert.same({ "db1", "db2" }, sel("app:!web"))
    assert.same({ "bastion", "db1", "db2" }, sel("all:!web"))
    assert.same({ "web2" }, sel("app:&web:!web1:!web3"))
    assert.same({}, sel("web:&db"))
  end)

  it("Lua pattern terms with ~", function()
    assert.same({ "db1", "db2" }, sel("~^db%d$"))
  end)

  it("refuses a term that matches nothing", function()
    local hosts, err = pattern.select(inv, "web:nosuch")
    assert.is_nil(hosts)
    assert.equal("host pattern 'nosuch' matches no host or group in spec/fixtures/inventory.yml", err)
    assert.is_nil((pattern.select(inv, "")))
  end)

  it("an empty group is not an error", function()
    inv:add_group("empty")
    assert.same({}, sel("empty"))
  end)

  it("adds the implicit localhost when asked for", function()
    assert.same({ "localhost" }, sel("localhost"))
    assert.equal("local", inv:host_vars("localhost").ansible_connection)
  end)

  it("limits", function()
    assert.same({ "web2" }, assert(pattern.select_limited(inv, "app", "web2")))
    local _, err = pattern.select_limited(inv, "app", "zzz")
    assert.truthy(err:find("^%-%-limit: host pattern 'zzz'"))
  end)
end)
