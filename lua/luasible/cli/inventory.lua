--- luasible.cli.inventory: `luasible inventory -i INV --list | --host H |
-- --graph [GROUP] | --list-hosts [PATTERN]`: an inventory as Ansible shows
-- it (ansible-inventory 2.14's --list, --host, --graph and --vars; `ansible
-- PATTERN --list-hosts`), to compare with Ansible. Nothing runs on a host.
-- The producers are inventory/export.lua; here the options and the output.
local M = {}

function M.add_to_parser(parser)
  local c = parser:command("inventory", "Show an inventory as ansible-inventory does (--list, --host, --graph), "
    .. "or the hosts a pattern selects (--list-hosts).")
  c:argument("pattern", "--graph: the group to start at (default all); --list-hosts: the host pattern "
    .. "(default all).", nil):args("?")
  c:option("-i --inventory", "Inventory: a file (INI, YAML, TOML, .lua), an inventory script, a folder, "
    .. "or a comma list of hosts. Repeatable: merged in order."):count("*")
  c:mutex(
    c:flag("--list", "Every group and host, with the hosts' variables, as JSON."),
    c:option("--host", "One host's merged variables, as JSON."),
    c:flag("--graph", "The groups and their hosts as a tree."),
    c:flag("--list-hosts", "The hosts PATTERN selects, as `ansible PATTERN --list-hosts` prints them.")
  )
  c:flag("--vars", "With --graph: the variables too.")
  c:flag("-y --yaml", "With --list or --host: YAML instead of JSON, as ansible-inventory --yaml writes it.")
  c:flag("--toml", "With --list or --host: TOML instead of JSON, as ansible-inventory --toml writes it.")
  c:flag("--export", "Each host's and group's own variables (groups' under `vars`), not the merged ones: "
    .. "an inventory to save and load again.")
  c:option("--output", "Write the result to this file (whole or not at all) instead of standard output.")
  c:option("-l --limit", "With --list-hosts: further limit the hosts to this pattern.")
  require("luasible.cli.vault").add_options(c) -- --vault-id, --vault-password-file, --ask-vault-pass
end

-- The text the command prints, or nil, err.
local function produce(args, inv)
  local export = require "luasible.inventory.export"
  local pattern = require "luasible.inventory.pattern"
  if args.limit and not args.list_hosts then
    return nil, "--limit goes with --list-hosts only (ansible-inventory has no --limit)"
  end
  if args.vars and not args.graph then return nil, "--vars goes with --graph only" end
  if args.pattern and not (args.graph or args.list_hosts) then
    return nil, "a pattern goes with --graph or --list-hosts only"
  end
  if (args.yaml or args.toml) and not (args.list or args.host) then
    return nil, (args.yaml and "--yaml" or "--toml") .. " goes with --list or --host only"
  end
  if args.yaml and args.toml then return nil, "--yaml and --toml: choose one" end
  if args.export and args.list_hosts then return nil, "--export goes with --list, --host or --graph only" end
  local opts = { export = args.export }
  if args.list then
    if args.yaml then return export.yaml(export.yaml_list(inv, opts)) end
    if args.toml then return export.toml(export.toml_list(inv, opts)) end
    return export.json(export.list(inv, nil, opts))
  end
  if args.graph then
    local text, err = export.graph(inv, args.pattern, args.vars, opts)
    if not text then return nil, "--graph: " .. err end
    return text
  end
  if args.host then
    local hosts, err = pattern.select(inv, args.host)
    if not hosts then return nil, "--host: " .. err end
    if #hosts ~= 1 then
      return nil, string.format("--host '%s' must select one host, it selects %d", args.host, #hosts)
    end
    if args.yaml then return export.yaml(export.host(inv, hosts[1], nil, { export = args.export, raw = true })) end
    if args.toml then return export.toml(export.host(inv, hosts[1], nil, { export = args.export, raw = true })) end
    return export.json(export.host(inv, hosts[1], nil, opts))
  end
  if args.list_hosts then
    local hosts, err = pattern.select_limited(inv, args.pattern or "all", args.limit)
    if not hosts then return nil, err end
    return export.list_hosts(hosts)
  end
  return nil, "one of --list, --host H, --graph or --list-hosts is needed"
end

--- Run the command; returns the exit status (0, or 1 with a message on
--- stderr for bad input).
function M.main(args)
  local function die(msg)
    io.stderr:write("luasible: error: ", msg, "\n")
    return 1
  end
  require("luasible.vault").keep_inline = true -- !vault values shown encrypted, as ansible-inventory
  -- Ctrl-C while an inventory script runs: its process group is killed, the status is 128 + n
  require("luasible").catch_signals()
  local lok, inv, err = pcall(require("luasible.inventory").load, args.inventory,
    (args.config_opts or {}).inventory_opts)
  if not lok then
    local errors = require "luasible.util.errors"
    if not errors.is_interrupt(inv) then error(inv, 0) end
    io.stderr:write("interrupted (SIG", inv.signal or "INT", ")\n")
    return errors.interrupt_status(inv.signal)
  end
  if not inv then return die(err) end
  local text, perr = produce(args, inv)
  if not text then return die(perr) end
  if args.output then
    local ok, werr = require("luasible.util.fs").write_atomic(args.output, text)
    if not ok then return die("--output: " .. werr) end
    return 0
  end
  -- as ansible-inventory: a newline added when the text has none; an empty
  -- TOML (a host without variables) prints nothing (Ansible then exits 1)
  if text ~= "" then io.stdout:write(text, text:sub(-1) == "\n" and "" or "\n") end
  return 0
end

return M
