--- luasible.remote: every shell fragment luasible runs on a host, in one
-- place: the command line of a command (cd, env, sudo, the server-side
-- timeout), the process-group marker and kill line of an SSH channel, and
-- the file steps of a transfer (create, append, sha256sum, the atomic
-- finish, rm, mkdir). Every word goes through util/shell.quote.
-- Nothing here runs anything: each function returns text (or an argv).
local shell = require "luasible.util.shell"

local quote, join = shell.quote, shell.join

local M = {}

--- A new list: the items of a, then those of b (neither is changed).
local function concat(a, b)
  local t = table.move(a, 1, #a, 1, {})
  return table.move(b, 1, #b, #a + 1, t)
end

-- Commands ----------------------------------------------------------------

--- The argv of a command: an argv table as it is, a string run by
-- /bin/sh -c; behind `prefix` (an argv, e.g. sudo's) when there is one.
function M.argv(cmd, prefix)
  local argv = type(cmd) == "string" and { "/bin/sh", "-c", cmd } or cmd
  if prefix then argv = concat(prefix, argv) end
  return argv
end

--- The command that asks whether sudo runs without a password.
M.SUDO_PROBE = { "true" }

--- The argv prefix that runs a command as opts.user through sudo, and the
-- stdin to feed it (the password first, when one is needed: it goes to
-- `sudo -S` on stdin with an empty prompt, never onto a command line).
-- `probe(prefix, argv)` runs a command and returns its result; it is used
-- to ask whether sudo needs a password at all, so that a password never
-- reaches the command itself when sudo does not read it.
function M.sudo(opts, probe)
  if not (opts.sudo or opts.user) then return nil, opts.stdin end
  if opts.become_method == "su" then return M.su(opts, probe) end
  local function target(t)
    if opts.user then t[#t + 1] = "-u"; t[#t + 1] = opts.user end
    t[#t + 1] = "--"
    return t
  end
  if opts.sudo_password then
    local res = probe(target({ "sudo", "-n" }), M.SUDO_PROBE)
    if not (res and res.ok) then
      return target({ "sudo", "-k", "-S", "-p", "" }), opts.sudo_password .. "\n" .. (opts.stdin or "")
    end
  end
  return target({ "sudo", "-n" }), opts.stdin
end

-- su with a password: su reads it from a terminal, so (as Ansible gives
-- su a pty) a small Python program on the host reads the password from the
-- first line of stdin, runs su on a pty of its own, answers su's prompt
-- there, and gives the command the original stdin, stdout and stderr (fds
-- 3, 4, 5 through su): its output stays apart and unchanged, no pty in
-- it. What su says besides the prompt (a refused password) goes to
-- stderr; the exit status is the command's (or su's). The password is
-- never on a command line.
M.SU_PTY = table.concat({
  "import os, pty, sys",
  "pw = b''",
  "while True:",
  "    c = os.read(0, 1)",
  "    if not c or c == b'\\n': break",
  "    pw += c",
  "for fd in (0, 1, 2): os.dup2(fd, fd + 3, inheritable=True)",
  "pid, m = pty.fork()",
  "if pid == 0:",
  "    os.execvp('su', ['su', '-s', '/bin/sh', '-c', 'exec \"$0\" \"$@\" <&3 >&4 2>&5 3<&- 4>&- 5>&-',",
  "        sys.argv[1], '--'] + sys.argv[2:])",
  "for fd in (3, 4, 5): os.close(fd)",
  "buf, sent = b'', False",
  "while True:",
  "    try: d = os.read(m, 4096)",
  "    except OSError: break",
  "    if not d: break",
  "    buf += d",
  "    if not sent and (b'assword' in buf or buf.rstrip().endswith(b':')):",
  "        os.write(m, pw + b'\\n')",
  "        sent, buf = True, b''",
  "rest = buf.replace(b'\\r', b'').strip()",
  "if rest: os.write(2, rest + b'\\n')",
  "sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))",
}, "\n")

--- become_method su: the argv prefix `su -s /bin/sh -c 'exec "$0" "$@"' USER --`
-- (the command's argv after it, as given: no quoting), and its stdin. Where
-- su needs no password (the connecting user is root, or PAM lets it: found
-- by a probe) it runs as it is; else, with opts.sudo_password (-K,
-- ansible_become_password), through M.SU_PTY (python3 on the host, as
-- Ansible needs it there), the password first on its stdin; without one,
-- nil, err.
function M.su(opts, probe)
  local user = opts.user or "root"
  local prefix = { "su", "-s", "/bin/sh", "-c", 'exec "$0" "$@"', user, "--" }
  local res = probe(prefix, M.SUDO_PROBE)
  if res and res.ok then return prefix, opts.stdin end
  if not opts.sudo_password then
    return nil, nil, "EACCES: become_method su: su to '" .. user .. "' needs a password"
      .. " (give it with -K or ansible_become_password), or connect as root"
  end
  return { "python3", "-c", M.SU_PTY, user }, opts.sudo_password .. "\n" .. (opts.stdin or "")
end

--- argv run under `env K=V ...` (names sorted) when env names any: what
-- reaches the command behind sudo / su, which start it with an environment of their own.
function M.with_env(argv, env)
  if not (env and next(env)) then return argv end
  local keys = {}
  for k in pairs(env) do keys[#keys + 1] = k end
  table.sort(keys)
  local e = { "env" }
  for _, k in ipairs(keys) do e[#e + 1] = k .. "=" .. env[k] end
  return concat(e, argv)
end

--- The remote command line of cmd with opts (cwd, env, timeout) behind the
-- sudo `prefix`: [cd DIR &&] exec [sudo ...] [env K=V ...] ARGV.
function M.command_line(cmd, opts, prefix)
  local argv = M.with_env(M.argv(cmd), opts.env)
  if prefix then argv = concat(prefix, argv) end
  local words = join(argv)
  local line = "exec " .. words
  local t = opts.timeout
  if t and t > 0 and t < 1e9 then
    -- the server enforces the timeout as well (timeout(1) signals its whole
    -- process group), half a second after ours: the command ends even when
    -- no channel is free for the kill (the server's MaxSessions reached)
    line = ("if command -v timeout >/dev/null 2>&1; then exec timeout -k 2 %g %s; else %s; fi")
      :format(t + 0.5, words, line)
  end
  if opts.cwd then line = "cd " .. quote(opts.cwd) .. " && " .. line end
  return line
end

-- The SSH channel: process group and kill ----------------------------------

--- The first stderr line of every SSH command: this marker, then the login
-- shell's pid, which sshd made the leader of a process group of its own.
-- The core strips the line and keeps the group id for the kill.
M.PGID_MARK = "__luasible_pgid_"

--- Seconds between the kill's TERM and its KILL.
M.KILL_GRACE = 2

--- What an SSH exec channel runs for `line`, and the options of the core's
-- sess:exec that go with it (the marker to strip, the kill line, where the
-- core puts the group id for "{pgid}").
function M.channel(line)
  return ("printf '%s%%s\\n' \"$$\" >&2; %s"):format(M.PGID_MARK, line), {
    pgid_mark = M.PGID_MARK,
    kill = ("kill -TERM -{pgid} 2>/dev/null; (sleep %g; kill -KILL -{pgid}) >/dev/null 2>&1 </dev/null &")
      :format(M.KILL_GRACE),
    grace = M.KILL_GRACE,
  }
end

-- Files -------------------------------------------------------------------

--- The SHA-256 of a file, as sha256sum prints it (read from stdin:
-- `sha256sum NAME` escapes names holding a backslash or a newline).
function M.sha256(path)
  return "sha256sum < " .. quote(path)
end

--- The hash in what M.sha256 printed, or nil.
function M.sha256_of(stdout)
  return (stdout or ""):match("^(%x+)")
end

--- Create `path` from stdin: a new file (noclobber: never through a file or
-- link planted there) only its owner can read.
function M.create(path)
  return "set -C && umask 077 && cat > " .. quote(path)
end

--- Write stdin over `path` (the file is truncated, its mode kept).
function M.overwrite(path)
  return "cat > " .. quote(path)
end

--- Append stdin to `path`.
function M.append(path)
  return "cat >> " .. quote(path)
end

--- The room left on the file system holding `path`: blocks available to
--- a user, the block size, all blocks, free inodes, all inodes
--- (statvfs(3), by stat -f).
function M.free_space(path)
  return "stat -f -c '%a %S %b %d %c' -- " .. quote(path)
end

--- What M.free_space printed as { bytes = available bytes, size = all
--- bytes (0: a file system without blocks, /proc), inodes = free inodes,
--- inodes_total = all inodes (0: not counted) }, or nil.
function M.parse_free_space(stdout)
  local a, bs, b, d, c = (stdout or ""):match("^(%d+) (%d+) (%d+) (%d+) (%d+)")
  if not a then return nil end
  return { bytes = tonumber(a) * tonumber(bs), size = tonumber(b) * tonumber(bs), inodes = tonumber(d),
    inodes_total = tonumber(c) }
end

--- Remove a file (no error when it is not there).
function M.rm(path)
  return "rm -f -- " .. quote(path)
end

--- Make a folder and its parents; `mode` (an integer) for the folder.
function M.mkdir(path, mode)
  return "mkdir -p " .. (mode and ("-m " .. ("%04o"):format(mode) .. " ") or "") .. "-- " .. quote(path)
end

--- The exit status of a failed M.finish and the error name it stands for.
M.FINISH_ERRORS = { [3] = "ECHECKSUM", [4] = "ECHECKSUM", [5] = "EIO", [6] = "EISDIR" }

--- The last step of an upload written to `tmp`: check its SHA-256 against
-- o.sha256 (unless nil), give it o.mode (an integer; none: the mode of the
-- file it replaces, 0644 for a new one), then rename it over `dest` (when
-- tmp ~= dest; never into a folder standing at dest, as mv would). The
-- mode is applied before the rename, so `dest` never has a wider mode than
-- asked for. On any failure the file written is removed
-- and the script exits with a status of M.FINISH_ERRORS, the reason on
-- stderr.
function M.finish(tmp, dest, o)
  local t, d = quote(tmp), quote(dest)
  local rm = "rm -f -- " .. t
  local script = {}
  if o.sha256 then
    script[#script + 1] = "h=$(sha256sum < " .. t .. ") || { echo 'sha256sum failed' >&2; " .. rm .. "; exit 3; }"
    script[#script + 1] = "[ \"${h%% *}\" = " .. o.sha256 .. " ] || { echo \"checksum mismatch: sent "
      .. o.sha256 .. ", the file written has ${h%% *}\" >&2; " .. rm .. "; exit 4; }"
  end
  local chmod
  if o.mode or tmp == dest then
    chmod = "chmod " .. ("%04o"):format(o.mode or tonumber("644", 8)) .. " " .. t
  else -- no mode asked: an existing file keeps its mode, a new one gets 0644
    -- (a chmod without --reference, busybox's in a container: the mode stat(1) reads)
    chmod = "if [ -e " .. d .. " ]; then { chmod --reference=" .. d .. " " .. t .. " 2>&- || chmod \"$(stat -c %a -- "
      .. d .. ")\" " .. t .. "; }; else chmod 0644 " .. t .. "; fi"
  end
  if tmp ~= dest then
    script[#script + 1] = "[ ! -d " .. d .. " ] || { echo " .. quote(dest .. ": is a directory") .. " >&2; "
      .. rm .. "; exit 6; }"
    chmod = chmod .. " && mv -f -- " .. t .. " " .. d
  end
  script[#script + 1] = chmod .. " || { " .. rm .. "; exit 5; }"
  return table.concat(script, "; ")
end

-- Module contexts (module/context.lua) -----------------------------------

--- Exit status 0 when something is at `path`.
function M.exists(path)
  return "test -e " .. quote(path)
end

--- The SHA-256 of a regular file (read from stdin: `sha256sum NAME`
--- escapes names holding a backslash or a newline); non-zero status when
--- it is not a readable file.
function M.file_sha256(path)
  local q = quote(path)
  return "test -f " .. q .. " && " .. M.sha256(path)
end

--- The hash M.file_sha256 printed is read with M.sha256_of.

-- what stat(1) prints for M.stat, and the kinds M.parse_stat names
local STAT_FORMAT = "'%F|%a|%U|%G|%s|%u|%g'"
local KINDS = { ["regular file"] = "file", ["regular empty file"] = "file", directory = "directory",
  ["symbolic link"] = "link" }

--- A path's type, mode, owner, group, size, uid and gid; a symbolic link
--- itself (lstat), or with `follow` what it points to. Prints nothing for
--- a path that is not there.
function M.stat(path, follow)
  return "stat " .. (follow and "-L " or "") .. "-c " .. STAT_FORMAT .. " -- " .. quote(path) .. " 2>/dev/null"
end

--- M.stat of a path (lstat) and, when it is a regular file (not a link),
--- its SHA-256 on the next line: one command where copy and template
--- would run two. Prints nothing for a path that is not there.
function M.stat_sha256(path)
  local q = quote(path)
  return M.stat(path) .. " && { if [ -f " .. q .. " ] && [ ! -L " .. q .. " ]; then " .. M.sha256(path)
    .. " || true; fi; }"
end

--- What M.stat printed as { type = "file"|"directory"|"link"|..., mode =
--- "644", owner =, group =, size =, uid =, gid = }, or nil.
function M.parse_stat(stdout)
  local ftype, mode, owner, group, size, uid, gid =
    (stdout or ""):match("^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)")
  if not ftype then return nil end
  return { type = KINDS[ftype] or ftype, mode = mode, owner = owner, group = group, size = tonumber(size),
    uid = tonumber(uid), gid = tonumber(gid) }
end

--- Where a path leads once every symbolic link in it is followed.
function M.realpath(path)
  return "readlink -f -- " .. quote(path)
end

--- Exit status 0 when the host knows this user / group.
function M.user_exists(name)
  return "getent passwd " .. quote(name) .. " >/dev/null"
end
function M.group_exists(name)
  return "getent group " .. quote(name) .. " >/dev/null"
end

return M
