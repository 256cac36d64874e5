-- iptables on real test hosts (issue 14): each host is its own network
-- namespace, so its rules are its own (never this machine's). Rules added
-- then found (-C) unchanged, removed; check mode; diff; insert at a
-- position; policy, flush, chains; ip6tables; traffic from the other host
-- refused by a rule and let through again; bad arguments; a host without
-- iptables.
local th = require "spec.helpers.testhosts"
local hp = require "spec.helpers.hostplay"
local webhost = require "spec.helpers.webhost"

describe("#hosts iptables", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local hosts, h, other, web
  lazy_setup(function()
    hosts = th.start { n = 2 }
    h, other = hosts[1], hosts[2]
    web = webhost.start(h, { port = 8080 })
    web:put("ping.txt", "pong\n")
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)
  after_each(function()
    h:exec("for t in filter nat; do iptables -t $t -F; iptables -t $t -X; done; iptables -P FORWARD ACCEPT;"
      .. " ip6tables -F")
  end)

  local function rules(chain, ipv6)
    return (h:exec((ipv6 and "ip6tables" or "iptables") .. " -S " .. (chain or "")))
  end
  local function reach()
    local out = other:exec("curl -s -m 3 " .. web.url .. "/files/ping.txt || echo unreachable")
    return out
  end
  -- only on host 1 (hp.task runs on all hosts of the inventory: restrict it)
  local function task(t, opts)
    t.when = "inventory_hostname == '" .. h.name .. "'"
    return hp.task(hosts, t, opts)
  end

  it("a REJECT rule: the other host is refused, unchanged the second time, removed again", function()
    assert.are.equal("pong\n", reach())
    local t = { iptables = { chain = "INPUT", protocol = "tcp", destination_port = "8080", jump = "REJECT",
      reject_with = "tcp-reset", comment = "no web" } }
    local res = task(t)
    assert.is_true(res.changed, res.msg)
    assert.are.equal("-p tcp -j REJECT --destination-port 8080 --reject-with tcp-reset -m comment --comment no web",
      res.rule)
    assert.are.same({ "INPUT", "filter", "ipv4", "present" }, { res.chain, res.table, res.ip_version, res.state })
    assert.truthy(rules("INPUT"):find("-A INPUT -p tcp -m tcp --dport 8080 -m comment --comment \"no web\" -j REJECT"
      .. " --reject-with tcp-reset", 1, true), rules("INPUT"))
    assert.are.equal("unreachable\n", reach())
    res = task(t)
    assert.is_false(res.changed)
    local _, n = rules("INPUT"):gsub("\n%-A ", "")
    assert.are.equal(1, n) -- not added twice
    -- absent, --check first: said, not done
    t.iptables.state = "absent"
    res = task(t, { check = true, diff = true })
    assert.is_true(res.changed)
    assert.truthy(res.diff.before:find("--dport 8080", 1, true))
    assert.falsy(res.diff.after:find("--dport 8080", 1, true), res.diff.after)
    assert.are.equal("unreachable\n", reach())
    res = task(t, { diff = true })
    assert.is_true(res.changed)
    assert.falsy(rules("INPUT"):find("8080", 1, true))
    assert.are.equal("-P INPUT ACCEPT\n", res.diff.after)
    assert.are.equal("pong\n", reach())
    assert.is_false(task(t).changed)
  end)

  it("--check adds nothing and shows the rule it would add", function()
    local res = task({ iptables = { chain = "INPUT", source = "10.9.9.9", jump = "DROP" } },
      { check = true, diff = true })
    assert.is_true(res.changed)
    assert.are.equal("-P INPUT ACCEPT\n-A INPUT -s 10.9.9.9/32 -j DROP\n", res.diff.after)
    assert.are.equal("-P INPUT ACCEPT\n", rules("INPUT"))
  end)

  it("insert at rule_num, multiport, ctstate, src_range, limit, LOG by log_prefix: found again by -C", function()
    local tasks = {
      { iptables = { chain = "INPUT", protocol = "tcp", destination_ports = { "80", "443", "8000:8100" },
        ctstate = { "NEW", "ESTABLISHED" }, jump = "ACCEPT" } },
      { iptables = { chain = "INPUT", src_range = "10.1.1.1-10.1.1.9", jump = "DROP", action = "insert" } },
      { iptables = { chain = "INPUT", protocol = "icmp", icmp_type = "echo-request", limit = "5/sec",
        jump = "ACCEPT", action = "insert", rule_num = 2 } },
      { iptables = { chain = "INPUT", log_prefix = "IPT: ", protocol = "udp", source_port = "53" } },
      { iptables = { chain = "OUTPUT", uid_owner = "0", out_interface = "lo", jump = "ACCEPT" } },
    }
    for _, t in ipairs(tasks) do t.when = "inventory_hostname == '" .. h.name .. "'" end
    local r = hp.run(hosts, tasks)
    for i = 1, #tasks do assert.are.equal("changed", r[i].status, i .. ": " .. tostring(r[i].result.msg)) end
    assert.are.equal(table.concat({
      "-P INPUT ACCEPT",
      "-A INPUT -m iprange --src-range 10.1.1.1-10.1.1.9 -j DROP",
      "-A INPUT -p icmp -m limit --limit 5/sec -m icmp --icmp-type 8 -j ACCEPT",
      "-A INPUT -p tcp -m multiport --dports 80,443,8000:8100 -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT",
      "-A INPUT -p udp -m udp --sport 53 -j LOG --log-prefix \"IPT: \"", "" }, "\n"), rules("INPUT"))
    assert.truthy(rules("OUTPUT"):find("-A OUTPUT -o lo -m owner --uid-owner 0 -j ACCEPT", 1, true))
    assert.are.equal("-p udp --log-prefix IPT:  --source-port 53", r[4].result.rule) -- as Ansible's (no -j LOG)
    r = hp.run(hosts, tasks)
    for i = 1, #tasks do assert.are.equal("ok", r[i].status, i .. ": " .. tostring(r[i].result.msg)) end
    h:exec("iptables -F INPUT; iptables -F OUTPUT")
  end)

  it("policy, flush, a chain created and deleted (chain_management), ip6tables, nat", function()
    local res = task({ iptables = { chain = "FORWARD", policy = "DROP" } })
    assert.is_true(res.changed)
    assert.truthy(rules("FORWARD"):find("-P FORWARD DROP", 1, true))
    assert.is_false(task({ iptables = { chain = "FORWARD", policy = "DROP" } }).changed)
    assert.is_true(task({ iptables = { chain = "FORWARD", policy = "ACCEPT" } }, { check = true }).changed)
    assert.truthy(rules("FORWARD"):find("-P FORWARD DROP", 1, true))
    task({ iptables = { chain = "FORWARD", policy = "ACCEPT" } })
    -- a chain with its rule
    local t = { iptables = { chain = "WEB", chain_management = true, protocol = "tcp", destination_port = "81",
      jump = "ACCEPT" } }
    assert.is_true(task(t).changed)
    assert.are.equal("-N WEB\n-A WEB -p tcp -m tcp --dport 81 -j ACCEPT\n", rules("WEB"))
    assert.is_false(task(t).changed)
    -- a bare chain: created, then found
    assert.is_true(task({ iptables = { chain = "EMPTY", chain_management = true } }).changed)
    assert.are.equal("-N EMPTY\n", rules("EMPTY"))
    assert.is_false(task({ iptables = { chain = "EMPTY", chain_management = true } }).changed)
    -- flush (always changed, as Ansible), then the chains deleted
    assert.is_true(task({ iptables = { chain = "WEB", flush = true } }).changed)
    assert.are.equal("-N WEB\n", rules("WEB"))
    assert.is_true(task({ iptables = { chain = "WEB", state = "absent", chain_management = true } }).changed)
    assert.is_true(task({ iptables = { chain = "EMPTY", state = "absent", chain_management = true } }).changed)
    assert.is_false(task({ iptables = { chain = "EMPTY", state = "absent", chain_management = true } }).changed)
    assert.falsy(rules():find("WEB", 1, true))
    -- ip6tables and the nat table
    t = { iptables = { ip_version = "ipv6", chain = "INPUT", source = "fd00::1", jump = "DROP" } }
    assert.is_true(task(t).changed)
    assert.truthy(rules("INPUT", true):find("-A INPUT -s fd00::1/128 -j DROP", 1, true))
    assert.is_false(task(t).changed)
    assert.are.equal("-P INPUT ACCEPT\n", rules("INPUT")) -- not in iptables
    t = { iptables = { table = "nat", chain = "PREROUTING", protocol = "tcp", destination_port = "80",
      jump = "REDIRECT", to_ports = "8080" } }
    assert.is_true(task(t).changed)
    assert.truthy(h:exec("iptables -t nat -S PREROUTING"):find("--dport 80 -j REDIRECT --to-ports 8080", 1, true))
    assert.is_false(task(t).changed)
  end)

  it("refuses bad arguments by name; fails clearly on a rule iptables refuses and without iptables", function()
    local err = hp.prepare_error(hosts, { iptables = { chain = "INPUT", table = "bogus" } })
    assert.truthy(err and err:find("table", 1, true) and err:find("bogus", 1, true), err)
    err = hp.prepare_error(hosts, { iptables = { jump = "DROP" } })
    assert.truthy(err and err:find("Either chain or flush parameter must be specified.", 1, true), err)
    err = hp.prepare_error(hosts, { iptables = { chain = "INPUT", log_prefix = "x", jump = "DROP" } })
    assert.truthy(err and err:find("Logging options can only be used with the LOG jump target.", 1, true), err)
    err = hp.prepare_error(hosts, { iptables = { chain = "INPUT", porto = "tcp" } })
    assert.truthy(err and err:find("porto", 1, true), err)
    local res = task({ iptables = { chain = "INPUT", protocol = "tcp", destination_port = "notaport", jump = "DROP" } })
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("iptables refused the rule", 1, true) and res.msg:find("notaport", 1, true), res.msg)
    res = task({ iptables = { chain = "NOSUCH", jump = "DROP", source = "10.0.0.1" } })
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("No chain/target/match by that name", 1, true), res.msg)
    assert(select(2, h:exec("mv /usr/sbin/iptables /usr/sbin/iptables.hidden")))
    res = task({ iptables = { chain = "INPUT", jump = "DROP", source = "10.0.0.1" } })
    h:exec("mv /usr/sbin/iptables.hidden /usr/sbin/iptables")
    assert.is_true(res.failed)
    assert.truthy(res.msg:find("the host has no iptables", 1, true), res.msg)
  end)
end)
