--- luasible.module.context_files: the methods of a module's ctx for this
-- machine's commands (synchronize's rsync runs here, over the host's own
-- SSH settings) and for files on the host (sha256, stat, realpath,
-- owners, the atomic write). Installed on the ctx's methods by
-- module/context.lua.
local remote = require "luasible.remote"
local mode = require "luasible.module.mode"
local transfer = require "luasible.transfer"

local M = {}

--- Put the methods on Ctx (module/context.lua's method table); shared:
--- { is_unreachable = fn(err, name) } (what makes a failure the host's),
--- { exec_opts = fn(ctx, opts) } (a command's connection options).
function M.install(Ctx, shared)
  local is_unreachable, exec_opts = shared.is_unreachable, shared.exec_opts
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

  --- Ctx:stat (lstat) and, for a regular file, its SHA-256 (else nil), in
  --- one command: st, sha256; nil when nothing is there.
  function Ctx:stat_sha256(p)
    local out, rc = self:sh(remote.stat_sha256(p))
    if rc ~= 0 or out == "" then return nil end
    local first, rest = out:match("^([^\n]*)\n?(.*)$")
    return remote.parse_stat(first), remote.sha256_of(rest)
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

end

return M
