--- luasible.play.connect: a host's connection, opened when a task first
-- needs it and kept for the run: the connection variables with the whole
-- precedence applied, inventory's connect arguments, luasible.connect (or
-- the play's own opts.connect).
local inventory = require "luasible.inventory"
local template = require "luasible.template"
local vars = require "luasible.play.vars"
local is_interrupt = require("luasible.util.errors").is_interrupt

local M = {}

--- The connection variables of a host (inventory < play vars < extra vars,
--- so `-e ansible_user=x` works), their {{ }} rendered. Returns them or nil, err.
function M.vars(run, host)
  local all = vars.host_vars(run, host)
  local out = {}
  for k, v in pairs(all) do
    if type(k) == "string" and (k:match("^ansible_") or k:match("^luasible_")) then
      if type(v) == "string" and v:find("{{", 1, true) and not template.is_unsafe(all, k) then
        local r, err = template.render_value(v, all)
        if err then return nil, "host " .. host .. ": " .. k .. ": " .. err end
        v = r
      end
      out[k] = v
    end
  end
  -- the play's remote_user, connection and port: where the host's variables
  -- name none (a variable wins over the keyword, as in Ansible; the
  -- configuration's and -u's defaults lose to the keyword)
  local raw = run.play and run.play.raw or {}
  local st = run.state and run.state[host]
  local dflt = st and st.from_defaults or {}
  local pvars = type(raw.vars) == "table" and raw.vars or {}
  -- a name the run's defaults gave, that no play var or extra var set again
  local function unset(var)
    return out[var] == nil or (dflt[var] and (run.extra_vars or {})[var] == nil and pvars[var] == nil)
  end
  local function keyword(value, var, alias)
    if value == nil then return end
    if unset(var) and (alias == nil or unset(alias)) then out[var] = value end
  end
  keyword(raw.remote_user, "ansible_user", "ansible_ssh_user")
  keyword(raw.connection, "ansible_connection")
  keyword(raw.port, "ansible_port", "ansible_ssh_port")
  return out
end

--- Fill the host variables `iv` with the run's defaults (the configuration's
--- connection settings, -u, -b: under everything); returns the set of the
--- names filled so (a play keyword wins over them: M.vars).
function M.fill_defaults(run, iv)
  local from = {}
  for k, v in pairs(run.var_defaults or {}) do
    if iv[k] == nil then iv[k], from[k] = v, true end
  end
  return from
end

--- The host's connection, opened on first use. Returns conn or nil, err.
--- One connection a host: while it is being opened, other tasks of the run
--- that need it (hosts delegating to it: play/delegate.lua) wait for it.
function M.open(run, host)
  local st = run.state[host]
  -- a play whose remote_user / connection / port differ from the play that
  -- opened the connection: a new one (the later plays of a run reuse it otherwise)
  local raw = run.play and run.play.raw
  local key = raw and (raw.remote_user or raw.connection or raw.port)
    and table.concat({ raw.remote_user or "", raw.connection or "", raw.port or "" }, "\0") or ""
  if st.conn and (st.conn_key or "") ~= key and not st.opening then M.close(run, { host }) end
  if st.conn then return st.conn end
  st.conn_key = key
  if st.opening then -- another task is opening it: its outcome is this one's too
    local mine = st.opening
    while st.opening == mine do run.luasible.sleep(0.005) end
    if st.conn then return st.conn end
    return nil, mine.err
  end
  local mark = {}
  st.opening = mark
  local ok, conn, err = pcall(M.open_now, run, host)
  mark.err = ok and err or nil
  st.opening = nil
  if not ok then error(conn, 0) end
  return conn, err
end

--- The host's connection opened now (M.open: once).
function M.open_now(run, host)
  local st = run.state[host]
  local conn, err
  if run.connect then
    -- the caller's own function: what it raises is this host's error
    local ok
    ok, conn, err = pcall(run.connect, st.inv_vars, host)
    if not ok then
      if is_interrupt(conn) then error(conn, 0) end
      conn, err = nil, "connect: " .. tostring(conn)
    end
  else
    local cvars, verr = M.vars(run, host)
    if not cvars then return nil, verr end
    local args, aerr = inventory.connect_args(host, cvars, run.connection_plugins)
    if not args then return nil, aerr end
    if type(args) == "table" then -- -k's password, -F: where the host sets none
      for k, v in pairs(run.connect_defaults or {}) do
        if args[k] == nil then args[k] = v end
      end
    end
    conn, err = require("luasible").connect(args)
  end
  if not conn then return nil, tostring(err or "could not connect") end
  st.conn = conn
  return conn
end

--- The folders searched for connection plugins (lua/luasible/plugins.lua)
--- in a run: opts.connection_plugins (the setting), connection_plugins/
--- beside the play (opts.base_dir).
function M.plugin_path(opts)
  local out = {}
  local cp = opts.connection_plugins
  for _, d in ipairs(type(cp) == "table" and cp or { cp }) do out[#out + 1] = d end
  if opts.base_dir then out[#out + 1] = opts.base_dir .. "/connection_plugins" end
  return out
end

--- Before any host is touched: every host's ansible_connection (extra
--- vars, the play's vars, the host's, the configuration's) names a kind
--- there is (a plugin on the path). Returns nil, err for the first that
--- does not; a templated value is checked when the host connects.
function M.check_kinds(plays, inv, layer, opts, path)
  local plugins = require "luasible.plugins"
  local search = plugins.search_path(path)
  local extra = (opts.extra_vars or {}).ansible_connection
  for _, p in ipairs(plays) do
    local pvars = type(p.raw) == "table" and type(p.raw.vars) == "table" and p.raw.vars or {}
    for _, h in ipairs(p.hosts or {}) do
      local c = extra or pvars.ansible_connection or inv:host_vars(h, layer).ansible_connection
        or p.raw.connection or (opts.var_defaults or {}).ansible_connection
      if type(c) == "string" and not c:find("{{", 1, true) and not plugins.BUILTIN[c] then
        local _, _, err = plugins.find(c, search)
        if err then return nil, "host " .. h .. ": unsupported ansible_connection '" .. c .. "': " .. err end
      end
    end
  end
  return true
end

--- Close the connections of these hosts (every host of the run when nil).
--- Returns whether any was open.
function M.close(run, hosts)
  local any = false
  local function close(st)
    local conn = st and st.conn
    if not conn then return end
    st.conn = nil
    if conn.close then
      pcall(conn.close, conn)
      any = true
    end
  end
  if hosts then
    for _, h in ipairs(hosts) do close(run.state[h]) end
  else
    for _, st in pairs(run.state or {}) do close(st) end
  end
  return any
end

return M
