-- luasible.util.diff: the line diff of --diff, against its two references:
-- Python's difflib (what ansible-playbook prints: the same bytes, on many
-- generated cases, through Ansible's own callback _get_diff) and GNU
-- `diff -u` (the same hunks where a change can be shown only one way; and
-- on every case the diff applies with patch(1) to give the new text).
local diff = require "luasible.util.diff"
local cjson = require "cjson"
local files = require "spec.helpers.files"

local TMP = files.tmpdir()

local function sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, code, ok
end

-- A deterministic generator (the cases are the same on every run).
local seed = 12345
local function rand(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n + 1
end

-- texts from a small alphabet of lines (many equal lines: where matchers differ),
-- with or without a last newline, now and then \r\n or \r line ends
local WORDS = { "a", "b", "c", "d", "", "x y", "}", "{", "  return", "end" }
local function text(n, ends)
  local t = {}
  for i = 1, n do t[i] = WORDS[rand(#WORDS)] .. ((ends and rand(12) == 1) and "\r\n" or "\n") end
  local s = table.concat(t)
  if rand(3) == 1 then s = s:gsub("\r?\n$", "") end
  return s
end
-- an edit of s: some lines deleted, replaced, inserted
local function edit(s, k)
  local lines = diff.split(s)
  for _ = 1, k do
    local op, at = rand(3), rand(#lines + 1)
    if op == 1 and lines[at] then table.remove(lines, at)
    elseif op == 2 and lines[at] then lines[at] = WORDS[rand(#WORDS)] .. "\n"
    else table.insert(lines, at, WORDS[rand(#WORDS)] .. "\n") end
  end
  return table.concat(lines)
end

local function oracle(cases)
  local f = TMP .. "/cases.json"
  files.write(f, cjson.encode(cases))
  local out, code = sh("ANSIBLE_NOCOLOR=1 /usr/bin/python3 spec/helpers/difflib_oracle.py " .. f)
  assert.equal(0, code, out)
  return cjson.decode(out)
end

describe("util.diff", function()
  it("splits lines as Python's str.splitlines(True)", function()
    local cases = {}
    for _, s in ipairs({ "", "a", "a\n", "a\nb", "a\r\nb\rc\n", "\n\n", "a\vb\fc\28d\29e\30f",
      "x\194\133y\226\128\168z\226\128\169w", "\r", "\r\n\r\n", "t\226\128\170u" }) do
      cases[#cases + 1] = { before = s, after = s }
    end
    for i, r in ipairs(oracle(cases)) do
      assert.same(r.splitlines, diff.split(cases[i].before), "case " .. i)
    end
  end)

  it("is byte for byte difflib.unified_diff and Ansible's _get_diff on 600 generated cases", function()
    local cases = {}
    for i = 1, 600 do
      local n = ({ 0, 1, 3, 8, 20, 60, 250 })[rand(7)]
      local a = text(n, i % 5 == 0)
      local b = rand(10) == 1 and text(rand(30)) or edit(a, rand(n < 20 and 3 or 12))
      if rand(20) == 1 then b = a end
      local c = { before = a, after = b }
      if rand(2) == 1 then c.before_header, c.after_header = "/srv/x " .. i, "dynamically generated" end
      cases[#cases + 1] = c
    end
    local answers = oracle(cases)
    local differ = 0
    for i, r in ipairs(answers) do
      local c = cases[i]
      local got = diff.unified(diff.split(c.before), diff.split(c.after), "A", "B")
      if got ~= r.unified then differ = differ + 1 end
      assert.equal(r.unified, got, "unified, case " .. i)
      assert.equal(r.entry, diff.render(c), "entry, case " .. i)
    end
    assert.equal(0, differ)
  end)

  it("shows mappings as Ansible's JSON, and the notes of diffs not made", function()
    local cases = {
      { before = { path = "/x", mode = "0644" }, after = { path = "/x", mode = "0600" } },
      { before = { path = "/d", state = "absent" }, after = { path = "/d", state = "directory" } },
      { dst_larger = diff.MAX_SIZE }, { src_binary = 1 }, { dst_binary = 1 },
      { before = "", after = "new\n", before_header = "/n", after_header = "/n" },
      { before = "old\n", after = "", before_header = "/o" },
      { prepared = "a prepared text\n" },
    }
    local answers = oracle(cases)
    for i, r in ipairs(answers) do
      assert.equal(r.entry, diff.render(cases[i]), "case " .. i)
    end
    assert.equal(answers[1].entry .. answers[3].entry, diff.render({ cases[1], cases[3] }))
    assert.equal("", diff.render({ before = "same\n", after = "same\n" }))
  end)

  it("has diff -u's hunks where the change is shown one way only, and applies with patch(1) on every case", function()
    local same, applied = 0, 0
    for i = 1, 150 do
      -- distinct lines: one way to show the change
      local n = rand(60)
      local a = {}
      for k = 1, n do a[k] = "line " .. k .. "\n" end
      local b = {}
      for k = 1, n do
        local r = rand(8)
        if r == 2 then b[#b + 1] = "new " .. i .. "." .. k .. "\n"
        elseif r == 3 then b[#b + 1] = a[k]; b[#b + 1] = "added " .. k .. "\n"
        elseif r ~= 1 then b[#b + 1] = a[k] end -- 1: deleted
      end
      local at, bt = table.concat(a), table.concat(b)
      files.write(TMP .. "/a", at)
      files.write(TMP .. "/b", bt)
      local ref = sh("diff -u " .. TMP .. "/a " .. TMP .. "/b | tail -n +3")
      local mine = diff.unified(diff.split(at), diff.split(bt), "a", "b"):gsub("^[^\n]*\n[^\n]*\n", "")
      assert.equal(ref, mine, "case " .. i)
      same = same + 1
      -- equal lines everywhere: difflib's choice, still a true patch
      local x = text(rand(40) + 1)
      x = x:sub(-1) == "\n" and x or x .. "\n"
      local y = edit(x, rand(6))
      files.write(TMP .. "/x", x)
      files.write(TMP .. "/p", diff.unified(diff.split(x), diff.split(y), "x", "x"))
      local _, code = sh("patch -s -o " .. TMP .. "/y " .. TMP .. "/x < " .. TMP .. "/p 2>&1")
      if x ~= y then
        assert.equal(0, code)
        assert.equal(y, files.read(TMP .. "/y"), "patched, case " .. i)
        applied = applied + 1
      end
    end
    assert.equal(150, same)
    assert.is_true(applied > 100)
  end)

  it("finds difflib's matches in a long text with popular lines (autojunk)", function()
    local a, b = {}, {}
    for k = 1, 1200 do
      a[k] = (k % 3 == 0) and "}\n" or ("stmt " .. k .. "\n")
      b[k] = (k % 3 == 0) and "}\n" or ((k % 97 == 0) and "changed " .. k .. "\n" or ("stmt " .. k .. "\n"))
    end
    local c = { before = table.concat(a), after = table.concat(b) }
    assert.equal(oracle({ c })[1].entry, diff.render(c))
  end)
end)
