--- luasible.remote_async: the shell fragments of an async job (play/async.lua):
-- start it under a supervisor that outlives the channel, poll its state and
-- new output, kill it, clean it up. As luasible.remote (whose kill grace it
-- shares): every word through util/shell.quote; nothing here runs anything.
local shell = require "luasible.util.shell"
local remote = require "luasible.remote"

local quote = shell.quote

local M = {}

-- A job is a folder ~/.luasible_async/JID of the user the task runs as:
--   cmd      the command line (remote.command_line), run by /bin/sh
--   in       its stdin (only when the task gives one; else /dev/null)
--   out, err what it writes (appended as it runs: polls read them on)
--   pid      the job's pid, also its process group (setsid)
--   rc       its exit status, written (atomically, by rename) when it ends
--   timeout  present when the job was killed for running past its time
-- A supervisor (setsid: in no process group of the channel that started
-- it, so it outlives that channel and its connection) runs the job, a
-- watchdog kills the job's group after `limit` seconds, and writes rc.

M.ASYNC_DIR = ".luasible_async"

local function job_dir(jid)
  return '"$HOME"/' .. M.ASYNC_DIR .. "/" .. quote(jid)
end

-- the supervisor, run as `sh -c SUPERVISOR sh DIR LIMIT STDIN`
local SUPERVISOR = table.concat({
  'd=$1; i=0',
  'setsid /bin/sh "$d/cmd" <"$3" >"$d/out" 2>"$d/err" & p=$!',
  'echo "$p" > "$d/pid"',
  '( while [ "$i" -lt "$2" ] && [ ! -e "$d/rc" ]; do sleep 1; i=$((i+1)); done;'
    .. ' if [ ! -e "$d/rc" ]; then : > "$d/timeout"; kill -TERM "-$p" 2>/dev/null;'
    .. ' sleep ' .. remote.KILL_GRACE .. '; kill -KILL "-$p" 2>/dev/null; fi ) </dev/null >/dev/null 2>&1 &',
  'wait "$p"; rc=$?',
  'echo "$rc" > "$d/rc.tmp" && mv -f "$d/rc.tmp" "$d/rc"',
}, "\n")

--- Start job `jid` running the command line `line`, killed after `limit`
--- seconds; its stdin is the command's own stdin (`with_stdin`). Prints the
--- job's folder (the results_file) and returns at once.
function M.async_start(jid, line, limit, with_stdin)
  local d = job_dir(jid)
  return table.concat({
    "command -v setsid >/dev/null 2>&1 || { echo 'async needs setsid(1) on the host' >&2; exit 127; }",
    "umask 077 && mkdir -p \"$HOME\"/" .. M.ASYNC_DIR .. " && mkdir " .. d .. " || exit 1",
    "d=" .. d,
    "printf '%s\\n' " .. quote(line) .. ' > "$d/cmd" && : > "$d/out" && : > "$d/err" || exit 1',
    with_stdin and 'cat > "$d/in" || exit 1' or "",
    "setsid /bin/sh -c " .. quote(SUPERVISOR) .. ' sh "$d" ' .. math.tointeger(limit) .. " "
      .. (with_stdin and '"$d/in"' or "/dev/null") .. " </dev/null >/dev/null 2>&1 &",
    'printf \'%s\\n\' "$d"',
  }, "\n")
end

--- The state of job `jid` and its output past the byte offsets `out_off`
--- and `err_off`: one line "RC TIMEOUT OUTSIZE ERRSIZE DIR" (RC "-" while it
--- runs, TIMEOUT 1 when it was killed for its time), then the new bytes of
--- out, then those of err (M.parse_async_poll). "gone" when there is no job.
--- rc is read before the sizes: once it is there, the output is complete.
function M.async_poll(jid, out_off, err_off)
  local o, e = math.tointeger(out_off), math.tointeger(err_off)
  return table.concat({
    "d=" .. job_dir(jid),
    '[ -d "$d" ] || { echo gone; exit 0; }',
    'rc=-; [ -e "$d/rc" ] && rc=$(cat "$d/rc")',
    't=0; [ -e "$d/timeout" ] && t=1',
    'o=$(wc -c < "$d/out"); o=$((o)); e=$(wc -c < "$d/err"); e=$((e))',
    'printf \'%s %s %s %s %s\\n\' "$rc" "$t" "$o" "$e" "$d"',
    ('tail -c +%d "$d/out" | head -c $((o-%d))'):format(o + 1, o),
    ('tail -c +%d "$d/err" | head -c $((e-%d))'):format(e + 1, e),
  }, "\n")
end

--- What M.async_poll printed: { rc = number or nil (running), timed_out,
--- out_size, err_size, dir, out = the new bytes of out, err = of err }, or
--- false for a job that is not there, or nil when it makes no sense.
function M.parse_async_poll(stdout, out_off, err_off)
  stdout = stdout or ""
  if stdout:match("^gone\n?$") then return false end
  local rc, t, o, e, dir, rest = stdout:match("^(%S+) (%d) (%d+) (%d+) ([^\n]*)\n(.*)$")
  if not rc then return nil end
  local no, ne = tonumber(o) - out_off, tonumber(e) - err_off
  if no < 0 or ne < 0 or #rest ~= no + ne then return nil end
  return { rc = math.tointeger(tonumber(rc)), timed_out = t == "1", out_size = tonumber(o), err_size = tonumber(e),
    dir = dir, out = rest:sub(1, no), err = rest:sub(no + 1) }
end

--- Kill job `jid` (its process group: TERM, KILL after the grace), marked
--- as killed for its time.
function M.async_kill(jid)
  return "d=" .. job_dir(jid) .. '; if [ -e "$d/pid" ] && [ ! -e "$d/rc" ]; then p=$(cat "$d/pid");'
    .. ' : > "$d/timeout"; kill -TERM "-$p" 2>/dev/null; ( sleep ' .. remote.KILL_GRACE
    .. '; kill -KILL "-$p" 2>/dev/null ) </dev/null >/dev/null 2>&1 & fi; exit 0'
end

--- Remove job `jid`'s folder (async_status mode=cleanup, and after a polled job ended).
function M.async_cleanup(jid)
  return "rm -rf -- " .. job_dir(jid)
end

return M
