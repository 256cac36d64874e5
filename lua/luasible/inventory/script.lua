--- luasible.inventory.script: dynamic inventories: an executable run as
-- Ansible's script plugin runs it (`SCRIPT --list`: JSON of groups, with
-- `_meta.hostvars`, else `SCRIPT --host HOST` for each host), and the
-- reader of that JSON shape, which Lua inventory plugins return too:
--
--   { "web": { "hosts": ["w1", "w2"], "vars": { "port": 80 }, "children": ["x"] },
--     "db": ["d1"],                      -- a list: the group's hosts
--     "_meta": { "hostvars": { "w1": { "ansible_host": "10.0.0.1" } } } }
--
-- A group whose value is a mapping without hosts, vars and children is,
-- as in Ansible, one host of the group's name with those vars. Host names
-- are taken as they are (no ranges, no port). The script runs through the
-- core's processes (never a shell), with a timeout, its own process group
-- killed when it overruns; a non-zero exit, bad JSON or a bad shape is an
-- error naming the script and showing its stderr.
local core = require "luasible.core"
local scheduler = require "luasible.scheduler"
local yaml = require "luasible.yaml"
local S = require "luasible.util.schema"

local M = {}

M.DEFAULT_TIMEOUT = 60   -- seconds for one run of a script (--list or --host)
M.HOST_PARALLEL = 8      -- --host runs at once, when there is no _meta.hostvars

local is_null = yaml.is_null

-- a mapping: decoded as one, empty, or (a table a Lua plugin made) not a list
local function is_map(v)
  return type(v) == "table" and not is_null(v) and (yaml.keys(v) ~= nil or next(v) == nil or not S.is_list(v))
end
local function is_list(v) return type(v) == "table" and not is_null(v) and not yaml.keys(v) and S.is_list(v) end

--- Is the file at `file` (its stat `st`, its first bytes `head`) an
--- inventory script? Executable by someone and starting with `#!` or an
--- ELF header (Ansible runs any executable; one it cannot exec it then
--- reads as YAML or INI, as luasible does).
function M.is_script(st, head)
  if not st or st.type ~= "file" or (st.mode & 73) == 0 then return false end  -- 73 = 0111
  return head:sub(1, 2) == "#!" or head:sub(1, 4) == "\127ELF"
end

-- the argv[0] that runs `file` itself, never one found on PATH
local function exe(file)
  if file:find("/", 1, true) then return file end
  return "./" .. file
end

-- "SCRIPT --list" for messages
local function shown(file, args)
  return file .. " " .. table.concat(args, " ")
end

-- the stderr of a run, for a message: "" or ":\n<its text>" (at most 4 KiB)
local function stderr_of(res)
  local err = res.stderr or ""
  if err == "" then return "" end
  if #err > 4096 then err = err:sub(1, 4096) .. "\n[...]" end
  return "; its stderr:\n" .. err:gsub("\n$", "")
end

--- Start `file args...`; returns a started run (for M.finish) or nil, err.
local function start(file, args, timeout, found)
  local argv = { found and file or exe(file) }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local s, err = core.spawn(argv, { capture = true, lines = false, progress = false,
    timeout = timeout or M.DEFAULT_TIMEOUT })
  if not s then return nil, "inventory script " .. shown(file, args) .. ": cannot run it: " .. tostring(err) end
  return { s = s, file = file, args = args, timeout = timeout or M.DEFAULT_TIMEOUT }
end

--- Wait for a run; returns its stdout, or nil, err (timed out, killed, a
--- non-zero exit: naming the script and showing its stderr).
local function finish(run)
  local s, res = run.s, nil
  local ok, err = pcall(function()
    repeat
      scheduler.wait(s)
      local ev = s:pop()
      if ev and ev.result then res = ev.result end
    until res or s:finished()
  end)
  s:close()
  -- an interrupt (a caught signal) while waiting: the script's process group is killed, then it goes on
  if not ok then error(err, 0) end
  local what = "inventory script " .. shown(run.file, run.args)
  if not res then return nil, what .. ": no result" end
  if res.timed_out then
    return nil, string.format("%s: timed out after %g s (killed)%s", what, run.timeout, stderr_of(res))
  end
  if res.signal then return nil, what .. ": killed by SIG" .. tostring(res.signal) .. stderr_of(res) end
  if res.rc ~= 0 then
    return nil, string.format("%s: exited with status %s%s", what, tostring(res.rc), stderr_of(res))
  end
  if not utf8.len(res.stdout or "") then return nil, what .. ": its output is not UTF-8" end
  return res.stdout or "", nil, res
end

--- Run argv (argv[1] found on PATH when it has no slash) with a timeout
--- (seconds, default M.DEFAULT_TIMEOUT): its stdout, or nil, err naming
--- the command, with its stderr (a non-zero exit, a timeout, a signal).
function M.run(argv, timeout)
  local run, err = start(argv[1], { table.unpack(argv, 2) }, timeout, true)
  if not run then return nil, err end
  local out, ferr = finish(run)
  if not out then return nil, (ferr:gsub("^inventory script ", "command ", 1)) end
  return out
end

-- decode a script's output (JSON; YAML too, as Ansible's loader reads it)
local function decode(text, what, res)
  local v, err = yaml.load(text, what)
  if err then return nil, err .. stderr_of(res or {}) end
  return v
end

--- Read the `--list` shape `data` (from `source`) into inventory `inv`.
--- `host_vars(hosts)`, when _meta.hostvars is absent, gives { host = vars }
--- for the hosts (or nil, err). Returns true, or nil, "source: what is wrong".
function M.read(inv, data, source, host_vars)
  local function bad(msg) return nil, source .. ": " .. msg end
  if not is_map(data) then return bad("must be a JSON object of groups, got " .. S.show(data)) end
  local hosts, seen, meta = {}, {}, nil
  for _, group in ipairs(yaml.ordered_keys(data)) do
    local g = data[group]
    if group == "_meta" then
      if is_map(g) and g.hostvars ~= nil then meta = g.hostvars end
    else
      if type(group) ~= "string" or group == "" or group:find("%c") then
        return bad("bad group name " .. S.show(group))
      end
      inv:add_group(group)
      if not is_map(g) then g = { hosts = g }
      elseif g.hosts == nil and g.vars == nil and g.children == nil then g = { hosts = { group }, vars = g } end
      if g.hosts ~= nil then
        if not is_list(g.hosts) then
          return bad("group " .. S.quote(group) .. ": hosts must be a list, got " .. S.show(g.hosts))
        end
        for _, h in ipairs(g.hosts) do
          if type(h) ~= "string" or h == "" or h:find("%c") then
            return bad("group " .. S.quote(group) .. ": a host name must be a string without control characters,"
              .. " got " .. S.show(h))
          end
          if not seen[h] then seen[h] = true; hosts[#hosts + 1] = h end
          inv:add_host(h, nil, group)
        end
      end
      if g.vars ~= nil then
        if not is_map(g.vars) then
          return bad("group " .. S.quote(group) .. ": vars must be a mapping, got " .. S.show(g.vars))
        end
        for _, k in ipairs(yaml.ordered_keys(g.vars)) do
          local ok, err = inv:set_group_var(group, k, g.vars[k], yaml.unsafe(g.vars, k))
          if not ok then return bad(err) end
        end
      end
      if g.children ~= nil then
        if not is_list(g.children) then
          return bad("group " .. S.quote(group) .. ": children must be a list, got " .. S.show(g.children))
        end
        for _, c in ipairs(g.children) do
          if type(c) ~= "string" or c == "" or c:find("%c") then
            return bad("group " .. S.quote(group) .. ": bad child " .. S.show(c))
          end
          local ok, err = inv:add_child(group, c)
          if not ok then return bad(err) end
        end
      end
    end
  end
  local vars
  if meta ~= nil then
    if not is_map(meta) then return bad("_meta.hostvars must be a mapping, got " .. S.show(meta)) end
    vars = meta
  elseif host_vars then
    local err
    vars, err = host_vars(hosts)
    if not vars then return nil, err end
  else
    vars = {}
  end
  for _, h in ipairs(hosts) do
    local hv = vars[h]
    if hv ~= nil and not is_null(hv) then
      if not is_map(hv) then
        return bad("the vars of host " .. S.quote(h) .. " must be a mapping, got " .. S.show(hv))
      end
      inv:add_host(h, hv)
    end
  end
  return true
end

-- { host = vars } from `file --host HOST` for each host: M.HOST_PARALLEL
-- runs in flight at once (a window: the next starts as the oldest is read)
local function each_host(file, hosts, timeout)
  local out, runs, started = {}, {}, 0
  local function close_rest(from)
    for m = from, started do if runs[m] then runs[m].s:close() end end
  end
  for i = 1, #hosts do
    while started < #hosts and started < i - 1 + M.HOST_PARALLEL do
      local run, err = start(file, { "--host", hosts[started + 1] }, timeout)
      if not run then
        close_rest(i)
        return nil, err
      end
      started = started + 1
      runs[started] = run
    end
    local run = runs[i]
    runs[i] = nil
    local fok, text, err, res = pcall(finish, run)
    if not fok then
      close_rest(i + 1)
      error(text, 0)
    end
    if not text then
      close_rest(i + 1)
      return nil, err
    end
    if text:match("^%s*$") then out[hosts[i]] = {}
    else
      local v, derr = decode(text, "inventory script " .. shown(file, run.args) .. ": output", res)
      if derr then
        close_rest(i + 1)
        return nil, derr
      end
      out[hosts[i]] = v
    end
  end
  return out
end

--- Run the inventory script `file` and read what it gives into `inv`.
--- opts.timeout: seconds for each run (default M.DEFAULT_TIMEOUT). Returns
--- true, or nil, err.
function M.load(inv, file, opts)
  opts = opts or {}
  local run, err = start(file, { "--list" }, opts.timeout)
  if not run then return nil, err end
  local text, ferr, res = finish(run)
  if not text then return nil, ferr end
  local what = "inventory script " .. shown(file, { "--list" })
  local data, derr = decode(text, what .. ": output", res)
  if derr then return nil, derr end
  return M.read(inv, data, what, function(hosts) return each_host(file, hosts, opts.timeout) end)
end

return M
