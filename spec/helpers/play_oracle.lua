--- spec/helpers/play_oracle.lua: playbooks run by ansible-playbook and by
-- `luasible run` on the same inventory, compared (the #oracle specs of the
-- play language: play_keywords_oracle_spec.lua, role_keywords_oracle_spec.lua).
-- A case is { title, playbook text, files = { ["roles/r/tasks/main.yml"] = text },
-- args = "extra CLI words", shown = { text both print }, hidden = { text neither prints } };
-- each task appends "HOST WHAT" to OUT/log (M.log_task). Compared: the log's
-- lines per host in order (OUT shown as OUT), the recap counts, the exit
-- status; a playbook both refuse: nothing logged, luasible's one line names file:line.
--
--   local oracle = require "spec.helpers.play_oracle"
--   describe("#oracle ...", function()
--     if not oracle.have_ansible() then pending("ansible-playbook not installed") return end
--     for i, c in ipairs(CASES) do it(c[1], function() oracle.check(c, i, { inventory = INV, tmp = TMP }) end) end
--   end)
local files = require "spec.helpers.files"
local cli = require "spec.helpers.cli"
local assert = require "luassert"
local write = files.write

local M = {}

--- A task logging "HOST WHAT" (WHAT: a template) to {{ out }}/log.
function M.log_task(what)
  return "shell: echo \"{{ inventory_hostname }} " .. what .. "\" >> {{ out }}/log"
end

--- An INI inventory of h1 h2 h3 on the local connection, in dir.
function M.inventory(dir)
  local inv = dir .. "/inv.ini"
  write(inv, "[web]\nh1\nh2\nh3\n[web:vars]\nansible_connection=local\n"
    .. "ansible_python_interpreter=/usr/bin/python3\n")
  return inv
end

-- the log's lines, host by host in order: { host = { what, ... } }
local function log_of(dir)
  local by = {}
  for line in (files.read(dir .. "/log") or ""):gmatch("[^\n]+") do
    local h, what = line:match("^(%S+) (.*)$")
    by[h] = by[h] or {}
    local at = what:find(dir, 1, true)
    while at do
      what = what:sub(1, at - 1) .. "OUT" .. what:sub(at + #dir)
      at = what:find(dir, 1, true)
    end
    table.insert(by[h], what)
  end
  return by
end
M.log_of = log_of

--- One case run both ways and compared (inside an `it`); o = { inventory =, tmp = }, i: its number.
function M.check(c, i, o)
  local d = cli.case_dir(o.tmp, i, c[2], c.files)
  local A, Lu = cli.both { playbook = d .. "/site.yml", inventory = o.inventory, out = d, tmp = o.tmp, args = c.args,
    env = c.env }
  local aout, acode, aerr, lout, lcode, lerr = A.out, A.code, A.err, Lu.out, Lu.code, Lu.err
  local why = "\nansible:\n" .. aout .. aerr .. "\nluasible:\n" .. lout .. lerr
  assert.equal(acode == 0, lcode == 0, "exit status" .. why)
  if acode ~= 0 and not aout:find("PLAY RECAP", 1, true) then -- refused before running
    assert.is_nil(files.read(d .. "/luasible/log"), why)
    assert.is_nil(files.read(d .. "/ansible/log"), why)
    -- one line, naming the file and line
    assert.matches("^luasible: error: " .. d:gsub("%p", "%%%0") .. "/[%w_/]+%.yml:%d+: [^\n]+\n$", lerr)
    if c.refusal then assert.truthy(lerr:find(c.refusal, 1, true), why) end
    return
  end
  assert.equal(acode, lcode, "exit status" .. why)
  local a, l = log_of(d .. "/ansible"), log_of(d .. "/luasible")
  assert.is_true(next(cli.recaps(aout)) ~= nil, why)
  assert.same(a, l, why)
  local ar, lr = cli.recaps(aout), cli.recaps(lout)
  for h, counts in pairs(ar) do
    local mine = lr[h] or {}
    for _, k in ipairs({ "ok", "changed", "unreachable", "failed", "skipped", "ignored" }) do
      assert.equal(counts[k], mine[k], h .. " " .. k .. why)
    end
    assert.equal(counts.rescued or 0, mine.rescued or 0, h .. " rescued" .. why)
  end
  for _, s in ipairs(c.hidden or {}) do
    assert.is_nil(aout:find(s, 1, true), "ansible shows " .. s .. why)
    assert.is_nil(lout:find(s, 1, true), "luasible shows " .. s .. why)
  end
  for _, s in ipairs(c.shown or {}) do
    assert.truthy(aout:find(s, 1, true), "ansible hides " .. s .. why)
    assert.truthy(lout:find(s, 1, true), "luasible hides " .. s .. why)
  end
end

--- Is ansible-playbook there (else the specs are pending)?
function M.have_ansible()
  return os.execute("command -v ansible-playbook >/dev/null 2>&1") and true or false
end

return M
