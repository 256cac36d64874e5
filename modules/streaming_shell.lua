-- streaming_shell: run a shell command and stream its output line by line,
-- with progress events from stage changes and from percentages found in the
-- output (progress_pattern, a Lua pattern capturing a number). On a
-- connection without stream() it falls back to execute and says so.
local modules = require "luasible.module"

local function percent(line, pattern)
  local p = tonumber(line:match(pattern))
  if p and p >= 0 and p <= 100 then return p end
end

return {
  free_form = "cmd",
  params = {
    cmd = { type = "string", required = true },
    stream_output = { type = "boolean", default = true },
    show_progress = { type = "boolean", default = true },
    progress_pattern = { type = "string", default = "(%d+%.?%d*)%%" },
    timeout = { type = "number" },
    chdir = { type = "path" },
    env = { type = "dict" },
  },
  run = function(ctx, args)
    local lines, bytes = 0, 0
    local t0 = ctx.now()
    local function on_line(line, is_stderr, from) -- from: the core's event, its seq and timestamp kept
      lines, bytes = lines + 1, bytes + #line + 1
      if args.stream_output then ctx.emit({ type = is_stderr and "stderr" or "stdout", data = line }, from) end
      if args.show_progress then
        local p = percent(line, args.progress_pattern)
        if p then ctx:progress({ stage = "executing", percentage = p, message = line }) end
      end
    end
    local env
    if args.env then
      env = {}
      for k, v in pairs(args.env) do env[tostring(k)] = tostring(v) end
    end
    local opts = { cwd = args.chdir, env = env, timeout = args.timeout }
    local b = ctx.become
    if b and b.become then opts.sudo, opts.user, opts.sudo_password = true, b.user, b.password end

    if not ctx.conn.stream then
      if args.show_progress then ctx:progress({ stage = "executing", message = "started" }) end
      local res = ctx:run(args.cmd, { cwd = args.chdir, env = args.env, timeout = args.timeout,
        on_output = on_line })
      if lines == 0 then -- the connection did not call on_output: replay what it returned
        for l in (res.stdout or ""):gmatch("([^\n]*)\n?") do if l ~= "" then on_line(l, false) end end
        for l in (res.stderr or ""):gmatch("([^\n]*)\n?") do if l ~= "" then on_line(l, true) end end
      end
      if args.show_progress then ctx:progress({ stage = "done", percentage = 100 }) end
      return { changed = true, failed = not res.ok, rc = res.rc, stdout = modules.chomp(res.stdout),
        stderr = modules.chomp(res.stderr),
        timed_out = res.timed_out, lines = lines, bytes = bytes, duration = res.duration or (ctx.now() - t0),
        streamed = false, msg = "connection cannot stream: ran with execute, output delivered at the end" }
    end

    local result, err, out, errs = nil, nil, {}, {}
    for ev in ctx.conn:stream(args.cmd, opts) do
      if ev.type == "stdout" or ev.type == "stderr" then
        local t = ev.type == "stdout" and out or errs
        t[#t + 1] = ev.data
        on_line(ev.data, ev.type == "stderr", ev)
      elseif ev.type == "progress" then
        if args.show_progress and ev.progress then ctx:progress(ev.progress, ev) end
      elseif ev.type == "done" then
        result = ev.result
      elseif ev.type == "error" then
        result, err = ev.result, ev.error
      end
    end
    result = result or {}
    local timed_out = result.timed_out or (err and err:find("ETIMEDOUT") ~= nil) or false
    if err and not timed_out and result.rc == nil and modules.is_unreachable(err) then
      ctx:unreachable(err)
    end
    local ok = result.rc == 0 and not err
    return {
      changed = true, failed = not ok, rc = result.rc, signal = result.signal,
      stdout = modules.chomp(result.stdout) or table.concat(out, "\n"),
      stderr = modules.chomp(result.stderr) or table.concat(errs, "\n"),
      timed_out = timed_out, lines = lines, bytes = bytes, duration = result.duration or (ctx.now() - t0),
      streamed = true, msg = err or (not ok and ("non-zero return code " .. tostring(result.rc))) or nil,
    }
  end,
}
