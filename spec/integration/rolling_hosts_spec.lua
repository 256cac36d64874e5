-- Rolling deploys over SSH on real test hosts (#hosts: spec/helpers/testhosts.lua,
-- each a network namespace with its own sshd and root): a YAML playbook
-- run by bin/luasible rolls through them in batches; each host keeps, in
-- its own /etc, the batch it was in and when; a failure over
-- max_fail_percentage leaves the later batches untouched; throttle 1
-- under the free strategy never has two hosts in the task at once.
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local R = require "spec.helpers.rolling"

describe("#hosts rolling deploys over SSH", function()
  local ok, why = th.available()
  if not ok then pending("test hosts unavailable: " .. why) return end
  local TMP = files.tmpdir()
  local hosts
  lazy_setup(function()
    hosts = th.start { n = 4, names = { "web1", "web2", "web3", "web4" } }
    files.write(TMP .. "/inv.ini", hosts:inventory_ini())
  end)
  lazy_teardown(function() if hosts then hosts:stop() end end)

  local function run(text)
    files.write(TMP .. "/site.yml", text)
    return R.run("bin/luasible run " .. TMP .. "/site.yml -i " .. TMP .. "/inv.ini", TMP)
  end
  -- host -> { batch =, t = } from its /etc/rolling (nil when it has none)
  local function state()
    local out = {}
    for _, h in ipairs(hosts) do
      local text = h:read("/etc/rolling")
      if text then
        local b, t = text:match("^(%S+) (%S+)")
        out[h.name] = { batch = b, t = tonumber(t) }
      end
    end
    return out
  end
  local function clean() for _, h in ipairs(hosts) do h:exec("rm -f /etc/rolling /etc/rolling.*") end end

  it("serial [1, '50%']: the batches in turn, each host knowing its batch", function()
    clean()
    local out, code, err = run([[
- hosts: testhosts
  gather_facts: false
  serial: [1, "50%"]
  tasks:
    - name: deploy
      shell: echo "{{ ansible_play_batch | join(',') }} $(date +%s.%N)" > /etc/rolling
    - name: settle
      command: sleep 0.2
]])
    assert.equal(0, code, out .. err)
    local s = state()
    assert.equal("web1", s.web1.batch)
    assert.equal("web2,web3", s.web2.batch)
    assert.equal("web2,web3", s.web3.batch)
    assert.equal("web4", s.web4.batch)
    -- a batch starts when the one before has ended (its 0.2 s settle included)
    assert.truthy(s.web2.t - s.web1.t >= 0.2 and s.web3.t - s.web1.t >= 0.2)
    assert.truthy(s.web4.t - math.max(s.web2.t, s.web3.t) >= 0.2)
  end)

  it("max_fail_percentage 0: a failure stops the rollout, the later batch untouched, exit 2", function()
    clean()
    local out, code, err = run([[
- hosts: testhosts
  gather_facts: false
  serial: 2
  max_fail_percentage: 0
  tasks:
    - name: check
      command: test {{ inventory_hostname }} != web2
    - name: deploy
      shell: echo "{{ ansible_play_batch | join(',') }} $(date +%s.%N)" > /etc/rolling
]])
    assert.equal(2, code, out .. err)
    -- web2 failed (1 of 2 > 0%): web1 deploys nothing, the second batch never starts
    assert.same({}, state())
    assert.equal(1, R.recap_of(out, "web2").failed)
    assert.equal(1, R.recap_of(out, "web1").ok)
    assert.same({ "web1", "web2" }, R.recap_hosts(out))
  end)

  it("strategy free with throttle 1: no two hosts in the task at once", function()
    clean()
    local out, code, err = run([[
- hosts: testhosts
  gather_facts: false
  strategy: free
  tasks:
    - name: one at a time
      throttle: 1
      shell: date +%s.%N > /etc/rolling.start; sleep 0.3; date +%s.%N > /etc/rolling.end
]])
    assert.equal(0, code, out .. err)
    local spans = {}
    for _, h in ipairs(hosts) do
      spans[#spans + 1] = { tonumber(h:read("/etc/rolling.start")), tonumber(h:read("/etc/rolling.end")) }
    end
    table.sort(spans, function(a, b) return a[1] < b[1] end)
    assert.equal(4, #spans)
    for i = 2, #spans do assert.truthy(spans[i][1] >= spans[i - 1][2], "overlap at " .. i) end
  end)
end)
