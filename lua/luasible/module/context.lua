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
local transfer = require "luasible.transfer"
local difflib = require "luasible.util.diff"
local regex = require "luasible.util.regex"
local rx_filters = require "luasible.template.filters.regex"

local M = {}

local Ctx = {}
Ctx.__index = Ctx

--- ctx = M.new{ conn=, host=, vars=, emit=, check_mode=, diff=, become=, task=, base_dir=, now=, sleep=,
---   module_path=, role_path= (a role's task: its templates/ and files/ first) }
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
--- Does the regular expression (Python's syntax) match somewhere in s?
--- true/false, or nil, err for a bad pattern.
function Ctx.re_search(pattern, s)
  local r, err = require("luasible.util.regex").compile(pattern)
  if not r then return nil, err end
  return r:search(s) ~= nil
end
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
  if opts.env then
    env = {}
    for k, v in pairs(opts.env) do env[tostring(k)] = template.tostring(v) end
  end
  local e = { cwd = opts.cwd, env = env, timeout = opts.timeout, stdin = opts.stdin, max_line = opts.max_line }
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

---------------------------------------------------------------------------
-- Diffs (--diff): ctx.diff is true when the task shows what it changes
---------------------------------------------------------------------------

Ctx.MAX_DIFF_SIZE = difflib.MAX_SIZE -- 104448 bytes, Ansible's max_diff_size: a bigger text is not diffed

--- A result's diff entry, in Ansible's shape, or nil when the task is not
--- in diff mode (ctx.diff false). before/after: the old and new text
--- (strings; "" for a file not there yet), or mappings (a file's
--- attributes: { path =, mode = "0644", state = ... }, shown as JSON), or
--- false for a text not read because it is larger than MAX_DIFF_SIZE (the
--- entry says so, as Ansible's dst_larger/src_larger). A text over that
--- size, or with a NUL byte, is not diffed either (src_larger, src_binary
--- ...). header / after_header: the names shown (`before: HEADER`); a nil
--- header shows `before`. Put it (or a list of them) in the result's `diff`.
function Ctx:diff_result(before, after, header, after_header)
  if not self.diff then return nil end
  local d = self.object()
  local function put(v, side, tag)
    if v == false or (type(v) == "string" and #v > difflib.MAX_SIZE) then d[tag .. "_larger"] = difflib.MAX_SIZE
    elseif type(v) == "string" and v:find("\0", 1, true) then d[tag .. "_binary"] = 1
    else d[side] = v or "" end
  end
  put(before, "before", "dst")
  put(after, "after", "src")
  if d.before ~= nil and d.after ~= nil then
    d.before_header, d.after_header = header, after_header or header
  end
  return d
end

--- The text of a host's file for a diff: "" when `st` (its ctx:stat) is
--- nil (not there), false when it is larger than MAX_DIFF_SIZE (not read).
function Ctx:diff_read(p, st)
  if not st then return "" end
  if (tonumber(st.size) or 0) > difflib.MAX_SIZE then return false end
  return self:run({ "cat", "--", p }).stdout
end

--- The attributes part of a diff, as Ansible's modules show it: before and
--- after mappings of what changes of mode ("0644"), owner and group
--- (numeric ids); `path` added when given. st: the ctx:stat of the file;
--- want: { mode=, owner=, group= }.
function Ctx:diff_attrs(p, st, want, is_dir)
  local before, after = self.object({ path = p }), self.object({ path = p })
  if not st then return before, after end
  if want.mode then
    local have = tonumber(st.mode, 8)
    local bits = have and mode.bits(want.mode, have, is_dir)
    if bits and bits ~= have then
      before.mode, after.mode = string.format("0%03o", have), string.format("0%03o", bits)
    end
  end
  local function id(kind, v, cur)
    if v == nil then return nil end
    if tostring(v):match("^%d+$") then return tonumber(v) end
    local out, rc = self:sh(kind == "owner" and ("id -u -- " .. shell.quote(v))
      or ("getent group " .. shell.quote(v) .. " | cut -d: -f3"))
    return rc == 0 and tonumber(out) or cur
  end
  local uid, gid = id("owner", want.owner, st.uid), id("group", want.group, st.gid)
  if uid and uid ~= tonumber(st.uid) then before.owner, after.owner = tonumber(st.uid), uid end
  if gid and gid ~= tonumber(st.gid) then before.group, after.group = tonumber(st.gid), gid end
  return before, after
end

---------------------------------------------------------------------------
-- This machine (the controller): for modules whose work starts here
-- (synchronize runs rsync here, over the host's own SSH settings)
---------------------------------------------------------------------------

--- Run a command on this machine, as ctx:run runs one on the host (an argv
--- table, or a string for /bin/sh -c; opts cwd, env, stdin, timeout,
--- stream/on_output, allow_error; never become). Returns res; a command
--- that cannot start is a failed task (opts.allow_error: nil, err, name).
function Ctx:run_local(cmd, opts)
  opts = opts or {}
  local e = exec_opts({}, opts)
  if opts.stream or opts.on_output then
    local emit = self.emit
    e.stream_output = true
    e.on_output = opts.on_output or function(line, is_stderr, from)
      emit({ type = is_stderr and "stderr" or "stdout", data = line }, from)
    end
  end
  local conn <close> = require("luasible.connection").new_local()
  local res, err, name = conn:execute(cmd, e)
  if not res then
    if opts.allow_error then return nil, err, name end
    self:fail(err)
  end
  return res
end

--- The task's connection's SSH settings as it resolved them (the inventory,
--- the ssh_config): { host, port, user, identities = { paths }, known_hosts,
--- host_key_check = "strict"|"accept-new"|"off", jump = { hop, ... } (the
--- ProxyJump chain in order, each with the same fields), proxy_command },
--- or nil when the connection is not SSH. No password is in it.
function Ctx:ssh_settings()
  local r = type(self.conn) == "table" and rawget(self.conn, "_r")
  if type(r) ~= "table" or self.conn.kind ~= "ssh" then return nil end
  local function one(x)
    local ids = {}
    for _, id in ipairs(x.identities or {}) do ids[#ids + 1] = id.path end
    return { host = x.hostname, port = x.port, user = x.user, identities = ids, known_hosts = x.known_hosts,
      host_key_check = x.host_key_check }
  end
  local s = one(r)
  s.proxy_command = r.proxy_command
  s.jump = {}
  local h = r.jump
  while h do
    table.insert(s.jump, 1, one(h))
    h = h.jump
  end
  return s
end

---------------------------------------------------------------------------
-- Files on the host
---------------------------------------------------------------------------

--- Remote sha256 of a file, or nil if it does not exist / is not readable.
function Ctx:remote_sha256(p)
  local out, rc = self:sh(remote.file_sha256(p))
  if rc ~= 0 then return nil end
  return remote.sha256_of(out)
end

--- Remote file state: { type="file"|"directory"|"link"|..., mode="644", owner=, group=, size=,
--- uid=, gid= } or nil. A symbolic link is described itself (lstat); with
--- `follow`, what it points to.
function Ctx:stat(p, follow)
  local out, rc = self:sh(remote.stat(p, follow))
  if rc ~= 0 or out == "" then return nil end
  return remote.parse_stat(out)
end

--- Where a path leads once every symbolic link in it is followed (the
--- last one may dangle), or nil when that cannot be told.
function Ctx:realpath(p)
  local out, rc = self:sh(remote.realpath(p))
  if rc ~= 0 or out == "" then return nil end
  return out
end

--- Check that a user and a group exist on the host (numeric ids always do).
--- Returns true, or nil, msg.
function Ctx:check_owner(owner, group)
  if owner and not tostring(owner):match("^%d+$") and select(2, self:sh(remote.user_exists(owner))) ~= 0 then
    return nil, "no such user '" .. owner .. "'"
  end
  if group and not tostring(group):match("^%d+$") and select(2, self:sh(remote.group_exists(group))) ~= 0 then
    return nil, "no such group '" .. group .. "'"
  end
  return true
end

--- Write content to a remote path, atomically (a temporary file in the
--- same folder, then a rename): transfer.put (lua/luasible/transfer.lua),
--- with the connection's put (SFTP on SSH, file I/O on the local
--- connection) when it has one and no become is in force; otherwise its
--- execute path (the content on stdin, in chunks), which works on any
--- connection and through sudo. The requested mode is
--- applied to the temporary file (created 0600) before the rename, so the
--- target never has a wider mode than asked for, not even briefly. A
--- symbolic mode is applied to the target's current mode (0644 when it is
--- new). on_progress(p) gets transfer progress ({ stage = "transferring",
--- bytes_done, bytes_total, percentage }).
--- Returns true, or nil, err; raises unreachable when the host is lost.
function Ctx:write(content, dest, want_mode, on_progress)
  local conn = self.conn
  local bits
  if want_mode ~= nil then
    local err
    local base, is_dir = 420, false
    if not mode.is_numeric(want_mode) then
      local st = self:stat(dest, true) -- a link: its target's mode, never the link's 0777
      if st and st.mode then base, is_dir = tonumber(st.mode, 8) or base, st.type == "directory" end
    end
    bits, err = mode.bits(want_mode, base, is_dir)
    if not bits then return nil, err end
  end
  -- become, or a connection without put: the execute path (the content on
  -- stdin, in chunks, through ctx:run and so through sudo)
  local via = ((self.become and self.become.become) or not conn.put) and "execute" or nil
  local res, err, name = transfer.put(conn, content, dest, { content = true, mode = bits,
    on_progress = on_progress, via = via, run = function(cmd, o)
      o = o or {}
      o.allow_error = true
      return self:run(cmd, o)
    end })
  if not res then
    if is_unreachable(err, name) then self:unreachable(err) end
    return nil, err
  end
  return true
end

return M
