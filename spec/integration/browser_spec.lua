-- The dashboard in a real browser (issue 10): a real play on three test
-- hosts runs with `luasible run --serve`, headless Chromium (Debian's,
-- driven by playwright-core: spec/browser/live.mjs) watches its page as the
-- run goes, and the specs below assert on what the page showed. The play
-- waits on every host for a gate file until the page is live, so nothing
-- happens before the browser looks.
--   make test-browser    (needs scripts/deps: chromium, node, `npm ci` in spec/browser)
-- LUASIBLE_SCREENSHOTS=docs/img saves dashboard-grid.png and dashboard-terminal.png there.
local json = require "cjson"
local th = require "spec.helpers.testhosts"
local files = require "spec.helpers.files"
local browser = require "spec.helpers.browser"
local shell = require "luasible.util.shell"
local read, write = files.read, files.write

local HOSTS = { "web1", "web2", "web3" }
local COUNT = 160   -- lines the count task prints on each host

local PLAY = [[
return {
  name = "dashboard demo",
  hosts = "testhosts",
  tasks = {
    { name = "wait for the page", wait_for = { path = "/tmp/lsb-gate", timeout = 120 } },
    { name = "hello", shell = "echo hello from $(hostname)" },
    { name = "count", streaming_shell = "h=$(hostname); i=1; while [ $i -le %d ]; do "
      .. "printf '\\033[32m%%s\\033[0m line %%04d \\033[1;34mof\\033[0m %d\\n' $h $i; i=$((i+1)); sleep 0.04; done" },
    { name = "build", streaming_shell = "for p in $(seq 0 5 100); do printf 'building %%3d%%%%\\r' $p; "
      .. "sleep 0.25; done; echo; echo built" },
    { name = "nothing to do", shell = "true", when = "inventory_hostname == 'nobody'" },
    { name = "fail on web3", shell = "echo web3 breaks >&2; exit 3", when = "inventory_hostname == 'web3'" },
  },
}
]]

local function strip(s) return (s:gsub("\27%[[%d;]*m", "")) end

-- the recap as the CLI printed it: from "PLAY RECAP" to the end
local function cli_recap(out)
  local at = strip(out):find("PLAY RECAP", 1, true)
  return at and strip(out):sub(at):gsub("\n+$", "") or nil
end

local alive, wait_for = browser.alive, browser.wait_for

-- the numbers of the counted lines ("web1 line 0042 of 160") of host h
local function numbers(lines, h)
  local out = {}
  for _, l in ipairs(lines or {}) do
    local n = l:match("^" .. h .. " line (%d%d%d%d) of")
    if n then out[#out + 1] = tonumber(n) end
  end
  return out
end

local function consecutive(ns)
  for i = 2, #ns do if ns[i] ~= ns[i - 1] + 1 then return false, i end end
  return true
end

describe("#browser #hosts the dashboard page", function()
  local ok_hosts, why = th.available()
  if not ok_hosts then
    pending("test hosts unavailable: " .. why)
    return
  end
  local hosts, dir, res, cli_out, cli_pid

  lazy_setup(function()
    assert(files.run("command -v node >/dev/null && echo y") == "y\n", "node is missing (scripts/deps)")
    browser.need_playwright()
    hosts = th.start { names = HOSTS }
    dir = files.sh("mktemp -d /tmp/luasible-browser.XXXXXX")
    write(dir .. "/inv.ini", hosts:inventory_ini())
    write(dir .. "/play.lua", PLAY:format(COUNT, COUNT))
    cli_pid = files.sh(("exec bin/luasible run %s/play.lua -i %s/inv.ini --serve 127.0.0.1:0 >%s/out 2>%s/err"
      .. " & echo $!"):format(dir, dir, dir, dir))
    local url = browser.url(dir .. "/err", 30)
    local shots = os.getenv("LUASIBLE_SCREENSHOTS")
    local node_pid = browser.node(("spec/browser/live.mjs --url %s --out %s/res.json --ready %s/ready --hosts %s%s")
      :format(shell.quote(url), dir, dir, table.concat(HOSTS, ","),
        shots and (" --shots " .. shell.quote(shots)) or ""),
      dir .. "/node.log")
    browser.wait_ready(node_pid, dir .. "/ready", dir .. "/node.log", 90)
    for _, h in ipairs(hosts) do h:exec("touch /tmp/lsb-gate") end
    wait_for("the browser's end", 400, function() return not alive(node_pid) end)
    local got = read(dir .. "/res.json")
    assert(got, "spec/browser/live.mjs wrote nothing: " .. (read(dir .. "/node.log") or ""))
    res = json.decode(got)
    cli_out = wait_for("the CLI's recap", 60, function()
      local out = read(dir .. "/out") or ""
      return cli_recap(out) and out
    end)
  end)

  lazy_teardown(function()
    if cli_pid then
      os.execute("kill -INT " .. cli_pid .. " 2>/dev/null; sleep 0.5; kill -TERM " .. cli_pid .. " 2>/dev/null")
    end
    if hosts then hosts:stop() end
    -- LUASIBLE_KEEP=1 keeps the run's files (the play, its output, res.json)
    if dir and not os.getenv("LUASIBLE_KEEP") then os.execute("rm -rf " .. shell.quote(dir)) end
  end)

  it("opened the page without an error, and took the token out of the URL", function()
    assert.is_nil(res.failure, res.failure)
    assert.same({}, res.errors)
    assert.is_nil(res.url_after_login:find("token", 1, true), res.url_after_login)
    assert.equal("luasible", res.cookies[1].name)
    assert.is_true(res.cookies[1].httpOnly)
    assert.equal("Strict", res.cookies[1].sameSite)
  end)

  it("shows a tile per host, and the tiles change colour as the run goes", function()
    assert.is_nil(res.failure, res.failure)
    assert.same(HOSTS, res.tiles)
    for _, h in ipairs(HOSTS) do
      local seen = res.samples[h].status
      -- after the reload the sampler starts again: it sees running, then the end
      assert.truthy(#seen >= 2, h .. ": " .. table.concat(seen, ","))
      assert.equal(h == "web3" and "failed" or "changed", seen[#seen], h .. ": " .. table.concat(seen, ","))
    end
    for _, h in ipairs(res.final) do
      assert.equal(h.name == "web3" and "failed" or "changed", h.status)
    end
    assert.same({ pending = 0, running = 0, ok = 0, changed = 2, failed = 1, unreachable = 0, skipped = 0 },
      res.summary)
  end)

  it("shows a host's lines in its terminal, in order, as they come", function()
    assert.is_nil(res.failure, res.failure)
    assert.equal("web1", res.term_title)
    local ns = numbers(res.term_live, "web1")
    assert.truthy(#ns >= 30, #ns .. " lines")
    assert.equal(1, ns[1])
    assert.is_true(consecutive(ns), table.concat(ns, ","))
    -- ANSI colours are rendered, not shown as escapes
    for _, l in ipairs(res.term_live) do
      assert.is_nil(l:find("\27", 1, true))
      assert.is_nil(l:find("[32m", 1, true))
    end
  end)

  it("shows everything again after a reload in the middle of the run", function()
    assert.is_nil(res.failure, res.failure)
    local r = res.reload
    assert.is_false(r.before.finished, "the run had ended before the reload")
    assert.same(HOSTS, r.tiles)
    local ns = numbers(r.term, "web1")
    assert.equal(1, ns[1])
    assert.is_true(consecutive(ns), table.concat(ns, ","))
    assert.truthy(#ns >= r.before.lines, #ns .. " < " .. r.before.lines)
    -- every task result seen before the reload is there after it
    for h, row in pairs(r.before.matrix) do
      for task, st in pairs(row) do
        if st ~= "running" then assert.equal(st, r.matrix[h][task], h .. " " .. task) end
      end
    end
  end)

  it("stops following the tail when scrolled up, and follows again at the bottom", function()
    assert.is_nil(res.failure, res.failure)
    local f = res.follow
    assert.equal("0", f.up0.follow)
    assert.equal("0", f.up1.follow)
    assert.equal(f.up0.y, f.up1.y, "the view moved while scrolled up")
    assert.equal("1", f.down.follow)
    assert.equal(f.down.base, f.down.y)
  end)

  it("reconnects after the socket drops and loses no line", function()
    assert.is_nil(res.failure, res.failure)
    assert.equal(3, res.drops.after - res.drops.before)
    local ns = numbers(res.drops.term, "web1")
    assert.equal(1, ns[1])
    assert.equal(COUNT, #ns)
    assert.is_true(consecutive(ns), table.concat(ns, ","))
  end)

  it("advances a host's progress bar with the build's redraws", function()
    assert.is_nil(res.failure, res.failure)
    for _, h in ipairs(HOSTS) do
      local pct = res.samples[h].pct
      assert.truthy(#pct >= 3, h .. ": " .. table.concat(pct, ","))
      local ups = 0
      for i = 2, #pct do if pct[i] > pct[i - 1] then ups = ups + 1 end end
      assert.truthy(ups >= 2, h .. ": " .. table.concat(pct, ","))
      assert.truthy(pct[#pct] >= 50 or ups >= 3, h .. ": " .. table.concat(pct, ","))
    end
  end)

  it("finds a line with the search and jumps to it", function()
    assert.is_nil(res.failure, res.failure)
    local by = {}
    for _, hit in ipairs(res.search) do by[hit.host] = hit end
    for _, h in ipairs(HOSTS) do
      assert.truthy(by[h], "no hit on " .. h)
      assert.truthy(by[h].data:find(h .. " line 0042 of", 1, true), by[h].data)
      assert.equal("count", by[h].task)
    end
    assert.equal("web2", res.search_jump.title)
    assert.truthy(res.search_jump.selection:find("web2 line 0042 of", 1, true), res.search_jump.selection)
  end)

  it("fills the tasks x hosts matrix, and a cell shows that task's output on that host", function()
    assert.is_nil(res.failure, res.failure)
    for _, h in ipairs(HOSTS) do
      local row = res.matrix[h]
      assert.equal("ok", row["wait for the page"])
      assert.equal("changed", row.hello)
      assert.equal("changed", row.count)
      assert.equal("skipped", row["nothing to do"])
      assert.equal(h == "web3" and "failed" or "skipped", row["fail on web3"])
      assert.same({ "ok", "changed", "changed", "changed", "skipped", h == "web3" and "failed" or "skipped" },
        res.matrix_dom[h])
    end
    assert.equal("web2 \u{b7} count", res.cell.title)
    local ns = numbers(res.cell.term, "web2")
    assert.equal(COUNT, #ns)
    assert.is_true(consecutive(ns))
    for _, l in ipairs(res.cell.term) do
      assert.is_nil(l:find("hello from", 1, true), "another task's line in the cell's output")
    end
  end)

  it("filters the tiles by host pattern and by status", function()
    assert.is_nil(res.failure, res.failure)
    assert.same({ "web1", "web3" }, res.filter_glob)
    assert.same({ "web3" }, res.filter_status)
  end)

  it("ends with the recap the CLI printed", function()
    assert.is_nil(res.failure, res.failure)
    local want = cli_recap(cli_out)
    assert.truthy(want, cli_out)
    assert.equal(want, (res.recap:gsub("\n+$", "")))
    assert.truthy(want:find("web3 : ok=4    changed=3    unreachable=0    failed=1    skipped=1", 1, true), want)
  end)
end)
