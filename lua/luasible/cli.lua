-- luasible.cli: `luasible run PLAY.lua ...` and `luasible exec PATTERN ...`.
-- Exit status: 0 all ok, 1 bad input (nothing ran), 2 a host failed,
-- 4 a host was unreachable.

local M = {}

local SIGNALS = { HUP = 1, INT = 2, TERM = 15 }

local function die(msg)
  io.stderr:write("luasible: error: ", msg, "\n")
  return 1
end

local read = require("luasible.util.fs").read
local quote = require("luasible.util.schema").quote

--- Parse one -e value: "k=v k2='v 2'", a JSON/YAML object, or @file.
function M.parse_extra(s, into)
  local t
  if s:sub(1, 1) == "@" then
    local text, err = read(s:sub(2))
    if not text then return nil, "-e " .. s .. ": " .. err end
    local v, yerr = require("luasible.yaml").load(text, s:sub(2))
    if yerr then return nil, "-e " .. s .. ": " .. yerr end -- file:line: what
    if type(v) ~= "table" then return nil, "-e " .. s .. ": not a YAML/JSON mapping" end
    t = v
  elseif s:match("^%s*{") then
    -- "-e:LINE: what" from the YAML reader; the value itself shown on one line
    local v, yerr = require("luasible.yaml").load(s, "-e")
    if yerr then return nil, yerr end
    if type(v) ~= "table" then return nil, "-e: not a JSON/YAML mapping: " .. quote(s) end
    t = v
  else
    local err
    t, err = require("luasible.module").parse_kv(s)
    if not t then return nil, "-e: " .. err end
    if t._raw then return nil, "-e: expected key=value, got " .. quote(t._raw) end
  end
  for k, v in pairs(t) do into[k] = v end
  return into
end

--- Load a play file: a Lua chunk returning a play or a list of plays.
--- Returns play, nil, locate (the tasks' lines, for messages); or nil, err.
function M.load_play(path)
  return require("luasible.play").load(path)
end

local function isatty()
  return os.execute("test -t 1") == true
end

local function parser()
  local argparse = require "argparse"
  local p = argparse("luasible", "Agentless automation for Lua 5.4: run plays on hosts and watch their output live.")
    :add_help_command(false)
  p:flag("--version", "Print the version and exit.")
  p:command_target("command")
  local function common(c)
    c:option("-i --inventory", "Inventory file (INI, YAML or .lua), or a comma list of hosts.")
    c:option("-l --limit", "Further limit the hosts to this pattern.")
    c:option("-f --forks", "How many hosts run at once (default 10)."):convert(tonumber)
    c:option("-e --extra-vars", "Extra variables: k=v, a JSON object, or @file.yml. Repeatable.")
      :count("*"):target("extra_vars")
    c:option("-M --module-path", "Folder with extra modules. Repeatable."):count("*"):target("module_path")
    c:flag("-C --check", "Check mode: change nothing, report what would change.")
    c:flag("--json", "Print every event as one JSON object per line.")
    c:flag("--no-color", "No colours.")
    c:flag("-v --verbose", "More output (-vv: whole results)."):count("0-3")
  end
  local run = p:command("run", "Run a play file (Lua returning a play or a list of plays).")
  run:argument("play", "The play file.")
  common(run)
  run:option("-t --tags", "Only run tasks with these tags (comma list).")
  run:option("--skip-tags", "Skip tasks with these tags (comma list).")
  local ex = p:command("exec", "Run one module on the hosts matching PATTERN.")
  ex:argument("pattern", "Host pattern, e.g. all, web, 'web:!web3'.")
  common(ex)
  ex:option("-m --module", "Module name.", "shell")
  ex:option("-a --args", "Module arguments: 'k=v k2=\"v 2\"' or a free-form command.", "")
  return p
end

local function list(s)
  if not s then return nil end
  local out = {}
  for x in s:gmatch("[^,%s]+") do out[#out + 1] = x end
  return out
end

--- Arguments of an ad-hoc module call: k=v pairs, or the whole string as the
--- module's free-form argument when it does not read as the module's params.
function M.adhoc_args(mod, s)
  local modules = require "luasible.module"
  if s == "" then return {} end
  local kv, err = modules.parse_kv(s)
  if not kv then return nil, err end
  if mod.free_form then
    for k in pairs(kv) do
      if k == "_raw" or not mod.params[k] then return { [mod.free_form] = s } end
    end
  elseif kv._raw then
    return nil, "module " .. (mod.name or "?") .. " takes key=value arguments, got " .. quote(kv._raw)
  end
  return kv
end

function M.main(argv)
  local p = parser()
  local ok, args = p:pparse(argv)
  if not ok then
    io.stderr:write(p:get_usage(), "\n\nluasible: error: ", tostring(args), "\n")
    return 1
  end
  if args.version then
    local cok, core = pcall(require, "luasible.core")
    print("luasible " .. (cok and core.version or "unknown"))
    return 0
  end
  if not args.command then
    io.stdout:write(p:get_help(), "\n")
    return 1
  end
  local runner = require "luasible.play"
  local render = require "luasible.render"
  local extra = {}
  for _, e in ipairs(args.extra_vars or {}) do
    local r, err = M.parse_extra(e, extra)
    if not r then return die(err) end
  end
  if args.forks and args.forks < 1 then return die("--forks must be at least 1") end
  local play, base_dir, locate
  if args.command == "run" then
    local err
    play, err, locate = M.load_play(args.play)
    if not play then return die(err) end
    base_dir = args.play:match("^(.*)/[^/]*$") or "."
  else
    local modules = require "luasible.module"
    local mod, err = modules.load(args.module, modules.search_path(args.module_path))
    if not mod then return die(err) end
    local margs, aerr = M.adhoc_args(mod, args.args)
    if not margs then return die(aerr) end
    play = { name = "ad-hoc: " .. args.module .. " on " .. args.pattern, hosts = args.pattern,
      tasks = { { name = args.module, module = args.module, args = margs } } }
    base_dir = "."
  end
  local on_event
  if args.json then
    on_event = render.json({ out = io.stdout })
  else
    local tty = isatty()
    local color = tty and not args.no_color and os.getenv("NO_COLOR") == nil and os.getenv("TERM") ~= "dumb"
    local width
    if tty then
      local sp = io.popen("stty size </dev/tty 2>/dev/null")
      if sp then
        width = tonumber((sp:read("a") or ""):match("^%d+ (%d+)"))
        sp:close()
      end
    end
    on_event = render.terminal({ out = io.stdout, tty = tty, color = color, verbose = args.verbose, width = width })
  end
  -- Ctrl-C (SIGINT), SIGTERM, SIGHUP: the runner stops every command (local
  -- process groups killed, remote kills sent), the recap so far is shown,
  -- and the exit status is 128 + the signal's number. A second signal gets
  -- the default action.
  require("luasible").catch_signals()
  local ran, recap, err = pcall(runner.play, play, {
    inventory = args.inventory, limit = args.limit, forks = args.forks, extra_vars = extra,
    check = args.check, tags = list(args.tags), skip_tags = list(args.skip_tags),
    module_path = args.module_path, on_event = on_event, base_dir = base_dir,
    play_file = args.command == "run" and args.play or nil, locate = locate,
    -- the play's group_vars/ and host_vars/; ad hoc there is no play folder
    play_vars_dir = args.command == "run" and base_dir or false,
  })
  if not ran then
    local sig = runner.is_interrupt(recap) and recap.signal
    if not sig then error(recap, 0) end
    if args.json then io.stderr:write("interrupted (SIG", sig, ")\n") end
    return 128 + (SIGNALS[sig] or 2)
  end
  if not recap then return die(err) end
  -- a signal that came when nothing was left to wait for
  local core = require "luasible.core"
  pcall(core.run_once, true)
  local late = core.caught()
  if late then
    io.stderr:write("interrupted (SIG", late, ")\n")
    return 128 + (SIGNALS[late] or 2)
  end
  return runner.exit_code(recap)
end

return M
