-- The dashboard of a run's log in a real browser (issue 10): a real run of
-- 500 hosts on the local connection, one of which prints 200,000 lines,
-- writes its --log; `luasible serve LOG` serves it, and headless Chromium
-- (spec/browser/paging.mjs) checks that the page stays small: tiles and
-- matrix rows only for what is in view, the terminal a window of the output
-- fetched in pages as the user scrolls, search jumping into the middle.
--   make test-browser
local json = require "cjson"
local files = require "spec.helpers.files"
local browser = require "spec.helpers.browser"
local shell = require "luasible.util.shell"
local read, write = files.read, files.write

local N = 500          -- hosts
local LINES = 200000   -- lines of the big host
local BIG = "n001"

local PLAY = ([[
return {
  name = "many hosts",
  hosts = "all",
  forks = 50,
  tasks = {
    { name = "hello", shell = "echo hello {{ inventory_hostname }}" },
    { name = "dump", streaming_shell = "seq -f 'big line %%07g' 1 %d", when = "inventory_hostname == '%s'" },
    { name = "sevens fail", shell = "case {{ inventory_hostname }} in *7) exit 1;; esac" },
  },
}
]]):format(LINES, BIG)

describe("#browser the dashboard of a big log", function()
  local dir, res, srv_pid

  lazy_setup(function()
    browser.need_playwright()
    dir = files.sh("mktemp -d /tmp/luasible-browser-log.XXXXXX")
    local inv = { "[all]" }
    for i = 1, N do inv[#inv + 1] = ("n%03d ansible_connection=local"):format(i) end
    write(dir .. "/inv.ini", table.concat(inv, "\n") .. "\n")
    write(dir .. "/play.lua", PLAY)
    local _, ok = files.run(("bin/luasible run %s/play.lua -i %s/inv.ini --log %s/run.log >%s/out 2>&1")
      :format(dir, dir, dir, dir))
    assert(not ok, "the sevens should have failed")
    assert((read(dir .. "/out") or ""):find("PLAY RECAP", 1, true), read(dir .. "/out"))
    srv_pid = files.sh(("exec bin/luasible serve %s/run.log --serve 127.0.0.1:0 >%s/serve.out 2>%s/serve.err & echo $!")
      :format(dir, dir, dir))
    local url = browser.url(dir .. "/serve.err", 30)
    local shots = os.getenv("LUASIBLE_SCREENSHOTS")
    local _, done = files.run(("node spec/browser/paging.mjs --url %s --out %s/res.json --big %s --lines %d%s"
      .. " >%s/node.log 2>&1"):format(shell.quote(url), dir, BIG, LINES,
      shots and (" --shots " .. shell.quote(shots)) or "", dir))
    local got = read(dir .. "/res.json")
    assert(got, "paging.mjs wrote nothing (exit " .. tostring(done) .. "): " .. (read(dir .. "/node.log") or ""))
    res = json.decode(got)
  end)

  lazy_teardown(function()
    if srv_pid and browser.alive(srv_pid) then os.execute("kill -INT " .. srv_pid .. " 2>/dev/null") end
    if dir and not os.getenv("LUASIBLE_KEEP") then os.execute("rm -rf " .. shell.quote(dir)) end
  end)

  it("loads the run without an error", function()
    assert.is_nil(res.failure, res.failure)
    assert.same({}, res.errors)
    assert.equal(N, res.hosts)
  end)

  it("makes tiles and matrix rows only for the hosts in view, and scrolls to the last", function()
    assert.is_nil(res.failure, res.failure)
    assert.truthy(res.tiles_in_dom > 0 and res.tiles_in_dom < N / 4, res.tiles_in_dom .. " tiles in the DOM")
    assert.truthy(res.matrix_rows_in_dom > 0 and res.matrix_rows_in_dom < N / 4, res.matrix_rows_in_dom .. " rows")
    local names = {}
    for _, h in ipairs(res.tiles_after_scroll) do names[h] = true end
    assert.truthy(names[res.last_host], "the last host's tile after scrolling to the end")
    assert.falsy(names[BIG], "the first host's tile after scrolling to the end")
    assert.truthy(#res.tiles_after_scroll < N / 4)
    -- scrolling stays smooth: the median frame within two 60 Hz frames
    assert.truthy(res.scroll_frames.p50 < 34, "median frame " .. res.scroll_frames.p50 .. " ms")
  end)

  it("opens the big host's terminal at its end with one page, not the whole output", function()
    assert.is_nil(res.failure, res.failure)
    local o = res.open
    assert.equal(LINES + 1, o.total)   -- "hello n001" and the big lines
    assert.truthy(o.n <= 2000, o.n .. " lines loaded")
    assert.equal(LINES + 1, o.from + o.n)
    assert.equal(("big line %07d"):format(LINES), o.last)
    assert.is_true(o.attached)
    assert.is_true(res.open_numbers.ok)
  end)

  it("fetches older pages on scroll-up and keeps a bounded window", function()
    assert.is_nil(res.failure, res.failure)
    local prev = res.open.from
    for i, s in ipairs(res.up) do
      assert.truthy(s.from < prev, "page " .. i .. " did not go back")
      prev = s.from
      assert.truthy(s.n <= 10000, s.n .. " lines in the window")
      assert.is_true(s.numbers.ok, json.encode(s.numbers))
      -- the buffer's first line is the window's first (line index from: "big line <from>")
      assert.equal(("big line %07d"):format(s.from), s.first)
    end
    assert.is_false(res.up[#res.up].attached, "a window that no longer reaches the end")
  end)

  it("fetches newer pages on scroll-down until it follows the end again", function()
    assert.is_nil(res.failure, res.failure)
    assert.truthy(#res.down > 0)
    local prev = res.up[#res.up].from + res.up[#res.up].n
    for i, s in ipairs(res.down) do
      assert.truthy(s.from + s.n > prev, "page " .. i .. " did not go forward")
      prev = s.from + s.n
      assert.truthy(s.n <= 10000, s.n .. " lines in the window")
    end
    assert.is_true(res.bottom.attached)
    assert.equal(LINES + 1, res.bottom.from + res.bottom.n)
    assert.is_true(res.bottom.numbers.ok, json.encode(res.bottom.numbers))
  end)

  it("jumps from a search hit into the middle of the output", function()
    assert.is_nil(res.failure, res.failure)
    assert.equal(BIG, res.hits[1].host)
    assert.equal(1, #res.hits)
    assert.truthy(res.jump.selection:find(res.want, 1, true), res.jump.selection)
    assert.truthy(res.jump.n <= 2000)
  end)
end)
