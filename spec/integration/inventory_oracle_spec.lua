--- #oracle: inventories load as Ansible loads them. Every inventory of the
-- real-world corpus (../shared/realworld/inventories, listed in its
-- cases.tsv) and every hand-written one of spec/fixtures/oracle (cases.tsv
-- there: host:port, ranges with ports, IPv6, every INI literal, sections,
-- YAML scalars, !unsafe, priorities, folders, TOML, vars folders, refusals) is loaded
-- by luasible and by `ansible-inventory -i INV --list` (Debian's
-- ansible-core; spec/helpers/inventory_oracle.py, its answers cached in
-- build/oracle-cache), and the two compared: every group with its hosts and
-- children in order (all and ungrouped too), every host, every host's
-- merged variables with their types; refusing where Ansible refuses. Any
-- difference not in DELIBERATE below (each with its reason, also in
-- docs/TASKS.md) fails, and so does an entry of DELIBERATE that no longer
-- happens. `make test-oracle` runs it.
local canon = require "spec.helpers.inventory_canon"
local files = require "spec.helpers.files"

local FIXTURES = "spec/fixtures/oracle"

--- The differences luasible makes on purpose: the case (a Lua pattern on its
--- path), the difference (a pattern on its key, see canon.diff) and why.
local DELIBERATE = {
  { case = "script/host_fails%.sh$", key = "^accepted$",
    reason = "an inventory script's --host that exits non-zero is refused with its stderr: Ansible reads its"
      .. " output anyway, and a failed lookup must not give a host without its variables" },
  { case = "constructed/unknown_option%.yml$", key = "^accepted$",
    reason = "an unknown option of constructed (compos:) is refused naming file:line: Ansible ignores it, and a"
      .. " typo would lose the variables or groups" },
  { case = "script/per_host_empty%.sh$", key = "^refused$",
    reason = "an empty `--host` answer is a host without vars, as Ansible's script plugin means it to be (its"
      .. " test compares bytes with a str, so Ansible refuses it)" },
  { case = "constructed/strict%.yml$", key = "^accepted$",
    reason = "a source of several (-i a -i b) that fails to load is an error: Ansible warns, skips it and goes on"
      .. " with the others, and a host would silently miss its groups" },
  { case = "deliberate/range_reversed%.ini$", key = "^accepted$",
    reason = "a range whose start is after its end (web[3:1]) is refused: Ansible silently gives no host" },
  { case = "deliberate/unknown_key%.yml$", key = "^accepted$",
    reason = "a group key other than hosts, vars and children is refused: Ansible warns and skips it,"
      .. " and a typo (hostz:) loses the hosts" },
  { case = "deliberate/yaml_hosts_list%.yml$", key = "^refused$",
    reason = "a YAML group's hosts may be a list of names, as in a Lua table: Ansible wants a mapping" },
  { case = "deliberate/timestamp%.yml$", key = "^host h1 var ts$",
    reason = "a YAML timestamp stays the text as written: Lua has no date type (Ansible holds a datetime,"
      .. " shown in two forms: 2001-12-14T21:59:43.100000-05:00 in JSON, with a space in a template)" },
  { case = "deliberate/bigint%.yml$", key = "^host h1 var big$",
    reason = "an integer beyond 64 bits stays the text: Lua has no bignums and a float would change the digits" },
  { case = "deliberate/folder_bad/$", key = "^accepted$",
    reason = "a file of an inventory folder that no format reads is refused: Ansible warns and skips it,"
      .. " and a typo must not silently drop hosts" },
}

local function deliberate(case, key)
  for _, d in ipairs(DELIBERATE) do
    if case:find(d.case) and key:find(d.key) then return d end
  end
end

-- the corpus folder: $LUASIBLE_CORPUS, or ../shared/realworld/inventories
-- beside the clone (or beside the folder of worktrees)
local function corpus()
  for _, d in ipairs({ os.getenv("LUASIBLE_CORPUS") or false, "../shared/realworld/inventories",
    "../../shared/realworld/inventories" }) do
    if d and files.read(d .. "/cases.tsv") then return d end
  end
end

-- the inventories of a cases.tsv, as paths
local function cases(dir)
  local out = {}
  for line in files.read(dir .. "/cases.tsv"):gmatch("[^\n]+") do
    if not line:match("^#") and line:match("%S") then
      -- "a|b": several sources (-i a -i b), each relative to the folder
      local parts = {}
      for p in line:match("^([^\t]+)"):gmatch("[^|]+") do parts[#parts + 1] = dir .. "/" .. p end
      out[#out + 1] = table.concat(parts, "|")
    end
  end
  return out
end

local function text(d)
  return d.key .. "\n      luasible: " .. tostring(d.ours) .. "\n      ansible:  " .. tostring(d.theirs)
end

describe("#oracle inventories load as ansible-inventory --list loads them", function()
  local dir = corpus()
  local sets = { { name = "hand-written (" .. FIXTURES .. ")", paths = cases(FIXTURES) } }
  if dir then
    table.insert(sets, 1, { name = "real-world corpus (" .. dir .. ")", paths = cases(dir), corpus = true })
  else
    pending("the real-world corpus ../shared/realworld/inventories is absent (a clone without shared/):"
      .. " only the hand-written inventories are compared")
  end
  local all = {}
  for _, s in ipairs(sets) do for _, p in ipairs(s.paths) do all[#all + 1] = p end end
  local views, why = canon.oracle(all)
  if not views then
    pending("no oracle: " .. why)
    return
  end
  local used, tally = {}, {}

  for _, set in ipairs(sets) do
    tally[set] = { same = 0, deliberate = 0, total = #set.paths }
    describe(set.name, function()
      for _, p in ipairs(set.paths) do
        it(p, function()
          local diffs = canon.diff(canon.luasible(p), views[p])
          local unexpected, excused = {}, 0
          for _, d in ipairs(diffs) do
            local why_d = deliberate(p, d.key)
            if why_d then
              used[why_d] = true
              excused = excused + 1
            else
              unexpected[#unexpected + 1] = text(d)
            end
          end
          if #unexpected == 0 then
            local t = tally[set]
            if excused > 0 then t.deliberate = t.deliberate + 1 else t.same = t.same + 1 end
          end
          assert(#unexpected == 0, #unexpected .. " difference(s) from Ansible in " .. p .. ":\n    "
            .. table.concat(unexpected, "\n    ", 1, math.min(#unexpected, 30)))
        end)
      end
    end)
  end

  it("every deliberate difference still happens (none is stale), and the tally", function()
    local stale = {}
    for _, d in ipairs(DELIBERATE) do
      if not used[d] then stale[#stale + 1] = d.case .. " " .. d.key end
    end
    for _, set in ipairs(sets) do
      local t = tally[set]
      print(string.format("\n%s: %d of %d give Ansible's answer (%d the same, %d with a deliberate difference)",
        set.name, t.same + t.deliberate, t.total, t.same, t.deliberate))
    end
    assert.same({}, stale)
  end)
end)
