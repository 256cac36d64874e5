-- Real-world content (issue 12): playbooks and roles in the shapes people
-- publish, written afresh for the specs in spec/fixtures/realworld_plays/
-- (a web tier deploy with a vhost template and a restart handler, a users
-- and ssh keys role, a role with meta dependencies and variable
-- precedence, a release with block/rescue/always, a rolling update with
-- serial and delegation to a load balancer). Each is run by ansible-playbook
-- on one set of test hosts and by luasible on their twins (spec/helpers/
-- twins.lua), twice: the state left on the hosts, what the playbook prints
-- with debug, the per-task changed flags and statuses and the recaps must
-- agree, and the second run changes nothing on either side.
local twins = require "spec.helpers.twins"

local FIXTURES = "spec/fixtures/realworld_plays/"
local NAMES = { "web1", "web2", "lb" }

-- a fixture folder as the { relative path = content } tree twins:run takes
local function tree(name)
  local t = {}
  local root = FIXTURES .. name .. "/"
  local p = assert(io.popen("cd " .. root .. " && find . -type f | sort"))
  for rel in p:lines() do
    rel = rel:gsub("^%./", "")
    local f = assert(io.open(root .. rel, "rb"))
    t[rel] = f:read("a")
    f:close()
  end
  p:close()
  return t
end

-- "task | host | msg" of every debug message a side printed (loop items one each)
local function printed(side, tasks)
  local want = {}
  for _, n in ipairs(tasks) do want[n] = true end
  local out = {}
  for _, r in ipairs(side.results) do
    if want[r.task] then
      local res = r.result or {}
      if type(res.results) == "table" then
        for i, item in ipairs(res.results) do
          out[#out + 1] = string.format("%s | %s | %d | %s", r.task, r.host, i, tostring(item.msg))
        end
      else
        out[#out + 1] = string.format("%s | %s | %s", r.task, r.host, tostring(res.msg))
      end
    end
  end
  table.sort(out)
  return out
end

local RECAP_KEYS = { "ok", "changed", "failed", "skipped", "unreachable", "rescued", "ignored" }

-- the recap of each host as "k=v ..." text (a key missing from a recap line counts 0)
local function recap_text(recap)
  local out = {}
  for _, host in ipairs(NAMES) do
    local r = recap[host]
    if r then
      local words = { host }
      for _, k in ipairs(RECAP_KEYS) do words[#words + 1] = k .. "=" .. (r[k] or 0) end
      out[#out + 1] = table.concat(words, " ")
    end
  end
  return table.concat(out, "\n")
end

local function total_changed(recap)
  local n = 0
  for _, r in pairs(recap) do n = n + (r.changed or 0) end
  return n
end

local function ran(side)
  return side.out .. side.err
end

-- run a fixture twice both ways; every round compared; returns the rounds
local function both_ways(t, name, opts)
  opts = opts or {}
  local rounds = {}
  local fixture = tree(name)
  local args = { "-i", "inventory/groups.ini" }
  for _, a in ipairs(opts.args or {}) do args[#args + 1] = a end
  for round = 1, 2 do
    local r = t:run(fixture, { args = args })
    local what = name .. ", round " .. round
    assert.are.equal(0, r.ansible.code, what .. ": " .. ran(r.ansible))
    assert.are.equal(0, r.luasible.code, what .. ": " .. ran(r.luasible))
    assert.are.same(r.ansible.status, r.luasible.status, what)
    assert.are.same(r.ansible.changed, r.luasible.changed, what)
    assert.are.equal(recap_text(r.ansible.recap), recap_text(r.luasible.recap), what)
    if opts.prints then
      local a, l = printed(r.ansible, opts.prints), printed(r.luasible, opts.prints)
      assert.is_true(#a > 0, what .. ": nothing printed")
      assert.are.same(a, l, what)
    end
    if opts.state then
      for i = 1, #NAMES do
        local a, l = t:both(opts.state, i)
        assert.are.equal(a, l, what .. ", state of " .. NAMES[i])
      end
    end
    rounds[round] = r
  end
  assert.are.equal(0, total_changed(rounds[2].ansible.recap), name .. ": Ansible's second run changed nothing")
  assert.are.equal(0, total_changed(rounds[2].luasible.recap), name .. ": luasible's second run changed nothing")
  return rounds
end

describe("#hosts #oracle real-world playbooks", function()
  local ok, why = twins.available()
  if not ok then
    pending("no oracle: " .. why)
    return
  end
  local t
  lazy_setup(function() t = twins.start { names = NAMES } end)
  lazy_teardown(function() if t then t:stop() end end)

  it("a web tier: vhost template, static site, lineinfile settings, a restart handler", function()
    local rounds = both_ways(t, "webapp", {
      prints = { "show the front page" },
      state = "cd /srv/www/site 2>/dev/null && stat -c '%n %a %U %s' . * /usr/local/bin/webapp-ctl"
        .. " /etc/webapp/vhost.conf && cat /etc/webapp/vhost.conf /etc/webapp/webapp.env; test -s /run/webapp.pid"
        .. " && kill -0 $(cat /run/webapp.pid) && echo serving",
    })
    local r1 = rounds[1]
    assert.is_true(r1.luasible.changed["webapp : restart webapp"].web1, "the handler ran on the first run")
    assert.is_nil(rounds[2].luasible.changed["webapp : restart webapp"], "and not on the second")
    local a = t:both("cat /etc/webapp/webapp.env; test -s /run/webapp.pid && echo serving")
    assert.are.equal("PORT=8081\nROOT=/srv/www/site\nLOG_DIR=/var/log/webapp\nserving\n", a)
  end)
  it("a users role: groups, accounts, ssh keys, sudo rights from a list in group_vars", function()
    for i = 1, #NAMES do t:both("useradd --create-home mallory", i) end
    both_ways(t, "users", {
      prints = { "users : who has access" },
      state = "getent passwd alice bob carol mallory; getent group developers ops; id alice; id bob; id carol;"
        .. " stat -c '%n %a %U %G' /home/*/.ssh /home/*/.ssh/authorized_keys; cat /home/*/.ssh/authorized_keys"
        .. " /etc/sudoers.d/90-users; stat -c '%n %a' /etc/sudoers.d/90-users; test -e /home/mallory || echo gone",
    })
    local a = t:both("id -nG alice; cat /home/bob/.ssh/authorized_keys; cat /etc/sudoers.d/90-users")
    assert.are.equal("alice developers ops\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQFakeKeyForBob bob@laptop\n"
      .. "alice ALL=(ALL) NOPASSWD: ALL\n", a)
  end)
  it("a role with meta dependencies with params, defaults, role vars and the precedence around them", function()
    local rounds = both_ways(t, "app_role", {
      args = { "-e", "app_log_level=debug" },
      prints = { "app : what the role sees", "app : a task's own vars win over the role's",
        "app : where the role is", "config_line : what was set" },
      state = "stat -c '%n %a %U' /opt/app /opt/app/conf /opt/app/releases /opt/app/conf/*; cat /opt/app/conf/*.ini;"
        .. " test -e /opt/app/conf/.reloaded && echo reloaded",
    })
    local printed_l = table.concat(printed(rounds[1].luasible, { "app : what the role sees" }), "\n")
    assert.matches("env=staging port=9000 owner=root instance=blue log=debug", printed_l, 1, true)
    local a = t:both("cat /opt/app/conf/app.ini")
    assert.are.equal("env = staging\ninstance = blue\n", a)
  end)

  it("a release with block/rescue/always, ansible_failed_task and a nested block", function()
    local rounds = both_ways(t, "release_blocks", {
      prints = { "report the failure", "report the version", "outer rescue", "inner always", "after the blocks" },
      state = "cd /opt/release && ls -a && cat VERSION; cat failed.log 2>/dev/null; stat -c '%n %a' *",
    })
    assert.are.equal(2, rounds[1].luasible.recap.web2.rescued)
    assert.are.equal(0, rounds[1].luasible.recap.web1.rescued or 0)
    local a1, a2 = t:both("cat /opt/release/VERSION", 1), t:both("cat /opt/release/VERSION", 2)
    assert.are.equal("2.0\n", a1)
    assert.are.equal("1.9\n", a2)
  end)
  it("a rolling update with serial and delegation to the load balancer", function()
    -- one host at a time, each taken out of the pool and put back (serial: play/rolling.lua)
    local rounds = both_ways(t, "rolling", {
      prints = { "the batch" },
      state = "cat /etc/haproxy/pool.cfg /var/log/rollout.log /srv/app/VERSION 2>&1",
    })
    local lb = t.luasible[3]:exec("cat /etc/haproxy/pool.cfg /var/log/rollout.log")
    assert.are.equal("server web1 web1:80 check\nserver web2 web2:80 check\nweb1 2.1\nweb2 2.1\n", lb)
    assert.are.same({ "the batch | web1 | web1 updated in batch ['web1']",
      "the batch | web2 | web2 updated in batch ['web2']" }, printed(rounds[1].luasible, { "the batch" }))
  end)
end)
