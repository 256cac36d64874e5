-- luasible.cli: `luasible run PLAY.lua ...`, `luasible exec PATTERN ...` and
-- `luasible inventory -i INV --list ...`.
-- One file a command (cli/run.lua, cli/exec.lua: its arguments and the play
-- it makes; cli/inventory.lua: no play, its own main); here the parser, the
-- options they share, and running the play with a renderer and the signals
-- caught.
-- Exit status, as ansible-playbook's: 0 all ok, 1 bad input (nothing ran),
-- 2 a host failed, 4 a host was unreachable, 5 bad command-line options,
-- 99 interrupted by Ctrl-C (SIGINT), 250 a bug (bin/luasible); 128 + n
-- stopped by another signal n (SIGTERM 143, SIGHUP 129).

local M = {}

local COMMANDS = { run = require "luasible.cli.run", exec = require "luasible.cli.exec",
  inventory = require "luasible.cli.inventory" }
COMMANDS.config = require "luasible.cli.config"
COMMANDS.vault = require "luasible.cli.vault" -- also the vault options of the others
-- the dashboard: `serve FILE`, and --serve, --log, --syslog of run and exec
COMMANDS.serve = require "luasible.cli.serve"

local function die(msg)
  io.stderr:write("luasible: error: ", msg, "\n")
  return 1
end
-- a bad command-line option: exit status 5, as ansible-playbook's
local function bad_option(msg) die(msg) return 5 end

local fs = require "luasible.util.fs"
local read = fs.read
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

-- the options every command takes
local function common(c)
  c:option("-i --inventory", "Inventory: a file (INI, YAML, TOML, .lua), an inventory script, a folder, "
    .. "or a comma list of hosts. Repeatable: merged in order."):count("*")
  c:option("-l --limit", "Further limit the hosts to this pattern.")
  c:option("-f --forks", "How many hosts run at once (default: the forks setting, 50)."):convert(tonumber)
  c:option("-e --extra-vars", "Extra variables: k=v, a JSON object, or @file.yml. Repeatable.")
    :count("*"):target("extra_vars")
  c:option("-M --module-path", "Folder with extra modules. Repeatable."):count("*"):target("module_path")
  c:flag("-C --check", "Check mode: change nothing, report what would change.")
  c:flag("-D --diff", "Show what copy, template, lineinfile, file, ... change, as a unified diff (with --check too).")
  c:flag("--json", "Print every event as one JSON object per line.")
  c:flag("--no-color", "No colours.")
  c:flag("-v --verbose", "More output (-vv: whole results)."):count("0-3")
  COMMANDS.vault.add_options(c)
  c:option("-u --user", "Connect as this user, where the play (remote_user) and the host (ansible_user) say none.")
  c:option("-c --connection", "Connect this way (ssh, local, docker, ... a connection plugin), where the play"
    .. " (connection) and the host (ansible_connection) say none.")
  c:option("--private-key", "The SSH key file to log in with, where the host (ansible_ssh_private_key_file)"
    .. " says none."):target("private_key")
  c:option("-T --timeout", "Seconds to wait for a connection, where the host (ansible_timeout) says none.")
    :convert(tonumber)
  c:flag("-k --ask-pass", "Ask for the SSH password (echo off), for hosts that set no ansible_password.")
  c:flag("-b --become", "Become (sudo, or --become-method) on every host and play that says nothing else.")
  c:option("--become-user", "The user to become (default root), where the play and the host say none.")
  c:option("--become-method", "How to become: sudo (default) or su, where the play and the host say none.")
  c:flag("-K --ask-become-pass", "Ask for the become (sudo) password (echo off), for hosts that set no "
    .. "ansible_become_password.")
  c:option("-F --ssh-config", "The OpenSSH client config to read instead of ~/.ssh/config ('none': none).")
  COMMANDS.serve.add_options(c)
end

local function parser()
  local argparse = require "argparse"
  local p = argparse("luasible", "Agentless automation for Lua 5.4: run plays on hosts and watch their output live.")
    :add_help_command(false)
  p:flag("--version", "Print the version and exit.")
  p:command_target("command")
  COMMANDS.run.add_to_parser(p, common)
  COMMANDS.exec.add_to_parser(p, common)
  COMMANDS.inventory.add_to_parser(p)
  COMMANDS.config.add_to_parser(p)
  COMMANDS.vault.add_to_parser(p)
  COMMANDS.serve.add_to_parser(p)
  return p
end

-- The renderer the options ask for: --json lines, or the terminal's (live
-- redraws and colours only on a terminal).
local function renderer(args)
  local render = require "luasible.render"
  if args.json then return render.json({ out = io.stdout }) end
  local tty = fs.isatty(1)
  local color = tty and not args.no_color and os.getenv("NO_COLOR") == nil and os.getenv("TERM") ~= "dumb"
  local width = tty and fs.tty_size() or nil
  return render.terminal({ out = io.stdout, tty = tty, color = color, verbose = args.verbose, width = width })
end

-- 99 for Ctrl-C (ansible-playbook's "User interrupted execution"), else
-- 128 + the signal's number, as a shell reports a process a signal ended
local signal_status = require("luasible.util.errors").interrupt_status

-- Run the play with the command's runner options; returns the exit status.
local function run_play(args, play, opts, extra)
  local runner = require "luasible.play"
  for k, v in pairs(args.config_opts or {}) do if opts[k] == nil then opts[k] = v end end
  if opts.inventory_opts then opts.inventory_opts.extra_vars = extra end
  opts.inventory, opts.limit, opts.forks, opts.extra_vars = args.inventory, args.limit, args.forks, extra
  opts.check, opts.module_path, opts.diff = args.check, args.module_path, args.diff
  if opts.list then -- --syntax-check, --list-tasks, --list-hosts: checked, nothing run (no sinks)
    local prepared, perr = runner.check(play, opts)
    if not prepared then return die(perr) end
    return COMMANDS.run.list(args, prepared)
  end
  -- the terminal (or --json), and the --log, --serve and --syslog sinks
  local sinks, serr = COMMANDS.serve.sinks(args, renderer(args))
  if not sinks then return die(serr) end
  opts.on_event = sinks.on_event
  -- -k and -F: for every SSH connection that sets no password / ssh_config
  local defaults = {}
  if args.ssh_config then defaults.ssh_config = args.ssh_config ~= "none" and args.ssh_config or false end
  if args.ask_pass then
    local pw = require("luasible.vault.secrets").read_hidden("SSH password: ")
    if not pw then return die("no SSH password given (end of input)") end
    defaults.password = pw
  end
  if next(defaults) then opts.connect_defaults = defaults end
  -- -b, --become-user, --become-method: under the play's and task's keywords and the hosts' own variables
  -- -u, -c, --private-key, -T: the same place (the play's remote_user / connection and the host's
  -- ansible_user / ansible_connection / ... win over them, as in Ansible)
  local become_defaults = { ansible_become = args.become or nil, ansible_become_user = args.become_user,
    ansible_become_method = args.become_method, ansible_user = args.user, ansible_connection = args.connection,
    ansible_ssh_private_key_file = args.private_key, ansible_timeout = args.timeout }
  if next(become_defaults) then
    local vd = {}
    for k, v in pairs(opts.var_defaults or {}) do vd[k] = v end
    for k, v in pairs(become_defaults) do vd[k] = v end
    opts.var_defaults = vd
  end
  if args.ask_become_pass then -- under the hosts' own ansible_become_password, as Ansible's -K
    local pw = require("luasible.vault.secrets").read_hidden("BECOME password: ")
    if not pw then return die("no become password given (end of input)") end
    require("luasible.vault").reveal(pw, true) -- never in an event, a log, a message
    local vd = {}
    for k, v in pairs(opts.var_defaults or {}) do vd[k] = v end
    vd.ansible_become_password = pw
    opts.var_defaults = vd
  end
  -- Ctrl-C (SIGINT), SIGTERM, SIGHUP: the runner stops every command (local
  -- process groups killed, remote kills sent), the recap so far is shown,
  -- and the exit status is 99 for SIGINT (ansible-playbook's), 128 + the
  -- signal's number for the others. A second signal gets the default action.
  require("luasible").catch_signals()
  local ran, recap, err = pcall(runner.play, play, opts)
  if not ran then
    local sig = require("luasible.util.errors").is_interrupt(recap) and recap.signal
    if not sig then error(recap, 0) end
    if args.json then io.stderr:write("interrupted (SIG", sig, ")\n") end
    return sinks.finish(signal_status(sig), true)
  end
  if not recap then return sinks.finish(die(err), true) end
  -- a signal that came when nothing was left to wait for
  local core = require "luasible.core"
  pcall(core.run_once, true)
  local late = core.caught()
  if late then
    io.stderr:write("interrupted (SIG", late, ")\n")
    return sinks.finish(signal_status(late), true)
  end
  return sinks.finish(runner.exit_code(recap, err)) -- (err: the run's details when it ran)
end

function M.main(argv)
  local p = parser()
  local ok, args = p:pparse(argv)
  if not ok then
    io.stderr:write(p:get_usage(), "\n\nluasible: error: ", tostring(args), "\n")
    return 5 -- bad options, as ansible-playbook's
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
  -- the configuration file and environment (docs/CONFIG.md): CLI > env > file > default
  local config = require "luasible.config"
  local cfg, cerr = config.load()
  if not cfg then return die(cerr) end
  for _, w in ipairs(cfg.warnings) do io.stderr:write("luasible: warning: ", w, "\n") end
  config.use(cfg)
  local copts, aerr = COMMANDS.config.apply(args, cfg)
  if not copts then return die(aerr) end
  args.config_opts = copts
  if args.command ~= "vault" then -- the run's vault secrets, before any file is read
    local vok, verr = COMMANDS.vault.use_options(args)
    if not vok then return die(verr) end
  end
  if COMMANDS[args.command].main then return COMMANDS[args.command].main(args, cfg) end
  local extra = {}
  for _, e in ipairs(args.extra_vars or {}) do
    local r, err = M.parse_extra(e, extra)
    if not r then return die(err) end
  end
  if args.forks and args.forks < 1 then return bad_option("--forks must be at least 1") end
  if args.timeout and args.timeout <= 0 then return bad_option("--timeout must be a number of seconds above 0") end
  args.extra = extra -- the extra vars parsed (a playbook's vars_files names use them)
  if args.become_method and args.become_method ~= "sudo" and args.become_method ~= "su" then
    return bad_option("--become-method '" .. args.become_method .. "' is not supported (sudo and su are)")
  end
  if args.step and not require("luasible.util.prompt").interactive() then
    return bad_option("--step needs a terminal to ask on (stdin is not a terminal)")
  end
  local play, opts = COMMANDS[args.command].command(args)
  if not play then return die(opts) end
  return run_play(args, play, opts, extra)
end

return M
