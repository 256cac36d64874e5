--- fuzz.play_check: one generated play file (fuzz/play_gen.lua) run through
-- luasible.play in this process, or through `bin/luasible run`, and judged:
-- it runs (its tasks may fail, each with a message for a person), or it is
-- refused with one line that names what was made wrong and the play file.
-- Anything else is a finding: a raised error, a traceback, an internal error
-- (fuzz/oracle.lua), a right play refused, a refusal naming nothing wrong.
local oracle = require "fuzz.oracle"

local M = {}

--- The inventory the cases run on: three local hosts, two in group web.
M.INVENTORY = {
  all = { hosts = { h1 = { ansible_connection = "local" }, h2 = { ansible_connection = "local" },
    h3 = { ansible_connection = "local" } } },
  web = { hosts = { h1 = {}, h2 = {} } },
}
M.INVENTORY_SOURCE = [[
return {
  all = { hosts = { h1 = { ansible_connection = "local" }, h2 = { ansible_connection = "local" },
    h3 = { ansible_connection = "local" } } },
  web = { hosts = { h1 = {}, h2 = {} } },
}
]]

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  assert(f:close())
end

-- A refusal: nil when it is a good one, else what is wrong with it. It
-- names `file` (or `other`: the inventory file of the case).
local function judge_refusal(err, case, file, other)
  local why = oracle.internal(err)
  if why then return "refused with " .. why .. ": " .. tostring(err) end
  if not err:find(file, 1, true) and not (other and err:find(other, 1, true)) then
    return "refused without naming the play or inventory file: " .. err
  end
  if next(case.labels) == nil then return "refused a right play: " .. err end
  -- "tasks" is named as "task 2", "handlers" as "handler 1"
  for label in pairs(case.labels) do
    if err:find(label, 1, true) or err:find((label:gsub("s$", "")), 1, true) then return nil end
  end
  local names = {}
  for l in pairs(case.labels) do names[#names + 1] = l end
  table.sort(names)
  return "refused naming none of what was wrong (" .. table.concat(names, ", ") .. "): " .. err
end

-- The messages of failed results (loop items too), checked.
local function judge_results(details)
  for host, list in pairs(details.hosts or {}) do
    for _, d in ipairs(list) do
      local res = d.result
      local subs = type(res.results) == "table" and res.results or {}
      for _, r in ipairs({ res, table.unpack(subs) }) do
        if type(r) == "table" and (r.failed or r.unreachable) then
          local why = oracle.internal(r.msg)
          if why then
            return string.format("host %s, task '%s' failed with %s: %s", host, tostring(d.task), why,
              tostring(r.msg))
          end
        end
      end
    end
  end
end

M.TIME_LIMIT = 10 -- seconds of CPU time a case may take in this process

-- fn(...) under a watchdog: an error after M.TIME_LIMIT s of CPU time in
-- this (the main) coroutine; the scheduler's own coroutines are not watched.
local function watched(fn, ...)
  local t0 = os.clock()
  debug.sethook(function()
    if os.clock() - t0 > M.TIME_LIMIT then
      debug.sethook()
      error("fuzz: the case ran for more than " .. M.TIME_LIMIT .. " s (a hang?)", 0)
    end
  end, "", 1000000)
  local r = table.pack(pcall(fn, ...))
  debug.sethook()
  return table.unpack(r, 1, r.n)
end

-- How many host tasks of `details` failed.
local function failures(details)
  local n = 0
  for _, list in pairs(details.hosts or {}) do
    for _, d in ipairs(list) do if d.status == "failed" or d.status == "unreachable" then n = n + 1 end end
  end
  return n
end

--- Run `case` in this process, its play written to `file`. Returns nil, or
--- the finding; then what became of the case: "refused", "ran" or
--- "failed" (it ran, a task failed). The tree's lua/ must be on package.path.
function M.in_process(case, file)
  local plays = require "luasible.play"
  write(file, case.source)
  local inv = M.INVENTORY
  if case.inventory then
    inv = file:gsub("%.lua$", "") .. "_inventory.lua"
    write(inv, case.inventory)
  end
  local ok, play, err, locate = watched(plays.load, file)
  if not ok then return "load raised: " .. tostring(play) end
  if not play then return judge_refusal(err, case, file), "refused" end
  local ran, recap, details = watched(plays.play, play, {
    inventory = inv, play_file = file, locate = locate, on_event = function() end,
    base_dir = file:match("^(.*)/") or ".", play_vars_dir = false,
  })
  if not ran then return "luasible.play raised: " .. tostring(recap) end
  if type(inv) == "string" then os.remove(inv) end
  if not recap then return judge_refusal(details, case, file, type(inv) == "string" and inv or nil), "refused" end
  return judge_results(details), failures(details) > 0 and "failed" or "ran"
end

--- Run `case` through `bin/luasible run` (root: the tree), its play in
--- `file`, the inventory in `inv_file` (M.INVENTORY_SOURCE). Returns nil,
--- or the finding.
function M.cli(case, file, inv_file, root)
  write(file, case.source)
  if case.inventory then
    inv_file = file:gsub("%.lua$", "") .. "_inventory.lua"
    write(inv_file, case.inventory)
  end
  local cmd = string.format("cd %q && lua5.4 bin/luasible run %q -i %q --no-color </dev/null 2>%q.err",
    root, file, inv_file, file)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local _, _, code = p:close()
  local ef = assert(io.open(file .. ".err", "rb"))
  local err = ef:read("a")
  ef:close()
  os.remove(file .. ".err")
  if case.inventory then os.remove(inv_file) end
  for line in (out .. err):gmatch("[^\n]+") do
    local why = oracle.internal(line)
    if why and why ~= "more than one line" then return "CLI printed " .. why .. ": " .. line end
  end
  if code == 1 then
    local msg = err:match("^luasible: error: ([^\n]*)\n$")
    if not msg then return "CLI exit 1 without one 'luasible: error:' line: " .. err end
    return judge_refusal(msg, case, file, inv_file)
  elseif code ~= 0 and code ~= 2 then
    return "CLI exit " .. tostring(code) .. ": " .. err
  end
  return nil
end

return M
