-- luasible.module.context: the ctx handed to a module's run(ctx, args),
-- and the helpers modules share.
local template = require "luasible.template"
local transfer = require "luasible.transfer"

local M = {}

---------------------------------------------------------------------------
-- Helpers for modules: sha256, base64, shell quoting
---------------------------------------------------------------------------
M.quote = template.quote

--- Output as Ansible registers it: without its trailing newline(s).
function M.chomp(s)
  if type(s) ~= "string" then return s end
  return (s:gsub("[\r\n]+$", ""))
end

--- The part command and shell share: honour `creates` / `removes`, run `cmd`
--- (an argv table, or a string for /bin/sh -c) with args.chdir, stdin, timeout
--- and env, streaming, and return the module's result.
function M.run_command(ctx, cmd, args)
  local q = ctx.quote
  if args.creates and select(2, ctx:sh("test -e " .. q(args.creates))) == 0 then
    return { changed = false, msg = args.creates .. " exists, not run" }
  end
  if args.removes and select(2, ctx:sh("test -e " .. q(args.removes))) ~= 0 then
    return { changed = false, msg = args.removes .. " does not exist, not run" }
  end
  local res = ctx:run(cmd, { cwd = args.chdir, stdin = args.stdin, timeout = args.timeout,
    env = args.env, stream = true })
  return {
    changed = true, failed = not res.ok, rc = res.rc, signal = res.signal,
    stdout = M.chomp(res.stdout), stderr = M.chomp(res.stderr), duration = res.duration, timed_out = res.timed_out,
    msg = (res.timed_out and "timed out") or (not res.ok and ("non-zero return code " .. tostring(res.rc))) or nil,
  }
end

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

--- SHA-256 of a string, as lowercase hex (pure Lua 5.4).
function M.sha256_lua(msg)
  local function rrot(x, n) return ((x >> n) | (x << (32 - n))) & 0xffffffff end
  local h0, h1, h2, h3 = 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a
  local h4, h5, h6, h7 = 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  local len = #msg
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64) .. string.pack(">I8", len * 8)
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do w[i] = string.unpack(">I4", msg, chunk + i * 4) end
    for i = 16, 63 do
      local a, b = w[i - 15], w[i - 2]
      local s0 = rrot(a, 7) ~ rrot(a, 18) ~ (a >> 3)
      local s1 = rrot(b, 17) ~ rrot(b, 19) ~ (b >> 10)
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & 0xffffffff
    end
    local a, b, c, d, e, f, g, h = h0, h1, h2, h3, h4, h5, h6, h7
    for i = 0, 63 do
      local S1 = rrot(e, 6) ~ rrot(e, 11) ~ rrot(e, 25)
      local ch = (e & f) ~ ((~e) & g)
      local t1 = (h + S1 + ch + K[i + 1] + w[i]) & 0xffffffff
      local S0 = rrot(a, 2) ~ rrot(a, 13) ~ rrot(a, 22)
      local maj = (a & b) ~ (a & c) ~ (b & c)
      local t2 = (S0 + maj) & 0xffffffff
      h, g, f, e, d, c, b, a = g, f, e, (d + t1) & 0xffffffff, c, b, a, (t1 + t2) & 0xffffffff
    end
    h0, h1, h2, h3 = (h0 + a) & 0xffffffff, (h1 + b) & 0xffffffff, (h2 + c) & 0xffffffff, (h3 + d) & 0xffffffff
    h4, h5, h6, h7 = (h4 + e) & 0xffffffff, (h5 + f) & 0xffffffff, (h6 + g) & 0xffffffff, (h7 + h) & 0xffffffff
  end
  return string.format("%08x%08x%08x%08x%08x%08x%08x%08x", h0, h1, h2, h3, h4, h5, h6, h7)
end

-- The C core's SHA-256 when it is there (a pure Lua one hashes ~1 MB/s).
local has_core, core = pcall(require, "luasible.core")
M.sha256 = has_core and type(core.sha256) == "function" and core.sha256 or M.sha256_lua

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local q = {}
    for j = 3, 0, -1 do q[4 - j] = B64:sub(((n >> (6 * j)) & 63) + 1, ((n >> (6 * j)) & 63) + 1) end
    if not b then q[3], q[4] = "=", "=" elseif not c then q[4] = "=" end
    out[#out + 1] = table.concat(q)
  end
  return table.concat(out)
end

local read_file = require("luasible.util.fs").read
M.read_file = read_file

---------------------------------------------------------------------------
-- The context a module runs with
---------------------------------------------------------------------------
local Ctx = {}
Ctx.__index = Ctx

--- ctx = M.context{ conn=, host=, vars=, emit=, check_mode=, become=, task= }
function M.context(t)
  t.quote = M.quote
  t.sha256 = M.sha256
  t.read_file = read_file
  return setmetatable(t, Ctx)
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

--- Is this error of execute/put/get a lost or unreachable host?
-- (execute returns ETIMEDOUT only for a connect timeout: a command's own
-- timeout is a result with timed_out = true.)
function M.is_unreachable(err, name)
  err = tostring(err or "")
  name = name or err:match("^(%u[%u%d_]*):")
  if not name then return false end
  if UNREACHABLE[name] or name:match("^ECONN") then return true end
  -- a lost SSH connection that reconnects on use and cannot resolve its host
  return name == "ENOENT" and err:find("cannot resolve host", 1, true) ~= nil
end

--- Run a command with the task's become settings. Output lines are emitted
--- as stdout/stderr events when opts.stream is set (or ctx.stream_output).
--- Returns res; raises an unreachable error when the command could not run.
function Ctx:run(cmd, opts)
  opts = opts or {}
  local env
  if opts.env then
    env = {}
    for k, v in pairs(opts.env) do env[tostring(k)] = template.tostring(v) end
  end
  local eopts = { cwd = opts.cwd, env = env, timeout = opts.timeout, stdin = opts.stdin, max_line = opts.max_line }
  local b = self.become
  if b and b.become then
    eopts.sudo, eopts.user, eopts.sudo_password = true, b.user or "root", b.password
  end
  if opts.stream or opts.on_output then
    local emit = self.emit
    eopts.stream_output = true
    eopts.on_output = opts.on_output or function(line, is_stderr)
      emit({ type = is_stderr and "stderr" or "stdout", data = line })
    end
    eopts.on_progress = opts.on_progress
  end
  local res, err, name = self.conn:execute(cmd, eopts)
  if not res then
    if opts.allow_error then return nil, err, name end
    if M.is_unreachable(err, name) then self:unreachable(err) end
    self:fail(err)
  end
  return res
end

--- Run a shell snippet and return trimmed stdout, rc.
function Ctx:sh(cmd, opts)
  local res = self:run(cmd, opts)
  return (res.stdout or ""):gsub("%s+$", ""), res.rc, res
end

--- Remote sha256 of a file, or nil if it does not exist / is not readable.
function Ctx:remote_sha256(path)
  local q = self.quote(path)
  -- read from stdin: `sha256sum NAME` escapes names holding \\ or a newline
  local out, rc = self:sh("test -f " .. q .. " && sha256sum < " .. q)
  if rc ~= 0 then return nil end
  return out:match("^(%x+)")
end

--- Remote file state: { type="file"|"directory"|"link"|..., mode="644", owner=, group=, size=,
--- uid=, gid= } or nil. A symbolic link is described itself (lstat); with
--- `follow`, what it points to.
function Ctx:stat(path, follow)
  local out, rc = self:sh("stat " .. (follow and "-L " or "") .. "-c '%F|%a|%U|%G|%s|%u|%g' -- "
    .. self.quote(path) .. " 2>/dev/null")
  if rc ~= 0 or out == "" then return nil end
  local ftype, mode, owner, group, size, uid, gid =
    out:match("^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)")
  local kinds = { ["regular file"] = "file", ["regular empty file"] = "file", directory = "directory",
    ["symbolic link"] = "link" }
  return { type = kinds[ftype] or ftype, mode = mode, owner = owner, group = group, size = tonumber(size),
    uid = tonumber(uid), gid = tonumber(gid) }
end

--- Where a path leads once every symbolic link in it is followed (the
--- last one may dangle), or nil when that cannot be told.
function Ctx:realpath(path)
  local out, rc = self:sh("readlink -f -- " .. self.quote(path))
  if rc ~= 0 or out == "" then return nil end
  return out
end

--- Does a stat result already have this owner / group? Names and numeric ids both count.
function M.owner_is(st, owner)
  return owner == nil or (st ~= nil and (st.owner == owner or tostring(st.uid) == tostring(owner)))
end
function M.group_is(st, group)
  return group == nil or (st ~= nil and (st.group == group or tostring(st.gid) == tostring(group)))
end

--- Check that a user and a group exist on the host (numeric ids always do).
--- Returns true, or nil, msg.
function Ctx:check_owner(owner, group)
  if owner and not tostring(owner):match("^%d+$")
      and select(2, self:sh("getent passwd " .. self.quote(owner) .. " >/dev/null")) ~= 0 then
    return nil, "no such user '" .. owner .. "'"
  end
  if group and not tostring(group):match("^%d+$")
      and select(2, self:sh("getent group " .. self.quote(group) .. " >/dev/null")) ~= 0 then
    return nil, "no such group '" .. group .. "'"
  end
  return true
end

local PERM = { r = 4, w = 2, x = 1 }
local SHIFT = { u = 6, g = 3, o = 0 }

--- The numeric mode a mode spec gives a file whose mode is now `base`:
--- "0640" / "640" as they are, symbolic modes ("u+x,go-w", "u=rw,go=")
--- applied to base as chmod does (no "who": all but the umask 022 bits).
--- Returns a number, or nil, err.
function M.mode_bits(spec, base, is_dir)
  spec = tostring(spec)
  if spec:match("^0?[0-7][0-7][0-7][0-7]?$") then return tonumber(spec, 8) end
  local mode = base or 420 -- 0644
  for clause in spec:gmatch("[^,]+") do
    local who, ops = clause:match("^([ugoa]*)(.*)$")
    if ops == "" or not ops:match("^[-+=][-+=rwxXst]*$") then return nil, "bad mode '" .. spec .. "'" end
    local whos = {}
    if who == "" or who:find("a", 1, true) then whos = { "u", "g", "o" }
    else for c in who:gmatch(".") do whos[#whos + 1] = c end end
    local mask = who == "" and (4095 & ~18) or 4095 -- no "who": the umask (022) bits stay
    for op, perms in ops:gmatch("([-+=])([rwxXst]*)") do
      local bits, clear = 0, 0
      for _, w in ipairs(whos) do
        clear = clear | (7 << SHIFT[w]) | (w == "u" and 2048 or w == "g" and 1024 or 512)
        for c in perms:gmatch(".") do
          if PERM[c] then bits = bits | (PERM[c] << SHIFT[w])
          elseif c == "X" then
            if is_dir or mode & 73 ~= 0 then bits = bits | (1 << SHIFT[w]) end
          elseif c == "s" then bits = bits | (w == "u" and 2048 or w == "g" and 1024 or 0)
          elseif c == "t" then bits = bits | (w == "o" and 512 or 0) end
        end
      end
      bits = bits & mask
      if op == "+" then mode = mode | bits
      elseif op == "-" then mode = mode & ~bits
      else mode = (mode & ~(clear & mask)) | bits end
    end
  end
  return mode
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
function Ctx:write(content, dest, mode, on_progress)
  local conn = self.conn
  local bits
  if mode ~= nil then
    local err
    local base, is_dir = 420, false
    if not tostring(mode):match("^0?[0-7][0-7][0-7][0-7]?$") then
      local st = self:stat(dest, true) -- a link: its target's mode, never the link's 0777
      if st and st.mode then base, is_dir = tonumber(st.mode, 8) or base, st.type == "directory" end
    end
    bits, err = M.mode_bits(mode, base, is_dir)
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
    if M.is_unreachable(err, name) then self:unreachable(err) end
    return nil, err
  end
  return true
end

--- Emit a progress event for this host/task.
function Ctx:progress(p)
  p.timestamp = p.timestamp or (self.now and self.now())
  self.emit({ type = "progress", progress = p })
end

return M
