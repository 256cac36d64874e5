--- luasible.play: runs plays (see docs/TASKS.md). The face of the task
-- layer: play(play, opts), load(path), exit_code(recap).
--   prepare     load-time checks: a play compiled before any host is touched
--   conditions  when / changed_when / failed_when / until
--   vars        variable precedence, hostvars, secrets
--   connect     a host's connection, opened on first use
--   events      every event: scrubbed, stamped (the core's stamp for a stream's)
--   host_task   one task on one host: loop, retries, result shaping
--   strategy    the worker pool over hosts, task by task, play by play; abort
--   handlers    notify and the handlers at the end of a play
--   recap       counting results; the exit status
local inventory = require "luasible.inventory"
local prepare = require "luasible.play.prepare"
local locate = require "luasible.play.locate"
local is_list = require("luasible.util.schema").is_list
local vars = require "luasible.play.vars"
local events = require "luasible.play.events"
local strategy = require "luasible.play.strategy"
local connect = require "luasible.play.connect"
local errors = require "luasible.util.errors"
local fs = require "luasible.util.fs"

local M = {}

--- Is err the error of a caught signal (luasible.catch_signals())? It is
--- never a task's failure: it stops the whole run.
M.is_interrupt = errors.is_interrupt

M.exit_code = require("luasible.play.recap").exit_code

--- Load a YAML playbook (.yml / .yaml: play/playbook.lua) into the play
--- model (opts.extra_vars: for `{{ }}` in vars_files names). Returns plays,
--- nil, sources (opts.sources of M.play); or nil, err.
function M.load_playbook(path, opts)
  local plays, sources = require("luasible.play.playbook").load(path, opts)
  if not plays then return nil, sources end
  return plays, nil, sources
end

--- Load a play file: a Lua chunk returning a play or a list of plays. The
--- file is read once; its text also gives the tasks' lines for messages.
--- Returns play, nil, locate; or nil, err.
function M.load(path)
  local text = fs.read(path)
  if not text then return nil, "cannot read play file " .. path end
  local play, err = require("luasible.util.luafile").run(text, path)
  if err then return nil, err end
  if type(play) ~= "table" then return nil, path .. ": must return a play table (or a list of plays)" end
  return play, nil, locate.new(text)
end

-- The locator of the play file: opts.locate (from M.load), else the file read.
local function locator(opts)
  if opts.locate then return opts.locate end
  local text = type(opts.play_file) == "string" and fs.read(opts.play_file)
  return text and locate.new(text) or nil
end

-- The inventory and every play prepared (checked, hosts chosen): inv,
-- prepared; or nil, err.
local function prepare_all(play, opts)
  -- opts.vault: a keyring (luasible.vault.secrets.keyring) for vault content
  if opts.vault then require("luasible.vault").use(opts.vault) end
  local iopts = {}
  for k, v in pairs(opts.inventory_opts or {}) do iopts[k] = v end
  if iopts.extra_vars == nil then iopts.extra_vars = opts.extra_vars end  -- constructed's use_extra_vars
  local inv, ierr = inventory.load(opts.inventory, iopts)
  if not inv then return nil, ierr end
  -- a list of plays (a non-empty list), or one play
  local plays, many = { play }, false
  if type(play) == "table" and next(play) ~= nil and is_list(play) then plays, many = play, true end
  local prepared = {}
  local dynamic = false
  local where = locator(opts)
  for i, p in ipairs(plays) do
    local popts = setmetatable({ locate = where, play_index = many and i or nil }, { __index = opts })
    -- a YAML playbook: each play's own file and locator (play/playbook.lua)
    local src = opts.sources and opts.sources[i]
    if src then popts = setmetatable({ play_file = src.play_file, locate = src.locate,
      play_index = src.play_index }, { __index = opts }) end
    if dynamic then popts = setmetatable({ dynamic_hosts = true }, { __index = popts }) end
    if not src and type(p) == "table" and p.roles ~= nil then -- a Lua play's roles (play/lua_roles.lua)
      local lp, where2 = require("luasible.play.lua_roles").expand(p, popts)
      if not lp then return nil, where2 end
      p, popts = lp, setmetatable({ locate = where2 }, { __index = popts })
    end
    local pp, err = prepare.prepare(p, popts, inv)
    if not pp then return nil, err end
    prepared[i] = pp
    for _, section in ipairs({ pp.pre_tasks, pp.tasks, pp.post_tasks, pp.handlers }) do
      for _, t in ipairs(section) do
        if t.mod and t.mod.changes_inventory then dynamic = true end -- add_host, group_by: later plays' hosts
      end
    end
  end
  return inv, prepared
end

--- Check plays as a run would, running nothing (--syntax-check,
--- --list-tasks, --list-hosts): the prepared plays (name, hosts, pre_tasks,
--- tasks, post_tasks, handlers), or nil, err.
function M.check(play, opts)
  local inv, prepared = prepare_all(play, opts or {})
  if not inv then return nil, prepared end
  return prepared
end

--- Run one play or a list of plays. Returns recap, details; or nil, err when
--- the play or its inventory is invalid (then nothing ran on any host).
function M.play(play, opts)
  opts = opts or {}
  local inv, prepared = prepare_all(play, opts)
  if not inv then return nil, prepared end
  if opts.start_at_task then -- --start-at-task (play/start_at.lua)
    local ok_s, serr = require("luasible.play.start_at").apply(prepared, opts.start_at_task)
    if not ok_s then return nil, serr end
  end
  -- the open file limit raised to the hard limit for the hosts that run at once
  local ok_c, core = pcall(require, "luasible.core")
  require("luasible.play.limits").raise(ok_c and core or nil)
  -- read once every play is prepared (a play may have added the implicit localhost)
  local layer, lerr = vars.play_layer(inv, opts)
  if lerr then return nil, lerr end
  -- every ansible_connection names a kind there is, before any host is touched
  local cpath = connect.plugin_path(opts)
  if not opts.connect then
    local okk, kerr = connect.check_kinds(prepared, inv, layer, opts, cpath)
    if not okk then return nil, kerr end
  end
  local ok_l, luasible = pcall(require, "luasible")
  if not ok_l then
    if not opts.connect then return nil, "luasible core not available: " .. tostring(luasible) end
    luasible = nil
  end
  local groups = {}
  for _, g in ipairs(inv.group_order) do groups[g] = inv:group_hosts(g) end
  local secrets = vars.secrets()
  local run = {
    events = events.new(opts.on_event, luasible, secrets), secrets = secrets,
    check = opts.check and true or false, connect = opts.connect, forks_opt = opts.forks,
    diff = opts.diff and true or false, -- --diff (a play's or task's `diff:` wins)
    step = opts.step and true or nil, -- --step: ask before each task (play/step.lua)
    force_handlers = opts.force_handlers and true or nil, -- --force-handlers (a play's own wins: play/strategy.lua)
    default_forks = opts.default_forks, var_defaults = opts.var_defaults,
    extra_vars = vars.copy_into({}, opts.extra_vars), recap = {}, details = {}, groups = groups,
    luasible = luasible,
    base_dir = opts.base_dir or ".",
    playbook_dir = ok_c and core.realpath(opts.base_dir or ".") or opts.base_dir or ".",
    tasks = {}, state = {},
    inv = inv, layer = layer, -- delegate_to's hosts (play/delegate.lua); add_host, group_by change inv
    -- what the command line gives every SSH connection (-k's password, -F)
    connect_defaults = opts.connect_defaults,
    connection_plugins = cpath,
  }
  run.hostvars = vars.hostvars(inv, layer, run) -- live views of each host's state
  secrets:add(run.extra_vars)
  if opts.connect_defaults then secrets:add({ ansible_password = opts.connect_defaults.password }) end
  local now = run.events.now
  local t0 = now()
  local ok, err = pcall(strategy.run_plays, run, prepared, inv, layer)
  if not ok then
    -- interrupted (a caught signal) or an internal error: stop every command
    -- and close every connection before the error goes on
    strategy.abort(run)
    -- a run-time error of the playbook (a vars file missing for a host:
    -- play/vars_files.lua): Ansible's ERROR!, the run stops, no recap
    if run.fatal then return nil, run.fatal end
    if errors.is_interrupt(err) then
      local sig = "SIG" .. (err.signal or "INT")
      run.events:emit({ type = "interrupted", signal = sig, data = "interrupted (" .. sig .. ")" })
      run.events.play = nil
      run.events:emit({ type = "recap", recap = run.recap, elapsed = now() - t0, interrupted = sig })
    end
    error(err, 0)
  end
  run.events:emit({ type = "recap", recap = run.recap, elapsed = now() - t0 })
  return run.recap, { hosts = run.details, elapsed = now() - t0, break_play = run.break_play, cleared = run.cleared }
end

return M
