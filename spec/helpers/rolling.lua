--- spec/helpers/rolling.lua: what the rolling-deploy specs share: running
-- bin/luasible (or any command) and reading what the playbooks leave: the
-- log each host appends to (one line a task: host, batch, what, time),
-- the recap lines, the most hosts seen at once in a task.
local files = require "spec.helpers.files"

local M = {}

--- Run a shell command; returns stdout, exit code, stderr.
function M.run(cmd, tmp)
  local errf = tmp .. "/stderr"
  local p = io.popen(cmd .. " 2>" .. errf)
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code, files.read(errf) or ""
end

--- The recap counts of a host in a run's output ({ ok =, changed =, ... }).
function M.recap_of(out, host)
  local line = out:match("\n" .. host .. "%s*:([^\n]*)")
  assert(line, "no recap line for " .. host .. " in:\n" .. out)
  local r = {}
  for k, v in line:gmatch("(%a+)=(%d+)") do r[k] = tonumber(v) end
  if r.rescued == nil then r.rescued = 0 end
  return r
end

--- The hosts that have a recap line.
function M.recap_hosts(out)
  local hosts = {}
  local recap = out:match("PLAY RECAP[^\n]*\n(.*)$") or ""
  for h in recap:gmatch("([%w_.-]+)%s*:%s*ok=") do hosts[#hosts + 1] = h end
  table.sort(hosts)
  return hosts
end

--- A shell line appending "host batch what time" to the log `out`.
function M.log_line(what)
  return "echo \"{{ inventory_hostname }} {{ ansible_play_batch | join(',') }} " .. what
    .. " $(date +%s.%N)\" >> {{ out }}/log"
end

--- The log's entries, in the order they were written: { host, batch, what, t }.
function M.log(dir)
  local out = {}
  for line in (files.read(dir .. "/log") or ""):gmatch("[^\n]+") do
    local h, b, w, t = line:match("^(%S+) (%S*) (%S+) (%S+)$")
    out[#out + 1] = { host = h, batch = b, what = w, t = tonumber(t) }
  end
  return out
end

--- The batches the log shows: the distinct `batch` values in order of first sight.
function M.batches(entries)
  local seen, list = {}, {}
  for _, e in ipairs(entries) do
    if not seen[e.batch] then seen[e.batch], list[#list + 1] = true, e.batch end
  end
  return list
end

--- The hosts (sorted) that logged `what`.
function M.hosts_of(entries, what)
  local hs = {}
  for _, e in ipairs(entries) do if e.what == what then hs[#hs + 1] = e.host end end
  table.sort(hs)
  return hs
end

--- A shell line that counts the hosts in it at once: each host makes its
--- file in DIR/running, writes how many it sees there to DIR/counts, waits
--- `secs`, removes its file (no lock: every host only makes and removes its own).
function M.count_line(secs)
  return "d={{ out }}/running; mkdir -p $d; touch $d/{{ inventory_hostname }}; ls $d | wc -l >> {{ out }}/counts;"
    .. " sleep " .. secs .. "; ls $d | wc -l >> {{ out }}/counts; rm $d/{{ inventory_hostname }}"
end

--- The most hosts seen at once (DIR/counts).
function M.max_count(dir)
  local m = 0
  for n in (files.read(dir .. "/counts") or ""):gmatch("%d+") do m = math.max(m, tonumber(n)) end
  return m
end

return M
