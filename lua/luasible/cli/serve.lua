--- luasible.cli.serve: the dashboard on the command line.
--   luasible run PLAY --serve [ADDR:PORT] [--serve-host NAME] [--serve-public]
--       [--serve-exit] [--log FILE] [--syslog]
--   luasible serve FILE [--serve ADDR:PORT] ...: a finished or still
--       growing log, with the same page (live tail while it grows)
-- Here: the options run and exec share (add_options), the sink list they
-- run with (sinks: the terminal, the log, the dashboard, syslog), and the
-- serve command.
local sinks_mod = require "luasible.render.sinks"

local M = {}

-- the options of serving, for run, exec and serve
local function serve_options(c)
  c:option("--serve-host", "Another name the browser may use for this server (Host header). Repeatable.")
    :count("*"):target("serve_host")
  c:flag("--serve-public", "Allow --serve on an address that is not loopback (prints a warning).")
end

--- The options of run and exec (cli/init.lua's common options).
function M.add_options(c)
  c:option("--serve", "Serve the live dashboard on ADDR:PORT (default 127.0.0.1 and a free port); "
    .. "stays up after the run until Ctrl-C.")
    :args("?"):argname("ADDR:PORT")
  serve_options(c)
  c:flag("--serve-exit", "With --serve: stop serving when the run ends.")
  c:option("--log", "Write every event to FILE as it happens (NDJSON, as --json).")
  c:flag("--syslog", "Send one line per task result to syslog.")
end

function M.add_to_parser(parser)
  local c = parser:command("serve", "Serve the dashboard of a run's log (--log FILE), growing or finished.")
  c:argument("file", "The log (NDJSON).")
  c:option("--serve", "Serve on ADDR:PORT (default 127.0.0.1 and a free port).", nil):argname("ADDR:PORT")
  serve_options(c)
end

--- "ADDR:PORT", "ADDR", ":PORT", "[::1]:PORT" -> address, port; or nil, err
function M.parse_address(s)
  if s == nil or s == "" then return "127.0.0.1", 0 end
  local a, p = s:match("^%[([^%]]+)%]:?(%d*)$")
  if not a then
    a, p = s:match("^([^:]*):(%d+)$")
    if not a then a, p = s:match("^([^:]*)$"), "" end
  end
  if not a then return nil, "--serve: expected ADDR:PORT, got " .. s end
  if a == "" then a = "127.0.0.1" end
  if a == "localhost" then a = "127.0.0.1" end
  local port = p == "" and 0 or tonumber(p)
  if not port or port > 65535 then return nil, "--serve: bad port in " .. s end
  return a, math.tointeger(port)
end

-- Start the server the options ask for; prints its URL (and the warning
-- for a public address). Returns the server or nil, err.
local function start_server(args, extra)
  local spec = args.serve
  if type(spec) == "table" then spec = spec[1] end
  local addr, port = M.parse_address(spec)
  if not addr then return nil, port end
  local opts = { address = addr, port = port, hosts = args.serve_host, public = args.serve_public }
  for k, v in pairs(extra or {}) do opts[k] = v end
  local server, err = require("luasible").serve(opts)
  if not server then return nil, err end
  if args.serve_public and not require("luasible.serve.auth").is_loopback(server.address) then
    io.stderr:write("luasible: warning: the dashboard is served on ", server.address,
      ", not only to this machine; anyone who gets the URL's token can read the run"
      .. " (use a TLS proxy: docs/DASHBOARD.md)\n")
  end
  io.stderr:write("luasible: dashboard: ", server.url, "\n")
  io.stderr:flush()
  return server
end

--- The sinks a run's options ask for, the renderer first. Returns a table
--- { on_event, finish(code) -> code }, or nil, err.
function M.sinks(args, renderer)
  local list = sinks_mod.new({ renderer })
  local closers = {}
  local server
  if args.serve then
    local err
    server, err = start_server(args, { log = args.log })
    if not server then return nil, err end
    list:add(server.on_event)
  elseif args.log then
    local on, close = sinks_mod.log_file(args.log)
    if not on then return nil, close end
    list:add(on)
    closers[#closers + 1] = close
  end
  if args.syslog then list:add(sinks_mod.syslog()) end
  local out = { on_event = list.on_event, server = server, list = list }
  --- After the run: the server stays up until Ctrl-C unless --serve-exit
  --- (or the run was interrupted, or refused: stop).
  function out.finish(code, stop)
    for _, c in ipairs(closers) do c() end
    if server then
      if not args.serve_exit and not stop then
        io.stderr:write("luasible: the run is over; the dashboard stays up until Ctrl-C (--serve-exit: not)\n")
        io.stderr:flush()
        pcall(server.wait, server) -- until the signal's interrupt
      end
      server:close()
    end
    return code
  end
  return out
end

-- Read the log from byte `off` into the store: whole lines only (the run
-- may be writing the last one). Returns the new offset, or nil, err.
local function ingest(store, f, off, tick)
  f:seek("set", off)
  local buf, n = "", 0
  while true do
    local chunk = f:read(1 << 20)
    if not chunk then break end
    buf = buf .. chunk
    local pos = 1
    while true do
      local nl = buf:find("\n", pos, true)
      if not nl then break end
      if nl > pos then
        local ok, err = store:ingest(buf:sub(pos, nl - 1), off)
        if not ok then return nil, ("%s: byte %d: %s"):format(store.path, off, err) end
      end
      off = off + (nl - pos) + 1
      pos = nl + 1
      n = n + 1
      if n % 256 == 0 then tick() end
    end
    buf = buf:sub(pos)
  end
  return off
end

--- luasible serve FILE
function M.main(args)
  local scheduler = require "luasible.scheduler"
  local store_mod = require "luasible.serve.store"
  local f = io.open(args.file, "rb")
  if not f then
    io.stderr:write("luasible: error: cannot read ", args.file, "\n")
    return 1
  end
  local store = assert(store_mod.new({ path = args.file, read_only = true, now = require("luasible.core").wall }))
  require("luasible").catch_signals()
  local server, err = start_server(args, { store = store })
  if not server then
    f:close()
    io.stderr:write("luasible: error: ", err, "\n")
    return 1
  end
  local failed
  -- what the file holds now, in one pass of the core (a gigabyte in about
  -- a second); then a live tail of what the run appends
  local scan, serr = require("luasible.core").ndjson_scan(args.file, 0, store_mod.EVERY)
  local bulk_ok, berr = false, nil
  if scan then bulk_ok, berr = store:bulk(scan) end
  if not bulk_ok then
    server:close()
    f:close()
    io.stderr:write("luasible: error: ", args.file, ": ", tostring(berr or serr), "\n")
    return 1
  end
  local tail = scheduler.spawn(function()
    local off = store.size
    while not server.closed do
      local new, ierr = ingest(store, f, off, scheduler.tick)
      if not new then
        failed = ierr
        break
      end
      off = new
      scheduler.sleep(0.2) -- the run may still be writing: a live tail
    end
  end)
  local ok = pcall(function()
    while not server.closed and not failed do scheduler.sleep(0.2) end
  end)
  server:close()
  f:close()
  if tail.done then pcall(tail.wait, tail) end
  if failed then
    io.stderr:write("luasible: error: ", failed, "\n")
    return 1
  end
  return ok and 0 or 130
end

return M
