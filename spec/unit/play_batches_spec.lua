-- play/batches.lua: serial batches and host order as Ansible computes them
-- (PlaybookExecutor._get_serialized_batches and pct_to_int: a percentage
-- of all the play's hosts, rounded down, at least 1; the last entry of a
-- list repeats; 0 or nothing is one batch of all).
local batches = require "luasible.play.batches"

local function names(n)
  local t = {}
  for i = 1, n do t[i] = "h" .. i end
  return t
end

-- the sizes of the batches
local function sizes(n, serial)
  local out = {}
  for i, b in ipairs(batches.batches(names(n), serial)) do out[i] = #b end
  return out
end

describe("play.batches", function()
  it("cuts by a number, the last batch smaller", function()
    assert.same({ 2, 2, 1 }, sizes(5, 2))
    assert.same({ 5 }, sizes(5, 10))
    assert.same({ 1, 1, 1 }, sizes(3, 1))
    assert.same({ 2, 2, 1 }, sizes(5, "2"))
  end)

  it("a serial bigger than anything is one batch (math.maxinteger looped forever: the play fuzzer)", function()
    assert.same({ 5 }, sizes(5, math.maxinteger))
    assert.same({ 1, 4 }, sizes(5, { 1, math.maxinteger }))
  end)

  it("0, nothing or an empty list is one batch of every host", function()
    assert.same({ 5 }, sizes(5, 0))
    assert.same({ 5 }, sizes(5, nil))
    assert.same({ 5 }, sizes(5, {}))
  end)

  it("a percentage of the play's hosts, rounded down, at least one", function()
    assert.same({ 3, 3, 3, 1 }, sizes(10, "30%"))
    assert.same({ 1, 1, 1, 1, 1 }, sizes(5, "10%"))  -- 0.5 rounds down to 0: at least 1
    assert.same({ 2, 2, 1 }, sizes(5, "40%"))
    assert.same({ 5 }, sizes(5, "100%"))
    assert.same({ 5 }, sizes(5, "150%"))
    assert.equal(1, batches.size("1%", 20))
    assert.equal(6, batches.size("33%", 20))
  end)

  it("a list: each entry in turn, the last one repeating; percentages of all the hosts", function()
    assert.same({ 1, 2, 3, 3, 1 }, sizes(10, { 1, 2, 3 }))
    assert.same({ 1, 5, 4 }, sizes(10, { 1, "50%" }))
    -- "50%" stays 50% of all 10 hosts (5), not of the 9 left
    assert.same({ 1, 5, 4 }, sizes(10, { "10%", "50%", "100%" }))
    assert.same({ 1, 9 }, sizes(10, { 1, 0 }))
  end)

  it("keeps the hosts' order and every host once", function()
    local b = batches.batches(names(5), { 2, 1 })
    assert.same({ { "h1", "h2" }, { "h3" }, { "h4" }, { "h5" } }, b)
    assert.same({}, batches.batches({}, 2))
  end)

  it("orders hosts: inventory, reverse_inventory, sorted, reverse_sorted, shuffle", function()
    local hosts = { "web2", "db1", "web10", "app" }
    assert.same(hosts, batches.order(hosts, nil))
    assert.same(hosts, batches.order(hosts, "inventory"))
    assert.same({ "app", "web10", "db1", "web2" }, batches.order(hosts, "reverse_inventory"))
    assert.same({ "app", "db1", "web10", "web2" }, batches.order(hosts, "sorted"))
    assert.same({ "web2", "web10", "db1", "app" }, batches.order(hosts, "reverse_sorted"))
    assert.same({ "web2", "db1", "web10", "app" }, hosts, "the play's list is not changed")
    -- shuffle: a permutation (a fixed "random" that always picks the first: a rotation)
    local s = batches.order(hosts, "shuffle", function() return 1 end)
    table.sort(s)
    assert.same({ "app", "db1", "web10", "web2" }, s)
    assert.are_not.same(hosts, batches.order(hosts, "shuffle", function() return 1 end))
  end)
end)
