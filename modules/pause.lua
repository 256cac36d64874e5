-- pause: wait `seconds` or `minutes` (ctx.sleep: the loop goes on), or,
-- without them, until the person at the terminal presses Enter after the
-- `prompt` (Ansible's ansible.builtin.pause). Runs once for all the hosts of
-- the task (bypass_host_loop: as Ansible's); its result (user_input,
-- start, stop, delta) is every host's. A prompt needs a terminal: without
-- one (stdin not a terminal) a pause that waits for an answer fails, saying
-- so, where Ansible goes on without waiting.
return {
  params = {
    seconds = { type = "number" },
    minutes = { type = "number" },
    prompt = { type = "string" },
    echo = { type = "boolean", default = true },
  },
  mutually_exclusive = { { "seconds", "minutes" } },
  bypass_host_loop = true,
  check_mode = true,
  check_args = function(args)
    for _, k in ipairs({ "seconds", "minutes" }) do
      local v = args[k]
      if v ~= nil and (v ~= v or v < 0 or v == math.huge) then return nil, k .. " must be a number of 0 or more" end
    end
    return true
  end,
  run = function(ctx, args)
    local start = os.time()
    local t0 = ctx.now()
    local result = { changed = false, echo = args.echo, user_input = "" }
    if args.seconds or args.minutes then
      local secs = args.seconds or args.minutes * 60
      if args.prompt and ctx.interactive() then
        local tty = io.open("/dev/tty", "w")
        if tty then tty:write("[", ctx.task or "pause", "]\n", args.prompt, ":\n"); tty:close() end
      end
      ctx.sleep(secs)
      local n = args.seconds or args.minutes
      result.stdout = string.format("Paused for %s %s", ctx.tostring(n), args.seconds and "seconds" or "minutes")
    else
      local text = args.prompt or "Press enter to continue, Ctrl+C to interrupt"
      if not ctx.interactive() then
        return { failed = true, msg = "pause: no terminal to answer the prompt '" .. text
          .. "' (stdin is not a terminal; give seconds: or minutes: to pause without one)" }
      end
      local line, err = ctx.ask("[" .. (ctx.task or "pause") .. "]\n" .. text .. ":\n", { echo = args.echo })
      if not line then return { failed = true, msg = "pause: " .. err } end
      result.user_input = line
      result.stdout = "Paused for " .. string.format("%.2f", (ctx.now() - t0) / 60) .. " minutes"
    end
    result.start = os.date("%Y-%m-%d %H:%M:%S", start)
    result.stop = os.date("%Y-%m-%d %H:%M:%S")
    result.delta = math.floor(ctx.now() - t0 + 0.5)
    return result
  end,
}
