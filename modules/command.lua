-- command: run a program directly (argv, no shell), as Ansible's command
-- module: cmd is split into words (argv gives them exactly); creates /
-- removes (globs, relative to chdir) skip it; stdin (with a newline added
-- unless stdin_add_newline=false); the output streamed and registered
-- without its trailing newlines (strip_empty_ends); cmd, rc, start, end,
-- delta in the result. Under --check it runs nothing: skipped, or, with
-- creates/removes, whether it would run. `execute` is what shell builds on.
-- Round trips: 1; 2 with creates or removes (checked first).

-- A glob as a shell word: its *, ? and [...] left to the shell, the rest quoted.
local function glob_word(ctx, pat)
  local out, lit = {}, {}
  local function flush()
    if #lit > 0 then out[#out + 1] = ctx.quote(table.concat(lit)); lit = {} end
  end
  for c in pat:gmatch(".") do
    if c == "*" or c == "?" or c == "[" or c == "]" then flush(); out[#out + 1] = c else lit[#lit + 1] = c end
  end
  flush()
  return table.concat(out)
end

local function stamp(t)
  local s = math.floor(t)
  return os.date("%Y-%m-%d %H:%M:%S", s) .. string.format(".%06d", math.floor((t - s) * 1e6))
end

local function delta(d)
  local h = math.floor(d / 3600)
  local m = math.floor((d - h * 3600) / 60)
  local s = d - h * 3600 - m * 60
  return string.format("%d:%02d:%09.6f", h, m, s)
end

local M = {
  free_form = "cmd",
  async = true, -- its command may run as a remote job (`async:`, play/async.lua)
  params = {
    cmd = { type = "string" },
    argv = { type = "list" },
    executable = { type = "string" },
    stdin_add_newline = { type = "boolean", default = true },
    strip_empty_ends = { type = "boolean", default = true },
  },
  param_groups = { "command" }, -- chdir, creates, removes, stdin, timeout, env
  required_one_of = { { "cmd", "argv" } },
  mutually_exclusive = { { "cmd", "argv" } },
  check_mode = true,
}

--- Run `cmd` (an argv table, or a string for the shell: `executable` or
--- /bin/sh) as Ansible's command and shell modules do. Returns the result.
function M.execute(ctx, cmd, args, shell)
  local q = ctx.quote
  local r = { changed = false, stdout = "", stderr = "", rc = nil, cmd = cmd, start = nil, ["end"] = nil,
    delta = nil, msg = "" }
  local would = ctx.check_mode and "Would" or "Did"
  if args.creates or args.removes then
    local s = {}
    -- a chdir that is not there: the command's own run says so (ENOENT, ENOTDIR)
    if args.chdir then s[#s + 1] = "cd " .. q(args.chdir) .. " 2>/dev/null || { echo NOCHDIR; exit 0; }" end
    if args.creates then
      s[#s + 1] = "for f in " .. glob_word(ctx, args.creates)
        .. "; do [ -e \"$f\" ] || [ -L \"$f\" ] && { echo CREATES; break; }; done"
    end
    if args.removes then
      s[#s + 1] = "for f in " .. glob_word(ctx, args.removes)
        .. "; do [ -e \"$f\" ] || [ -L \"$f\" ] && { echo REMOVES; break; }; done"
    end
    local out = ctx:sh(table.concat(s, "\n") .. "\nexit 0")
    local nochdir = out:find("NOCHDIR", 1, true) ~= nil
    if not nochdir and args.creates and out:find("CREATES", 1, true) then
      r.msg, r.stdout, r.rc = would .. " not run command since '" .. args.creates .. "' exists",
        "skipped, since " .. args.creates .. " exists", 0
    elseif not nochdir and args.removes and not out:find("REMOVES", 1, true) then
      r.msg, r.stdout, r.rc = would .. " not run command since '" .. args.removes .. "' does not exist",
        "skipped, since " .. args.removes .. " does not exist", 0
    end
    if r.msg ~= "" then return r end
  end
  r.changed = true
  if ctx.check_mode then
    r.rc, r.msg = 0, "Command would have run if not in check mode"
    if not (args.creates or args.removes) then r.skipped, r.changed = true, false end
    return r
  end
  local stdin = args.stdin
  if stdin and args.stdin_add_newline ~= false then stdin = stdin .. "\n" end
  local run = cmd
  if shell and args.executable then run = { args.executable, "-c", cmd } end
  local t0, w0 = ctx.now(), os.time()
  -- job: under `async:` the task's own command runs as a remote job (play/async.lua)
  local res = ctx:run(run, { cwd = args.chdir, stdin = stdin, timeout = args.timeout, env = args.env, stream = true,
    job = true })
  local d = ctx.now() - t0
  r.start, r["end"], r.delta = stamp(w0), stamp(w0 + d), delta(d)
  r.rc, r.signal, r.timed_out, r.duration = res.rc, res.signal, res.timed_out, res.duration
  r.stdout, r.stderr = res.stdout or "", res.stderr or ""
  if args.strip_empty_ends ~= false then r.stdout, r.stderr = ctx.chomp(r.stdout), ctx.chomp(r.stderr) end
  if res.timed_out then r.failed, r.msg = true, "timed out"
  elseif not res.ok then r.failed, r.msg = true, "non-zero return code " .. tostring(res.rc) end
  return r
end

function M.run(ctx, args)
  local argv = args.argv
  if not argv then
    local err
    argv, err = ctx.argv(args.cmd)
    if not argv then return { failed = true, msg = err } end
  end
  if #argv == 0 then return { failed = true, rc = 256, msg = "no command given" } end
  local r = M.execute(ctx, argv, args, false)
  if args.executable then
    r.warnings = { "As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module."
      .. " Not using '" .. args.executable .. "'." }
  end
  return r
end

return M
