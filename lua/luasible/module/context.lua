--- luasible.module.context: the ctx handed to a module's run(ctx, args).
-- Everything a module needs is here, so that modules require nothing of
-- luasible's (the list is in docs/TASKS.md, "Writing a module"):
--   ctx.f(...)   plain helpers (text, checksums, modes) and this
--                machine's files: they need no ctx
--   ctx:f(...)   what acts for the task: commands on the host, its
--                vars, its folder, its events
-- The shell text of the host-side helpers comes from luasible.remote.
local core = require "luasible.core"
local template = require "luasible.template"
local json = require "luasible.json"
local shell = require "luasible.util.shell"
local path = require "luasible.util.path"
local fs = require "luasible.util.fs"
local remote = require "luasible.remote"
local mode = require "luasible.module.mode"
local kv = require "luasible.module.kv"
local executable = require "luasible.module.executable"
local regex = require "luasible.util.regex"
local rx_filters = require "luasible.template.filters.regex"

local M = {}

local Ctx = {}
Ctx.__index = Ctx

--- ctx = M.new{ conn=, host=, vars=, emit=, check_mode=, diff=, become=, task=, base_dir=, now=, sleep=,
---   module_path=, role_path= (a role's task: its templates/ and files/ first), environment= (the task's:
---   every command's, under its own env) }
function M.new(t)
  return setmetatable(t, Ctx)
end

---------------------------------------------------------------------------
-- Plain helpers
---------------------------------------------------------------------------
Ctx.quote = shell.quote           -- POSIX shell quoting of one word
Ctx.sha256 = core.sha256          -- hex SHA-256 of a string
Ctx.mode_bits = mode.bits         -- (spec, base, is_dir) -> the mode chmod would give, or nil, err
Ctx.argv = kv.argv                -- a command string as an argv list, or nil, err
Ctx.executable = executable.locate -- (text, marker) -> a program's quoted words and probe, or nil, failed result
Ctx.object = json.object          -- mark a table a mapping: {} stays {} in JSON, not []
-- a value as text for a module's output: tables as JSON with sorted keys,
-- numbers and booleans as templates show them, nil as ""
function Ctx.tostring(v)
  if v == nil then return "" end
  if type(v) == "table" then return json.encode(v) end
  if math.type(v) == "float" and v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
    return string.format("%d", v)
  end
  return tostring(v)
end
Ctx.path = path                   -- util/path: dirname, basename, join, ...

--- A helper library of modules (lua/luasible/module/lib/NAME.lua: what
--- several modules share, or the parts of a big one): ctx.lib("http_request").
--- A name that is no library raises (a module's bug).
function Ctx.lib(name)
  local modname = "luasible.module.lib." .. tostring(name)
  local loaded = package.loaded[modname]
  if loaded and type(name) == "string" then return loaded end
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") or not package.searchpath(modname, package.path) then
    error("ctx.lib: no helper library '" .. tostring(name) .. "' (lua/luasible/module/lib/)", 2)
  end
  return require(modname)
end
M.lib = Ctx.lib

-- Python's re for modules (util/regex.lua: PCRE2): ctx.regex.compile(pattern,
-- flags) -> r (r:search(s, init), r:match, r:each, ...) or nil, err;
-- ctx.regex.subn(r, s, repl, count) -> text, n (re.subn; count 0: all) or
-- nil, err; ctx.regex.expand(repl, s, st, en, caps) -> Match.expand(repl)
-- or nil, err (a bad \g<> or escape in repl).
local function rx_call(f, ...)
  local ok, a, b = pcall(f, ...)
  if ok then return a, b end
  return nil, type(a) == "table" and tostring(a.template_error):gsub("^filter 'regex': ", "") or tostring(a)
end
Ctx.regex = {
  compile = regex.compile,
  subn = function(r, s, repl, count) return rx_call(rx_filters.subn, "regex", r, s, repl, count or 0) end,
  expand = function(repl, s, st, en, caps) return rx_call(rx_filters.expand, "regex", s, st, en, caps, repl) end,
}
Ctx.lines = template.filters.lines -- a text's lines (the template filter), without a last empty one

--- Output as Ansible registers it: without its trailing newline(s).
function Ctx.chomp(s)
  if type(s) ~= "string" then return s end
  return (s:gsub("[\r\n]+$", ""))
end

--- What a failed command said (a ctx:run result): its stderr, else its stdout, chomped.
function Ctx.output_of(res)
  local err = Ctx.chomp(res.stderr or "")
  return err ~= "" and err or Ctx.chomp(res.stdout)
end

--- Does a stat result already have this owner / group? Names and numeric ids both count.
function Ctx.owner_is(st, owner)
  return owner == nil or (st ~= nil and (st.owner == owner or tostring(st.uid) == tostring(owner)))
end
function Ctx.group_is(st, group)
  return group == nil or (st ~= nil and (st.group == group or tostring(st.gid) == tostring(group)))
end

--- Is `name` the name of a secret (a password, passphrase, token ...)?
function Ctx.is_secret_name(name)
  return require("luasible.inventory").is_secret_name(name)
end

-- This machine's (the controller's) files: util/fs.
Ctx.read_raw = fs.read            -- (path) -> the content as it is, or nil, err
-- (path) -> the content (a vault-encrypted file decrypted with the run's
-- vault secrets, its plaintext a secret then: luasible.vault), or nil, err
function Ctx.read_file(file)
  local text, err, name = fs.read(file)
  if not text then return nil, err, name end
  local plain, verr = require("luasible.vault").file_text(text, file)
  if not plain then return nil, verr end
  return plain
end
Ctx.local_stat = fs.stat          -- (path) -> { type=, size=, mode=, mtime= }, or nil, err
Ctx.walk_local = fs.walk          -- (dir) -> sorted { { path = "rel/path", type = }, ... } below dir, or nil, err
--- A YAML (or JSON) text as data, !vault values read as vars files read
--- them (`name` names it in errors): the value, or nil, "name:line: what".
function Ctx.load_yaml(text, name)
  local yaml = require "luasible.yaml"
  local v, err = yaml.load(text, name)
  if err then return nil, err end
  if yaml.is_null(v) then v = nil end
  return v
end
--- The person at the terminal: ctx.interactive() (is there one: stdin a
--- terminal), ctx.ask(text, { echo = false }) -> the line typed, or nil, err.
Ctx.interactive = function() return require("luasible.util.prompt").interactive() end
Ctx.ask = function(text, opts) return require("luasible.util.prompt").ask(text, opts) end
Ctx.mkdir_local = fs.mkdir_p      -- (path [, mode]) -> true, or nil, err

--- The local file a task's `src` names: absolute, else in the play's
--- folder's `sub` folder (files/, templates/), in the play's folder, or
--- relative to the current folder; the first that exists.
function Ctx:find_local(src, sub)
  if path.is_abs(src) then return src end
  local base = self.base_dir or "."
  local cands = { path.join(base, sub, src), path.join(base, src), src }
  if self.role_path then -- a role's task: the role's templates/ or files/ first, then its folder
    table.insert(cands, 1, path.join(self.role_path, src))
    table.insert(cands, 1, path.join(self.role_path, sub, src))
  end
  for _, cand in ipairs(cands) do
    -- there, or there for all we know (EACCES, EMFILE: reading it says why)
    local st, _, name = fs.stat(cand)
    if st or (name ~= "ENOENT" and name ~= "ENOTDIR") then return cand end
  end
  return path.join(base, src)
end

---------------------------------------------------------------------------
-- The task: its vars, other modules, events, verdicts
---------------------------------------------------------------------------

--- The value of an expression in the task's vars, or nil, err.
function Ctx:eval(expr)
  return template.eval(expr, self.vars)
end

--- Is a condition (an expression, as `when:` takes) true in the task's
--- vars? true/false, or nil, err.
function Ctx:test(expr)
  return template.test((tostring(expr):gsub("^%s*{{(.-)}}%s*$", "%1")), self.vars)
end

--- A template's text rendered with the task's vars (`name` names it in
--- errors; `extra`, optional, a table of variables over them), or nil, err.
--- Includes and imports are found as the template module finds its
--- `src`: the play's templates/ folder, then the play's folder (and the
--- folder of the including template); lookups search the play's folder.
function Ctx:render(text, name, extra)
  local base = self.base_dir or "."
  local dirs = { path.join(base, "templates"), base }
  if self.role_path then table.insert(dirs, 1, path.join(self.role_path, "templates")) end
  if name then
    local dir = path.dirname(self:find_local(name, "templates"))
    if dir ~= "" then table.insert(dirs, 1, dir) end
  end
  local vars = extra and setmetatable(extra, { __index = self.vars }) or self.vars
  return template.render(text, vars, name, nil, { search_path = dirs, base_dir = base,
    search_dirs = { path.join(base, "files"), path.join(base, "templates"), base } })
end

--- Another module (to build on it: copy.install), or nil, err: found on
--- ctx.module_path (the play's search path, when the play gives it) or
--- the default one.
function Ctx:module(name)
  return require("luasible.module").load(name, self.module_path) -- here: the loader requires this file
end

--- Emit a progress event for this host/task (`from`: the stream event it relays).
function Ctx:progress(p, from)
  p.timestamp = p.timestamp or (self.now and self.now())
  self.emit({ type = "progress", progress = p }, from)
end

--- Unreachable: raise so the runner marks the host unreachable.
function Ctx.unreachable(_, err) error({ unreachable = true, msg = tostring(err) }, 0) end

--- Failed: raise so the runner reports a failed task with this message.
function Ctx.fail(_, err) error({ failed = true, msg = tostring(err) }, 0) end

-- Error names that mean the host itself is gone or cannot be reached (see
-- docs/SSH.md). Any other name (ENOENT of a missing program or cwd, EACCES,
-- ENOTDIR, ECHANNEL, ECANCELED, ...) is a failure of the task, not of the host.
local UNREACHABLE = {
  ECONNREFUSED = true, ECONNRESET = true, ECONNABORTED = true, ETIMEDOUT = true, ENOTCONN = true,
  EPIPE = true, ESHUTDOWN = true, ECLOSED = true, EHOSTKEY = true, EAUTH = true, EHOSTUNREACH = true,
  ENETUNREACH = true, ENETDOWN = true, EHOSTDOWN = true, EPROTO = true,
}

--- Is the error (message err, name `name`) of execute/stream/put a lost or
--- unreachable host? (execute returns ETIMEDOUT only for a connect
--- timeout: a command's own timeout is a result with timed_out = true.)
function M.is_unreachable(err, name)
  if type(name) ~= "string" then return false end
  if UNREACHABLE[name] or name:match("^ECONN") then return true end
  -- a lost SSH connection that reconnects on use and cannot resolve its host
  return name == "ENOENT" and tostring(err or ""):find("cannot resolve host", 1, true) ~= nil
end
local is_unreachable = M.is_unreachable

---------------------------------------------------------------------------
-- Commands on the host
---------------------------------------------------------------------------

-- The connection's options for a command of this task: cwd, env (values
-- as text), timeout, stdin, max_line, and the task's become.
local function exec_opts(self, opts)
  local env
  if opts.env or self.environment then
    env = {}
    -- the task's environment (play/host_task.lua) under the command's own
    for k, v in pairs(self.environment or {}) do env[tostring(k)] = template.tostring(v) end
    for k, v in pairs(opts.env or {}) do env[tostring(k)] = template.tostring(v) end
  end
  local e = { cwd = opts.cwd, env = env, timeout = opts.timeout, stdin = opts.stdin, max_line = opts.max_line }
  if self.deadline then -- the task's `timeout` keyword (play/host_task.lua): what is left of it
    local left = math.max(0.001, self.deadline - (self.now and self.now() or 0))
    if not e.timeout or e.timeout <= 0 or e.timeout > left then e.timeout = left end
  end
  local b = self.become
  if b and b.become then
    e.sudo, e.user, e.sudo_password = true, b.user or "root", b.password
    if b.method == "su" then e.become_method = "su" end
  end
  return e
end

--- Run a command (an argv table, or a string for /bin/sh -c) with the
--- task's become settings: opts cwd, env, stdin, timeout, max_line.
--- Output lines are emitted as stdout/stderr events with opts.stream (each
--- with the core's event as `from`), or given to opts.on_output(line,
--- is_stderr, event). Returns res; raises
--- unreachable when the host is lost, a failure when the command could not
--- run (opts.allow_error: returns nil, err, name instead).
function Ctx:run(cmd, opts)
  opts = opts or {}
  local eopts = exec_opts(self, opts)
  if opts.stream or opts.on_output then
    local emit = self.emit
    eopts.stream_output = true
    eopts.on_output = opts.on_output or function(line, is_stderr, from)
      emit({ type = is_stderr and "stderr" or "stdout", data = line }, from) -- from: the core's event (seq, timestamp)
    end
    eopts.on_progress = opts.on_progress
  end
  local res, err, name
  -- the task's own command of an async task (opts.job): a remote job (play/async.lua)
  if opts.job and self.async then res = self.async(self, cmd, eopts)
  else res, err, name = self.conn:execute(cmd, eopts) end
  if not res then
    if opts.allow_error then return nil, err, name end
    if is_unreachable(err, name) then self:unreachable(err) end
    self:fail(err)
  end
  return res
end

--- async_status: the state of the async job `jid` on the host, or with
--- mode "cleanup" its folder removed (play/async.lua: the fields are Ansible's).
function Ctx:async_job(jid, how)
  return require("luasible.play.async").status(self, exec_opts(self, {}), jid, how)
end

--- Run a shell snippet and return trimmed stdout, rc, res.
function Ctx:sh(cmd, opts)
  local res = self:run(cmd, opts)
  return (res.stdout or ""):gsub("%s+$", ""), res.rc, res
end

--- for ev in ctx:stream(cmd, opts) do ... end: the connection's events
--- (stdout/stderr lines as they come, progress, then done or error) of a
--- command run as ctx:run runs it. An error event carries `code` (its
--- name, from the event or its result: never read out of the message); one
--- that means the host is lost (no rc, no timeout) raises unreachable.
--- Check ctx.conn.stream first: not every connection has it.
function Ctx:stream(cmd, opts)
  local iter, s, ctl, closing = self.conn:stream(cmd, exec_opts(self, opts or {}))
  return function(st, c)
    local ev = iter(st, c)
    if ev and ev.type == "error" then
      ev.code = ev.code or (ev.result and ev.result.code)
      local res = ev.result or {}
      if res.rc == nil and not res.timed_out and ev.code ~= "ETIMEDOUT" and is_unreachable(ev.error, ev.code) then
        self:unreachable(ev.error)
      end
    end
    return ev
  end, s, ctl, closing
end

--- Run the commands a module found needed (joined with &&) unless there
--- are none or the task is in check mode: then nothing runs and `result`
--- comes back as it is (in check mode with msg "would run: ..."). Returns
--- result, or nil, res when the commands failed.
function Ctx:apply(cmds, result)
  if #cmds == 0 or self.check_mode then
    if self.check_mode and #cmds > 0 then result.msg = "would run: " .. table.concat(cmds, "; ") end
    return result
  end
  local res = self:run(table.concat(cmds, " && "))
  if not res.ok then return nil, res end
  return result
end

--- Is there something at `path` on the host?
function Ctx:exists(p)
  return select(2, self:sh(remote.exists(p))) == 0
end

--- The part command and shell share: honour args.creates / args.removes,
--- run `cmd` (an argv table, or a string for /bin/sh -c) with args.chdir,
--- stdin, timeout and env, streaming, and return the module's result.
function Ctx:run_command(cmd, args)
  if args.creates and self:exists(args.creates) then
    return { changed = false, msg = args.creates .. " exists, not run" }
  end
  if args.removes and not self:exists(args.removes) then
    return { changed = false, msg = args.removes .. " does not exist, not run" }
  end
  local res = self:run(cmd, { cwd = args.chdir, stdin = args.stdin, timeout = args.timeout,
    env = args.env, stream = true, job = true })
  return {
    changed = true, failed = not res.ok, rc = res.rc, signal = res.signal,
    stdout = Ctx.chomp(res.stdout), stderr = Ctx.chomp(res.stderr), duration = res.duration, timed_out = res.timed_out,
    msg = (res.timed_out and "timed out") or (not res.ok and ("non-zero return code " .. tostring(res.rc))) or nil,
  }
end

-- Diffs (--diff): ctx.diff, ctx:diff_result, ctx:diff_read, ctx:diff_attrs (module/context_diff.lua)
require("luasible.module.context_diff").install(Ctx)

-- This machine's commands and the host's files: ctx:run_local, ctx:ssh_settings,
-- ctx:remote_sha256, ctx:stat, ctx:realpath, ctx:check_owner, ctx:write (module/context_files.lua)
require("luasible.module.context_files").install(Ctx, { is_unreachable = is_unreachable, exec_opts = exec_opts })

return M
