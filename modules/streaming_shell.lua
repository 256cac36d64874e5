-- streaming_shell: run a shell command and stream its output line by line,
-- with progress events from stage changes and from percentages found in the
-- output (progress_pattern, a Lua pattern capturing a number). On a
-- connection without stream() it falls back to execute and says so.
--
-- The output is kept once, as the lines the connection delivers (never
-- split again here): they are the result's stdout_lines / stderr_lines,
-- and stdout / stderr their text. A redraw (a "\r" progress bar) is shown
-- but is not a line; a long line's chunks are kept as one line.
local function percent(line, pattern)
  local p = tonumber(line:match(pattern))
  if p and p >= 0 and p <= 100 then return p end
end

-- What the output of one run leaves: lines (per stream), held chunks of a
-- long line, counts; o.line(data, is_stderr, ev) takes each line event
-- (ev: the core's event, whose seq and timestamp the emitted one keeps).
local function output(ctx, args)
  local o = { stdout = {}, stderr = {}, held = {}, lines = 0, bytes = 0, seen = 0 }
  function o.line(data, is_stderr, ev)
    o.seen = o.seen + 1
    if args.stream_output then ctx.emit({ type = is_stderr and "stderr" or "stdout", data = data }, ev) end
    if args.show_progress then
      local p = percent(data, args.progress_pattern)
      if p then ctx:progress({ stage = "executing", percentage = p, message = data }) end
    end
    if ev and ev.cr then return end
    local kind = is_stderr and "stderr" or "stdout"
    local held = o.held[kind]
    if ev and ev.partial then
      if not held then held = {}; o.held[kind] = held end
      held[#held + 1] = data
      o.bytes = o.bytes + #data
      return
    end
    if held then
      held[#held + 1] = data
      data, o.held[kind] = table.concat(held), nil
    end
    local list = o[kind]
    list[#list + 1] = data
    o.lines, o.bytes = o.lines + 1, o.bytes + #data + 1
  end
  return o
end

-- The lines of a stream as the result reports them: trailing empty lines
-- dropped (stdout without its trailing newlines, as Ansible registers it).
local function finish(o, kind)
  local list, held = o[kind], o.held[kind]
  if held then list[#list + 1] = table.concat(held) end
  while list[#list] == "" do list[#list] = nil end
  return list
end

return {
  free_form = "cmd",
  async = true, -- its command may run as a remote job (`async:`, play/async.lua)
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
    local t0 = ctx.now()
    local o = output(ctx, args)
    local opts = { cwd = args.chdir, env = args.env, timeout = args.timeout }

    if not ctx.conn.stream or ctx.async then -- an async task: its job's lines come with each poll
      opts.job = true
      if args.show_progress then ctx:progress({ stage = "executing", message = "started" }) end
      opts.on_output = o.line
      local res = ctx:run(args.cmd, opts)
      if o.seen == 0 then
        -- a connection that did not call on_output: nothing split its output, so here
        for _, l in ipairs(ctx.lines(res.stdout or "")) do o.line(l, false) end
        for _, l in ipairs(ctx.lines(res.stderr or "")) do o.line(l, true) end
      end
      if args.show_progress then ctx:progress({ stage = "done", percentage = 100 }) end
      return { changed = true, failed = not res.ok, rc = res.rc,
        stdout = ctx.chomp(res.stdout), stderr = ctx.chomp(res.stderr),
        stdout_lines = finish(o, "stdout"), stderr_lines = finish(o, "stderr"),
        timed_out = res.timed_out, lines = o.lines, bytes = o.bytes, duration = res.duration or (ctx.now() - t0),
        streamed = false,
        msg = not ctx.async and "connection cannot stream: ran with execute, output delivered at the end"
          or (not res.ok and ("non-zero return code " .. tostring(res.rc))) or nil }
    end

    local result, err, code = nil, nil, nil
    for ev in ctx:stream(args.cmd, opts) do
      local t = ev.type
      if t == "stdout" or t == "stderr" then
        o.line(ev.data, t == "stderr", ev)
      elseif t == "progress" then
        if args.show_progress and ev.progress then ctx:progress(ev.progress, ev) end
      elseif t == "done" then
        result = ev.result
      elseif t == "error" then
        result, err, code = ev.result, ev.error, ev.code
      end
    end
    result = result or {}
    local timed_out = result.timed_out or code == "ETIMEDOUT"
    local ok = result.rc == 0 and not err
    local out, errs = finish(o, "stdout"), finish(o, "stderr")
    return {
      changed = true, failed = not ok, rc = result.rc, signal = result.signal,
      stdout = table.concat(out, "\n"), stderr = table.concat(errs, "\n"),
      stdout_lines = out, stderr_lines = errs,
      timed_out = timed_out, lines = o.lines, bytes = o.bytes, duration = result.duration or (ctx.now() - t0),
      streamed = true, msg = err or (not ok and ("non-zero return code " .. tostring(result.rc))) or nil,
    }
  end,
}
